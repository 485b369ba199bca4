// Output columns typed without DuckDB (src/sql/fast-types.ts) must be exactly what DuckDB's binder
// gives (DESCRIBE of the bind rendering over empty tables of the inputs' schemas, as
// src/engine/schemas.ts binds), wherever the fast path answers — and a body it answers for must bind
// without error. Compared on every SQL node of the repository's specs and of the generated 1,000-node
// bench spec (node by node, each over the columns DuckDB gave its inputs), on one case per rule, and on
// random expressions over columns of every type the rules know.

import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { beforeAll, describe, expect, it } from 'vitest';
import { generateSpec } from '../../bench/gen-spec.js';
import { loadPipeline, loadPipelineText } from '../../src/dsl/load.js';
import { openDuck } from '../../src/engine/duckdb.js';
import { featureViewSchema } from '../../src/engine/schemas.js';
import type { PipelineIR } from '../../src/ir/types.js';
import { analyzeAndType, analyzeSql, type SqlAnalysis, type SqlAnalysisCache } from '../../src/sql/analyze.js';
import { fillTemplate } from '../../src/sql/bind-templates.js';
import { fastAnalyzeSql } from '../../src/sql/fast-analyze.js';
import { fastOutputColumns, type TypedColumn, typeEarly } from '../../src/sql/fast-types.js';
import { loadSqlToolkit } from '../../src/sql/toolkit.js';

const root = join(import.meta.dirname, '..', '..');
type Columns = readonly TypedColumn[];
let conn: DuckDBConnection;
const created = new Map<string, string>();

beforeAll(async () => {
  await loadSqlToolkit();
  conn = await openDuck();
});

/** DuckDB's columns for `text`'s bind rendering over tables of these schemas (by node id), or its error. */
async function duckColumns(text: string, inputs: (id: string) => Columns | undefined): Promise<Columns | { error: string } | undefined> {
  const a = analyzeSql(text);
  if (!a.ok || !a.bind) return undefined;
  const names: string[] = [];
  for (const id of a.bind.tables) {
    const cols = inputs(id);
    if (!cols) return undefined;
    const key = JSON.stringify(cols);
    let name = created.get(key);
    if (!name) {
      name = `t${created.size}`;
      await conn.run(`CREATE TABLE ${name} (${cols.map((c) => `"${c.name}" ${c.type}`).join(', ')})`);
      created.set(key, name);
    }
    names.push(name);
  }
  const sql = fillTemplate(a.bind, (id) => names[a.bind!.tables.indexOf(id)]);
  try {
    const r = await conn.runAndReadAll(`DESCRIBE ${sql}`);
    return r.getRowObjects().map((row) => ({ name: String(row.column_name), type: String(row.column_type) }));
  } catch (e) {
    return { error: (e as Error).message };
  }
}

/** Compares both on `text`: true when the fast path answered (and agreed). */
async function same(text: string, inputs: (id: string) => Columns | undefined): Promise<{ answered: boolean; duck?: Columns }> {
  const fast = fastOutputColumns(text, inputs);
  const duck = await duckColumns(text, inputs);
  if (fast !== undefined) expect({ text, columns: duck }).toEqual({ text, columns: fast });
  return { answered: fast !== undefined, ...(duck && !('error' in duck) ? { duck } : {}) };
}

/** Every SQL node of a spec, in order, over the columns DuckDB gave the nodes it reads: how many the fast path answered. */
async function compareSpec(ir: PipelineIR): Promise<{ answered: number; sql: number }> {
  const schemas = new Map<string, Columns>();
  let answered = 0;
  let sql = 0;
  for (const n of ir.nodes) {
    if (n.kind === 'source' && n.stream.columns)
      schemas.set(
        n.id,
        n.stream.columns.map((c) => ({ name: c.name, type: c.type })),
      );
    if (n.kind === 'features' && schemas.has(n.from)) schemas.set(n.id, featureViewSchema(n, [...schemas.get(n.from)!]));
    if ((n.kind !== 'cleanse' && n.kind !== 'model') || (n.sql.vars && Object.keys(n.sql.vars).length)) continue;
    sql++;
    const r = await same(n.sql.text, (id) => schemas.get(id));
    if (r.answered) answered++;
    if (r.duck) schemas.set(n.id, r.duck);
  }
  return { answered, sql };
}

describe('output columns without DuckDB = DuckDB binder', () => {
  it('on every SQL node of the repository specs', { timeout: 600_000 }, async () => {
    const files = execFileSync('git', ['ls-files', '*.asg'], { cwd: root, encoding: 'utf8' }).split('\n').filter(Boolean);
    let answered = 0;
    let sql = 0;
    for (const f of files) {
      const ir = loadPipeline(join(root, f)).ir;
      if (!ir) continue;
      const r = await compareSpec(ir);
      answered += r.answered;
      sql += r.sql;
    }
    process.stderr.write(`fast-types: ${answered} of ${sql} SQL nodes of the repository's specs typed without DuckDB\n`);
    expect(sql).toBeGreaterThan(10);
    expect(answered).toBeGreaterThan(0);
  });

  it('on every SQL node of the generated 1,000-node spec, answering for all of them', { timeout: 600_000 }, async () => {
    const ir = loadPipelineText(generateSpec(1000), 'synthetic.asg').ir!;
    expect(await compareSpec(ir)).toEqual({ answered: 950, sql: 950 });
  });

  const T: Columns = [
    { name: 'i8', type: 'TINYINT' },
    { name: 'i16', type: 'SMALLINT' },
    { name: 'i32', type: 'INTEGER' },
    { name: 'i64', type: 'BIGINT' },
    { name: 'i128', type: 'HUGEINT' },
    { name: 'f', type: 'FLOAT' },
    { name: 'd', type: 'DOUBLE' },
    { name: 'n', type: 'DECIMAL(10,2)' },
    { name: 'n38', type: 'DECIMAL(38,4)' },
    { name: 'n5', type: 'DECIMAL(5,0)' },
    { name: 's', type: 'VARCHAR' },
    { name: 'b', type: 'BOOLEAN' },
    { name: 'dt', type: 'DATE' },
    { name: 'ts', type: 'TIMESTAMP' },
    { name: 'iv', type: 'INTERVAL' },
    { name: 'j', type: 'JSON' },
    { name: 'Mixed', type: 'INTEGER' },
  ];
  const U: Columns = [
    { name: 'i32', type: 'INTEGER' },
    { name: 'k', type: 'BIGINT' },
    { name: 'n', type: 'DECIMAL(12,3)' },
  ];
  const inputs = (id: string): Columns | undefined => (id === 'bronze.t' ? T : id === 'silver.u' ? U : undefined);

  /** One case per rule (each must be answered, and equal). */
  const ACCEPTED = [
    ...[
      'i8',
      '-i32',
      '-n',
      'i16 + 1',
      'i32 + i64',
      'i8 * i16',
      'n + 1',
      'n + i32',
      'n + n38',
      'n * n5',
      'n - 100000',
      'd + n',
      'i64 + d',
      'dt - INTERVAL 3 DAYS',
      'ts + INTERVAL 2 HOURS',
      'CURRENT_DATE - INTERVAL 30 DAYS',
      'CURRENT_TIMESTAMP() - INTERVAL 1 HOURS',
      'CAST(n AS DECIMAL(10,2))',
      'CAST(s AS INT)',
      'CAST(i32 AS STRING)',
      'CAST(ts AS DATE)',
      'CAST(d AS DECIMAL)',
      'CAST(i64 AS FLOAT)',
      "CASE WHEN s IN ('a', 'b') THEN s ELSE 'z' END",
      'CASE WHEN b THEN 1 ELSE 0 END',
      'CASE WHEN b THEN i8 ELSE 100 END',
      'CASE WHEN b THEN n ELSE 0 END',
      'CASE WHEN b THEN NULL ELSE dt END',
      'CASE WHEN b THEN dt ELSE ts END',
      'CASE i32 WHEN 1 THEN s END',
      'COALESCE(n, 0)',
      'COALESCE(i16, i64, 5)',
      'COALESCE(n, n38)',
      "COALESCE(s, 'x')",
      'GREATEST(i32, d)',
      'LEAST(dt, ts)',
      'UPPER(TRIM(s))',
      'LOWER(s)',
      "s LIKE 'a%'",
      "dt >= '2020-02-29'",
      "ts < '2024-01-31'",
      'i32 BETWEEN 1 AND 10',
      'i64 IS NOT NULL AND NOT b',
      "'x'",
      '42',
      'TRUE',
      'INTERVAL 5 MINUTES',
      'Mixed',
    ].map((e) => `SELECT ${e} AS v FROM bronze.t`),
    ...['SUM(i32)', 'SUM(n)', 'SUM(d)', 'AVG(n)', 'AVG(i64)', 'MIN(s)', 'MAX(ts)', 'COUNT(*)', 'COUNT(DISTINCT s)', 'COUNT_IF(b)', 'STDDEV(d)'].map(
      (e) => `SELECT i32, ${e} AS v FROM bronze.t GROUP BY i32`,
    ),
    'SELECT i32, s FROM bronze.t',
    'SELECT * FROM silver.u',
    'SELECT DISTINCT u.* FROM silver.u',
    'SELECT y.*, x.s FROM bronze.t x JOIN silver.u y ON x.i32 = y.i32',
    'SELECT x.i32, y.k, x.n + y.n AS total FROM bronze.t x JOIN silver.u y ON x.i32 = y.i32',
    'SELECT x.i32, k FROM bronze.t x LEFT JOIN silver.u ON x.i32 = u.i32 WHERE k > 3',
    'SELECT i32, COUNT(*) AS c FROM bronze.t GROUP BY i32 HAVING COUNT(*) > 1',
    'SELECT x.i32, MAX(y.n) AS m FROM bronze.t x CROSS JOIN silver.u y GROUP BY x.i32',
    'WITH a AS (SELECT i32, SUM(n) AS total FROM bronze.t GROUP BY i32) SELECT t.i32, COALESCE(a.total, 0) AS total FROM bronze.t t LEFT JOIN a ON a.i32 = t.i32',
    'SELECT s.v FROM (SELECT i32 + 1 AS v FROM bronze.t) s',
    'SELECT i32 FROM bronze.t UNION ALL SELECT i32 FROM silver.u',
  ];

  /** Left to DuckDB: errors, names DuckDB makes up, types or pairs not in the rules. */
  const DECLINED = [
    ...[
      'nope',
      'i32 + s',
      'i32 / 2',
      'i32 % 2',
      'f + 1',
      '1 + 1',
      'mixed',
      'j',
      'UPPER(i32)',
      "dt >= '2020-02-30'",
      "i32 = 'x'",
      'CAST(dt AS INT)',
      "CAST('x' AS INT)",
      'NULL',
      '2.5',
      'ROW_NUMBER() OVER (ORDER BY i32)',
    ].map((e) => `SELECT ${e} AS v FROM bronze.t`),
    'SELECT i32 + 1 FROM bronze.t',
    'SELECT i32, i32 FROM bronze.t',
    'SELECT i32 FROM bronze.t x JOIN silver.u y ON x.i32 = y.i32',
    'SELECT i32, s FROM bronze.t GROUP BY i32',
    'SELECT i32, COUNT(*) AS c FROM bronze.t WHERE COUNT(*) > 1 GROUP BY i32',
    'SELECT i32 AS v FROM bronze.t WHERE v > 1',
    'SELECT x.i32 FROM bronze.t x JOIN silver.u x ON x.i32 = x.i32',
    'SELECT i32 FROM bronze.t UNION ALL SELECT k FROM silver.u',
    '-- a comment\nSELECT i32 FROM bronze.t',
    'SELECT * FROM bronze.t',
  ];

  it.each(ACCEPTED)('types %j as DuckDB does', async (sql) => {
    expect((await same(sql, inputs)).answered).toBe(true);
  });

  it.each(DECLINED)('leaves %j to DuckDB', async (sql) => {
    await same(sql, inputs);
    expect(fastOutputColumns(sql, inputs)).toBeUndefined();
  });

  it('on random expressions over columns of every type', { timeout: 600_000 }, async () => {
    let seed = Number(process.env.FAST_TYPES_SEED ?? 0x2545f491);
    const rand = (n: number): number => {
      seed ^= seed << 13;
      seed ^= seed >>> 17;
      seed ^= seed << 5;
      return (seed >>> 0) % n;
    };
    const pick = <X>(xs: readonly X[]): X => xs[rand(xs.length)];
    const leaves = [
      ...T.map((c) => c.name),
      '0',
      '1',
      '42',
      '70000',
      '3000000000',
      "'a'",
      "'2020-01-01'",
      'NULL',
      'TRUE',
      '2.5',
      'CURRENT_DATE',
      'CURRENT_TIMESTAMP()',
      'INTERVAL 3 DAYS',
    ];
    const types = ['INT', 'BIGINT', 'SMALLINT', 'DOUBLE', 'FLOAT', 'DATE', 'TIMESTAMP', 'BOOLEAN', 'STRING', 'DECIMAL(10,2)', 'DECIMAL(38,6)', 'DECIMAL'];
    const expr = (depth: number): string => {
      if (depth === 0) return pick(leaves);
      const a = () => expr(depth - 1);
      switch (rand(16)) {
        case 0:
          return `${a()} ${pick(['+', '-', '*', '/', '%'])} ${a()}`;
        case 1:
          return `${a()} ${pick(['=', '<>', '<', '>=', '!='])} ${a()}`;
        case 2:
          return `${a()} ${pick(['AND', 'OR'])} ${a()}`;
        case 3:
          return `CAST(${a()} AS ${pick(types)})`;
        case 4:
          return `CASE WHEN ${a()} THEN ${a()} ELSE ${a()} END`;
        case 5:
          return `CASE ${a()} WHEN ${a()} THEN ${a()} END`;
        case 6:
          return `${pick(['COALESCE', 'GREATEST', 'LEAST'])}(${a()}, ${a()})`;
        case 7:
          return `${pick(['UPPER', 'LOWER', 'TRIM'])}(${a()})`;
        case 8:
          return `${a()} IS ${pick(['', 'NOT '])}NULL`;
        case 9:
          return `${a()} IN (${a()}, ${a()})`;
        case 10:
          return `${a()} BETWEEN ${a()} AND ${a()}`;
        case 11:
          return `NOT ${a()}`;
        case 12:
          return `(${a()})`;
        case 13:
          return `${a()} LIKE ${a()}`;
        case 14:
          return `-${a()}`;
        default:
          return `${pick(T).name} ${pick(['+', '-', '*', '=', '<'])} ${a()}`;
      }
    };
    const aggregate = (): string => `${pick(['SUM', 'AVG', 'MIN', 'MAX', 'COUNT', 'STDDEV', 'COUNT_IF'])}(${expr(1)})`;
    let answered = 0;
    let tried = 0;
    for (let i = 0; i < Number(process.env.FAST_TYPES_N ?? 3000); i++) {
      const shape = rand(4);
      const sql =
        shape === 0
          ? `SELECT ${expr(2)} AS v FROM bronze.t`
          : shape === 1
            ? `SELECT ${expr(2)} AS v, ${expr(1)} AS w FROM bronze.t WHERE ${expr(2)}`
            : shape === 2
              ? `SELECT i32, ${aggregate()} AS v FROM bronze.t GROUP BY i32`
              : `SELECT x.i32, ${expr(1)} AS v FROM bronze.t x JOIN silver.u y ON ${expr(1)}`;
      if (!fastAnalyzeSql(sql)?.bind) continue;
      tried++;
      if ((await same(sql, inputs)).answered) answered++;
    }
    process.stderr.write(`fast-types: ${answered} of ${tried} random queries typed without DuckDB\n`);
    // Most random expressions do not bind at all (a type error): those are DuckDB's to report.
    expect(answered).toBeGreaterThan(tried / 25);
  });
});

describe('typing early, from the tree the SQL analysis parsed (typeEarly)', () => {
  const text = 'SELECT id, amount * 2 AS doubled FROM silver.early_t';
  const ints: Columns = [
    { name: 'id', type: 'BIGINT' },
    { name: 'amount', type: 'INTEGER' },
  ];
  const decimals: Columns = [
    { name: 'id', type: 'BIGINT' },
    { name: 'amount', type: 'DECIMAL(10,2)' },
  ];
  const over = (cols: Columns) => (id: string) => (id === 'silver.early_t' ? cols : undefined);
  const early = (cols: Columns): Columns | undefined => {
    let typed: Columns | undefined;
    fastAnalyzeSql(text, (q) => (typed = typeEarly(text, q, over(cols))));
    return typed;
  };

  it('types the body as the schema pass would', () => {
    expect(early(ints)).toEqual([
      { name: 'id', type: 'BIGINT' },
      { name: 'doubled', type: 'INTEGER' },
    ]);
    expect(fastOutputColumns(text, over([...ints]))).toEqual(early(ints));
  });

  it('is not the schema pass answer when its inputs have other columns', () => {
    early(ints);
    expect(fastOutputColumns(text, over(decimals))).toEqual([
      { name: 'id', type: 'BIGINT' },
      { name: 'doubled', type: 'DECIMAL(18,2)' },
    ]);
    early(ints);
    expect(fastOutputColumns(text, () => undefined)).toBeUndefined();
  });

  it('types a body whose text was analysed before (another node, same body) from that answer, over the same input columns only', () => {
    // A text no other test analyses: the memo and the early answers are this process's.
    const twin = 'SELECT id, amount * 3 AS tripled FROM silver.early_t';
    const tripled = [
      { name: 'id', type: 'BIGINT' },
      { name: 'tripled', type: 'INTEGER' },
    ];
    const entries = new Map<string, SqlAnalysis>();
    const cache: SqlAnalysisCache = { get: (k) => entries.get(k), set: (k, v) => void entries.set(k, v) };
    expect(analyzeAndType(twin, cache, over(ints)).columns).toEqual(tripled);
    // The cache answers (the second node of a check run with a cache), then the memo (without one).
    expect(analyzeAndType(twin, cache, over(ints)).columns).toEqual(tripled);
    expect(analyzeAndType(twin, undefined, over(ints)).columns).toEqual(tripled);
    // Inputs with other columns: not that answer (the schema pass types it over them).
    expect(analyzeAndType(twin, cache, over(decimals)).columns).toBeUndefined();
    expect(analyzeAndType(twin, undefined, () => undefined).columns).toBeUndefined();
    // The schema pass takes it for each node with that body.
    expect(fastOutputColumns(twin, over(ints))).toEqual(tripled);
    expect(fastOutputColumns(twin, over(ints))).toEqual(tripled);
  });
});
