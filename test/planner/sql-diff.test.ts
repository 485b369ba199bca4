// The semantic SQL diff (src/sql/sql-diff.ts): structural changes by scope and clause, none for
// layout, comments, keyword case or table aliases; changed output columns followed through CTEs.
import { beforeAll, describe, expect, it } from 'vitest';
import { columnsReferenced, diffSql, queryGrain } from '../../src/sql/sql-diff.js';
import { loadSqlToolkit } from '../../src/sql/toolkit.js';

// The analysis takes the SQL toolkit from src/sql/toolkit.ts, which a command loads first.
beforeAll(() => loadSqlToolkit());

const base = `
  WITH recent AS (
    SELECT o.customer_id, o.amount, o.created_at FROM silver.orders o WHERE o.amount > 0
  )
  SELECT r.customer_id, SUM(r.amount) AS total, COUNT(*) AS n,
         ROW_NUMBER() OVER (PARTITION BY r.customer_id ORDER BY r.created_at) AS rn
  FROM recent r
  JOIN silver.customers c ON r.customer_id = c.customer_id
  WHERE c.country = 'de'
  GROUP BY r.customer_id, r.created_at`;

describe('diffSql', () => {
  it('finds nothing in layout, comments, keyword case and renamed table aliases', () => {
    const same = `
      with recent as (select x.customer_id, x.amount, x.created_at from iceberg.silver.orders x where x.amount > 0)
      select rr.customer_id, sum(rr.amount) as total, count(*) as n, -- a comment
             row_number() over (partition by rr.customer_id order by rr.created_at) as rn
      from recent rr join silver.customers cu on rr.customer_id = cu.customer_id
      where cu.country = 'de' group by rr.customer_id, rr.created_at`;
    expect(diffSql(base, same)).toEqual({ changes: [], changedColumns: [], rowsChanged: false });
  });

  it('names a changed projection, and the output columns that depend on it through a CTE', () => {
    const d = diffSql(base, base.replace('o.amount, o.created_at', 'o.amount * 1.2 AS amount, o.created_at'))!;
    expect(d.changes).toEqual([
      { scope: 'cte recent', clause: 'projection', change: 'changed', item: 'amount', before: 'o.amount', after: 'o.amount * 1.2 AS amount' },
    ]);
    expect(d.changedColumns).toEqual(['total']);
    expect(d.rowsChanged).toBe(false);
  });

  it('reports filters by conjunct, joins by table, group by, window and distinct, and marks rows changed', () => {
    const d = diffSql(
      base,
      base
        .replace("WHERE c.country = 'de'", "WHERE c.country = 'de' AND c.active")
        .replace('JOIN silver.customers c ON', 'LEFT JOIN silver.customers c ON')
        .replace('GROUP BY r.customer_id, r.created_at', 'GROUP BY r.customer_id, r.created_at, c.country')
        .replace('ORDER BY r.created_at', 'ORDER BY r.created_at DESC')
        .replace('SELECT r.customer_id', 'SELECT DISTINCT r.customer_id'),
    )!;
    const by = (clause: string) => d.changes.filter((c) => c.clause === clause);
    expect(by('filter')).toEqual([{ scope: 'query', clause: 'filter', change: 'added', after: 'c.active' }]);
    expect(by('join')).toEqual([
      {
        scope: 'query',
        clause: 'join',
        change: 'changed',
        item: 'silver.customers',
        before: 'JOIN silver.customers AS c ON r.customer_id = c.customer_id',
        after: 'LEFT JOIN silver.customers AS c ON r.customer_id = c.customer_id',
      },
    ]);
    expect(by('group_by')).toEqual([{ scope: 'query', clause: 'group_by', change: 'added', after: 'c.country' }]);
    expect(by('window').map((c) => c.item)).toEqual(['rn']);
    expect(by('distinct')).toHaveLength(1);
    expect(d.rowsChanged).toBe(true);
  });

  it('reports CTEs added and removed, and projections added and removed', () => {
    const d = diffSql('WITH a AS (SELECT 1 AS x) SELECT x, 2 AS y FROM a', 'WITH b AS (SELECT 1 AS x) SELECT x, 3 AS z FROM b')!;
    expect(d.changes.map((c) => `${c.scope}|${c.clause}|${c.change}|${c.item ?? ''}`).sort()).toEqual([
      'query|cte|added|b',
      'query|cte|removed|a',
      'query|from|added|b',
      'query|from|removed|a',
      'query|projection|added|z',
      'query|projection|removed|y',
    ]);
  });

  it('compares the branches of a set operation', () => {
    const d = diffSql('SELECT a FROM t UNION ALL SELECT a FROM u', 'SELECT a FROM t UNION SELECT a FROM u WHERE a > 1')!;
    expect(d.changes.map((c) => `${c.scope}|${c.clause}|${c.change}`)).toEqual(['query branch 2|set_operation|changed', 'query branch 2|filter|added']);
    expect(d.rowsChanged).toBe(true);
  });

  it('is undefined when a side does not parse', () => {
    expect(diffSql('SELECT 1', 'SELEC 1 FROM')).toBeUndefined();
  });
});

describe('queryGrain and columnsReferenced', () => {
  it('knows the GROUP BY columns and row-for-row queries', () => {
    expect(queryGrain('SELECT c.country, SUM(x) FROM t c GROUP BY c.country')).toEqual({ groupBy: ['country'], rowPreserving: false });
    expect(queryGrain('SELECT a, b FROM t WHERE a > 0')).toEqual({ rowPreserving: true });
    expect(queryGrain('SELECT a FROM t JOIN u ON t.k = u.k')).toEqual({ rowPreserving: false });
    expect(queryGrain('SELECT DISTINCT a FROM t')).toEqual({ rowPreserving: false });
  });

  it('finds columns used only in filters and join keys', () => {
    expect([...columnsReferenced('SELECT a FROM t JOIN u ON t.k = u.k WHERE b > 1')].sort()).toEqual(['a', 'b', 'k']);
  });
});
