import { describe, expect, it } from 'vitest';
import { existsSync, readdirSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { executor } from '../../src/engine/sql-executor.js';
import { NodeError } from '../../src/engine/executor.js';
import { openDuck, queryAll } from '../../src/engine/duckdb.js';
import { attachWarehouse } from '../../src/engine/catalog.js';
import { MiniApply, body, check, churnIR, ir, model, source, tempDir } from './helpers.js';
import type { CleanseNode, ModelNode } from '../../src/ir/types.js';
import { dataFilesOnDisk } from '../helpers/warehouse.js';

const CUSTOMERS = `SELECT i::BIGINT AS customer_id,
  CASE WHEN i % 10 = 0 THEN NULL ELSE ' User' || i || '@X.com ' END AS email,
  CASE WHEN i % 7 = 0 THEN NULL ELSE 'F' || i END AS first_name, 'L' || i AS last_name,
  (DATE '2019-06-01' + INTERVAL (i * 5) DAY)::DATE AS registration_date,
  ['active', 'premium', 'closed', 'ACTIVE'][1 + i % 4] AS status, ['us', 'de', 'fr'][1 + i % 3] AS country, 'c' AS city,
  TIMESTAMP '2020-01-01 00:00:00' + INTERVAL (i) HOUR AS created_at, TIMESTAMP '2024-01-01 00:00:00' AS updated_at
FROM range(1, 301) t(i)`;

async function count(app: MiniApply, pipeline: ReturnType<typeof churnIR>, sql: string): Promise<number> {
  const conn = await openDuck();
  await attachWarehouse(conn, app.state, app.warehouse, { ir: pipeline });
  const r = await queryAll(conn, sql);
  conn.closeSync();
  return Number(Object.values(r.rows[0])[0]);
}

describe('sql executor', () => {
  it('runs the churn cleanse: rows, hive partitions, schema, checks pass', async () => {
    const app = new MiniApply(tempDir());
    const pipeline = churnIR();
    await app.seed('bronze.customers', CUSTOMERS);
    const node = pipeline.nodes.find((n) => n.id === 'silver.customers_cleaned') as CleanseNode;
    const r = await app.run(pipeline, node, executor);
    // Independent count straight from the rules of the SQL, over the seeded bronze rows.
    const expected = await count(
      app,
      pipeline,
      `SELECT count(*) FROM bronze.customers WHERE email IS NOT NULL AND email LIKE '%@%' AND registration_date >= DATE '2020-01-01'`,
    );
    expect(expected).toBeGreaterThan(100);
    expect(r.rows).toBe(expected);
    expect(await count(app, pipeline, 'SELECT count(*) FROM silver.customers_cleaned')).toBe(expected);
    // One data file per country, in hive-style folders, and the table's Iceberg spec partitions by it.
    const dirs = (await app.warehouse.files(r.snapshot!)).map((f) => basename(dirname(f))).sort();
    expect(dirs).toEqual(['country=DE', 'country=FR', 'country=US']);
    const meta = (await app.warehouse.tables.current(app.warehouse.ident('silver.customers_cleaned')))!.metadata;
    const spec = meta['partition-specs'].find((s) => s['spec-id'] === meta['default-spec-id'])!;
    const country = meta.schemas.find((s) => s['schema-id'] === meta['current-schema-id'])!.fields.find((f) => f.name === 'country')!;
    expect(spec.fields).toEqual([{ name: 'country', transform: 'identity', 'source-id': country.id, 'field-id': 1000 }]);
    expect(r.schema?.map((c) => `${c.name} ${c.type}`)).toEqual([
      'customer_id BIGINT',
      'email VARCHAR',
      'first_name VARCHAR',
      'last_name VARCHAR',
      'registration_date DATE',
      'status VARCHAR',
      'country VARCHAR',
      'created_at TIMESTAMP',
      'processed_at TIMESTAMP',
    ]);
    // processed_at is the logical time, not the wall clock.
    expect(
      await count(app, pipeline, `SELECT count(DISTINCT processed_at) FROM silver.customers_cleaned WHERE processed_at = TIMESTAMP '2025-11-11 00:00:00'`),
    ).toBe(1);
  });

  it('a failing check fails the node, names the check and values, and keeps the previous snapshot', async () => {
    const app = new MiniApply(tempDir());
    const pipeline = churnIR();
    await app.seed('bronze.customers', CUSTOMERS);
    const node = pipeline.nodes.find((n) => n.id === 'silver.customers_cleaned') as CleanseNode;
    const first = await app.run(pipeline, node, executor);
    // New bronze with a duplicated customer 5 and 7.
    await app.seed('bronze.customers', `${CUSTOMERS} UNION ALL SELECT * FROM (${CUSTOMERS}) WHERE customer_id IN (205, 207)`);
    const err = await executor.run(app.ctx(pipeline, node)).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(NodeError);
    expect((err as NodeError).message).toContain('unique(customer_id)');
    expect((err as NodeError).message).toMatch(/\b205 \(2×\)/);
    expect((err as NodeError).span).toEqual(node.checks[1].span);
    // Only the first snapshot's files are left: the pending ones were removed.
    expect(await dataFilesOnDisk(app.warehouse, 'silver.customers_cleaned')).toEqual(await app.warehouse.files(first.snapshot!));
  });

  it('each check kind fails on bad data', async () => {
    const app = new MiniApply(tempDir());
    await app.seed('bronze.t', `SELECT * FROM (VALUES (1, 'a'), (2, NULL), (2, 'z')) v(id, s)`);
    const cases: [ModelNode['checks'][number], RegExp][] = [
      [check('not_null', { column: 's' }), /1 row\(s\) have a NULL s/],
      [check('unique', { column: 'id' }), /2 \(2×\)/],
      [check('accepted_values', { column: 's', values: ['a', 'b'] }), /"z" \(1×\)/],
      [check('row_count', { min: 4 }), /3 row\(s\), fewer than the minimum 4/],
      [check('row_count', { max: 2 }), /more than the maximum 2/],
      [check('sql', { sql: body('SELECT * FROM gold.m WHERE id > 1') }), /returned 2 row\(s\)/],
    ];
    for (const [c, re] of cases) {
      const m = model('m', body('SELECT id, s FROM bronze.t'), ['bronze.t'], { checks: [c] });
      const p = ir([
        source('t', [
          ['id', 'INTEGER'],
          ['s', 'VARCHAR'],
        ]),
        m,
      ]);
      const err = await executor.run(app.ctx(p, m)).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err, c.kind).toBeInstanceOf(NodeError);
      expect((err as Error).message).toMatch(re);
    }
    const ok = model('m', body('SELECT id, s FROM bronze.t'), ['bronze.t'], {
      checks: [check('accepted_values', { column: 'id', values: [1, 2] }), check('row_count', { min: 3, max: 3 })],
    });
    expect((await executor.run(app.ctx(ir([ok]), ok))).rows).toBe(3);
  });

  it('a SQL runtime error names the node and the line of its SQL', async () => {
    const app = new MiniApply(tempDir());
    await app.seed('bronze.t', `SELECT * FROM (VALUES ('1'), ('x2')) v(s)`);
    const sql = body(`\n  SELECT\n    s,\n    CAST(s AS INT) AS n\n  FROM bronze.t\n`, 40, 9);
    const m = model('bad', sql, ['bronze.t']);
    const err = await executor.run(app.ctx(ir([m]), m)).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(NodeError);
    expect((err as Error).message).toContain('gold.bad');
    expect((err as Error).message).toContain('line 4 of its SQL');
    expect((err as NodeError).span?.line).toBe(43);
    expect((err as NodeError).span?.column).toBe(5);
    expect(existsSync(app.warehouse.tableDir('gold.bad')) ? readdirSync(app.warehouse.tableDir('gold.bad')) : []).toEqual([]);
  });

  it('incremental: merge on unique_key with incremental_by, and append', async () => {
    const app = new MiniApply(tempDir());
    await app.seed('bronze.ev', `SELECT * FROM (VALUES (1, 10, TIMESTAMP '2025-01-01'), (2, 20, TIMESTAMP '2025-01-02')) v(id, val, ts)`);
    const src = source('ev', [
      ['id', 'INTEGER'],
      ['val', 'INTEGER'],
      ['ts', 'TIMESTAMP'],
    ]);
    const merge = model('merged', body('SELECT id, val, ts FROM bronze.ev'), ['bronze.ev'], {
      materialized: 'incremental',
      uniqueKey: ['id'],
      incrementalBy: 'ts',
    });
    const append = model('appended', body('SELECT id, val, ts FROM bronze.ev'), ['bronze.ev'], {
      materialized: 'incremental',
      incrementalBy: 'ts',
      partitionBy: ['id'],
    });
    const p = ir([src, append, merge]);
    expect((await app.run(p, merge, executor)).rows).toBe(2);
    expect((await app.run(p, append, executor)).rows).toBe(2);
    // The source changes: id 2 updated later, id 3 new, id 1 rewritten with an OLD timestamp (ignored by incremental_by).
    await app.seed(
      'bronze.ev',
      `SELECT * FROM (VALUES (1, 99, TIMESTAMP '2024-12-31'), (2, 21, TIMESTAMP '2025-01-05'), (3, 30, TIMESTAMP '2025-01-06')) v(id, val, ts)`,
    );
    expect((await app.run(p, merge, executor)).rows).toBe(3);
    expect((await app.run(p, append, executor)).rows).toBe(4);
    const conn = await openDuck();
    await attachWarehouse(conn, app.state, app.warehouse, { ir: p });
    expect((await queryAll(conn, 'SELECT id, val FROM gold.merged ORDER BY id')).rows).toEqual([
      { id: 1, val: 10 },
      { id: 2, val: 21 },
      { id: 3, val: 30 },
    ]);
    expect((await queryAll(conn, 'SELECT id, val FROM gold.appended ORDER BY id, val')).rows).toEqual([
      { id: 1, val: 10 },
      { id: 2, val: 20 },
      { id: 2, val: 21 },
      { id: 3, val: 30 },
    ]);
    // A run with nothing newer adds nothing.
    conn.closeSync();
    expect((await app.run(p, append, executor)).rows).toBe(4);
  });

  it('incremental_by with unique_key picks up a late row for the newest value, and lookback a late row older than that', async () => {
    const app = new MiniApply(tempDir());
    const tx = (rows: string) => app.seed('bronze.tx', `SELECT * FROM (VALUES ${rows}) v(merchant, day, amount)`);
    await tx(`('m', DATE '2025-01-01', 10.0), ('m', DATE '2025-01-01', 20.0), ('m', DATE '2025-01-02', 30.0)`);
    const src = source('tx', [
      ['merchant', 'VARCHAR'],
      ['day', 'DATE'],
      ['amount', 'DOUBLE'],
    ]);
    const daily = 'SELECT merchant, day, count(*) AS n, sum(amount) AS total FROM bronze.tx GROUP BY merchant, day';
    const keyed = model('daily', body(daily), ['bronze.tx'], { materialized: 'incremental', uniqueKey: ['merchant', 'day'], incrementalBy: 'day' });
    const windowed = model('daily_lb', body(daily), ['bronze.tx'], {
      materialized: 'incremental',
      uniqueKey: ['merchant', 'day'],
      incrementalBy: 'day',
      lookbackSeconds: 86400,
    });
    const p = ir([src, keyed, windowed]);
    await app.run(p, keyed, executor);
    await app.run(p, windowed, executor);
    // Late rows: one for the newest day the tables hold, one for the day before it.
    await tx(
      `('m', DATE '2025-01-01', 10.0), ('m', DATE '2025-01-01', 20.0), ('m', DATE '2025-01-01', 5.0), ('m', DATE '2025-01-02', 30.0), ('m', DATE '2025-01-02', 70.0)`,
    );
    await app.run(p, keyed, executor);
    await app.run(p, windowed, executor);
    const conn = await openDuck();
    await attachWarehouse(conn, app.state, app.warehouse, { ir: p });
    const q = async (t: string) => (await queryAll(conn, `SELECT CAST(day AS VARCHAR) AS day, n, CAST(total AS DOUBLE) AS total FROM ${t} ORDER BY day`)).rows;
    // The newest day is re-read and merged: 2 rows / 100.00 as in bronze (not 1 / 30.00).
    expect(await q('gold.daily')).toEqual([
      { day: '2025-01-01', n: 2, total: 30 },
      { day: '2025-01-02', n: 2, total: 100 },
    ]);
    // With lookback = 1d, the day before the newest is re-read too.
    expect(await q('gold.daily_lb')).toEqual([
      { day: '2025-01-01', n: 3, total: 35 },
      { day: '2025-01-02', n: 2, total: 100 },
    ]);
    conn.closeSync();
  });

  it('every failing check is named: given names, sql_N, expression and relationships', async () => {
    const app = new MiniApply(tempDir());
    await app.seed('bronze.t', `SELECT * FROM (VALUES (1, 'a', -5), (2, 'b', 3)) v(id, s, amount)`);
    await app.seed('bronze.parents', `SELECT * FROM (VALUES (1)) v(id)`);
    const t = source('t', [
      ['id', 'INTEGER'],
      ['s', 'VARCHAR'],
      ['amount', 'INTEGER'],
    ]);
    const parents = source('parents', [['id', 'INTEGER']]);
    const run = async (c: ModelNode['checks'][number]): Promise<string> => {
      const ok = { ...check('sql', { sql: body('SELECT * FROM gold.m WHERE id > 100') }), name: 'sql_1' };
      const m = model('m', body('SELECT id, s, amount FROM bronze.t'), ['bronze.t'], { checks: [ok, c] });
      const err = await executor.run(app.ctx(ir([t, parents, m]), m)).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(NodeError);
      return (err as Error).message;
    };
    expect(await run({ ...check('sql', { sql: body('SELECT * FROM gold.m WHERE amount < 0') }), name: 'sql_2' })).toMatch(
      /check sql_2 failed: the check's query returned 1 row/,
    );
    expect(await run({ ...check('sql', { sql: body('SELECT * FROM gold.m WHERE amount < 0') }), name: 'no_negative_amounts' })).toMatch(
      /check no_negative_amounts failed/,
    );
    expect(
      await run({
        ...check('expression', { expression: 'amount >= 0', sql: body('SELECT * FROM gold.m WHERE NOT (amount >= 0)') }),
        name: 'expression(amount >= 0)',
      }),
    ).toMatch(/check expression\(amount >= 0\) failed: 1 row\(s\) where `amount >= 0` is false/);
    const rel = body('SELECT c.id FROM gold.m AS c WHERE c.id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM bronze.parents AS p WHERE p.id = c.id)');
    expect(
      await run({
        ...check('relationships', { column: 'id', to: { table: 'bronze.parents', column: 'id' }, sql: { ...rel, reads: ['bronze.parents', 'gold.m'] } }),
        name: 'relationships(id, bronze.parents.id)',
      }),
    ).toMatch(/check relationships\(id, bronze\.parents\.id\) failed: 1 row\(s\) whose id is not a id of bronze\.parents, e\.g\. \{"id":2\}/);
  });

  it('view: no snapshot; readers see the SQL over current inputs', async () => {
    const app = new MiniApply(tempDir());
    await app.seed('bronze.ev', `SELECT * FROM range(5) t(id)`);
    const v = model('v', body('SELECT id * 2 AS d FROM bronze.ev WHERE id > 1'), ['bronze.ev'], {
      materialized: 'view',
      checks: [check('row_count', { min: 1 })],
    });
    const p = ir([source('ev', [['id', 'BIGINT']]), v]);
    const r = await app.run(p, v, executor);
    expect(r.snapshot).toBeUndefined();
    expect(r.schema).toEqual([{ name: 'd', type: 'BIGINT' }]);
    await app.seed('bronze.ev', `SELECT * FROM range(10) t(id)`);
    const conn = await openDuck();
    await attachWarehouse(conn, app.state, app.warehouse, { ir: p });
    expect((await queryAll(conn, 'SELECT count(*) AS n FROM gold.v')).rows[0].n).toBe(8);
    conn.closeSync();
    expect(existsSync(join(app.warehouse.root, 'gold', 'v'))).toBe(false);
    // A table over the view: the executor attaches the view's own inputs too.
    const t = model('over_view', body('SELECT count(*) AS n FROM gold.v'), ['gold.v']);
    const r2 = await app.run(ir([source('ev', [['id', 'BIGINT']]), v, t]), t, executor);
    expect(r2.rows).toBe(1);
    const c2 = await openDuck();
    await attachWarehouse(c2, app.state, app.warehouse);
    expect((await queryAll(c2, 'SELECT n FROM gold.over_view')).rows).toEqual([{ n: 8 }]);
    c2.closeSync();
  });
});
