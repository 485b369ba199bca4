// Tampered saved plans (issue #11, item 3). A plan saved with `plan --out` carries a digest over its
// content; an edited plan is refused with exit 2 before anything runs. Independently of the digest
// (which anyone can recompute), apply acts only on the nodes of the spec and the state the plan was
// made from. Each refusal leaves the state and the warehouse exactly as they were.

import { beforeEach, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { planDigest } from '../../src/planner/plan.js';
import { cli } from '../cli/helpers.js';
import { tree } from './helpers.js';

const SPEC = `pipeline items {
  warehouse = "./.asgard/warehouse"
  source files file {
    path = "items.csv"
    format = csv
    stream items { primary_key = id }
  }
  cleanse items_clean {
    sql """ SELECT id, upper(name) AS name FROM iceberg.bronze.items """
  }
}
`;

let dir: string;
beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'asgard-plan-'));
  writeFileSync(join(dir, 'p.asg'), SPEC);
  writeFileSync(join(dir, 'items.csv'), 'id,name\n1,a\n2,b\n3,c\n');
  const r = await cli(['apply', 'p.asg', '--yes'], { cwd: dir });
  expect(r.code, r.stderr).toBe(0);
  // A change to plan: the cleanse's SQL.
  writeFileSync(join(dir, 'p.asg'), SPEC.replace('upper(name)', 'lower(name)'));
  const p = await cli(['plan', 'p.asg', '--out', 'plan.json'], { cwd: dir });
  expect(p.code, p.stderr).toBe(0);
});

type PlanDoc = Record<string, unknown> & { actions: { node: string; action: string }[]; digest: string };
const readPlan = () => JSON.parse(readFileSync(join(dir, 'plan.json'), 'utf8')) as PlanDoc;
const writePlan = (doc: PlanDoc) => writeFileSync(join(dir, 'plan.json'), JSON.stringify(doc, null, 2));
const state = () => tree(join(dir, '.asgard'));

describe('a hand-edited saved plan', () => {
  it('every action set to delete: refused with exit 2 (digest), nothing deleted', async () => {
    const before = state();
    const doc = readPlan();
    expect(doc.digest).toMatch(/^[0-9a-f]{64}$/);
    for (const a of doc.actions) a.action = 'delete';
    writePlan(doc);
    const r = await cli(['apply', 'plan.json', '--format', 'json'], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      `error: ${join(dir, 'plan.json')} was changed after \`asgard plan --out\` wrote it (its digest does not match its content): a saved plan is applied only exactly as it was made; make a new plan\n`,
    );
    expect(JSON.parse(r.stdout).ok).toBe(false);
    expect(state()).toEqual(before);
  });

  it('a plan without its digest is refused too', async () => {
    const before = state();
    const { digest: _d, ...doc } = readPlan();
    writeFileSync(join(dir, 'plan.json'), JSON.stringify(doc));
    const r = await cli(['apply', 'plan.json'], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/its digest is missing/);
    expect(state()).toEqual(before);
  });

  it('with a recomputed digest, deleting spec nodes or touching nodes outside the spec and state is still refused', async () => {
    const before = state();
    const original = readPlan();
    const deleting = readPlan();
    for (const a of deleting.actions) a.action = 'delete';
    deleting.digest = planDigest(deleting);
    writePlan(deleting);
    const r1 = await cli(['apply', 'plan.json'], { cwd: dir });
    expect(r1.code).toBe(2);
    expect(r1.stderr).toMatch(
      /^error: the plan cannot be applied: its action delete bronze\.items is declared by the spec, so it cannot be deleted\. Make a new plan\.\n$/,
    );
    expect(state()).toEqual(before);

    for (const [action, node, why] of [
      ['create', 'gold.not_in_spec', 'is not declared by the spec'],
      ['delete', 'gold.not_in_state', 'is not in the state'],
      ['update', 'silver.items_clean', 'appears twice'],
    ] as const) {
      const doc = structuredClone(original);
      const edited = { ...doc, actions: [...doc.actions, { ...doc.actions[0], node, action }] };
      edited.digest = planDigest(edited);
      writePlan(edited);
      const r = await cli(['apply', 'plan.json'], { cwd: dir });
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(`its action ${action} ${node} ${why}`);
      expect(state()).toEqual(before);
    }
  });

  it('the plan as saved applies (exit 0)', async () => {
    const r = await cli(['apply', 'plan.json'], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
  });
});
