// Champion/challenger (issue #11, item 2): a retrained model that still meets its gate but is clearly
// worse than the served version on the same held-out rows is registered, kept unpromoted, and the
// reason says by how much; the served version stays. A better (or equal) challenger is promoted.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from '../../src/ml/registry.js';
import { makeWarehouse, mlIR, runContext, trainNode, type Fixture, trainOn } from '../ml/fixtures.js';

let dir: string;
let fx: Fixture;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'asgard-champion-'));
  fx = await makeWarehouse(dir, 2000);
}, 60_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const strong = trainNode({ gate: undefined, algorithm: { name: 'random_forest', params: { n_estimators: 30, max_depth: 8 } } });
const weak = trainNode({ gate: undefined, algorithm: { name: 'random_forest', params: { n_estimators: 1, max_depth: 1 } } });
const model = 'customer_churn_predictor';

describe('champion/challenger', () => {
  it('a worse challenger is kept unpromoted with the reason; the champion stays served', async () => {
    const reg = new Registry(fx.stateDir);
    expect((await trainOn(fx).run(runContext(mlIR(strong), strong, fx))).modelVersion).toBe(1);
    const warnings: string[] = [];
    const r = await trainOn(fx).run(runContext(mlIR(weak), weak, fx, warnings));
    expect(r.modelVersion).toBe(2);
    const v2 = reg.version(model, 2)!;
    expect(v2.promoted).toBe(false);
    const c = v2.gate!.challenge!;
    expect(c.champion).toBe(1);
    expect(c.metric).toBe('f1');
    expect(c.rows).toBe(400);
    expect(c.championValue - c.challengerValue).toBeGreaterThan(c.tolerance);
    expect(c.reason).toMatch(/^worse than promoted v1 on the same 400 held-out rows: f1 0\.\d{4} vs 0\.\d{4}, more than the tolerance 0\.01$/);
    expect(warnings).toContain(`${model} v2 is ${c.reason}: kept, not promoted`);
    expect(reg.servingVersion(model)!.version).toBe(1);
    // Re-applying with the same inputs reuses v2 and keeps it unpromoted.
    expect((await trainOn(fx).run(runContext(mlIR(weak), weak, fx))).modelVersion).toBe(2);
    expect(reg.version(model, 2)!.promoted).toBe(false);
  }, 120_000);

  it('a better challenger is promoted and served', async () => {
    const d = mkdtempSync(join(tmpdir(), 'asgard-champion-'));
    try {
      const fx2 = await makeWarehouse(d, 2000);
      const reg = new Registry(fx2.stateDir);
      await trainOn(fx2).run(runContext(mlIR(weak), weak, fx2));
      expect(reg.version(model, 1)!.promoted).toBe(true);
      expect((await trainOn(fx2).run(runContext(mlIR(strong), strong, fx2))).modelVersion).toBe(2);
      expect(reg.version(model, 2)!.promoted).toBe(true);
      expect(reg.version(model, 2)!.gate!.challenge!.passed).toBe(true);
      expect(reg.servingVersion(model)!.version).toBe(2);
    } finally {
      rmSync(d, { recursive: true, force: true });
    }
  }, 120_000);
});
