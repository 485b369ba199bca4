import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DuckDBConnection } from '@duckdb/node-api';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openReadOnlyWarehouse, QueryError, readOnlySql, runReadOnlyQuery } from '../../src/engine/query.js';
import { MiniApply, tempDir } from './helpers.js';

let conn: DuckDBConnection;
let outside: string;

beforeAll(async () => {
  const app = new MiniApply(tempDir());
  await app.seed('gold.m', `SELECT i AS id, i::DECIMAL(10,2) AS amount, 9007199254740993::BIGINT AS big FROM range(5) t(i)`);
  await app.seed('silver.s', `SELECT 1 AS id`);
  outside = join(tempDir(), 'secret.csv');
  writeFileSync(outside, 'a\n1\n');
  conn = await openReadOnlyWarehouse(app.state, app.warehouse);
});
afterAll(() => conn.closeSync());

const refused = async (sql: string): Promise<QueryError> => {
  const e = await runReadOnlyQuery(conn, sql).then(
    () => undefined,
    (x: unknown) => x,
  );
  expect(e, sql).toBeInstanceOf(QueryError);
  return e as QueryError;
};

describe('read-only query', () => {
  it('answers SELECTs over layer tables, iceberg aliases and CTEs, with exact JSON values', async () => {
    const r = await runReadOnlyQuery(conn, 'SELECT id, amount, big FROM gold.m ORDER BY id');
    expect(r.columns).toEqual([
      { name: 'id', type: 'BIGINT' },
      { name: 'amount', type: 'DECIMAL(10,2)' },
      { name: 'big', type: 'BIGINT' },
    ]);
    expect(r.rows[1]).toEqual({ id: 1, amount: '1.00', big: '9007199254740993' });
    const j = await runReadOnlyQuery(conn, 'WITH x AS (SELECT id FROM iceberg.gold.m) SELECT count(*) AS n FROM x JOIN silver.s USING (id)');
    expect(j.rows).toEqual([{ n: 1 }]);
    const lim = await runReadOnlyQuery(conn, 'SELECT * FROM gold.m', { limit: 2 });
    expect([lim.rows.length, lim.truncated]).toEqual([2, true]);
  });

  it('refuses every form that is not a single SELECT over warehouse tables', async () => {
    const forms: [string, RegExp][] = [
      [`COPY gold.m TO '${outside}'`, /only a SELECT/],
      [`ATTACH '${outside}' AS x`, /only a SELECT/],
      [`INSTALL httpfs`, /only a SELECT/],
      [`SET threads = 1`, /only a SELECT/],
      [`PRAGMA version`, /only a SELECT/],
      [`CALL pragma_version()`, /only a SELECT/],
      [`SELECT 1; SELECT 2`, /exactly one statement/],
      [`SELECT * FROM read_csv('${outside}')`, /read_csv is not allowed/],
      [`SELECT * FROM read_parquet('/etc/x.parquet')`, /read_parquet is not allowed/],
      [`SELECT * FROM read_json_auto('/etc/x.json')`, /not allowed/],
      [`SELECT * FROM glob('/etc/*')`, /glob is not allowed/],
      [`SELECT * FROM parquet_scan('/etc/x.parquet')`, /not allowed/],
      [`SELECT getenv('HOME')`, /not allowed/],
      [`SELECT * FROM duckdb_tables()`, /not allowed/],
      [`SELECT * FROM '${outside}'`, /not a warehouse table/],
      [`SELECT * FROM information_schema.tables`, /not a warehouse table/],
      [`SELECT * FROM m`, /not a warehouse table/],
      [`SELECT * FROM other.gold.m`, /not a warehouse table/],
      [`DELETE FROM gold.m`, /only a SELECT/],
      [`INSERT INTO gold.m SELECT * FROM gold.m`, /only a SELECT/],
      [`CREATE TABLE gold.x AS SELECT 1`, /only a SELECT/],
      [`SELECT * FROM (SELECT * FROM read_text('${outside}'))`, /not allowed/],
    ];
    for (const [sql, re] of forms) {
      const e = await refused(sql);
      expect(e.code, sql).toMatch(/refused|invalid/);
      expect(e.message, sql).toMatch(re);
    }
  });

  it('the connection itself cannot reach files outside the warehouse', async () => {
    await expect(conn.run(`SELECT * FROM read_csv('${outside}')`)).rejects.toThrow(/disabled by configuration|Permission/);
    await expect(conn.run(`SET enable_external_access = true`)).rejects.toThrow(/locked/);
  });

  it('stops a query past its time limit', async () => {
    const e = await runReadOnlyQuery(conn, 'SELECT count(*) FROM range(100000000000) a(x) WHERE x % 7 = 3', { timeoutMs: 200 }).then(
      () => undefined,
      (x: unknown) => x,
    );
    expect(e).toBeInstanceOf(QueryError);
    expect((e as QueryError).code).toBe('timeout');
  });

  it("transpiles the users' Spark SQL", () => {
    expect(readOnlySql(`SELECT DATEDIFF(b, a) FROM gold.m`)).toContain(`DATE_DIFF('DAY'`);
  });
});
