// The comparison the conformance checks rely on: equal data under different physical types and
// layouts compares equal; any changed value, missing or extra row fails and is quoted.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDuck } from '../../src/engine/duckdb.js';
import { canonicalDecimal, compareTables, readParquet } from './lib/compare.js';
import { inferKey } from './lib/keys.js';

let dir: string;

const base = `SELECT i::BIGINT AS id, 'n' || i AS name, CAST(i * 1.25 AS DECIMAL(10,2)) AS amount, i / 3.0 AS ratio,
  TIMESTAMP '2025-01-01 00:00:00' + to_seconds(i) AS ts, DATE '2025-01-01' + i::INT AS d, ['US','DE'][1 + i % 2] AS country FROM range(1, 101) r(i)`;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'asgard-compare-'));
  const c = await openDuck();
  // "embedded": one file; "tool": hive-partitioned by country, decimals as DOUBLE, timestamps WITH TIME ZONE.
  await c.run(`COPY (${base}) TO '${dir}/embedded.parquet' (FORMAT parquet)`);
  await c.run(
    `COPY (SELECT id, name, CAST(amount AS DOUBLE) AS amount, ratio + 1e-13 AS ratio, CAST(ts AS TIMESTAMPTZ) AS ts, d, country FROM (${base})) TO '${dir}/tool' (FORMAT parquet, PARTITION_BY (country))`,
  );
  await c.run(`COPY (SELECT id, name, amount, CASE WHEN id = 42 THEN ratio + 0.001 ELSE ratio END AS ratio, ts, d, country FROM (${base}) WHERE id <> 7
                UNION ALL SELECT 1000, 'x', 1.00, 1, TIMESTAMP '2025-01-01', DATE '2025-01-01', 'US') TO '${dir}/bad.parquet' (FORMAT parquet)`);
  await c.run(`COPY (SELECT id, name, amount, ts, d, country FROM (${base})) TO '${dir}/fewer.parquet' (FORMAT parquet)`);
  c.closeSync();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('conformance comparison', () => {
  it('equal data in different layouts and physical types compares equal', async () => {
    const e = await readParquet([`${dir}/embedded.parquet`]);
    const a = await readParquet([`${dir}/tool/**/*.parquet`]);
    expect(a.rows).toHaveLength(100);
    const r = compareTables('t', e, a, { keys: ['id'] });
    expect(r.message).toBe('t: 100 rows equal');
    expect(r.ok).toBe(true);
    expect(r.rows).toBe(100);
  });

  it('a changed value, a missing row and an extra row fail, each quoted', async () => {
    const e = await readParquet([`${dir}/embedded.parquet`]);
    const a = await readParquet([`${dir}/bad.parquet`]);
    const r = compareTables('t', e, a, { keys: ['id'] });
    expect(r.ok).toBe(false);
    expect(r.message).toContain('3 of 101 rows differ');
    expect(r.message).toContain('row id="42": ratio: asgard 14 vs tool 14.001');
    expect(r.message).toMatch(/only in asgard's embedded output: .*id="7"/);
    expect(r.message).toMatch(/only in the tool's output: .*id="1000"/);
  });

  it('a missing column fails', async () => {
    const e = await readParquet([`${dir}/embedded.parquet`]);
    const a = await readParquet([`${dir}/fewer.parquet`]);
    const r = compareTables('t', e, a, { keys: ['id'] });
    expect(r.ok).toBe(false);
    expect(r.message).toContain('missing from the tool');
    expect(r.message).toContain('ratio');
  });

  it('normalises timestamps to UTC ISO and decimals to canonical strings', async () => {
    const e = await readParquet([`${dir}/embedded.parquet`]);
    const row = e.rows.find((x) => x.id === '1')!;
    expect(row.ts).toBe('2025-01-01T00:00:01.000000Z');
    expect(row.amount).toBe('1.25');
    expect(row.d).toBe('2025-01-02');
    expect(canonicalDecimal('12.50')).toBe('12.5');
    expect(canonicalDecimal('-0.00')).toBe('0');
    expect(canonicalDecimal('007.000')).toBe('7');
  });

  it('infers a key: the first column, or with the first timestamp that makes it unique', () => {
    const t = {
      columns: [
        { name: 'k', type: 'BIGINT' },
        { name: 'v', type: 'DOUBLE' },
        { name: 'at', type: 'TIMESTAMP' },
      ],
      rows: [
        { k: '1', v: 1, at: 'a' },
        { k: '1', v: 2, at: 'b' },
      ],
    };
    expect(inferKey(t)).toEqual(['k', 'at']);
    expect(inferKey({ ...t, rows: [t.rows[0]] })).toEqual(['k']);
  });
});
