// The SQL per target the site shows, without polyglot (src/sql/fast-analyze.ts fastTargetSql), must be
// exactly polyglot's text wherever it answers: the transpiler's rendering for DuckDB and for Spark
// (src/sql/transpile.ts renderSql, each layer table as its node id, no logical time) laid out by
// polyglot's formatter, as src/docs/polyglot-targets.ts shows a body the fast path leaves. Compared on
// every SQL body of the repository (pipelines, fixtures, bodies in tests and docs), on the generated
// bench specs (it must answer for all of those: else a docs build after a plan still loads polyglot),
// and on one case per layout rule; bodies with comments are left to polyglot.

import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { generateSpec } from '../../bench/gen-spec.js';
import { fastParseSql, fastTargetSql } from '../../src/sql/fast-analyze.js';
import { loadSqlToolkit, sqlToolkit } from '../../src/sql/toolkit.js';
import { renderSql } from '../../src/sql/transpile.js';

const root = join(import.meta.dirname, '..', '..');
const bodiesOf = (text: string): string[] => [...text.matchAll(/"""([\s\S]*?)"""/g)].map((m) => m[1]);

beforeAll(async () => {
  await loadSqlToolkit();
});

/** polyglot's text of a body per target: rendered (src/sql/transpile.ts), then formatted. */
function polyglot(text: string): { duckdb: string; spark: string } {
  const one = (dialect: 'duckdb' | 'spark'): string => {
    const r = renderSql({ text, span: { file: 'x.asg', line: 1, col: 1, endLine: 1, endCol: 1 }, reads: [], normalized: '' } as never, {
      dialect,
      tableRef: (id) => id,
    });
    expect(r.diagnostics).toEqual([]);
    const f = sqlToolkit().format(r.sql, dialect as never);
    return f.success && f.sql?.[0] ? f.sql.join(';\n') : r.sql;
  };
  return { duckdb: one('duckdb'), spark: one('spark') };
}

/** Whether the fast path answered; when it did, its text must be polyglot's for both targets. */
function same(text: string): boolean {
  const fast = fastTargetSql(text);
  if (fast === undefined) return false;
  expect({ text, sql: fast }).toEqual({ text, sql: polyglot(text) });
  return true;
}

const wrap = (e: string) => `SELECT ${e} AS v FROM bronze.t`;
const long = (n: number) => 'x'.repeat(n);

/** One case per layout rule and per difference between the targets. */
const ACCEPTED = [
  // DuckDB's own spelling: NOT IN, NULLS FIRST, types, the clock without parentheses.
  wrap('a NOT IN (1, 2)'),
  wrap('rank() OVER (PARTITION BY a ORDER BY b DESC, c)'),
  'SELECT CAST(a AS STRING) AS s, CAST(a AS FLOAT) AS f, CAST(a AS DECIMAL(10,2)) AS d FROM bronze.t',
  'SELECT current_date() AS d, CURRENT_DATE AS e, CURRENT_TIMESTAMP() AS n, CURRENT_TIMESTAMP AS m, INTERVAL 3 DAYS AS i FROM bronze.t',
  // A CASE goes on several lines once its parts are longer than 80 characters, wherever it is.
  wrap(`CASE WHEN a > 1 THEN '${long(48)}' ELSE 'b' END`),
  wrap(`CASE WHEN a > 1 THEN '${long(49)}' ELSE 'b' END`),
  wrap(`CASE c WHEN 1 THEN '${long(59)}' END`),
  wrap(`coalesce(CASE WHEN a > 1 THEN '${long(60)}' END, 'z')`),
  `SELECT a FROM bronze.t WHERE CASE WHEN a > 1 THEN '${long(60)}' END = 'z'`,
  // Parentheses always open a block; a join's top-level AND puts each operand on a line.
  'SELECT round((a + b) / 2, 2) AS v, ((a)) AS w FROM bronze.t WHERE (a > 1 OR b < 2) AND c = 3 GROUP BY (a + 1) HAVING (count(*) > 1)',
  'SELECT x.a FROM bronze.t x JOIN silver.u y ON x.a = y.a AND x.b BETWEEN 1 AND 2 AND NOT x.c = 1',
  'SELECT x.a FROM bronze.t x JOIN silver.u y ON (x.a = y.a OR x.b = y.b) AND x.c = 1 LEFT JOIN gold.v ON v.a = x.a OR v.b = x.b',
  `SELECT x.a FROM bronze.t x JOIN silver.u y ON CASE WHEN x.a = 1 THEN '${long(70)}' END = y.a`,
  // Clauses, lists, subqueries, CTEs, unions, comma joins, tables with and without aliases.
  'SELECT DISTINCT a, b FROM iceberg.bronze.t WHERE a > 1 GROUP BY a, b HAVING count(*) > 1 AND sum(b) > 2',
  'SELECT s.a FROM (SELECT a, b FROM (SELECT a, b FROM bronze.t) AS q) AS s JOIN (SELECT a FROM silver.u WHERE a > 0) w ON s.a = w.a',
  'WITH a AS (SELECT x FROM silver.z), b AS (SELECT a.x FROM a JOIN (SELECT x FROM bronze.q) AS r ON r.x = a.x) SELECT b.x FROM b',
  'SELECT a FROM bronze.t UNION ALL SELECT a FROM silver.u UNION SELECT a FROM gold.v',
  'SELECT t.*, u.b FROM bronze.t, silver.u u, gold.v WHERE t.a = u.a',
];

describe('the SQL per target without polyglot = polyglot', () => {
  it.each(ACCEPTED)('answers %j as polyglot does', (sql) => {
    expect(same(sql)).toBe(true);
  });

  it('leaves a body with comments to polyglot (its formatter keeps them)', () => {
    expect(fastTargetSql('SELECT a -- the key\nFROM bronze.t')).toBeUndefined();
    expect(fastTargetSql('SELECT a /* the key */ FROM bronze.t')).toBeUndefined();
  });

  it('on every SQL body of the repository it answers for, and on all of its subset but bodies with comments', { timeout: 900_000 }, () => {
    const files = execFileSync('git', ['ls-files', '*.asg', 'test/**/*.ts', 'docs/*.md', 'README.md', 'pipelines/*'], { cwd: root, encoding: 'utf8' })
      .split('\n')
      .filter(Boolean);
    const bodies = [...new Set(files.flatMap((f) => bodiesOf(readFileSync(join(root, f), 'utf8'))))];
    expect(bodies.length).toBeGreaterThan(50);
    const answered = bodies.filter(same).length;
    process.stderr.write(`fast-targets: ${answered} of ${bodies.length} repository bodies rendered without polyglot\n`);
    const left = bodies.filter((b) => fastParseSql(b) && !fastTargetSql(b) && !/--|\/\*/.test(b));
    expect(left).toEqual([]);
    expect(answered).toBeGreaterThan(bodies.length / 3);
  });

  // The specs' bodies differ only in their tables and constants: one per shape is compared.
  it('on every body of the generated bench specs, answering for all of them', { timeout: 900_000 }, () => {
    const shapes = new Map<string, string>();
    for (const n of [1000, 10000])
      for (const b of bodiesOf(generateSpec(n))) shapes.set(b.replace(/\b(bronze|silver|gold)\.\w+/g, 'T').replace(/\d+/g, 'N'), b);
    expect(shapes.size).toBeGreaterThan(3);
    expect([...shapes.values()].filter((b) => !same(b))).toEqual([]);
    expect(bodiesOf(generateSpec(1000)).filter((b) => !fastTargetSql(b))).toEqual([]);
  });
});
