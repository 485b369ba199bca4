// The fast SQL analysis (src/sql/fast-analyze.ts) must give exactly polyglot's answer wherever it
// answers: the tables read and their offsets, the normalised text fingerprints hash, the DuckDB
// rendering schema binding runs. Compared on every SQL body of the repository (pipelines, fixtures,
// planner cases, bodies written in tests and docs), on the generated bench specs, and on one case per
// construct the fast path accepts; and it must answer for the common subset (else it saves nothing).

import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { analyzeWithPolyglot } from '../../src/sql/analyze.js';
import { fastAnalyzeSql } from '../../src/sql/fast-analyze.js';
import { loadSqlToolkit } from '../../src/sql/toolkit.js';
import { generateSpec } from '../../bench/gen-spec.js';

const root = join(import.meta.dirname, '..', '..');
const bodiesOf = (text: string): string[] => [...text.matchAll(/"""([\s\S]*?)"""/g)].map((m) => m[1]);

function repoBodies(): string[] {
  const files = execFileSync('git', ['ls-files', '*.asg', 'test/**/*.ts', 'docs/*.md', 'README.md', 'pipelines/*'], { cwd: root, encoding: 'utf8' })
    .split('\n')
    .filter(Boolean);
  return [...new Set(files.flatMap((f) => bodiesOf(readFileSync(join(root, f), 'utf8'))))];
}

/**
 * The bodies of the 1,000- and 10,000-node bench specs, one per distinct text once the table names
 * are masked (the specs' bodies differ only in their tables and constants: ~250 of 10,500).
 */
function generatedBodies(): string[] {
  const shapes = new Map<string, string>();
  for (const n of [1000, 10000]) for (const b of bodiesOf(generateSpec(n))) shapes.set(b.replace(/\b(bronze|silver|gold)\.\w+/g, 'T'), b);
  return [...shapes.values()];
}

// The comparison needs polyglot itself, which asgard now loads only on demand (src/sql/toolkit.ts).
beforeAll(async () => {
  await loadSqlToolkit();
});

function same(text: string): boolean {
  const fast = fastAnalyzeSql(text);
  if (fast === undefined) return false;
  expect({ text, analysis: fast }).toEqual({ text, analysis: analyzeWithPolyglot(text) });
  return true;
}

const wrap = (e: string) => `SELECT ${e} AS v FROM bronze.t`;

/** One case per construct the fast path accepts (each must be answered, and equal). */
const ACCEPTED = [
  ...[
    'upper(x)',
    'Lower(x)',
    'trim(x)',
    'abs(x)',
    'length(x)',
    'ln(x)',
    'sqrt(x)',
    'floor(x)',
    'ceil(x)',
    'coalesce(a, b, 0)',
    'greatest(a, b)',
    'least(a, 1)',
    'nullif(a, 0)',
  ].map(wrap),
  ...['round(x)', 'round(x, 2)', 'power(a, 2)', 'concat(a, b)', 'substring(a, 1, 2)', 'substr(a, 1, 2)', "date_trunc('day', a)"].map(wrap),
  ...['sum(x)', 'avg(x)', 'min(x)', 'max(x)', 'count(*)', 'count(1)', 'count(DISTINCT x)', 'stddev(x)', 'count_if(a > 1)'].map(wrap),
  ...[
    'row_number() OVER (PARTITION BY a ORDER BY b)',
    'rank() OVER (PARTITION BY a ORDER BY b DESC, c)',
    'dense_rank() OVER (ORDER BY b)',
    'lag(x) OVER (PARTITION BY a ORDER BY b)',
    'lead(x, 2) OVER (PARTITION BY a ORDER BY b)',
    'sum(x) OVER (PARTITION BY a)',
  ].map(wrap),
  ...['a / b', 'a % b', '-a', '1 - -1', 'NOT a', 'a <> b', 'a != b', 'a == b', 'a >= 1 AND b <= 2 OR c < 3', '(a + b) * c', 'a IS NULL', 'a IS NOT NULL'].map(
    wrap,
  ),
  ...[
    "a IN ('x', 'y')",
    'a NOT IN (1, 2)',
    'a BETWEEN 1 AND 2',
    "a LIKE 'x%'",
    "a NOT LIKE 'x%'",
    'CASE a WHEN 1 THEN 2 END',
    "CASE WHEN a > 1 THEN 'p' WHEN a < 0 THEN 'n' ELSE 'z' END",
  ].map(wrap),
  ...[
    'CAST(a AS STRING)',
    'cast(a as int)',
    'CAST(a AS BIGINT)',
    'CAST(a AS SMALLINT)',
    'CAST(a AS DOUBLE)',
    'CAST(a AS FLOAT)',
    'CAST(a AS DATE)',
    'CAST(a AS TIMESTAMP)',
    'CAST(a AS BOOLEAN)',
    'CAST(a AS DECIMAL)',
    'CAST(a AS DECIMAL(10,2))',
  ].map(wrap),
  ...[
    '1.50',
    '0.5',
    "'text'",
    'TRUE',
    'false',
    'null',
    'x.y',
    'CURRENT_DATE',
    'current_date()',
    'CURRENT_TIMESTAMP',
    'CURRENT_TIMESTAMP()',
    'INTERVAL 3 DAYS',
    "INTERVAL '3' day",
    'interval 1 hour',
    'INTERVAL 5 MINUTES',
    'INTERVAL 9 SECOND',
  ].map(wrap),
  'select a, B.c as D from bronze.t as T where a > 1',
  'SELECT DISTINCT a FROM bronze.t',
  'SELECT a FROM bronze.t UNION ALL SELECT a FROM silver.u UNION SELECT a FROM gold.v',
  'SELECT s.a FROM (SELECT a FROM bronze.t) s',
  'SELECT s.a FROM (SELECT a FROM bronze.t WHERE a > 0) AS s JOIN silver.u ON s.a = u.a',
  'SELECT x.a FROM bronze.t x INNER JOIN bronze.u y ON x.a = y.a LEFT OUTER JOIN gold.w z ON z.a = x.a',
  'SELECT x.a FROM bronze.t x CROSS JOIN bronze.u y RIGHT JOIN silver.q ON q.a = x.a FULL OUTER JOIN silver.r ON r.a = x.a FULL JOIN silver.s ON s.a = x.a',
  'SELECT a, count(*) n FROM bronze.t GROUP BY a HAVING count(*) > 1',
  'SELECT * FROM bronze.t',
  'SELECT t.*, u.b FROM bronze.t, silver.u',
  'SELECT a FROM iceberg.bronze.t',
  'SELECT a FROM bronze.T',
  'WITH a AS (SELECT x FROM silver.z), b AS (SELECT x FROM a) SELECT b.x, y.q FROM b JOIN bronze.y ON b.x = y.x',
  'WITH a AS (SELECT x FROM silver.z) SELECT a.x FROM bronze.y JOIN a ON a.x = y.x JOIN silver.z ON z.x = a.x',
  '-- the customers\nSELECT a /* kept out */ FROM bronze.t -- end',
  '\n  SELECT\n    a\n  FROM bronze.t\n  WHERE b = 1\n',
];

/** Outside the subset: the fast path must leave these to polyglot. */
const DECLINED = [
  wrap('a || b'),
  wrap('nvl(a, b)'),
  wrap('datediff(a, b)'),
  wrap("'it''s'"),
  wrap('`quoted`'),
  wrap('1e3'),
  wrap("var('x')"),
  wrap('row_number() OVER (PARTITION BY a ORDER BY b NULLS LAST)'),
  'SELECT a FROM bronze.t ORDER BY a',
  'SELECT a FROM bronze.t LIMIT 5',
  'SELECT a FROM customers',
  'SELECT a FROM other.t',
  'SELECT a FROM bronze.t WHERE a IN (SELECT a FROM silver.u)',
  'SELECT a FROM bronze.t; SELECT 1 FROM bronze.t',
  'SELECT x.a FROM bronze.t x JOIN bronze.u y USING (a)',
  'SELECT a FROM bronze.t WHERE',
  'SELECT é FROM bronze.t',
  '',
];

describe('fast SQL analysis = polyglot', () => {
  it('on every SQL body of the repository it answers for', { timeout: 900_000 }, () => {
    const bodies = repoBodies();
    expect(bodies.length).toBeGreaterThan(50);
    const answered = bodies.filter(same).length;
    process.stderr.write(`fast-analyze: ${answered} of ${bodies.length} repository bodies answered without polyglot\n`);
    // Most bodies in the repository are in the subset (the rest go to polyglot).
    expect(answered).toBeGreaterThan(bodies.length / 3);
  });

  // ~250 polyglot analyses and ~80 for the repository's bodies: seconds on a quiet machine, minutes at load 60.
  it('on every body of the generated bench specs, answering for all of them', { timeout: 900_000 }, () => {
    const bodies = generatedBodies();
    expect(bodies.length).toBeGreaterThan(100);
    const missed = bodies.filter((b) => !same(b));
    expect(missed).toEqual([]);
  });

  it.each(ACCEPTED)('answers %j as polyglot does', (sql) => {
    expect(same(sql)).toBe(true);
  });

  it.each(DECLINED)('leaves %j to polyglot', (sql) => {
    expect(fastAnalyzeSql(sql)).toBeUndefined();
  });
});
