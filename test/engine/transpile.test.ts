import { describe, expect, it } from 'vitest';
import { renderSql, tablesRead } from '../../src/sql/transpile.js';
import { openDuck, queryAll } from '../../src/engine/duckdb.js';
import { body } from './helpers.js';

const duck = (sql: string, logicalTime?: Date) => renderSql(body(sql), { dialect: 'duckdb', tableRef: (id) => `"${id.replace('.', '"."')}"`, logicalTime });

describe('renderSql', () => {
  it('rewrites layer tables (and the iceberg alias) through tableRef, keeping qualifiers valid', () => {
    const r = renderSql(body('SELECT customers.id, t.x FROM iceberg.bronze.customers JOIN silver.t t ON customers.id = t.id JOIN other_cte USING (id)'), {
      dialect: 'duckdb',
      tableRef: (id) => `read_parquet('/w/${id}.parquet')`,
    });
    expect(r.diagnostics).toEqual([]);
    expect(r.sql).toContain(`FROM read_parquet('/w/bronze.customers.parquet') AS customers`);
    expect(r.sql).toContain(`JOIN read_parquet('/w/silver.t.parquet') AS t`);
    expect(r.sql).toContain('JOIN other_cte');
    expect(tablesRead(body('SELECT * FROM iceberg.bronze.a, gold.b, (SELECT 1 FROM silver.c) q'))).toEqual(['bronze.a', 'gold.b', 'silver.c']);
  });

  it('a body rendered again renders what changed: other tables, another logical time, other variable values, another dialect', () => {
    const text = "SELECT id, CURRENT_DATE AS d, var('region') AS r, DATE_FORMAT(ts, 'yyyy-MM') AS m FROM silver.t";
    const at = (day: string, region: string, tableRef: (id: string) => string, dialect: 'duckdb' | 'spark' = 'duckdb') =>
      renderSql({ ...body(text), vars: { region } }, { dialect, tableRef, logicalTime: new Date(`${day}T00:00:00Z`) }).sql;
    const plain = (id: string) => id;
    const a = at('2025-01-01', 'eu', plain);
    expect(a).toContain(`CAST('2025-01-01' AS DATE)`);
    expect(a).toContain(`'eu'`);
    expect(a).toContain('FROM silver.t AS t');
    expect(at('2025-01-01', 'eu', plain)).toBe(a);
    expect(at('2025-01-01', 'eu', () => 'asg_delta')).toContain('FROM asg_delta AS t');
    expect(at('2025-02-01', 'eu', plain)).toContain(`CAST('2025-02-01' AS DATE)`);
    expect(at('2025-01-01', 'us', plain)).toContain(`'us'`);
    expect(a).toMatch(/STRFTIME/i);
    expect(at('2025-01-01', 'eu', plain, 'spark')).toMatch(/DATE_FORMAT/i);
  });

  it('keeps Spark 4 (ANSI) CAST semantics and naive TIMESTAMP on DuckDB', async () => {
    const r = duck('SELECT CAST(s AS INT) AS a, TRY_CAST(s AS INT) AS b, CAST(s AS TIMESTAMP) AS c, CAST(s AS TIMESTAMP_LTZ) AS d FROM gold.x');
    expect(r.sql).toBe('SELECT CAST(s AS INT) AS a, TRY_CAST(s AS INT) AS b, CAST(s AS TIMESTAMP) AS c, CAST(s AS TIMESTAMPTZ) AS d FROM "gold"."x" AS x');
    // And DuckDB agrees: a bad CAST fails, TRY_CAST gives NULL.
    const conn = await openDuck();
    await expect(queryAll(conn, `SELECT CAST('x' AS INT)`)).rejects.toThrow(/Conversion/);
    conn.closeSync();
  });

  it('translates Spark functions and both DATEDIFF forms', () => {
    const r = duck(`SELECT DATEDIFF(a, b) AS d1, DATE_DIFF('day', a, b) AS d2, DATE_FORMAT(a, 'yyyy-MM') AS m FROM gold.x`);
    expect(r.sql).toContain(`DATE_DIFF('DAY', CAST(b AS DATE), CAST(a AS DATE)) AS d1`);
    expect(r.sql).toContain(`DATE_DIFF('DAY', a, b) AS d2`);
    expect(r.sql).toContain(`STRFTIME(a, '%Y-%m') AS m`);
  });

  it('substitutes the logical time for CURRENT_DATE, CURRENT_TIMESTAMP() and now()', async () => {
    const t = new Date('2025-11-11T08:30:00Z');
    const r = duck('SELECT CURRENT_DATE AS d, CURRENT_TIMESTAMP() AS ts, now() AS n, CURRENT_DATE - INTERVAL 60 DAYS AS back FROM gold.x', t);
    expect(r.sql).not.toMatch(/CURRENT_|NOW\(/i);
    const conn = await openDuck();
    const out = await queryAll(conn, r.sql.replace(' FROM "gold"."x" AS x', ''));
    conn.closeSync();
    expect(out.rows[0]).toEqual({ d: '2025-11-11', ts: '2025-11-11 08:30:00', n: '2025-11-11 08:30:00', back: '2025-09-12 00:00:00' });
    expect(duck('SELECT CURRENT_DATE FROM gold.x').sql).toContain('CURRENT_DATE');
  });

  it('renders for Spark, Trino and PostgreSQL targets', () => {
    const sql = body('SELECT TRY_CAST(a AS INT) AS a, CAST(b AS TIMESTAMP) AS b FROM silver.s');
    expect(renderSql(sql, { dialect: 'spark', tableRef: (id) => `iceberg.${id}` }).sql).toBe(
      'SELECT TRY_CAST(a AS INT) AS a, CAST(b AS TIMESTAMP) AS b FROM iceberg.silver.s AS s',
    );
    expect(renderSql(sql, { dialect: 'trino', tableRef: (id) => `iceberg.${id}` }).sql).toBe(
      'SELECT TRY_CAST(a AS INTEGER) AS a, CAST(b AS TIMESTAMP) AS b FROM iceberg.silver.s AS s',
    );
    expect(renderSql(sql, { dialect: 'postgres', tableRef: (id) => `{{ ref('${id.split('.')[1]}') }}` }).sql).toBe(
      `SELECT CAST(a AS INT) AS a, CAST(b AS TIMESTAMP) AS b FROM {{ ref('s') }} AS s`,
    );
  });

  it('reports a syntax error at its position in the spec file', () => {
    const r = renderSql(body('\n  SELECT a,\n    FROM FROM x', 20, 9), { dialect: 'duckdb', tableRef: (id) => id });
    expect(r.sql).toBe('');
    expect(r.diagnostics).toHaveLength(1);
    expect(r.diagnostics[0].code).toBe('ASG3001');
    expect(r.diagnostics[0].span?.line).toBe(22);
  });
});
