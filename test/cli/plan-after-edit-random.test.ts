// A plan after an edit keeps the last plan's actions outside the edit's downstream
// (src/planner/plan.ts replannedAfterEdit) and prints them as they were: over random edits of a
// generated spec against a state applied from a random earlier text (so that actions are creates,
// noops, updates, metadata updates and replaces, with schema changes and review impacts), each
// plan in the warm workspace prints exactly what a plan of the same text with no cache prints.
// The edits: SQL filters and intervals, a column added, a column retyped, a column no longer read, a description, comments
// inside a block (spans move), a node deleted, a node renamed with its readers, a return to an
// earlier text; and now and then the state applied again. Each edit is also planned once with the
// last plan planted with a marker (the caches then put back): it shows that plans after edits really
// were made from the last one.
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { generateSpec } from '../../bench/gen-spec.js';
import { inferSchemas, loadSpec } from '../../src/cli/spec.js';
import { fingerprintPipeline } from '../../src/planner/fingerprint.js';
import { cli, editCachedPlan } from './helpers.js';

const SPEC = 'generated.asg';
const STATE = join('.asgard', 'state', 'synthetic.json');

/** `asgard plan SPEC --format json` in `dir`: exit code, stdout and stderr as one string to compare. */
async function plan(dir: string): Promise<string> {
  const r = await cli(['plan', SPEC, '--format', 'json'], { cwd: dir });
  return `exit ${r.code}\n${r.stdout}\n--- stderr\n${r.stderr}`;
}

/** A state as apply would leave it after applying `text` (no snapshots: nothing to find missing), or undefined when `text` has errors. */
async function appliedState(text: string, serial: number, rand: (n: number) => number): Promise<string | undefined> {
  const dir = mkdtempSync(join(tmpdir(), 'asgard-plan-random-state-'));
  writeFileSync(join(dir, SPEC), text);
  const spec = await loadSpec(SPEC, dir);
  if (!spec.ir) return undefined;
  const { schemas } = await inferSchemas(spec.ir);
  const nodes: Record<string, unknown> = {};
  for (const f of fingerprintPipeline(spec.ir).values()) {
    nodes[f.id] = {
      kind: f.kind,
      fingerprint: f.fingerprint,
      metaFingerprint: f.metaFingerprint,
      definition: f.definition,
      schema: schemas?.get(f.id),
      appliedAt: '2026-01-01T00:00:00.000Z',
      lastRun: { rows: rand(1000), seconds: 1 + rand(9) },
    };
  }
  rmSync(dir, { recursive: true, force: true });
  return JSON.stringify({ schemaVersion: 2, pipeline: 'synthetic', lineage: 'random-edits', serial, nodes });
}

/** The SQL blocks of a spec: kind, name and the id readers use (`silver.c1`, `gold.m2`). */
function blocks(text: string): { kind: string; name: string; ref: string; start: number; end: number }[] {
  const out = [];
  for (const m of text.matchAll(/\n {2}(cleanse|model) (\w+) \{\n/g)) {
    const start = m.index + 1;
    const end = text.indexOf('\n  }\n', start) + 4;
    out.push({ kind: m[1], name: m[2], ref: `${m[1] === 'cleanse' ? 'silver' : 'gold'}.${m[2]}`, start, end });
  }
  return out;
}

const readsOf = (text: string, ref: string): number => text.split(new RegExp(`\\b${ref.replace('.', '\\.')}\\b`)).length - 1;

type Edit = (text: string, rand: (n: number) => number) => string | undefined;

/** `f` applied to the text of one random SQL block (undefined when it changes nothing). */
const inBlock =
  (f: (block: string, rand: (n: number) => number) => string): Edit =>
  (text, rand) => {
    const bs = blocks(text);
    const b = bs[rand(bs.length)];
    const next = f(text.slice(b.start, b.end), rand);
    return next === text.slice(b.start, b.end) ? undefined : text.slice(0, b.start) + next + text.slice(b.end);
  };

const EDITS: Record<string, Edit> = {
  filter: inBlock((b, rand) => b.replace(/WHERE amount > \d+/, `WHERE amount > ${rand(500)}`)),
  interval: inBlock((b, rand) => b.replace(/INTERVAL \d+ HOURS/, `INTERVAL ${1 + rand(48)} HOURS`)),
  'column added': inBlock((b, rand) => b.replace(/\n {6}FROM /, `,\n        ${rand(100)} AS extra_${rand(1000)}\n      FROM `)),
  'column retyped': inBlock((b) =>
    b.includes('CAST(amount AS DECIMAL(10,2)) AS amount')
      ? b.replace('CAST(amount AS DECIMAL(10,2)) AS amount', 'CAST(amount AS DOUBLE) AS amount')
      : b.replace('CAST(amount AS DOUBLE) AS amount', 'CAST(amount AS DECIMAL(10,2)) AS amount'),
  ),
  'amount no longer read': inBlock((b) =>
    b.includes('CAST(amount AS DECIMAL(10,2)) AS amount')
      ? b.replace('CAST(amount AS DECIMAL(10,2)) AS amount', 'CAST(0 AS DECIMAL(10,2)) AS amount').replace('WHERE amount > ', 'WHERE id > ')
      : b.replace('CAST(0 AS DECIMAL(10,2)) AS amount', 'CAST(amount AS DECIMAL(10,2)) AS amount').replace('WHERE id > ', 'WHERE amount > '),
  ),
  description: inBlock((b, rand) => b.replace(/description = "[^"]*"/, `description = "edited ${rand(1000)}"`)),
  comment: inBlock((b, rand) => b.replace('{\n', `{\n${'    // a note\n'.repeat(1 + rand(3))}`)),
  'node deleted': (text, rand) => {
    const leaves = blocks(text).filter((b) => readsOf(text, b.ref) === 0);
    const b = leaves[rand(leaves.length)];
    return b && text.slice(0, b.start) + text.slice(b.end + 1);
  },
  'node renamed': (text, rand) => {
    const bs = blocks(text);
    const b = bs[rand(bs.length)];
    const name = `${b.name}r${rand(100)}`;
    const renamed = text.slice(0, b.start) + text.slice(b.start, b.end).replace(`${b.kind} ${b.name} {`, `${b.kind} ${name} {`) + text.slice(b.end);
    return renamed.replace(new RegExp(`\\b${b.ref.replace('.', '\\.')}\\b`, 'g'), `${b.ref.split('.')[0]}.${name}`);
  },
};
const KINDS = Object.keys(EDITS);

describe('plan after random edits', () => {
  it('equals a plan without caches, byte for byte, and is made from the last plan when it can be', async () => {
    let seed = 0x2545f491;
    const rand = (n: number): number => {
      seed ^= seed << 13;
      seed ^= seed >>> 17;
      seed ^= seed << 5;
      return (seed >>> 0) % n;
    };
    const dir = mkdtempSync(join(tmpdir(), 'asgard-plan-random-'));
    const cold = mkdtempSync(join(tmpdir(), 'asgard-plan-random-cold-'));
    const kept = mkdtempSync(join(tmpdir(), 'asgard-plan-random-kept-'));
    const texts = [generateSpec({ sources: 4, sqlNodes: 40 })];
    let text = texts[0];
    let state = (await appliedState(text, 1, rand))!;
    const setState = (s: string) => {
      for (const d of [dir, cold]) {
        mkdirSync(join(d, '.asgard', 'state'), { recursive: true });
        writeFileSync(join(d, STATE), s);
      }
    };
    // The state of an earlier text: the first plans have updates, replaces and noops.
    for (let i = 0; i < 6; i++) text = EDITS[KINDS[rand(6)]](text, rand) ?? text;
    texts.push(text);
    setState(state);
    writeFileSync(join(dir, SPEC), text);
    expect(await plan(dir)).toMatch(/^exit 0/);
    const done: string[] = [];
    let spliced = 0;
    for (let step = 0; step < 60; step++) {
      if (rand(5) === 0) {
        state = (await appliedState(text, step + 2, rand)) ?? state;
        setState(state);
        done.push('state applied');
      }
      // Each kind in turn, on random blocks (a few tries: not every block has a filter).
      const what = step % (KINDS.length + 1) === KINDS.length ? 'an earlier text' : KINDS[step % (KINDS.length + 1)];
      let next: string | undefined;
      for (let i = 0; i < 5 && (next === undefined || next === text); i++)
        next = what === 'an earlier text' ? texts[rand(texts.length)] : EDITS[what](text, rand);
      if (next === undefined || next === text) continue;
      text = next;
      texts.push(text);
      done.push(what);
      // The witness: the same plan with the last plan's first action (a source: no edit reaches it)
      // marked, the caches then put back.
      const caches = join(dir, '.asgard', 'cache');
      rmSync(kept, { recursive: true, force: true });
      cpSync(caches, kept, { recursive: true });
      const memo = join(caches, 'plans', `${SPEC}.json`);
      editCachedPlan(memo, (actions) => void (actions[0].reasons = [...actions[0].reasons, 'kept from the last plan']));
      writeFileSync(join(dir, SPEC), text);
      if ((await plan(dir)).includes('kept from the last plan')) spliced++;
      rmSync(caches, { recursive: true, force: true });
      cpSync(kept, caches, { recursive: true });

      writeFileSync(join(dir, SPEC), text);
      const warm = await plan(dir);
      rmSync(join(cold, '.asgard', 'cache'), { recursive: true, force: true });
      writeFileSync(join(cold, SPEC), text);
      expect(warm, done.join(', ')).toBe(await plan(cold));
    }
    // Most edits stay inside one block: a good share of the plans were made from the last one.
    expect(spliced).toBeGreaterThanOrEqual(8);
    expect(new Set(done)).toEqual(new Set([...KINDS, 'an earlier text', 'state applied']));
  }, 600_000);

  it('reviews again an update upstream of the edit: its impact reads the edited node', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'asgard-plan-upstream-'));
    const cold = mkdtempSync(join(tmpdir(), 'asgard-plan-upstream-cold-'));
    let text = generateSpec({ sources: 4, sqlNodes: 40 });
    const state = (await appliedState(text, 1, () => 7))!;
    for (const d of [dir, cold]) {
      mkdirSync(join(d, '.asgard', 'state'), { recursive: true });
      writeFileSync(join(d, STATE), state);
    }
    const inBlockOf = (name: string, f: (b: string) => string) => {
      const b = blocks(text).find((x) => x.name === name)!;
      const next = f(text.slice(b.start, b.end));
      expect(next).not.toBe(text.slice(b.start, b.end));
      text = text.slice(0, b.start) + next + text.slice(b.end);
    };
    const impactOf = (out: string, node: string) =>
      (JSON.parse(out.split('\n').slice(1).join('\n').split('\n--- stderr')[0]) as { actions: { node: string; impact?: unknown[] }[] }).actions.find(
        (a) => a.node === node,
      )!.impact;
    // silver.c1 retyped (a replace: its readers' columns change type), then silver.c8, which reads it, no longer reads that column.
    inBlockOf('c1', (b) => b.replace('CAST(amount AS DECIMAL(10,2)) AS amount', 'CAST(amount AS DOUBLE) AS amount'));
    writeFileSync(join(dir, SPEC), text);
    const before = await plan(dir);
    expect(before).toMatch(/^exit 0/);
    inBlockOf('c8', (b) =>
      b.replace('CAST(amount AS DECIMAL(10,2)) AS amount', 'CAST(0 AS DECIMAL(10,2)) AS amount').replace('WHERE amount > ', 'WHERE id > '),
    );
    writeFileSync(join(dir, SPEC), text);
    const after = await plan(dir);
    writeFileSync(join(cold, SPEC), text);
    expect(after).toBe(await plan(cold));
    expect(impactOf(after, 'silver.c1')).not.toEqual(impactOf(before, 'silver.c1'));
  }, 300_000);
});
