// Checks of a full write answered with what the write reported (src/engine/checks.ts,
// Warehouse.writtenFacts): a `unique` integer key of known range is counted in a bitmap of that range.
import { describe, expect, it } from 'vitest';
import type { DuckDBConnection } from '@duckdb/node-api';
import { join } from 'node:path';
import { openDuck } from '../../src/engine/duckdb.js';
import { runChecks } from '../../src/engine/checks.js';
import { Warehouse, type WrittenFacts } from '../../src/warehouse/warehouse.js';
import { check, tempDir } from './helpers.js';

/** `conn`, recording every statement it runs. */
function recording(conn: DuckDBConnection): { conn: DuckDBConnection; sql: string[] } {
  const sql: string[] = [];
  const run = conn.runAndReadAll.bind(conn);
  conn.runAndReadAll = ((q: string) => (sql.push(q), run(q))) as typeof conn.runAndReadAll;
  return { conn, sql };
}

/** Write `select` as a pending snapshot of silver.t (two files: one per `part` value) and return its view and facts. */
async function written(conn: DuckDBConnection, select: string): Promise<{ facts: WrittenFacts; relation: string }> {
  const w = new Warehouse(join(tempDir(), 'warehouse'));
  const d = await conn.runAndReadAll(`DESCRIBE ${select}`);
  const schema = d.getRowObjects().map((o) => ({ name: String(o.column_name), type: String(o.column_type) }));
  const p = await w.begin('silver.t', schema, ['part']);
  await w.write(conn, p, select);
  await conn.run(`CREATE OR REPLACE VIEW t AS ${w.pendingSelect(p, schema)}`);
  return { facts: w.writtenFacts(p)!, relation: 't' };
}

const opts = (known: WrittenFacts) => ({ tableRef: (id: string) => id, logicalTime: new Date(), known });
const unique = [check('unique', { column: 'k' })];

describe('checks from the write report', () => {
  it('reports the range of an integer column over every file, none for other types', async () => {
    const conn = await openDuck();
    const { facts } = await written(
      conn,
      `SELECT i::INTEGER - 50 AS k, i % 2 AS part, i::VARCHAR AS s, CASE WHEN i < 0 THEN 1 END AS n FROM range(0, 100) t(i)`,
    );
    expect(facts.range('k')).toEqual({ min: -50n, max: 49n });
    expect(facts.range('s')).toBeUndefined();
    // A column of NULLs only holds no value.
    expect(facts.range('n')).toBeUndefined();
    conn.closeSync();
  });

  it('counts a unique integer key of known range in a bitmap, and finds its duplicates', async () => {
    const { conn, sql } = recording(await openDuck());
    const pass = await written(conn, `SELECT i * 3 AS k, i % 2 AS part FROM range(1, 1001) t(i) UNION ALL SELECT NULL, 0`);
    expect(await runChecks(conn, pass.relation, unique, opts(pass.facts))).toEqual([]);
    expect(sql.some((q) => q.includes('bitstring_agg(') && !q.includes('DISTINCT'))).toBe(true);
    const fail = await written(conn, `SELECT i AS k, i % 2 AS part FROM range(1, 1001) t(i) UNION ALL SELECT 7, 1 UNION ALL SELECT 7, 0`);
    const f = await runChecks(conn, fail.relation, unique, opts(fail.facts));
    expect(f.map((x) => x.message)).toEqual(['1 value(s) of k appear more than once, e.g. 7 (3×)']);
    conn.closeSync();
  });

  it('counts by hash when the range is far wider than the rows, or a reported range is wrong', async () => {
    const { conn, sql } = recording(await openDuck());
    const wide = await written(conn, `SELECT i * 1000000 AS k, i % 2 AS part FROM range(1, 1001) t(i)`);
    expect(await runChecks(conn, wide.relation, unique, opts(wide.facts))).toEqual([]);
    expect(sql.some((q) => q.includes('bitstring_agg('))).toBe(false);
    // A range that misses values: bitstring_agg refuses them, and the hash count still finds the duplicate.
    const dup = await written(conn, `SELECT i AS k, i % 2 AS part FROM range(1, 101) t(i) UNION ALL SELECT 7, 1`);
    const wrong: WrittenFacts = { ...dup.facts, range: () => ({ min: 1n, max: 5n }) };
    const f = await runChecks(conn, dup.relation, unique, opts(wrong));
    expect(f.map((x) => x.name)).toEqual(['unique(k)']);
    conn.closeSync();
  });
});
