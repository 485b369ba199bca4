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

import type { SqlAnalysis, TableRef } from './analyze.js';
import type { RenderedTemplate } from './transpile.js';

/** Thrown where the fast paths (here, fast-lineage.ts, fast-types.ts) are not sure: the caller asks the real tool. */
export class Unsure extends Error {}
export const unsure = (): never => {
  throw new Unsure();
};

type TokKind = 'id' | 'num' | 'str' | 'op';
interface Tok {
  readonly k: TokKind;
  readonly v: string;
  /** Upper-case text of an identifier (keyword test). */
  readonly up: string;
  readonly s: number;
  readonly e: number;
}

/** Words never taken as a column, alias or table name here (polyglot may read them otherwise). */
const RESERVED = new Set(
  (
    'SELECT FROM WHERE GROUP BY HAVING ORDER LIMIT OFFSET AS JOIN INNER LEFT RIGHT FULL OUTER CROSS SEMI ANTI ON USING AND OR NOT IN IS NULL ' +
    'TRUE FALSE BETWEEN LIKE ILIKE RLIKE REGEXP SIMILAR CASE WHEN THEN ELSE END CAST TRY_CAST INTERVAL WITH RECURSIVE UNION ALL DISTINCT EXCEPT INTERSECT ' +
    'MINUS OVER PARTITION WINDOW QUALIFY LATERAL VIEW NATURAL TABLESAMPLE PIVOT UNPIVOT VALUES EXISTS ANY SOME ASC DESC NULLS FIRST LAST ROWS ' +
    'RANGE PRECEDING FOLLOWING UNBOUNDED CURRENT FILTER WITHIN DIV ESCAPE CLUSTER DISTRIBUTE SORT INTO FOR TO AT TABLE CREATE INSERT UPDATE ' +
    'DELETE MERGE DROP ALTER SET TOP FETCH EXTRACT POSITION OVERLAY SUBSTRING TRIM DATE TIME TIMESTAMP TIMESTAMP_LTZ TIMESTAMP_NTZ YEAR ' +
    'MONTH DAY HOUR MINUTE SECOND WEEK QUARTER YEARS MONTHS DAYS HOURS MINUTES SECONDS WEEKS USER CURRENT_USER SESSION_USER CURRENT_DATE ' +
    'CURRENT_TIMESTAMP CURRENT_TIME LOCALTIMESTAMP LOCALTIME NOW VAR IF COLLATE GLOBAL LOCAL TEMPORARY REPLACE RESPECT IGNORE MAP ARRAY ' +
    'STRUCT NAMED_STRUCT TRANSFORM REDUCE AGGREGATE LAMBDA SYSTEM_TIME VERSION OF START CONNECT PRIOR KEY PRIMARY FOREIGN REFERENCES ' +
    'CONSTRAINT UNIQUE CHECK DEFAULT LATERAL_VIEW EXPLODE INLINE POSEXPLODE STACK GROUPING CUBE ROLLUP SETS'
  ).split(' '),
);

/** Functions rendered by polyglot as their upper-case name in Spark and in DuckDB alike, with their argument counts. */
const FUNCTIONS: Record<
  string,
  { readonly name: string; readonly min: number; readonly max: number; readonly window?: boolean; readonly aggregate?: boolean }
> = {
  upper: { name: 'UPPER', min: 1, max: 1 },
  lower: { name: 'LOWER', min: 1, max: 1 },
  trim: { name: 'TRIM', min: 1, max: 1 },
  abs: { name: 'ABS', min: 1, max: 1 },
  length: { name: 'LENGTH', min: 1, max: 1 },
  ln: { name: 'LN', min: 1, max: 1 },
  sqrt: { name: 'SQRT', min: 1, max: 1 },
  floor: { name: 'FLOOR', min: 1, max: 1 },
  ceil: { name: 'CEIL', min: 1, max: 1 },
  coalesce: { name: 'COALESCE', min: 2, max: 64 },
  greatest: { name: 'GREATEST', min: 2, max: 64 },
  least: { name: 'LEAST', min: 2, max: 64 },
  nullif: { name: 'NULLIF', min: 2, max: 2 },
  round: { name: 'ROUND', min: 1, max: 2 },
  power: { name: 'POWER', min: 2, max: 2 },
  concat: { name: 'CONCAT', min: 2, max: 2 },
  substring: { name: 'SUBSTRING', min: 3, max: 3 },
  substr: { name: 'SUBSTRING', min: 3, max: 3 },
  date_trunc: { name: 'DATE_TRUNC', min: 2, max: 2 },
  sum: { name: 'SUM', min: 1, max: 1, aggregate: true },
  avg: { name: 'AVG', min: 1, max: 1, aggregate: true },
  min: { name: 'MIN', min: 1, max: 1, aggregate: true },
  max: { name: 'MAX', min: 1, max: 1, aggregate: true },
  count: { name: 'COUNT', min: 1, max: 1, aggregate: true },
  stddev: { name: 'STDDEV', min: 1, max: 1, aggregate: true },
  count_if: { name: 'COUNT_IF', min: 1, max: 1, aggregate: true },
  row_number: { name: 'ROW_NUMBER', min: 0, max: 0, window: true },
  rank: { name: 'RANK', min: 0, max: 0, window: true },
  dense_rank: { name: 'DENSE_RANK', min: 0, max: 0, window: true },
  lag: { name: 'LAG', min: 1, max: 2, window: true },
  lead: { name: 'LEAD', min: 1, max: 2, window: true },
};

/** CAST target types: their Spark and DuckDB renderings. */
const TYPES: Record<string, { readonly spark: string; readonly duck: string }> = {
  INT: { spark: 'INT', duck: 'INT' },
  BIGINT: { spark: 'BIGINT', duck: 'BIGINT' },
  SMALLINT: { spark: 'SMALLINT', duck: 'SMALLINT' },
  DOUBLE: { spark: 'DOUBLE', duck: 'DOUBLE' },
  FLOAT: { spark: 'FLOAT', duck: 'REAL' },
  DATE: { spark: 'DATE', duck: 'DATE' },
  TIMESTAMP: { spark: 'TIMESTAMP', duck: 'TIMESTAMP' },
  BOOLEAN: { spark: 'BOOLEAN', duck: 'BOOLEAN' },
  STRING: { spark: 'STRING', duck: 'TEXT' },
};

const INTERVAL_UNITS = new Set(['DAY', 'DAYS', 'HOUR', 'HOURS', 'MINUTE', 'MINUTES', 'SECOND', 'SECONDS']);
const LAYERS = new Set(['bronze', 'silver', 'gold']);
/** The bind rendering's logical time (src/sql/transpile.ts BIND_TIME), as polyglot prints it. */
const BIND_NOW = "CAST('2000-01-01 00:00:00.000' AS TIMESTAMP)";
const BIND_TODAY = "CAST('2000-01-01' AS DATE)";

const isWord = (c: number): boolean => (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95 || (c >= 48 && c <= 57);
const isDigit = (c: number): boolean => c >= 48 && c <= 57;

/** Identifiers in upper case, by text: the same few words come back in every body. Bounded. */
const uppers = new Map<string, string>();
function upperOf(v: string): string {
  let up = uppers.get(v);
  if (up === undefined) {
    up = v.toUpperCase();
    if (uppers.size < 10_000) uppers.set(v, up);
  }
  return up;
}

function tokenize(text: string): { toks: Tok[]; comments: boolean } {
  const toks: Tok[] = [];
  let comments = false;
  let i = 0;
  const n = text.length;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c > 126) unsure(); // non-ASCII: polyglot counts code points, and Unicode identifiers are its call
    if (c === 32 || c === 10 || c === 9 || c === 13) {
      i++;
      continue;
    }
    const ch = text[i];
    if (ch === '-' && text[i + 1] === '-') {
      comments = true;
      while (i < n && text[i] !== '\n') i++;
      continue;
    }
    if (ch === '/' && text[i + 1] === '*') {
      comments = true;
      const end = text.indexOf('*/', i + 2);
      if (end < 0) unsure();
      i = end + 2;
      continue;
    }
    const s = i;
    if ((c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95) {
      while (i < n && isWord(text.charCodeAt(i))) i++;
      const v = text.slice(s, i);
      toks.push({ k: 'id', v, up: upperOf(v), s, e: i });
      continue;
    }
    if (c >= 48 && c <= 57) {
      while (i < n && isDigit(text.charCodeAt(i))) i++;
      if (text[i] === '.') {
        i++;
        const d = i;
        while (i < n && isDigit(text.charCodeAt(i))) i++;
        if (i === d) unsure();
      }
      if (i < n && (isWord(text.charCodeAt(i)) || text[i] === '.')) unsure(); // 1e3, 10L, 1.5BD, 1.2.3
      const v = text.slice(s, i);
      if (v.length > 1 && v[0] === '0' && v[1] !== '.') unsure();
      toks.push({ k: 'num', v, up: v, s, e: i });
      continue;
    }
    if (ch === "'") {
      i++;
      while (i < n && text[i] !== "'") {
        if (text[i] === '\\') unsure();
        i++;
      }
      if (i >= n || text[i + 1] === "'") unsure(); // unterminated, or '' inside
      i++;
      const v = text.slice(s, i);
      toks.push({ k: 'str', v, up: v, s, e: i });
      continue;
    }
    const two = text.slice(i, i + 2);
    if (two === '<=' || two === '>=' || two === '<>' || two === '!=' || two === '==') {
      i += 2;
      toks.push({ k: 'op', v: two, up: two, s, e: i });
      continue;
    }
    if ('(),.*+-/%=<>'.includes(ch)) {
      i++;
      toks.push({ k: 'op', v: ch, up: ch, s, e: i });
      continue;
    }
    unsure(); // ; || " ` [ { $ ? : …
  }
  return { toks, comments };
}

// The tree: only what the renderings, the table list and the column lineage (fast-lineage.ts) need.
export type Expr =
  | { readonly k: 'raw'; readonly spark: string; readonly duck: string; readonly clock?: string }
  | { readonly k: 'col'; readonly text: string; readonly qualifier?: string; readonly column: string }
  | { readonly k: 'fn'; readonly name: string; readonly args: readonly Expr[]; readonly distinct: boolean; readonly star: boolean; readonly over?: Over }
  | { readonly k: 'cast'; readonly e: Expr; readonly spark: string; readonly duck: string }
  | { readonly k: 'case'; readonly operand?: Expr; readonly whens: readonly (readonly [Expr, Expr])[]; readonly otherwise?: Expr }
  | { readonly k: 'paren'; readonly e: Expr }
  | { readonly k: 'neg'; readonly e: Expr }
  | { readonly k: 'not'; readonly e: Expr }
  | { readonly k: 'bin'; readonly op: string; readonly l: Expr; readonly r: Expr }
  | { readonly k: 'isnull'; readonly e: Expr; readonly not: boolean }
  | { readonly k: 'in'; readonly e: Expr; readonly not: boolean; readonly list: readonly Expr[] }
  | { readonly k: 'between'; readonly e: Expr; readonly lo: Expr; readonly hi: Expr }
  | { readonly k: 'like'; readonly e: Expr; readonly not: boolean; readonly pat: Expr };
/** A column reference of the SQL (`c` or `alias.c`: the parser reads no more parts), not a node id. */
export function columnRef(text: string): { readonly qualifier?: string; readonly column: string } {
  const m = /^(?:(\w+)\.)?(\w+)$/.exec(text) ?? unsure();
  return m![1] !== undefined ? { qualifier: m![1], column: m![2] } : { column: m![2] };
}
export interface Over {
  readonly partition: readonly Expr[];
  readonly order: readonly { readonly e: Expr; readonly desc: boolean }[];
}
export type FromItem =
  | { readonly k: 'table'; readonly ref?: TableRef; readonly id?: string; readonly text: string; readonly name: string; readonly alias?: string }
  | { readonly k: 'sub'; readonly q: Query; readonly alias: string };
interface Join {
  readonly kind: string;
  readonly item: FromItem;
  readonly on?: Expr;
}
export interface Select {
  readonly k: 'select';
  readonly distinct: boolean;
  readonly items: readonly ({ readonly star: string } | { readonly e: Expr; readonly alias?: string })[];
  readonly from: readonly FromItem[];
  readonly joins: readonly Join[];
  readonly where?: Expr;
  readonly groupBy: readonly Expr[];
  readonly having?: Expr;
}
export type Body = Select | { readonly k: 'union'; readonly all: boolean; readonly l: Body; readonly r: Body };
export interface Query {
  readonly ctes: readonly { readonly name: string; readonly q: Query }[];
  readonly body: Body;
}

class Parser {
  private i = 0;
  /** Every CTE name of the statement (polyglot's table list leaves them all out). */
  readonly cteNames = new Set<string>();
  readonly tables: TableRef[] = [];
  private readonly refs: FromItem[] = [];

  constructor(private readonly toks: readonly Tok[]) {}

  private peek(o = 0): Tok | undefined {
    return this.toks[this.i + o];
  }
  private is(word: string, o = 0): boolean {
    const t = this.peek(o);
    return !!t && (t.k === 'id' ? t.up === word : t.k === 'op' && t.v === word);
  }
  private accept(word: string): boolean {
    if (!this.is(word)) return false;
    this.i++;
    return true;
  }
  private expect(word: string): void {
    if (!this.accept(word)) unsure();
  }
  private name(): string {
    const t = this.peek();
    if (!t || t.k !== 'id' || RESERVED.has(t.up)) unsure();
    this.i++;
    return t!.v;
  }
  /** An alias after `AS`, or a bare word that is not a keyword. */
  private alias(): string | undefined {
    if (this.accept('AS')) return this.name();
    const t = this.peek();
    return t && t.k === 'id' && !RESERVED.has(t.up) ? this.name() : undefined;
  }

  statement(): Query {
    const q = this.query();
    if (this.i !== this.toks.length) unsure(); // ORDER BY, LIMIT, ;, anything else at the end
    return q;
  }

  private query(): Query {
    const ctes: { name: string; q: Query }[] = [];
    if (this.accept('WITH')) {
      do {
        const name = this.name();
        this.cteNames.add(name.toLowerCase());
        this.expect('AS');
        this.expect('(');
        const q = this.query();
        this.expect(')');
        ctes.push({ name, q });
      } while (this.accept(','));
    }
    let body: Body = this.select();
    while (this.is('UNION')) {
      this.i++;
      const all = this.accept('ALL');
      body = { k: 'union', all, l: body, r: this.select() };
    }
    // Where polyglot hangs a WITH over a UNION is its own business.
    if (ctes.length && body.k === 'union') unsure();
    return { ctes, body };
  }

  private select(): Select {
    this.expect('SELECT');
    const distinct = this.accept('DISTINCT');
    const items: Select['items'][number][] = [];
    do {
      if (this.accept('*')) items.push({ star: '*' });
      else if (this.peek()?.k === 'id' && this.is('.', 1) && this.is('*', 2)) {
        const t = this.name();
        this.i += 2;
        items.push({ star: `${t}.*` });
      } else {
        const e = this.expr();
        const alias = this.alias();
        items.push(alias !== undefined ? { e, alias } : { e });
      }
    } while (this.accept(','));
    this.expect('FROM');
    const from = [this.fromItem()];
    const joins: Join[] = [];
    for (;;) {
      if (this.accept(',')) {
        joins.push({ kind: 'CROSS JOIN', item: this.fromItem() });
        continue;
      }
      const kind = this.joinKind();
      if (!kind) break;
      const item = this.fromItem();
      if (kind === 'CROSS JOIN') joins.push({ kind, item });
      else {
        this.expect('ON');
        joins.push({ kind, item, on: this.expr() });
      }
    }
    const where = this.accept('WHERE') ? this.expr() : undefined;
    const groupBy: Expr[] = [];
    if (this.accept('GROUP')) {
      this.expect('BY');
      do groupBy.push(this.expr());
      while (this.accept(','));
    }
    const having = this.accept('HAVING') ? this.expr() : undefined;
    return { k: 'select', distinct, items, from, joins, ...(where ? { where } : {}), groupBy, ...(having ? { having } : {}) };
  }

  private joinKind(): string | undefined {
    const words: string[] = [];
    const first = this.peek();
    if (!first || first.k !== 'id') return undefined;
    if (first.up === 'JOIN') words.push('JOIN');
    else if (first.up === 'INNER' || first.up === 'CROSS') words.push(first.up, 'JOIN');
    else if (first.up === 'LEFT' || first.up === 'RIGHT' || first.up === 'FULL') {
      words.push(first.up);
      if (this.is('OUTER', 1)) words.push('OUTER');
      words.push('JOIN');
    } else return undefined;
    for (const w of words) this.expect(w);
    return words.join(' ');
  }

  private fromItem(): FromItem {
    if (this.accept('(')) {
      if (!this.is('SELECT') && !this.is('WITH')) unsure();
      const q = this.query();
      this.expect(')');
      const alias = this.alias();
      if (alias === undefined) unsure();
      const item: FromItem = { k: 'sub', q, alias: alias! };
      return item;
    }
    const start = this.peek()?.s ?? 0;
    const parts = [this.name()];
    while (this.accept('.')) parts.push(this.name());
    const end = this.toks[this.i - 1].e;
    const alias = this.alias();
    const name = parts[parts.length - 1];
    let item: FromItem;
    if (parts.length === 1) item = { k: 'table', text: name, name, ...(alias !== undefined ? { alias } : {}) };
    else {
      const [schema, catalog] = [parts[parts.length - 2], parts.length === 3 ? parts[0] : undefined];
      if (parts.length > 3 || !LAYERS.has(schema.toLowerCase()) || (catalog !== undefined && catalog.toLowerCase() !== 'iceberg')) unsure();
      const ref: TableRef = { parts, start, end };
      this.tables.push(ref);
      item = { k: 'table', ref, id: `${schema.toLowerCase()}.${name}`, text: parts.join('.'), name, ...(alias !== undefined ? { alias } : {}) };
    }
    this.refs.push(item);
    return item;
  }

  /** Single-part names must be CTEs (known only once the whole statement is read). */
  checkNames(): void {
    for (const r of this.refs) if (r.k === 'table' && !r.ref && !this.cteNames.has(r.name.toLowerCase())) unsure();
  }

  expr(): Expr {
    let l = this.and();
    while (this.accept('OR')) l = { k: 'bin', op: 'OR', l, r: this.and() };
    return l;
  }
  private and(): Expr {
    let l = this.not();
    while (this.accept('AND')) l = { k: 'bin', op: 'AND', l, r: this.not() };
    return l;
  }
  private not(): Expr {
    if (this.accept('NOT')) return { k: 'not', e: this.not() };
    return this.comparison();
  }
  private comparison(): Expr {
    const l = this.additive();
    const t = this.peek();
    if (!t) return l;
    if (t.k === 'op' && ['=', '==', '<>', '!=', '<', '<=', '>', '>='].includes(t.v)) {
      this.i++;
      const op = t.v === '==' ? '=' : t.v === '!=' ? '<>' : t.v;
      return { k: 'bin', op, l, r: this.additive() };
    }
    if (this.accept('IS')) {
      const not = this.accept('NOT');
      this.expect('NULL');
      return { k: 'isnull', e: l, not };
    }
    const not = this.is('NOT') && (this.is('IN', 1) || this.is('LIKE', 1));
    if (not) this.i++;
    if (this.accept('IN')) {
      this.expect('(');
      if (this.is('SELECT') || this.is('WITH')) unsure();
      const list = this.list();
      this.expect(')');
      return { k: 'in', e: l, not, list };
    }
    if (this.accept('LIKE')) return { k: 'like', e: l, not, pat: this.additive() };
    if (this.accept('BETWEEN')) {
      const lo = this.additive();
      this.expect('AND');
      return { k: 'between', e: l, lo, hi: this.additive() };
    }
    return l;
  }
  private additive(): Expr {
    let l = this.multiplicative();
    while (this.is('+') || this.is('-')) l = { k: 'bin', op: this.toks[this.i++].v, l, r: this.multiplicative() };
    return l;
  }
  private multiplicative(): Expr {
    let l = this.unary();
    while (this.is('*') || this.is('/') || this.is('%')) l = { k: 'bin', op: this.toks[this.i++].v, l, r: this.unary() };
    return l;
  }
  private unary(): Expr {
    if (this.accept('-')) return { k: 'neg', e: this.unary() };
    return this.primary();
  }
  private list(): Expr[] {
    const out: Expr[] = [];
    do out.push(this.expr());
    while (this.accept(','));
    return out;
  }

  private primary(): Expr {
    const t = this.peek() ?? unsure();
    if (t.k === 'num' || t.k === 'str') {
      this.i++;
      return { k: 'raw', spark: t.v, duck: t.v };
    }
    if (t.k === 'op') {
      if (!this.accept('(')) unsure();
      if (this.is('SELECT') || this.is('WITH')) unsure();
      const e = this.expr();
      this.expect(')');
      return { k: 'paren', e };
    }
    switch (t.up) {
      case 'NULL':
      case 'TRUE':
      case 'FALSE':
        this.i++;
        return { k: 'raw', spark: t.up, duck: t.up };
      case 'CASE':
        return this.caseExpr();
      case 'CAST':
        return this.cast();
      case 'INTERVAL':
        return this.interval();
      case 'CURRENT_DATE':
      case 'CURRENT_TIMESTAMP': {
        this.i++;
        const parens = this.is('(') && this.is(')', 1);
        if (parens) this.i += 2;
        const spark = `${t.up}${parens ? '()' : ''}`;
        return { k: 'raw', spark, duck: t.up === 'CURRENT_DATE' ? BIND_TODAY : BIND_NOW, clock: t.up };
      }
    }
    if (this.is('(', 1)) return this.call();
    const first = this.name();
    if (!this.accept('.')) return { k: 'col', text: first, column: first };
    const column = this.name();
    if (this.is('.')) unsure();
    return { k: 'col', text: `${first}.${column}`, qualifier: first, column };
  }

  private caseExpr(): Expr {
    this.expect('CASE');
    const operand = this.is('WHEN') ? undefined : this.expr();
    const whens: [Expr, Expr][] = [];
    while (this.accept('WHEN')) {
      const c = this.expr();
      this.expect('THEN');
      whens.push([c, this.expr()]);
    }
    if (!whens.length) unsure();
    const otherwise = this.accept('ELSE') ? this.expr() : undefined;
    this.expect('END');
    return { k: 'case', ...(operand ? { operand } : {}), whens, ...(otherwise ? { otherwise } : {}) };
  }

  private cast(): Expr {
    this.expect('CAST');
    this.expect('(');
    const e = this.expr();
    this.expect('AS');
    const t = this.peek() ?? unsure();
    this.i++;
    let type: { spark: string; duck: string };
    if (t.up === 'DECIMAL') {
      if (this.accept('(')) {
        const p = this.peek();
        this.i++;
        this.expect(',');
        const s = this.peek();
        this.i++;
        if (p?.k !== 'num' || s?.k !== 'num' || p.v.includes('.') || s.v.includes('.')) unsure();
        this.expect(')');
        type = { spark: `DECIMAL(${p!.v}, ${s!.v})`, duck: `DECIMAL(${p!.v}, ${s!.v})` };
      } else type = { spark: 'DECIMAL', duck: 'DECIMAL' };
    } else type = (t.k === 'id' ? TYPES[t.up] : undefined) ?? unsure();
    this.expect(')');
    return { k: 'cast', e, ...type };
  }

  private interval(): Expr {
    this.expect('INTERVAL');
    const n = this.peek() ?? unsure();
    this.i++;
    const digits = n.k === 'num' ? n.v : n.k === 'str' ? n.v.slice(1, -1) : '';
    if (!/^[1-9][0-9]*$/.test(digits)) unsure();
    const unit = this.peek();
    if (!unit || unit.k !== 'id' || !INTERVAL_UNITS.has(unit.up)) unsure();
    this.i++;
    const text = `INTERVAL '${digits}' ${unit!.up}`;
    return { k: 'raw', spark: text, duck: text };
  }

  private call(): Expr {
    const t = this.toks[this.i++];
    const lower = t.up.toLowerCase();
    const f = Object.prototype.hasOwnProperty.call(FUNCTIONS, lower) ? FUNCTIONS[lower] : unsure();
    this.expect('(');
    let star = false;
    let distinct = false;
    let args: Expr[] = [];
    if (f.name === 'COUNT' && this.is('*') && this.is(')', 1)) {
      this.i++;
      star = true;
    } else if (!this.is(')')) {
      if (f.name === 'COUNT') distinct = this.accept('DISTINCT');
      args = this.list();
    }
    this.expect(')');
    if (!star && (args.length < f.min || args.length > f.max)) unsure();
    let over: Over | undefined;
    if (this.accept('OVER')) {
      if (!f.window && !f.aggregate) unsure();
      over = this.over();
    } else if (f.window) unsure();
    if (this.is('FILTER')) unsure();
    return { k: 'fn', name: f.name, args, distinct, star, ...(over ? { over } : {}) };
  }

  private over(): Over {
    this.expect('(');
    const partition: Expr[] = [];
    const order: { e: Expr; desc: boolean }[] = [];
    if (this.accept('PARTITION')) {
      this.expect('BY');
      do partition.push(this.expr());
      while (this.accept(','));
    }
    if (this.accept('ORDER')) {
      this.expect('BY');
      do {
        const e = this.expr();
        order.push({ e, desc: this.accept('DESC') });
        if (this.is('ASC') || this.is('NULLS')) unsure();
      } while (this.accept(','));
    }
    this.expect(')');
    return { partition, order };
  }
}

type Dialect = 'spark' | 'duck';

/** How a Printer writes a tree: the normalised Spark text, the bind template, or a target's SQL as the site shows it. */
interface PrintOptions {
  readonly d: Dialect;
  /**
   * Layer tables: as written (the normalised text), as placeholders by number (the bind template),
   * or as their node id with the table's name as default alias (src/sql/transpile.ts renderSql with
   * `tableRef = id`).
   */
  readonly tables: 'text' | ReadonlyMap<string, number> | 'id';
  /** The clock functions as DuckDB runs them, instead of the bind rendering's fixed time. */
  readonly liveClock?: boolean;
  /** Laid out on lines as polyglot's `format` lays out its generation (see `targetSql`). */
  readonly pretty?: boolean;
}

/** polyglot's width above which a CASE goes on several lines (the sum of its parts' lengths). */
const CASE_WIDTH = 80;
/** Every line after the first, two spaces further in. */
const indent = (s: string): string => s.replace(/\n/g, '\n  ');

class Printer {
  private readonly d: Dialect;
  constructor(private readonly o: PrintOptions) {
    this.d = o.d;
  }

  query(q: Query): string {
    if (!q.ctes.length) return this.body(q.body);
    if (!this.o.pretty) return `WITH ${q.ctes.map((c) => `${c.name} AS (${this.query(c.q)})`).join(', ')} ${this.body(q.body)}`;
    return `WITH ${q.ctes.map((c) => `${c.name} AS (\n  ${indent(this.query(c.q))}\n)`).join(', ')}\n${this.body(q.body)}`;
  }
  private body(b: Body): string {
    const nl = this.o.pretty ? '\n' : ' ';
    if (b.k === 'union') {
      const op = `UNION${b.all ? ' ALL' : ''}`;
      return this.o.pretty ? `${this.body(b.l)}\n${op}\n${this.body(b.r)}` : `${this.body(b.l)} ${op} ${this.body(b.r)}`;
    }
    const items = b.items.map((it) => ('star' in it ? it.star : `${this.expr(it.e)}${it.alias !== undefined ? ` AS ${it.alias}` : ''}`));
    // Clause heads on their own line, their lists one item a line two spaces in; FROM and JOIN keep their item.
    const list = (head: string, xs: string[]): string => (this.o.pretty ? `${head}\n  ${xs.map(indent).join(',\n  ')}` : `${head} ${xs.join(', ')}`);
    let s = list(`SELECT${b.distinct ? ' DISTINCT' : ''}`, items);
    s += `${nl}FROM ${b.from.map((f) => this.from(f)).join(', ')}`;
    for (const j of b.joins) s += `${nl}${j.kind} ${this.from(j.item)}${j.on ? (this.o.pretty ? `\n  ON ${this.on(j.on)}` : ` ON ${this.expr(j.on)}`) : ''}`;
    if (b.where) s += `${nl}${list('WHERE', [this.expr(b.where)])}`;
    if (b.groupBy.length)
      s += `${nl}${list(
        'GROUP BY',
        b.groupBy.map((g) => this.expr(g)),
      )}`;
    if (b.having) s += `${nl}${list('HAVING', [this.expr(b.having)])}`;
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
    if (f.k === 'sub') return this.o.pretty ? `(\n  ${indent(this.query(f.q))}\n) AS ${f.alias}` : `(${this.query(f.q)}) AS ${f.alias}`;
    if (f.id !== undefined && this.o.tables !== 'text')
      return `${this.o.tables === 'id' ? f.id : `__asg_ref_${this.o.tables.get(f.id)}__`} AS ${f.alias ?? f.name}`;
    return `${f.text}${f.alias !== undefined ? ` AS ${f.alias}` : ''}`;
  }
  expr(e: Expr): string {
    switch (e.k) {
      case 'raw':
        if (this.d === 'duck' && this.o.liveClock && e.clock) return e.clock;
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
        if (!this.o.pretty) return parts.join(' ');
        // A part already on several lines: how polyglot measures it is not known here.
        if (parts.some((p) => p.includes('\n'))) unsure();
        if (parts.reduce((n, p) => n + p.length, 0) <= CASE_WIDTH) return parts.join(' ');
        return `${parts[0]}\n  ${parts.slice(1, -1).join('\n  ')}\nEND`;
      }
      case 'paren':
        return this.o.pretty ? `(\n  ${indent(this.expr(e.e))}\n)` : `(${this.expr(e.e)})`;
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

function parse(text: string): { q: Query; p: Parser; comments: boolean } | undefined {
  const { toks, comments } = tokenize(text);
  if (toks.length === 0) return undefined;
  const p = new Parser(toks);
  const q = p.statement();
  p.checkNames();
  return { q, p, comments };
}

/**
 * The tree of a body in the subset (for src/sql/fast-lineage.ts), or undefined when the body is
 * outside it. Never throws.
 */
export function fastParseSql(text: string): Query | undefined {
  try {
    return parse(text)?.q;
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
    const parsed = parse(text);
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
    const parsed = parse(text);
    if (!parsed) return undefined;
    q = parsed.q;
    const normalized = new Printer({ d: 'spark', tables: 'text' }).query(q);
    const tables = [...parsed.p.tables].sort((a, b) => a.start - b.start);
    if (parsed.comments) return { ok: true, normalized, tables };
    const order = placeholderOrder(q);
    const bind: RenderedTemplate = { sql: new Printer({ d: 'duck', tables: order }).query(q), tables: [...order.keys()] };
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
    const parsed = parse(text);
    if (!parsed || parsed.comments) return undefined;
    const print = (d: Dialect): string => new Printer({ d, tables: 'id', liveClock: true, pretty: true }).query(parsed.q);
    return { duckdb: print('duck'), spark: print('spark') };
  } catch (e) {
    if (e instanceof Unsure) return undefined;
    throw e;
  }
}
