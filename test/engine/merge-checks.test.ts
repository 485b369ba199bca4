// The checks of a derived run's merge (src/engine/checks.ts with a CheckDelta): what the merge knows
// (the new table's row count, the write's report of the rows it wrote) answers row_count and not_null
// without reading the table, and a violation is still found and reported.
import { describe, expect, it } from 'vitest';
import { readsWholeTable, runChecks } from '../../src/engine/checks.js';
import { openDuck } from '../../src/engine/duckdb.js';
import { check } from './helpers.js';

const opts = { tableRef: (id: string) => id, logicalTime: new Date('2025-01-01T00:00:00Z') };
const checks = [check('not_null', { column: 'k' }), check('row_count', { min: 1, max: 5 })];

describe('checks of a merge', () => {
  it('answers row_count and not_null from the counts and the write report, without reading the table', async () => {
    const conn = await openDuck();
    try {
      await conn.run('CREATE TABLE added AS SELECT * FROM (VALUES (1), (2)) AS t(k)');
      // The whole table is never read: it does not even exist.
      const delta = { added: 'added', key: 'k', rows: 4 };
      const known = { rows: 2, nulls: (c: string) => (c === 'k' ? 0 : undefined), range: () => undefined };
      expect(await runChecks(conn, 'missing_table', checks, { ...opts, delta, known })).toEqual([]);
    } finally {
      conn.closeSync();
    }
  });

  // The merge binds a view of the whole table (every one of its files) only for the checks that read it.
  it('knows which checks of a merge read the whole table', () => {
    const delta = { added: 'added', key: 'k', rows: 4 };
    const whole = (c: ReturnType<typeof check>) => readsWholeTable(c, delta);
    expect(whole(check('not_null', { column: 'v' }))).toBe(false);
    expect(whole(check('unique', { column: 'k' }))).toBe(false);
    expect(whole(check('accepted_values', { column: 'v', values: [1] }))).toBe(false);
    expect(whole(check('row_count', { min: 1 }))).toBe(false);
    expect(whole(check('unique', { column: 'v' }))).toBe(true);
    expect(whole(check('sql', { name: 'x', sql: { text: 'SELECT 1', normalized: 'SELECT 1', reads: [], span: checks[0].span } }))).toBe(true);
  });

  it('still fails a merge whose new row count or written rows break a check', async () => {
    const conn = await openDuck();
    try {
      await conn.run('CREATE TABLE added AS SELECT * FROM (VALUES (1), (NULL)) AS t(k)');
      await conn.run('CREATE TABLE whole AS SELECT * FROM range(6) AS t(k) UNION ALL SELECT k FROM added');
      const delta = { added: 'added', key: 'k', rows: 8 };
      const known = { rows: 2, nulls: (c: string) => (c === 'k' ? 1 : undefined), range: () => undefined };
      const failures = await runChecks(conn, 'whole', checks, { ...opts, delta, known });
      expect(failures.map((f) => [f.name, f.message])).toEqual([
        ['not_null(k)', '1 row(s) have a NULL k'],
        ['row_count()', '8 row(s), more than the maximum 5'],
      ]);
    } finally {
      conn.closeSync();
    }
  });
});
