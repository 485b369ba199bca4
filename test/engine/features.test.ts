import { describe, expect, it } from 'vitest';
import { openDuck, queryAll } from '../../src/engine/duckdb.js';
import { attachWarehouse } from '../../src/engine/catalog.js';
import { onlineFeatures, pointInTimeSql } from '../../src/engine/features.js';
import { executor as featuresExecutor } from '../../src/engine/features-executor.js';
import { NodeError } from '../../src/engine/executor.js';
import { MiniApply, featureView, ir, tempDir } from './helpers.js';

// Feature rows of gold.fs: (key, ts, v, w). Key 3 has a tie at 10:00.
const FEATURES = `SELECT * FROM (VALUES
  (1, TIMESTAMP '2025-01-01 10:00:00', 1, 1.5),
  (1, TIMESTAMP '2025-01-01 12:00:00', 2, 2.5),
  (1, TIMESTAMP '2025-01-01 14:00:00', 3, 3.5),
  (2, TIMESTAMP '2025-01-01 00:00:00', 20, 0.0),
  (3, TIMESTAMP '2025-01-01 10:00:00', 5, 1.0),
  (3, TIMESTAMP '2025-01-01 10:00:00', 7, 0.5)
) v(customer_id, updated_at, v, w)`;

const view = featureView('fs_view', 'gold.fs', 'customer_id', 'updated_at', 86400, [
  ['v', 'int64'],
  ['w', 'float64'],
]);

async function setup() {
  const app = new MiniApply(tempDir());
  await app.seed('gold.fs', FEATURES);
  const conn = await openDuck();
  await attachWarehouse(conn, app.state, app.warehouse);
  return { app, conn };
}

const entities = (rows: string): string => `(SELECT * FROM (VALUES ${rows}) e(row_id, customer_id, event_timestamp))`;

describe('point-in-time join', () => {
  it('takes the latest row at or before the event time, never a later one (late arrivals)', async () => {
    const { conn } = await setup();
    const r = await queryAll(
      conn,
      pointInTimeSql(
        view,
        entities(`
      ('a', 1, TIMESTAMP '2025-01-01 13:00:00'),
      ('b', 1, TIMESTAMP '2025-01-01 12:00:00'),
      ('c', 1, TIMESTAMP '2025-01-01 11:59:59'),
      ('d', 1, TIMESTAMP '2025-01-01 09:59:59'),
      ('e', 1, TIMESTAMP '2025-01-02 09:00:00')`),
      ),
    );
    expect(r.rows.map((x) => [x.row_id, x.v, x.w])).toEqual([
      ['a', 2, 2.5],
      ['b', 2, 2.5],
      ['c', 1, 1.5],
      ['d', null, null],
      ['e', 3, 3.5],
    ]);
    expect(r.columns.map((c) => c.name)).toEqual(['row_id', 'customer_id', 'event_timestamp', 'v', 'w']);
    expect(r.columns.find((c) => c.name === 'v')?.type).toBe('BIGINT');
  });

  it('expires values older than the TTL (strictly: ts > t - ttl)', async () => {
    const { conn } = await setup();
    const r = await queryAll(
      conn,
      pointInTimeSql(
        view,
        entities(`
      ('in', 2, TIMESTAMP '2025-01-01 23:59:59'),
      ('edge', 2, TIMESTAMP '2025-01-02 00:00:00'),
      ('out', 2, TIMESTAMP '2025-01-05 00:00:00')`),
      ),
    );
    expect(r.rows.map((x) => [x.row_id, x.v])).toEqual([
      ['in', 20],
      ['edge', null],
      ['out', null],
    ]);
    const noTtl = { ...view, ttlSeconds: 0 };
    const r2 = await queryAll(conn, pointInTimeSql(noTtl, entities(`('out', 2, TIMESTAMP '2025-01-05 00:00:00')`)));
    expect(r2.rows[0].v).toBe(20);
  });

  it('keeps entities without features, duplicates and order; breaks ties deterministically', async () => {
    const { conn } = await setup();
    const r = await queryAll(
      conn,
      pointInTimeSql(
        view,
        entities(`
      ('z', 99, TIMESTAMP '2025-01-01 12:00:00'),
      ('t', 3, TIMESTAMP '2025-01-01 11:00:00'),
      ('z2', 99, TIMESTAMP '2025-01-01 12:00:00'),
      ('t2', 3, TIMESTAMP '2025-01-01 10:00:00')`),
      ),
    );
    expect(r.rows.map((x) => [x.row_id, x.customer_id, x.v, x.w])).toEqual([
      ['z', 99, null, null],
      ['t', 3, 7, 0.5],
      ['z2', 99, null, null],
      ['t2', 3, 7, 0.5],
    ]);
  });

  it('full feature names and TIMESTAMPTZ / string event times', async () => {
    const { conn } = await setup();
    const r = await queryAll(
      conn,
      pointInTimeSql(view, `(SELECT 1 AS customer_id, TIMESTAMPTZ '2025-01-01 13:30:00+01:00' AS event_timestamp UNION ALL SELECT 1, '2025-01-01 12:30:00')`, {
        fullFeatureNames: true,
      }),
    );
    // 13:30+01:00 is 12:30 UTC: value 2 in both rows.
    expect(r.rows.map((x) => x.fs_view__v)).toEqual([2, 2]);
  });
});

describe('online features and the features executor', () => {
  it('materialises the latest row per entity and serves lookups from it', async () => {
    const app = new MiniApply(tempDir());
    await app.seed('gold.fs', FEATURES);
    const p = ir([view]);
    const res = await app.run(p, view, featuresExecutor);
    expect(res.rows).toBe(3);
    const conn = await openDuck();
    await attachWarehouse(conn, app.state, app.warehouse, { ir: p });
    const m = await onlineFeatures(conn, view, [1, 3, 42]);
    expect([...m.keys()].sort()).toEqual(['1', '3']);
    expect(m.get('1')).toMatchObject({ v: 3, w: 3.5 });
    expect(m.get('3')).toMatchObject({ v: 7 });
  });

  it('refuses a view whose feature is missing or of the wrong type, at the feature', async () => {
    const app = new MiniApply(tempDir());
    await app.seed('gold.fs', `SELECT 1 AS customer_id, TIMESTAMP '2025-01-01' AS updated_at, 'x' AS v`);
    const bad = featureView('bad', 'gold.fs', 'customer_id', 'updated_at', 0, [
      ['v', 'int64'],
      ['nope', 'float64'],
    ]);
    const err = await featuresExecutor.run(app.ctx(ir([bad]), bad)).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(NodeError);
    expect((err as Error).message).toContain('feature `v` is declared int64 but gold.fs.v is VARCHAR');
    expect((err as Error).message).toContain('feature `nope` is not a column of gold.fs');
    expect((err as NodeError).span).toEqual(bad.features[0].span);
  });
});
