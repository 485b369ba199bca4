// The train and serve executors on a real Parquet warehouse: registry versioning (same inputs →
// same version; changed params or data → a new one), the gate (a failing version is kept, not
// promoted, not used for scoring), the leakage guard (the seed's own label trips it, a clean label
// does not), and batch scoring into a gold snapshot.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from '../../src/ml/registry.js';
import { NodeError } from '../../src/engine/executor.js';
import { openDuck } from '../../src/engine/duckdb.js';
import { makeWarehouse, mlIR, runContext, serveNode, trainNode, type Fixture, trainOn, serveOn } from './fixtures.js';
import type { ServeNode } from '../../src/ir/types.js';
import type { NodeState } from '../../src/planner/state-store.js';
import { nodeDefinition } from '../../src/planner/fingerprint.js';

const dirs: string[] = [];
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), 'asgard-ml-'));
  dirs.push(d);
  return d;
};
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const small = { n_estimators: 15, max_depth: 6 };

describe('train executor and registry', () => {
  let fx: Fixture;
  beforeAll(async () => {
    fx = await makeWarehouse(tmp(), 2500);
  }, 60_000);

  it('registers v1 with all its files, reuses it for the same inputs, and makes v2 when params change', async () => {
    const t = trainNode({ algorithm: { name: 'random_forest', params: small } });
    const warnings: string[] = [];
    const r1 = await trainOn(fx).run(runContext(mlIR(t), t, fx, warnings));
    expect(r1.modelVersion).toBe(1);
    expect(r1.rows).toBe(2500);
    expect(warnings.filter((w) => /leakage/.test(w))).toEqual([]);
    const reg = new Registry(fx.stateDir);
    for (const f of ['model.onnx', 'metrics.json', 'params.json', 'features.json', 'lineage.json'])
      expect(existsSync(join(reg.versionDir('customer_churn_predictor', 1), f))).toBe(true);
    const v1 = reg.version('customer_churn_predictor', 1)!;
    expect(v1.promoted).toBe(true);
    expect(v1.metrics.test_rows).toBe(500);
    const schema = reg.features('customer_churn_predictor', 1);
    expect(schema.features.map((f) => f.name)).toContain('days_since_last_purchase');
    expect(schema.features.every((f) => f.onnxType === 'float32' && Number.isFinite(f.fill))).toBe(true);

    const again = await trainOn(fx).run(runContext(mlIR(t), t, fx));
    expect(again.modelVersion).toBe(1);
    expect(reg.index('customer_churn_predictor')!.versions).toHaveLength(1);

    const t2 = trainNode({ algorithm: { name: 'random_forest', params: { ...small, max_depth: 5 } } });
    expect((await trainOn(fx).run(runContext(mlIR(t2), t2, fx))).modelVersion).toBe(2);
    // Back to the first params: the registered v1 is reused, not retrained.
    expect((await trainOn(fx).run(runContext(mlIR(t), t, fx))).modelVersion).toBe(1);
    expect(reg.index('customer_churn_predictor')!.versions).toHaveLength(2);
  }, 120_000);

  it('leaves out label rows whose label is NULL, and says how many', async () => {
    const fx2 = await makeWarehouse(tmp(), 600, { nullLabelEvery: 10 });
    const t = trainNode({ algorithm: { name: 'random_forest', params: small } });
    const warnings: string[] = [];
    const r = await trainOn(fx2).run(runContext(mlIR(t), t, fx2, warnings));
    expect(r.rows).toBe(540);
    expect(warnings).toContain('train.churn_predictor: 60 rows of gold.churn_labels have a NULL churned or customer_id (unlabelled); they are left out');
  }, 120_000);

  it('makes a new version when the data it trained on changes (a new label snapshot)', async () => {
    const dir = tmp();
    const fx2 = await makeWarehouse(dir, 1500);
    const t = trainNode({ algorithm: { name: 'random_forest', params: small } });
    expect((await trainOn(fx2).run(runContext(mlIR(t), t, fx2))).modelVersion).toBe(1);
    // Same warehouse and registry, new snapshots of the feature source and the labels.
    const fresh = await makeWarehouse(dir, 1500, { labelSeed: 5 });
    expect(fresh.state.nodes['gold.churn_labels'].snapshot!.id).not.toBe(fx2.state.nodes['gold.churn_labels'].snapshot!.id);
    expect((await trainOn(fresh).run(runContext(mlIR(t), t, fresh))).modelVersion).toBe(2);
    expect((await trainOn(fresh).run(runContext(mlIR(t), t, fresh))).modelVersion).toBe(2);
  }, 120_000);

  it('reuses the version trained on the same training set when new snapshots add rows only after the event times', async () => {
    const dir = tmp();
    const fx2 = await makeWarehouse(dir, 1500);
    const t = trainNode({ algorithm: { name: 'random_forest', params: small } });
    expect((await trainOn(fx2).run(runContext(mlIR(t), t, fx2))).modelVersion).toBe(1);
    // New snapshots of both inputs: the labels rewritten with the same rows, the feature source
    // changed at the logical time only; the point-in-time rows at the observation date are the same.
    const later = await makeWarehouse(dir, 1500, { latestPurchases: 3 });
    expect(later.state.nodes['gold.customer_metrics'].snapshot!.id).not.toBe(fx2.state.nodes['gold.customer_metrics'].snapshot!.id);
    const progress: string[] = [];
    const ctx = { ...runContext(mlIR(t), t, later), progress: (p: { message?: string }) => progress.push(p.message ?? '') };
    const r = await trainOn(later).run(ctx);
    expect(r.modelVersion).toBe(1);
    expect(r.maintenance).toBe("unchanged: the training set is v1's");
    expect(progress).toContain('reusing customer_churn_predictor v1 (training set unchanged: the same 1500 rows v1 was trained on)');
    const reg = new Registry(fx2.stateDir);
    expect(reg.index('customer_churn_predictor')!.versions).toHaveLength(1);
    expect(reg.version('customer_churn_predictor', 1)!.trainingSet).toMatch(/^[0-9a-f]{64}$/);
    // One label row at the observation date gone (NULL): a new training set, a new version.
    const relabelled = await makeWarehouse(dir, 1500, { latestPurchases: 3, nullLabelEvery: 1499 });
    expect((await trainOn(relabelled).run(runContext(mlIR(t), t, relabelled))).modelVersion).toBe(2);
  }, 120_000);

  it('keeps a version that fails the gate but does not promote it, and batch scoring uses the promoted one', async () => {
    const fx3 = await makeWarehouse(tmp(), 2000);
    const good = trainNode({ algorithm: { name: 'random_forest', params: small } });
    await trainOn(fx3).run(runContext(mlIR(good), good, fx3));
    const bad = trainNode({
      algorithm: { name: 'random_forest', params: { n_estimators: 3, max_depth: 1 } },
      gate: { metric: 'f1', op: '>=', value: 0.99, text: 'f1 >= 0.99' },
    });
    const warnings: string[] = [];
    const r = await trainOn(fx3).run(runContext(mlIR(bad), bad, fx3, warnings));
    expect(r.modelVersion).toBe(2);
    expect(warnings.some((w) => /v2 fails the gate/.test(w) && /f1/.test(w))).toBe(true);
    const reg = new Registry(fx3.stateDir);
    expect(reg.version('customer_churn_predictor', 2)!.promoted).toBe(false);
    expect(reg.servingVersion('customer_churn_predictor')!.version).toBe(1);

    const ir = mlIR(bad, serveNode());
    const s = await serveOn(fx3).run(runContext(ir, ir.nodes[2] as ReturnType<typeof serveNode>, fx3));
    expect(s.modelVersion).toBe(1);
    expect(s.rows).toBe(2000);
    expect(s.schema!.map((c) => c.name)).toEqual(['customer_id', 'churn_probability', 'prediction', 'risk_level', 'model_version', 'scored_at']);
    const conn = await openDuck();
    const rows = (
      await conn.runAndReadAll(`SELECT count(*) n, count(DISTINCT customer_id) k, min(model_version) v, max(model_version) w,
        sum(CASE WHEN prediction = CAST(churn_probability > 0.5 AS INTEGER) THEN 0 ELSE 1 END) bad_pred,
        sum(CASE WHEN risk_level = CASE WHEN churn_probability >= 0.7 THEN 'high' WHEN churn_probability >= 0.4 THEN 'medium' ELSE 'low' END THEN 0 ELSE 1 END) bad_risk,
        count(DISTINCT risk_level) levels, min(scored_at) t
      FROM (${await fx3.warehouse.snapshotSelect(s.snapshot!)})`)
    ).getRowObjectsJS();
    conn.closeSync();
    expect(rows[0]).toMatchObject({ n: 2000n, k: 2000n, v: 1, w: 1, bad_pred: 0n, bad_risk: 0n, levels: 3n });
    expect(new Date(rows[0].t as Date).toISOString()).toBe('2025-11-11T00:00:00.000Z');
  }, 120_000);

  it('scores again only the entities whose rows changed, and writes the table a full scoring writes', async () => {
    const dir = tmp();
    const fx2 = await makeWarehouse(dir, 1200);
    const t = trainNode({ algorithm: { name: 'random_forest', params: small } });
    await trainOn(fx2).run(runContext(mlIR(t), t, fx2));
    const ir = mlIR(t, serveNode());
    const serve = ir.nodes[2] as ServeNode;
    const first = await serveOn(fx2).run(runContext(ir, serve, fx2));
    // Every 7th customer's latest row changes, every 11th leaves, 50 arrive.
    const later = await makeWarehouse(dir, 1250, { latestPurchases: 1, latestEvery: 7, dropEvery: 11 });
    const metrics = 'gold.customer_metrics';
    const seen = fx2.state.nodes[metrics].snapshot!;
    const nodes = { ...later.state.nodes, [metrics]: { ...later.state.nodes[metrics], history: [seen] } };
    const scoredBefore: NodeState = {
      kind: 'serve',
      fingerprint: 'f',
      metaFingerprint: 'm',
      definition: nodeDefinition(serve, ir),
      snapshot: first.snapshot,
      schema: first.schema,
      modelVersion: 1,
      inputSnapshots: { [metrics]: seen.id, 'train.churn_predictor': 'model@1' },
      appliedAt: new Date().toISOString(),
    };
    const on = (extra: Record<string, NodeState>): Fixture => ({ ...later, state: { ...later.state, nodes: { ...nodes, ...extra } } });
    const inc = await serveOn(later).run(runContext(ir, serve, on({ [serve.id]: scoredBefore })));
    let changed = 0;
    for (let id = 1; id <= 1250; id++) if (id % 11 !== 0 && (id > 1200 || id % 7 === 0)) changed++;
    expect(inc.maintenance).toBe(`incremental: ${changed} of ${inc.rows} rows scored (their entities changed)`);
    expect(inc.rows).toBe(1250 - Math.floor(1250 / 11));
    // A full scoring of the same rows: no previous scoring, or one by another model version.
    const full = await serveOn(later).run(runContext(ir, serve, on({})));
    const otherVersion = await serveOn(later).run(runContext(ir, serve, on({ [serve.id]: { ...scoredBefore, modelVersion: 2 } })));
    expect(full.maintenance).toBeUndefined();
    expect(otherVersion.maintenance).toBeUndefined();
    const conn = await openDuck();
    const rel = async (r: typeof inc) => `(${await later.warehouse.snapshotSelect(r.snapshot!)})`;
    const differ = async (a: typeof inc, b: typeof inc) =>
      Number((await conn.runAndReadAll(`SELECT count(*) FROM (SELECT * FROM ${await rel(a)} EXCEPT ALL SELECT * FROM ${await rel(b)})`)).getRows()[0][0]);
    expect([await differ(inc, full), await differ(full, inc), await differ(otherVersion, full)]).toEqual([0, 0, 0]);
    // The scores did move for the changed entities (the test compares something).
    expect(await differ(full, first)).toBeGreaterThan(0);
    conn.closeSync();
  }, 120_000);

  it('names the batch columns generically unless the serve block names them', async () => {
    const fx4 = await makeWarehouse(tmp(), 300);
    const t = trainNode({ algorithm: { name: 'random_forest', params: small } });
    await trainOn(fx4).run(runContext(mlIR(t), t, fx4));
    const generic = mlIR(t, serveNode({ fields: undefined }));
    const g = await serveOn(fx4).run(runContext(generic, generic.nodes[2] as ReturnType<typeof serveNode>, fx4));
    expect(g.schema!.map((c) => c.name)).toEqual(['customer_id', 'probability', 'prediction', 'risk_level', 'model_version', 'scored_at']);
    const named = mlIR(t, serveNode({ fields: { probability: 'fraud_score', prediction: 'is_fraud', risk_level: 'band' } }));
    const n = await serveOn(fx4).run(runContext(named, named.nodes[2] as ReturnType<typeof serveNode>, fx4));
    expect(n.schema!.map((c) => c.name)).toEqual(['customer_id', 'fraud_score', 'is_fraud', 'band', 'model_version', 'scored_at']);
  }, 120_000);
});

describe('leakage guard', () => {
  it("warns, naming the feature, when the label is the seed's threshold on days_since_last_purchase", async () => {
    const fx = await makeWarehouse(tmp(), 1500, { leaky: true });
    const t = trainNode({ algorithm: { name: 'random_forest', params: small } });
    const warnings: string[] = [];
    await trainOn(fx).run(runContext(mlIR(t), t, fx, warnings));
    const leaks = warnings.filter((w) => /leakage/.test(w));
    expect(leaks).toHaveLength(1);
    expect(leaks[0]).toMatch(/days_since_last_purchase/);
  }, 60_000);

  it('fails the node when the spec says leakage = fail, and registers nothing', async () => {
    const fx = await makeWarehouse(tmp(), 1500, { leaky: true });
    const t = trainNode({ algorithm: { name: 'random_forest', params: small }, leakage: 'fail' });
    const err = await trainOn(fx)
      .run(runContext(mlIR(t), t, fx))
      .catch((e) => e);
    expect(err).toBeInstanceOf(NodeError);
    expect(err.message).toMatch(/days_since_last_purchase/);
    expect(new Registry(fx.stateDir).index('customer_churn_predictor')).toBeUndefined();
  }, 60_000);
});
