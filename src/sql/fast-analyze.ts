// A fast path for the SQL analysis (src/sql/analyze.ts) that needs no SQL toolkit: a tokenizer and
// recursive-descent parser for the common subset of Spark SQL — WITH, SELECT [DISTINCT], FROM with
// layer tables and subqueries, INNER/LEFT/RIGHT/FULL/CROSS joins ON, WHERE, GROUP BY, HAVING, UNION
// [ALL], and expressions over columns, literals, arithmetic, comparisons, IN lists, BETWEEN, LIKE, IS
// NULL, CASE, CAST to common types, INTERVAL, the clock functions, a list of functions whose
// rendering polyglot leaves alone, and windows PARTITION BY … ORDER BY. It gives exactly polyglot's
// answer — the tables read with their offsets, the normalised Spark text, the DuckDB rendering for
// schema binding, and the SQL per target the site shows (laid out as polyglot's formatter lays it
// out) — or none at all: anything outside the subset (and anything it is not sure polyglot renders
// the same way) returns undefined, and the caller asks polyglot. test/sql/fast-analyze.test.ts and
// fast-targets.test.ts compare both on every SQL body of the repository's pipelines and fixtures,
// the generated bench specs, and one case per construct listed here.
//
// Cost: ~10–30 µs per body instead of ~10–25 ms (polyglot's parse, generate and the DuckDB
// transpile), and no 22 MB WebAssembly module to load when every body is in the subset.

import type { SqlAnalysis } from './analyze.js';
import { type Body, type Expr, type FromItem, type Over, parseSubset, type Query } from './fast-parse.js';
import type { RenderedTemplate } from './transpile.js';
import { Unsure, unsure } from './unsure.js';
import { sortBy } from '../util/sort.js';

/**
 * The normalised Spark text (what fingerprints hash) and the DuckDB bind rendering (what schema
 * binding runs: layer tables as numbered placeholders, the clock at the bind rendering's fixed time)
 * in one walk of the tree, on one line each as polyglot generates them. The two differ only in
 * literals' and types' renderings, layer tables, `NOT IN` and a window's sort order.
 */
class AnalysisTexts {
  // The pieces, joined once at the end. Appended with `+=`, each text was a rope of one string per
  // piece, built at twice a join's cost and flattened again by its first reader (the SQL analysis
  // cache's JSON.stringify, ~15 ms of a cold 1,000-node plan: bench/plan.md session 13).
  private readonly sparkParts: string[] = [];
  private readonly duckParts: string[] = [];
  constructor(private readonly placeholders: ReadonlyMap<string, number>) {}

  get spark(): string {
    return this.sparkParts.join('');
  }
  get duck(): string {
    return this.duckParts.join('');
  }
  private both(s: string): void {
    this.sparkParts.push(s);
    this.duckParts.push(s);
  }
  private each(spark: string, duck: string): void {
    this.sparkParts.push(spark);
    this.duckParts.push(duck);
  }
  private list(xs: readonly Expr[]): void {
    for (let i = 0; i < xs.length; i++) {
      if (i) this.both(', ');
      this.expr(xs[i]);
    }
  }

  query(q: Query): void {
    if (q.ctes.length) {
      this.both('WITH ');
      for (let i = 0; i < q.ctes.length; i++) {
        const c = q.ctes[i];
        this.both(i ? `, ${c.name} AS (` : `${c.name} AS (`);
        this.query(c.q);
        this.both(')');
      }
      this.both(' ');
    }
    this.body(q.body);
  }
  private body(b: Body): void {
    if (b.k === 'union') {
      this.body(b.l);
      this.both(b.all ? ' UNION ALL ' : ' UNION ');
      this.body(b.r);
      return;
    }
    this.both(b.distinct ? 'SELECT DISTINCT ' : 'SELECT ');
    for (let i = 0; i < b.items.length; i++) {
      const it = b.items[i];
      if (i) this.both(', ');
      if ('star' in it) this.both(it.star);
      else {
        this.expr(it.e);
        if (it.alias !== undefined) this.both(` AS ${it.alias}`);
      }
    }
    this.both(' FROM ');
    for (let i = 0; i < b.from.length; i++) {
      if (i) this.both(', ');
      this.from(b.from[i]);
    }
    for (const j of b.joins) {
      this.both(` ${j.kind} `);
      this.from(j.item);
      if (j.on) {
        this.both(' ON ');
        this.expr(j.on);
      }
    }
    if (b.where) {
      this.both(' WHERE ');
      this.expr(b.where);
    }
    if (b.groupBy.length) {
      this.both(' GROUP BY ');
      this.list(b.groupBy);
    }
    if (b.having) {
      this.both(' HAVING ');
      this.expr(b.having);
    }
  }
  private from(f: FromItem): void {
    if (f.k === 'sub') {
      this.both('(');
      this.query(f.q);
      this.both(`) AS ${f.alias}`);
    } else if (f.id !== undefined)
      this.each(f.alias !== undefined ? `${f.text} AS ${f.alias}` : f.text, `__asg_ref_${this.placeholders.get(f.id)}__ AS ${f.alias ?? f.name}`);
    else this.both(f.alias !== undefined ? `${f.text} AS ${f.alias}` : f.text);
  }
  private expr(e: Expr): void {
    switch (e.k) {
      case 'raw':
        this.each(e.spark, e.duck);
        return;
      case 'col':
        this.both(e.text);
        return;
      case 'fn':
        this.both(`${e.name}(`);
        if (e.star) this.both('*');
        else {
          if (e.distinct) this.both('DISTINCT ');
          this.list(e.args);
        }
        this.both(')');
        if (e.over) {
          this.both(' OVER (');
          this.over(e.over);
          this.both(')');
        }
        return;
      case 'cast':
        this.both('CAST(');
        this.expr(e.e);
        this.both(' AS ');
        this.each(e.spark, e.duck);
        this.both(')');
        return;
      case 'case':
        this.both('CASE');
        if (e.operand) {
          this.both(' ');
          this.expr(e.operand);
        }
        for (const [c, r] of e.whens) {
          this.both(' WHEN ');
          this.expr(c);
          this.both(' THEN ');
          this.expr(r);
        }
        if (e.otherwise) {
          this.both(' ELSE ');
          this.expr(e.otherwise);
        }
        this.both(' END');
        return;
      case 'paren':
        this.both('(');
        this.expr(e.e);
        this.both(')');
        return;
      case 'neg':
        this.both('-');
        this.expr(e.e);
        return;
      case 'not':
        this.both('NOT ');
        this.expr(e.e);
        return;
      case 'bin':
        this.expr(e.l);
        this.both(` ${e.op} `);
        this.expr(e.r);
        return;
      case 'isnull':
        this.expr(e.e);
        this.both(e.not ? ' IS NOT NULL' : ' IS NULL');
        return;
      case 'in':
        // polyglot renders `a NOT IN (…)` for DuckDB as `NOT a IN (…)`.
        if (e.not) this.each('', 'NOT ');
        this.expr(e.e);
        this.each(e.not ? ' NOT IN (' : ' IN (', ' IN (');
        this.list(e.list);
        this.both(')');
        return;
      case 'between':
        this.expr(e.e);
        this.both(' BETWEEN ');
        this.expr(e.lo);
        this.both(' AND ');
        this.expr(e.hi);
        return;
      case 'like':
        this.expr(e.e);
        this.both(e.not ? ' NOT LIKE ' : ' LIKE ');
        this.expr(e.pat);
        return;
    }
  }
  private over(o: Over): void {
    if (o.partition.length) {
      this.both('PARTITION BY ');
      this.list(o.partition);
    }
    if (o.order.length) {
      this.both(o.partition.length ? ' ORDER BY ' : 'ORDER BY ');
      for (let i = 0; i < o.order.length; i++) {
        if (i) this.both(', ');
        this.expr(o.order[i].e);
        // Spark sorts NULLs first when ascending; polyglot says so explicitly for DuckDB.
        if (o.order[i].desc) this.both(' DESC');
        else this.each('', ' NULLS FIRST');
      }
    }
  }
}

type Dialect = 'spark' | 'duck';

/** polyglot's width above which a CASE goes on several lines (the sum of its parts' lengths). */
const CASE_WIDTH = 80;
/** Every line after the first, two spaces further in. */
const indent = (s: string): string => s.replace(/\n/g, '\n  ');

/**
 * A body as a target runs it, laid out on lines as polyglot's `format` lays out its generation (see
 * fastTargetSql): layer tables as their node id with the table's name as default alias
 * (src/sql/transpile.ts renderSql with `tableRef = id`), the clock functions as DuckDB runs them.
 */
class TargetPrinter {
  constructor(private readonly d: Dialect) {}

  query(q: Query): string {
    if (!q.ctes.length) return this.body(q.body);
    return `WITH ${q.ctes.map((c) => `${c.name} AS (\n  ${indent(this.query(c.q))}\n)`).join(', ')}\n${this.body(q.body)}`;
  }
  private body(b: Body): string {
    if (b.k === 'union') return `${this.body(b.l)}\nUNION${b.all ? ' ALL' : ''}\n${this.body(b.r)}`;
    const items = b.items.map((it) => ('star' in it ? it.star : `${this.expr(it.e)}${it.alias !== undefined ? ` AS ${it.alias}` : ''}`));
    // Clause heads on their own line, their lists one item a line two spaces in; FROM and JOIN keep their item.
    const list = (head: string, xs: string[]): string => `${head}\n  ${xs.map(indent).join(',\n  ')}`;
    let s = list(`SELECT${b.distinct ? ' DISTINCT' : ''}`, items);
    s += `\nFROM ${b.from.map((f) => this.from(f)).join(', ')}`;
    for (const j of b.joins) s += `\n${j.kind} ${this.from(j.item)}${j.on ? `\n  ON ${this.on(j.on)}` : ''}`;
    if (b.where) s += `\n${list('WHERE', [this.expr(b.where)])}`;
    if (b.groupBy.length)
      s += `\n${list(
        'GROUP BY',
        b.groupBy.map((g) => this.expr(g)),
      )}`;
    if (b.having) s += `\n${list('HAVING', [this.expr(b.having)])}`;
    return s;
  }
  /** A join condition laid out: each operand of its top-level AND on a line of its own. */
  private on(e: Expr): string {
    const conjuncts = (x: Expr): Expr[] => (x.k === 'bin' && x.op === 'AND' ? [...conjuncts(x.l), ...conjuncts(x.r)] : [x]);
    return conjuncts(e)
      .map((x) => indent(this.expr(x)))
      .join('\n  AND ');
  }
  private from(f: FromItem): string {
    if (f.k === 'sub') return `(\n  ${indent(this.query(f.q))}\n) AS ${f.alias}`;
    if (f.id !== undefined) return `${f.id} AS ${f.alias ?? f.name}`;
    return `${f.text}${f.alias !== undefined ? ` AS ${f.alias}` : ''}`;
  }
  expr(e: Expr): string {
    switch (e.k) {
      case 'raw':
        if (this.d === 'duck' && e.clock) return e.clock;
        return this.d === 'spark' ? e.spark : e.duck;
      case 'col':
        return e.text;
      case 'fn': {
        const args = e.star ? '*' : `${e.distinct ? 'DISTINCT ' : ''}${e.args.map((a) => this.expr(a)).join(', ')}`;
        return `${e.name}(${args})${e.over ? ` OVER (${this.over(e.over)})` : ''}`;
      }
      case 'cast':
        return `CAST(${this.expr(e.e)} AS ${this.d === 'spark' ? e.spark : e.duck})`;
      case 'case': {
        const parts = [e.operand ? `CASE ${this.expr(e.operand)}` : 'CASE'];
        for (const [c, r] of e.whens) parts.push(`WHEN ${this.expr(c)}`, `THEN ${this.expr(r)}`);
        if (e.otherwise) parts.push(`ELSE ${this.expr(e.otherwise)}`);
        parts.push('END');
        // A part already on several lines: how polyglot measures it is not known here.
        if (parts.some((p) => p.includes('\n'))) unsure();
        if (parts.reduce((n, p) => n + p.length, 0) <= CASE_WIDTH) return parts.join(' ');
        return `${parts[0]}\n  ${parts.slice(1, -1).join('\n  ')}\nEND`;
      }
      case 'paren':
        return `(\n  ${indent(this.expr(e.e))}\n)`;
      case 'neg':
        return `-${this.expr(e.e)}`;
      case 'not':
        return `NOT ${this.expr(e.e)}`;
      case 'bin':
        return `${this.expr(e.l)} ${e.op} ${this.expr(e.r)}`;
      case 'isnull':
        return `${this.expr(e.e)} IS ${e.not ? 'NOT ' : ''}NULL`;
      case 'in': {
        const s = `${this.expr(e.e)} IN (${e.list.map((x) => this.expr(x)).join(', ')})`;
        // polyglot's DuckDB rendering of `a NOT IN (…)`.
        return !e.not ? s : this.d === 'duck' ? `NOT ${s}` : `${this.expr(e.e)} NOT IN (${e.list.map((x) => this.expr(x)).join(', ')})`;
      }
      case 'between':
        return `${this.expr(e.e)} BETWEEN ${this.expr(e.lo)} AND ${this.expr(e.hi)}`;
      case 'like':
        return `${this.expr(e.e)} ${e.not ? 'NOT ' : ''}LIKE ${this.expr(e.pat)}`;
    }
  }
  private over(o: Over): string {
    const parts: string[] = [];
    if (o.partition.length) parts.push(`PARTITION BY ${o.partition.map((p) => this.expr(p)).join(', ')}`);
    // Spark sorts NULLs first when ascending; polyglot says so explicitly for DuckDB.
    if (o.order.length)
      parts.push(`ORDER BY ${o.order.map((x) => `${this.expr(x.e)}${x.desc ? ' DESC' : this.d === 'duck' ? ' NULLS FIRST' : ''}`).join(', ')}`);
    return parts.join(' ');
  }
}

/**
 * The placeholder number of each layer table, in the order polyglot's tree walk meets them
 * (src/sql/transpile.ts renderTree): a SELECT's FROM and joins before its WITH; a UNION's left, right.
 */
function placeholderOrder(q: Query): Map<string, number> {
  const out = new Map<string, number>();
  const from = (f: FromItem): void => {
    if (f.k === 'sub') query(f.q);
    else if (f.id !== undefined && !out.has(f.id)) out.set(f.id, out.size);
  };
  const body = (b: Body): void => {
    if (b.k === 'union') {
      body(b.l);
      body(b.r);
      return;
    }
    b.from.forEach(from);
    for (const j of b.joins) from(j.item);
  };
  const query = (x: Query): void => {
    body(x.body);
    for (const c of x.ctes) query(c.q);
  };
  query(q);
  return out;
}

/**
 * The tree of a body in the subset (for src/sql/fast-lineage.ts), or undefined when the body is
 * outside it. Never throws.
 */
export function fastParseSql(text: string): Query | undefined {
  try {
    return parseSubset(text)?.q;
  } catch (e) {
    if (e instanceof Unsure) return undefined;
    throw e;
  }
}

/**
 * The tree the bind rendering (`fastAnalyzeSql(text).bind`) is printed from, for a body in the subset
 * without comments (src/sql/fast-types.ts types its output columns), or undefined. Never throws.
 */
export function fastBindTree(text: string): Query | undefined {
  try {
    const parsed = parseSubset(text);
    return parsed && !parsed.comments ? parsed.q : undefined;
  } catch (e) {
    if (e instanceof Unsure) return undefined;
    throw e;
  }
}

/**
 * The analysis of a body in the subset, equal to polyglot's (src/sql/analyze.ts), or undefined when
 * the body is outside it. Never throws. `bindTree` is handed the tree `fastBindTree(text)` gives
 * (a body without comments), while it is at hand: its typing needs no second parse.
 */
export function fastAnalyzeSql(text: string, bindTree?: (q: Query) => void): Extract<SqlAnalysis, { ok: true }> | undefined {
  let q: Query;
  let analysis: Extract<SqlAnalysis, { ok: true }>;
  try {
    const parsed = parseSubset(text);
    if (!parsed) return undefined;
    q = parsed.q;
    const order = placeholderOrder(q);
    const texts = new AnalysisTexts(order);
    texts.query(q);
    const normalized = texts.spark;
    const tables = sortBy([...parsed.tables], (a, b) => a.start - b.start);
    // A rendering of the tree is the body's only without a comment dropped (src/sql/analyze.ts).
    if (parsed.comments) return { ok: true, normalized, tables };
    const bind: RenderedTemplate = { sql: texts.duck, tables: [...order.keys()] };
    analysis = { ok: true, normalized, tables, bind };
  } catch (e) {
    if (e instanceof Unsure) return undefined;
    throw e;
  }
  bindTree?.(q);
  return analysis;
}

/**
 * A body as each target runs it, laid out on lines: exactly what the site shows without this
 * (src/docs/sql-facts.ts: renderSql with each layer table as its node id, no logical time, then
 * polyglot's `format`), or undefined when the body is outside the subset, has comments (polyglot
 * keeps them) or a layout this printer is not sure of. test/sql/fast-targets.test.ts compares both.
 */
export function fastTargetSql(text: string): { readonly duckdb: string; readonly spark: string } | undefined {
  try {
    const parsed = parseSubset(text);
    if (!parsed || parsed.comments) return undefined;
    const print = (d: Dialect): string => new TargetPrinter(d).query(parsed.q);
    return { duckdb: print('duck'), spark: print('spark') };
  } catch (e) {
    if (e instanceof Unsure) return undefined;
    throw e;
  }
}
