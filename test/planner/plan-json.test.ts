// The printed plan document made of each action's text (src/planner/plan-json.ts) and the plan
// cache's entry that keeps those texts (src/cli/plan-cache.ts): both must give exactly the bytes
// `JSON.stringify(doc, null, 2)` gives, for any plan, and a damaged entry must read as none.
import { describe, expect, it } from 'vitest';
import { parsePlanEntry, planEntryParts, type PlanEntry } from '../../src/cli/plan-cache.js';
import { actionText, actionsText, knownActionText, planJsonText } from '../../src/planner/plan-json.js';
import { planToJson, type Action, type Plan, type PlannedAction } from '../../src/planner/plan.js';
import { mulberry32 } from '../helpers/prng.js';

const ACTIONS: readonly Action[] = ['create', 'update', 'replace', 'delete', 'noop'];
// Strings a printer could get wrong: escapes, non-ASCII (one and two UTF-16 units), and the text the printer splices at.
const AWKWARD = ['plain', 'quote " and \\ backslash', 'line\nbreak\ttab', 'café', 'emoji 🚀 pair', '\n  "actions": []', '},\n    {', '\u0000\u001f\u2028', ''];

function randomPlan(seed: number): Plan {
  const r = mulberry32(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)];
  const str = () => (r() < 0.3 ? pick(AWKWARD) : `n${Math.floor(r() * 1000)}`);
  const list = <T>(n: number, f: () => T): T[] => Array.from({ length: Math.floor(r() * n) }, f);
  const actions: PlannedAction[] = list(12, () => {
    const a: Record<string, unknown> = {
      node: `silver.${str()}`,
      kind: pick(['source', 'cleanse', 'model', 'features', 'train']),
      action: pick(ACTIONS),
      reasons: list(3, str),
      schemaChanges: list(3, () => ({
        column: str(),
        change: pick(['added', 'removed', 'type_changed']),
        ...(r() < 0.5 ? { from: str() } : {}),
        to: str(),
        breaking: r() < 0.5,
      })),
      downstream: list(6, str),
    };
    if (r() < 0.4) a.category = pick(['breaking', 'non-breaking', 'metadata', 'none']);
    if (r() < 0.3) a.impact = list(3, () => ({ node: str(), columns: list(3, str), breaking: r() < 0.5, effect: str() }));
    if (r() < 0.3) a.sqlDiff = list(3, () => ({ scope: str(), clause: 'where', change: 'changed', before: str(), after: str() }));
    if (r() < 0.3) a.cost = r() < 0.5 ? { rows: Math.floor(r() * 1e6), seconds: r() * 10 } : { rows: undefined, seconds: 0.5 };
    if (r() < 0.2) a.metadataOnly = r() < 0.5;
    if (r() < 0.3) a.maintenance = r() < 0.5 ? '' : `incremental: derived (groups by ${str()})`;
    if (r() < 0.7) {
      a.fingerprint = r() < 0.1 ? '' : `fp${Math.floor(r() * 1e9)}`;
      if (r() < 0.9) a.metaFingerprint = `mfp${Math.floor(r() * 1e9)}`;
    }
    if (r() < 0.05) a.dataDiff = { key: [str()], columns: [] };
    return a as unknown as PlannedAction;
  });
  return {
    schemaVersion: 1,
    pipeline: str(),
    profile: str(),
    spec: `/tmp/${str()}.asg`,
    specFingerprint: 'abc',
    against: r() < 0.5 ? { kind: 'state' } : { kind: 'base', ref: str() },
    stateSerial: Math.floor(r() * 10),
    stateLineage: str(),
    summary: { create: 1, update: 0, replace: 0, delete: 0, noop: 2 },
    actions,
  };
}

/** What the view printed before: the document, its spec as shown, extra fields after the actions. */
const stringified = (plan: Plan, spec: string, extra: Record<string, unknown> = {}): string =>
  JSON.stringify({ ...(planToJson(plan) as Record<string, unknown>), spec, ...extra }, null, 2);

describe('the printed plan document', () => {
  it('is byte for byte JSON.stringify(doc, null, 2) of random plans, with and without fields after the actions', () => {
    for (let seed = 1; seed <= 300; seed++) {
      const plan = randomPlan(seed);
      expect(planJsonText(plan, 'shown.asg')).toBe(stringified(plan, 'shown.asg'));
      const drift = { drift: [{ object: 'Deployment/x', change: 'changed', fields: ['spec'] }] };
      expect(planJsonText(plan, '/abs/a b.asg', drift)).toBe(stringified(plan, '/abs/a b.asg', drift));
      expect(planJsonText(plan, 'x', { driftUnchecked: 'no kubeconfig' })).toBe(stringified(plan, 'x', { driftUnchecked: 'no kubeconfig' }));
    }
  });

  it('prints an action from the text it is known by', () => {
    const plan = randomPlan(7);
    const a = { ...plan.actions[0], reasons: ['x'] };
    knownActionText(a, '{ "kept": true }');
    expect(planJsonText({ ...plan, actions: [a] }, 's')).toContain('"actions": [\n    { "kept": true }\n  ]');
  });
});

describe('the plan cache entry (actions kept as printed)', () => {
  const entry = (plan: Plan): PlanEntry => ({
    inputs: 'in',
    plan,
    head: { name: 'p', warehouse: undefined as never, profiles: {}, diagnostics: [], secrets: [] },
  });
  const file = (plan: Plan) => Buffer.concat(planEntryParts('k1', entry(plan))).toString('utf8');

  it('reads back every action, and the plan it gives prints what the plan printed', () => {
    for (let seed = 1; seed <= 300; seed++) {
      const plan = randomPlan(seed);
      const read = parsePlanEntry(file(plan));
      expect(read?.key).toBe('k1');
      expect(read!.inputs).toBe('in');
      expect(read!.plan.actions.length).toBe(plan.actions.length);
      expect(planJsonText(read!.plan, 's')).toBe(stringified(plan, 's'));
      // The same actions as new objects (no text known): printed again, the same bytes.
      const fresh = read!.plan.actions.map((a) => structuredClone(a));
      expect(planJsonText({ ...read!.plan, actions: fresh }, 's')).toBe(stringified(plan, 's'));
      expect(fresh.map(actionText)).toEqual(read!.plan.actions.map(actionText));
    }
  });

  it('joins the action texts once per actions array: the entry and the printed document share it', () => {
    for (let seed = 1; seed <= 50; seed++) {
      const plan = randomPlan(seed);
      const text = file(plan);
      const joined = actionsText(plan.actions);
      expect(actionsText(plan.actions)).toBe(joined);
      expect(text.slice(text.indexOf('\n') + 1)).toBe(`[${joined.text}]`);
      expect(joined.lengths).toEqual(plan.actions.map((a) => actionText(a).length));
      // Printed after the entry was made (as a plan command does): the same document as stringified.
      expect(planJsonText(plan, 's')).toBe(stringified(plan, 's'));
      // Another array of the same actions, one left out: its own join, never the first one's.
      if (plan.actions.length > 1) {
        const fewer = { ...plan, actions: plan.actions.slice(1) };
        expect(planJsonText(fewer, 's')).toBe(stringified(fewer, 's'));
        expect(actionsText(fewer.actions).lengths).toEqual(joined.lengths.slice(1));
      }
    }
  });

  it('cuts actions printed together (none printed before) into the texts each prints as alone', () => {
    for (let seed = 1; seed <= 300; seed++) {
      const plan = randomPlan(seed);
      const together = plan.actions.map((a) => structuredClone(a));
      const alone = plan.actions.map((a) => structuredClone(a));
      const joined = actionsText(together);
      const texts = alone.map(actionText);
      expect(joined.text).toBe(texts.join(',\n    '));
      expect(joined.lengths).toEqual(texts.map((t) => t.length));
      // Each action keeps its text: another array of them is joined from those texts.
      expect(together.map(actionText)).toEqual(texts);
      if (together.length > 2) expect(actionsText([together[2], together[0]]).text).toBe(`${texts[2]},\n    ${texts[0]}`);
    }
  });

  it('reads a damaged entry as none', () => {
    const plan = { ...randomPlan(3), actions: randomPlan(3).actions.concat(randomPlan(4).actions) };
    expect(plan.actions.length).toBeGreaterThan(2);
    const text = file(plan);
    const nl = text.indexOf('\n');
    const head = JSON.parse(text.slice(0, nl)) as { lengths: number[] };
    const withLengths = (lengths: number[]) => `${JSON.stringify({ ...head, lengths })}${text.slice(nl)}`;
    expect(parsePlanEntry(withLengths(head.lengths))).toBeDefined();
    // Lengths that do not tile the actions (the same total), one missing, one too many.
    const [a, b, ...rest] = head.lengths;
    expect(parsePlanEntry(withLengths([a + 1, b - 1, ...rest]))).toBeUndefined();
    expect(parsePlanEntry(withLengths(head.lengths.slice(1)))).toBeUndefined();
    expect(parsePlanEntry(withLengths([...head.lengths, 2]))).toBeUndefined();
    // Cut short, a byte more, no body, no head.
    expect(parsePlanEntry(text.slice(0, -1))).toBeUndefined();
    expect(parsePlanEntry(`${text} `)).toBeUndefined();
    expect(parsePlanEntry(text.slice(0, nl + 1))).toBeUndefined();
    expect(parsePlanEntry(text.slice(nl + 1))).toBeUndefined();
    expect(parsePlanEntry('null\n[]')).toBeUndefined();
  });
});
