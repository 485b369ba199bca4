// The derived-maintenance analysis (src/sql/derive.ts): which SQL shapes are maintained from their
// inputs' changes, on which key, and why the others are rebuilt in full.
import { beforeAll, describe, expect, it } from 'vitest';
import { deriveMaintenance } from '../../src/sql/derive.js';
import { loadSqlToolkit } from '../../src/sql/toolkit.js';

// The analysis takes the SQL toolkit from src/sql/toolkit.ts, which a command loads first.
beforeAll(() => loadSqlToolkit());

const keys: Record<string, string[]> = { 'bronze.a': ['id'], 'bronze.b': ['bid'], 'silver.c': ['customer_id'], 'silver.t': ['transaction_id'] };
const derive = (sql: string) => deriveMaintenance(sql, (t) => keys[t] ?? []);

describe('derived maintenance analysis', () => {
  it.each([
    ['SELECT id, g, v * 2 AS v2 FROM bronze.a WHERE v > 3', 'derived (row-wise on id)', { 'bronze.a': 'id' }],
    ['SELECT a.id AS key, UPPER(a.s) AS s FROM iceberg.bronze.a AS a', 'derived (row-wise on key)', { 'bronze.a': 'id' }],
    ['SELECT * FROM bronze.a WHERE s IS NOT NULL', 'derived (row-wise on id)', { 'bronze.a': 'id' }],
    ['SELECT g, COUNT(*) AS n, SUM(v) AS sv FROM bronze.a GROUP BY g', 'derived (groups by g, aggregates merged)', { 'bronze.a': 'g' }],
    ['SELECT g, COUNT(*) AS n FROM bronze.a GROUP BY 1', 'derived (groups by g, aggregates merged)', { 'bronze.a': 'g' }],
    ['SELECT a.id, a.g, b.w FROM bronze.a a JOIN bronze.b b ON a.g = b.g', 'derived (joins on g)', { 'bronze.a': 'g', 'bronze.b': 'g' }],
    [
      'SELECT a.g, COUNT(b.bid) AS nb FROM bronze.a a LEFT JOIN bronze.b b ON a.g = b.g AND b.w > 2 GROUP BY a.g',
      'derived (groups by g, aggregates merged)',
      { 'bronze.a': 'g', 'bronze.b': 'g' },
    ],
    ['SELECT id, g, ROW_NUMBER() OVER (PARTITION BY g ORDER BY id) AS rn FROM bronze.a', 'derived (partitions by g)', { 'bronze.a': 'g' }],
    ['SELECT id, g, ROW_NUMBER() OVER (PARTITION BY g ORDER BY id) AS rn FROM bronze.a GROUP BY id, g', 'derived (groups by g)', { 'bronze.a': 'g' }],
    ['SELECT v, COUNT(*) AS n FROM bronze.a GROUP BY v', 'derived (groups by v, aggregates merged)', { 'bronze.a': 'v' }],
    [
      'WITH x AS (SELECT g, v FROM bronze.a), y AS (SELECT g, w AS v FROM bronze.b) SELECT g, SUM(v) AS t FROM (SELECT g, v FROM x UNION ALL SELECT g, v FROM y) u GROUP BY g',
      'derived (groups by g)',
      { 'bronze.a': 'g', 'bronze.b': 'g' },
    ],
    ['WITH d AS (SELECT CURRENT_DATE AS day) SELECT a.id, d.day FROM bronze.a a CROSS JOIN d', 'derived (row-wise on id)', { 'bronze.a': 'id' }],
  ])('%s → %s', (sql, text, inputs) => {
    const m = derive(sql);
    expect(m.mode === 'derived' ? m.text : m.reason).toBe(text);
    if (m.mode === 'derived') expect(m.inputs).toEqual(inputs);
  });

  // Which inputs' inserted rows merge into the previous groups (undefined: the groups are recomputed).
  it.each([
    ['SELECT g, COUNT(*) AS n, SUM(v) AS sv, MIN(s) AS lo, MAX(s) AS hi FROM bronze.a WHERE v > 0 GROUP BY g', ['bronze.a']],
    ['SELECT g, v % 2 AS parity, COUNT(v) AS n FROM bronze.a GROUP BY g, v % 2', ['bronze.a']],
    ['SELECT a.g, COUNT(*) AS n, SUM(a.v * b.w) AS p FROM bronze.a a JOIN bronze.b b ON a.g = b.g GROUP BY a.g', ['bronze.a', 'bronze.b']],
    // The outer side of a LEFT JOIN merges when every aggregate reads a column of it alone.
    ['SELECT a.g, COUNT(b.bid) AS nb, MAX(b.w) AS mw FROM bronze.a a LEFT JOIN bronze.b b ON a.g = b.g AND b.w > 0 GROUP BY a.g', ['bronze.a', 'bronze.b']],
    ['SELECT a.g, COUNT(*) AS n, MAX(b.w) AS mw FROM bronze.a a LEFT JOIN bronze.b b ON a.g = b.g GROUP BY a.g', ['bronze.a']],
    ['SELECT a.g, SUM(a.v) AS sv, MAX(b.w) AS mw FROM bronze.a a LEFT JOIN bronze.b b ON a.g = b.g GROUP BY a.g', ['bronze.a']],
    ['SELECT a.g, MAX(COALESCE(b.w, 0)) AS mw FROM bronze.a a LEFT JOIN bronze.b b ON a.g = b.g GROUP BY a.g', ['bronze.a']],
    ['SELECT a.g, MAX(b.w) AS mw FROM bronze.a a LEFT JOIN bronze.b b ON a.g = b.g WHERE b.w IS NULL OR a.v > 1 GROUP BY a.g', ['bronze.a']],
    // A table read through a row-wise CTE or subquery used once merges as if read directly.
    [
      'WITH r AS (SELECT * FROM bronze.b WHERE w > 0) SELECT a.g, COUNT(r.bid) AS nb FROM bronze.a a LEFT JOIN r ON r.g = a.g GROUP BY a.g',
      ['bronze.a', 'bronze.b'],
    ],
    ['SELECT a.g, SUM(x.w) AS sw FROM bronze.a a JOIN (SELECT g, w FROM bronze.b WHERE w > 1) x ON x.g = a.g GROUP BY a.g', ['bronze.a', 'bronze.b']],
    [
      'WITH r AS (SELECT g, MAX(w) AS w FROM bronze.b GROUP BY g) SELECT a.g, MAX(r.w) AS mw FROM bronze.a a LEFT JOIN r ON r.g = a.g GROUP BY a.g',
      ['bronze.a'],
    ],
    // Not merged: an output that is not a plain COUNT/SUM/MIN/MAX, HAVING, DISTINCT, a grouping value not in the output, a table read twice.
    ['SELECT g, AVG(v) AS av FROM bronze.a GROUP BY g', undefined],
    ['SELECT g, CAST(SUM(v) AS DOUBLE) AS sv FROM bronze.a GROUP BY g', undefined],
    ['SELECT g, COUNT(DISTINCT v) AS n FROM bronze.a GROUP BY g', undefined],
    ['SELECT g, COUNT(*) AS n FROM bronze.a GROUP BY g HAVING COUNT(*) > 1', undefined],
    ['SELECT g, COUNT(*) AS n FROM bronze.a GROUP BY g, s', undefined],
    ['SELECT a.g, COUNT(*) AS n FROM bronze.a a JOIN bronze.a x ON a.g = x.g GROUP BY a.g', undefined],
    ['SELECT g, SUM(v) AS t FROM (SELECT g, v FROM bronze.a UNION ALL SELECT g, w AS v FROM bronze.b) u GROUP BY g', undefined],
  ])('%s merges %j', (sql, inputs) => {
    const m = derive(sql);
    expect(m.mode).toBe('derived');
    if (m.mode === 'derived') expect(m.aggregates?.deltaInputs).toEqual(inputs);
  });

  it.each([
    ['SELECT id FROM bronze.a LIMIT 10', 'LIMIT'],
    ['SELECT COUNT(*) AS n FROM bronze.a', 'global aggregate (no GROUP BY)'],
    ['SELECT id, ROW_NUMBER() OVER (ORDER BY id) AS rn FROM bronze.a', 'window without partition'],
    ['SELECT id, ROW_NUMBER() OVER (PARTITION BY g ORDER BY id) AS rn FROM bronze.a', 'window not partitioned by id'],
    ['SELECT id, rand() AS r FROM bronze.a', 'non-deterministic rand()'],
    ['SELECT id, uuid() AS u FROM bronze.a', 'non-deterministic uuid()'],
    ['SELECT id FROM bronze.a WHERE v > (SELECT AVG(v) FROM bronze.a)', 'subquery in an expression'],
    ['SELECT a.id FROM bronze.a a FULL OUTER JOIN bronze.b b ON a.g = b.g', 'FULL JOIN'],
    ['SELECT a.id, b.bid FROM bronze.a a CROSS JOIN bronze.b b', 'id is not the join key'],
    ['SELECT COUNT(*) AS n FROM bronze.a GROUP BY v', 'no key'],
    ['SELECT x, y FROM bronze.z', 'no key (the input carries no primary key or unique column)'],
    ['SELECT b.g FROM bronze.a a LEFT JOIN bronze.b b ON a.g = b.g', 'g comes from the outer side of a LEFT JOIN'],
    ['SELECT id FROM other.a', 'reads other.a, not a warehouse table'],
  ])('%s → full: %s', (sql, reason) => {
    const m = derive(sql);
    expect(m.mode).toBe('full');
    if (m.mode === 'full') expect(m.reason).toContain(reason);
  });

  // A changed input row that fails a condition on its own columns never reaches the output: only the
  // rows passing it give affected keys. Conditions that keep rows anyway (the left side of a
  // LEFT JOIN's ON, its right side in a WHERE) are not filters.
  it.each([
    ['SELECT id, v FROM bronze.a WHERE v > 3 AND s IS NOT NULL', { 'bronze.a': 'SELECT * FROM bronze.a AS a WHERE (v > 3) AND (s IS NOT NULL)' }],
    [
      'SELECT a.g, COUNT(b.bid) AS nb FROM bronze.a a LEFT JOIN bronze.b b ON a.g = b.g AND b.w > 2 AND a.v > 1 GROUP BY a.g',
      { 'bronze.b': 'SELECT * FROM bronze.b AS b WHERE (b.w > 2)' },
    ],
    [
      'SELECT a.g, COUNT(b.bid) AS nb FROM bronze.a a LEFT JOIN bronze.b b ON a.g = b.g WHERE b.w > 2 AND a.v > 1 GROUP BY a.g',
      { 'bronze.a': 'SELECT * FROM bronze.a AS a WHERE (a.v > 1)' },
    ],
    ['SELECT a.g, b.w FROM bronze.a a JOIN bronze.b b ON a.g = b.g AND a.v > 1 AND b.w < a.v', { 'bronze.a': 'SELECT * FROM bronze.a AS a WHERE (a.v > 1)' }],
    // Read twice: each read's rows; a read without a condition: every row.
    [
      'WITH x AS (SELECT g, v FROM bronze.a WHERE v > 0) SELECT g, SUM(v) AS t FROM (SELECT g, v FROM x UNION ALL SELECT g, v FROM bronze.a WHERE v < -5) u GROUP BY g',
      { 'bronze.a': 'SELECT * FROM bronze.a AS a WHERE (v > 0) UNION ALL SELECT * FROM bronze.a AS a WHERE (v < -5)' },
    ],
    ['SELECT g, SUM(v) AS t FROM (SELECT g, v FROM bronze.a WHERE v > 0 UNION ALL SELECT g, v FROM bronze.a) u GROUP BY g', {}],
    ['SELECT id FROM bronze.a WHERE v IN (SELECT 1)', {}],
    // With a relation that names no table (a CTE of dates): a row reaches the output only when some
    // row of it passes the conditions on both; on the WHERE's side too (a is not nullable).
    [
      'WITH d AS (SELECT 3 AS lo UNION ALL SELECT 6 AS lo) SELECT a.g, d.lo, COUNT(b.bid) AS nb FROM bronze.a a CROSS JOIN d LEFT JOIN bronze.b b ON a.g = b.g AND b.w < d.lo AND b.w > 0 WHERE a.v <= d.lo GROUP BY a.g, d.lo',
      {
        'bronze.a': 'SELECT * FROM bronze.a AS a WHERE (EXISTS (SELECT 1 FROM (SELECT 3 AS lo UNION ALL SELECT 6 AS lo) AS d WHERE (a.v <= d.lo)))',
        'bronze.b':
          'SELECT * FROM bronze.b AS b WHERE (b.w > 0) AND (EXISTS (SELECT 1 FROM (SELECT 3 AS lo UNION ALL SELECT 6 AS lo) AS d WHERE (b.w < d.lo)))',
      },
    ],
    // Not when the relation is a LEFT JOIN's outer side (its NULL-extended row is none of its rows),
    // nor when it names a table (a CTE over another CTE).
    [
      'WITH d AS (SELECT 3 AS lo) SELECT a.g, COUNT(b.bid) AS nb FROM bronze.a a LEFT JOIN d ON a.v = d.lo JOIN bronze.b b ON a.g = b.g AND b.w < coalesce(d.lo, 9) GROUP BY a.g',
      {},
    ],
    ['WITH d AS (SELECT 3 AS lo), e AS (SELECT lo FROM d) SELECT a.g, COUNT(*) AS n FROM bronze.a a JOIN e ON a.v < e.lo GROUP BY a.g', {}],
  ])('%s: changed rows that reach the output', (sql, filters) => {
    const m = derive(sql);
    expect(m.mode).toBe('derived');
    if (m.mode === 'derived') expect(m.filters).toEqual(filters);
  });

  it('notes SQL that reads the logical time', () => {
    const m = derive('SELECT id, CURRENT_TIMESTAMP() AS at FROM bronze.a');
    expect(m).toMatchObject({ mode: 'derived', usesLogicalTime: true });
    expect(derive('SELECT id FROM bronze.a')).toMatchObject({ mode: 'derived', usesLogicalTime: false });
  });

  it("derives the churn pipeline's gold models on customer_id", async () => {
    const { churnBodies } = await import('../engine/helpers.js');
    const b = churnBodies();
    const churnKeys = (t: string) =>
      ({
        'silver.customers_cleaned': ['customer_id'],
        'silver.transactions_cleaned': ['transaction_id'],
        'silver.support_tickets_cleaned': ['ticket_id'],
        'bronze.transactions': ['transaction_id'],
        'bronze.customers': ['customer_id'],
      })[t] ?? [];
    expect(deriveMaintenance(b.get('customer_metrics')!.text, churnKeys)).toMatchObject({ mode: 'derived', key: 'customer_id', how: 'group' });
    expect(deriveMaintenance(b.get('churn_labels')!.text, churnKeys)).toMatchObject({ mode: 'derived', key: 'customer_id', how: 'group' });
    expect(deriveMaintenance(b.get('transactions_cleaned')!.text, churnKeys)).toMatchObject({ mode: 'derived', key: 'transaction_id', how: 'row-wise' });
  });
});
