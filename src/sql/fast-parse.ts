// The parser of the fast SQL path (src/sql/fast-analyze.ts): a recursive descent over the tokens
// of src/sql/fast-tokens.ts into a tree of the common subset of Spark SQL — WITH, SELECT [DISTINCT],
// FROM with layer tables and subqueries, INNER/LEFT/RIGHT/FULL/CROSS joins ON, WHERE, GROUP BY,
// HAVING, UNION [ALL], and expressions over columns, literals, arithmetic, comparisons, IN lists,
// BETWEEN, LIKE, IS NULL, CASE, CAST to common types, INTERVAL, the clock functions, a list of
// functions whose rendering polyglot leaves alone, and windows PARTITION BY … ORDER BY. The tree
// holds only what the renderings (fast-analyze.ts), the table list, the column lineage
// (fast-lineage.ts) and the typing (fast-types.ts) need. Anything outside the subset throws Unsure.

import type { TableRef } from './analyze.js';
import {
  ALL,
  AND,
  AS,
  ASC,
  BANG_EQ,
  BETWEEN,
  BY,
  CASE,
  CAST,
  COMMA,
  CROSS,
  CURRENT_DATE,
  CURRENT_TIMESTAMP,
  DECIMAL,
  DESC,
  DISTINCT,
  DOT,
  ELSE,
  END,
  EQ,
  EQ_EQ,
  FALSE,
  FILTER,
  FROM,
  FULL,
  GE,
  GROUP,
  GT,
  HAVING,
  ID,
  IN,
  INNER,
  INTERVAL,
  IS,
  JOIN,
  LE,
  LEFT,
  LIKE,
  LPAREN,
  LT,
  MINUS,
  NE,
  NOT,
  NULL,
  NULLS,
  NUM,
  ON,
  OP,
  OR,
  ORDER,
  OUTER,
  OVER,
  PARTITION,
  PERCENT,
  PLUS,
  RIGHT,
  RPAREN,
  SELECT,
  SLASH,
  STAR,
  STR,
  THEN,
  TRUE,
  UNION,
  WHEN,
  WHERE,
  WITH,
  operatorText,
  reserved,
  symbolName,
  type Tokens,
  tokenize,
  wordOfToken,
} from './fast-tokens.js';
import { unsure } from './unsure.js';

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

/** FUNCTIONS by the upper-case name a call is written with (in any case). */
const FUNCTION_BY_NAME = new Map(Object.entries(FUNCTIONS).map(([k, v]) => [k.toUpperCase(), v]));
const functionOf = (up: string) => FUNCTION_BY_NAME.get(up);

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

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

class Parser {
  private i = 0;
  /** Every CTE name of the statement (polyglot's table list leaves them all out). */
  readonly cteNames = new Set<string>();
  readonly tables: TableRef[] = [];
  private readonly refs: FromItem[] = [];
  private readonly n: number;
  private readonly kind: Uint8Array;
  private readonly sym: Int32Array;

  constructor(
    private readonly text: string,
    private readonly t: Tokens,
  ) {
    this.n = t.n;
    this.kind = t.kind;
    this.sym = t.sym;
  }

  /** The token `o` ahead is `s` (a keyword or an operator; past the end there is none). */
  private is(s: number, o = 0): boolean {
    return this.sym[this.i + o] === s;
  }
  private accept(s: number): boolean {
    if (this.sym[this.i] !== s) return false;
    this.i++;
    return true;
  }
  private expect(s: number): void {
    if (this.sym[this.i] !== s) unsure();
    this.i++;
  }
  /** A word that may be a name here (a keyword never is), as written. */
  private nameAhead(o = 0): boolean {
    return this.kind[this.i + o] === ID && !reserved(this.sym[this.i + o]);
  }
  private name(): string {
    if (!this.nameAhead()) unsure();
    return wordOfToken(this.t.word[this.i++]);
  }
  /** A number's or string's text. */
  private literal(k: number): string {
    return this.text.slice(this.t.start[k], this.t.end[k]);
  }
  /** An alias after `AS`, or a bare word that is not a keyword. */
  private alias(): string | undefined {
    if (this.accept(AS)) return this.name();
    return this.nameAhead() ? this.name() : undefined;
  }

  statement(): Query {
    const q = this.query();
    if (this.i !== this.n) unsure(); // ORDER BY, LIMIT, ;, anything else at the end
    return q;
  }

  private query(): Query {
    const ctes: { name: string; q: Query }[] = [];
    if (this.accept(WITH)) {
      do {
        const name = this.name();
        this.cteNames.add(name.toLowerCase());
        this.expect(AS);
        this.expect(LPAREN);
        const q = this.query();
        this.expect(RPAREN);
        ctes.push({ name, q });
      } while (this.accept(COMMA));
    }
    let body: Body = this.select();
    while (this.accept(UNION)) {
      const all = this.accept(ALL);
      body = { k: 'union', all, l: body, r: this.select() };
    }
    // Where polyglot hangs a WITH over a UNION is its own business.
    if (ctes.length && body.k === 'union') unsure();
    return { ctes, body };
  }

  private select(): Select {
    this.expect(SELECT);
    const distinct = this.accept(DISTINCT);
    const items: Select['items'][number][] = [];
    do {
      if (this.accept(STAR)) items.push({ star: '*' });
      else if (this.kind[this.i] === ID && this.is(DOT, 1) && this.is(STAR, 2)) {
        const t = this.name();
        this.i += 2;
        items.push({ star: `${t}.*` });
      } else {
        const e = this.expr();
        const alias = this.alias();
        items.push(alias !== undefined ? { e, alias } : { e });
      }
    } while (this.accept(COMMA));
    this.expect(FROM);
    const from = [this.fromItem()];
    const joins: Join[] = [];
    for (;;) {
      if (this.accept(COMMA)) {
        joins.push({ kind: 'CROSS JOIN', item: this.fromItem() });
        continue;
      }
      const kind = this.joinKind();
      if (!kind) break;
      const item = this.fromItem();
      if (kind === 'CROSS JOIN') joins.push({ kind, item });
      else {
        this.expect(ON);
        joins.push({ kind, item, on: this.expr() });
      }
    }
    const where = this.accept(WHERE) ? this.expr() : undefined;
    const groupBy: Expr[] = [];
    if (this.accept(GROUP)) {
      this.expect(BY);
      do groupBy.push(this.expr());
      while (this.accept(COMMA));
    }
    const having = this.accept(HAVING) ? this.expr() : undefined;
    // Optional keys set only when present, without spreads (this runs per SELECT of every body).
    const select: Mutable<Select> = { k: 'select', distinct, items, from, joins, groupBy };
    if (where) select.where = where;
    if (having) select.having = having;
    return select;
  }

  private joinKind(): string | undefined {
    let kind: string;
    switch (this.sym[this.i]) {
      case JOIN:
        this.i++;
        return 'JOIN';
      case INNER:
        kind = 'INNER JOIN';
        break;
      case CROSS:
        kind = 'CROSS JOIN';
        break;
      case LEFT:
      case RIGHT:
      case FULL: {
        const side = symbolName(this.sym[this.i]);
        if (this.is(OUTER, 1)) {
          this.i++;
          kind = `${side} OUTER JOIN`;
        } else kind = `${side} JOIN`;
        break;
      }
      default:
        return undefined;
    }
    this.i++;
    this.expect(JOIN);
    return kind;
  }

  private fromItem(): FromItem {
    if (this.accept(LPAREN)) {
      if (!this.is(SELECT) && !this.is(WITH)) unsure();
      const q = this.query();
      this.expect(RPAREN);
      const alias = this.alias();
      if (alias === undefined) unsure();
      const item: FromItem = { k: 'sub', q, alias: alias! };
      return item;
    }
    const start = this.t.start[this.i];
    const parts = [this.name()];
    while (this.accept(DOT)) parts.push(this.name());
    const end = this.t.end[this.i - 1];
    const alias = this.alias();
    const name = parts[parts.length - 1];
    let item: FromItem;
    if (parts.length === 1) item = alias !== undefined ? { k: 'table', text: name, name, alias } : { k: 'table', text: name, name };
    else {
      const schema = parts[parts.length - 2];
      const catalog = parts.length === 3 ? parts[0] : undefined;
      if (parts.length > 3 || !LAYERS.has(schema.toLowerCase()) || (catalog !== undefined && catalog.toLowerCase() !== 'iceberg')) unsure();
      const ref: TableRef = { parts, start, end };
      this.tables.push(ref);
      const id = `${schema.toLowerCase()}.${name}`;
      const text = parts.join('.');
      item = alias !== undefined ? { k: 'table', ref, id, text, name, alias } : { k: 'table', ref, id, text, name };
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
    while (this.accept(OR)) l = { k: 'bin', op: 'OR', l, r: this.and() };
    return l;
  }
  private and(): Expr {
    let l = this.not();
    while (this.accept(AND)) l = { k: 'bin', op: 'AND', l, r: this.not() };
    return l;
  }
  private not(): Expr {
    if (this.accept(NOT)) return { k: 'not', e: this.not() };
    return this.comparison();
  }
  private comparison(): Expr {
    const l = this.additive();
    const s = this.sym[this.i];
    switch (s) {
      case EQ:
      case EQ_EQ:
      case NE:
      case BANG_EQ:
      case LT:
      case LE:
      case GT:
      case GE: {
        this.i++;
        const op = s === EQ_EQ ? '=' : s === BANG_EQ ? '<>' : operatorText(s);
        return { k: 'bin', op, l, r: this.additive() };
      }
      case IS: {
        this.i++;
        const not = this.accept(NOT);
        this.expect(NULL);
        return { k: 'isnull', e: l, not };
      }
      case BETWEEN: {
        this.i++;
        const lo = this.additive();
        this.expect(AND);
        return { k: 'between', e: l, lo, hi: this.additive() };
      }
      case NOT:
      case IN:
      case LIKE: {
        const not = s === NOT && (this.is(IN, 1) || this.is(LIKE, 1));
        if (not) this.i++;
        if (this.accept(IN)) {
          this.expect(LPAREN);
          if (this.is(SELECT) || this.is(WITH)) unsure();
          const list = this.list();
          this.expect(RPAREN);
          return { k: 'in', e: l, not, list };
        }
        if (this.accept(LIKE)) return { k: 'like', e: l, not, pat: this.additive() };
        return l;
      }
    }
    return l;
  }
  private additive(): Expr {
    let l = this.multiplicative();
    for (let s = this.sym[this.i]; s === PLUS || s === MINUS; s = this.sym[this.i]) {
      this.i++;
      l = { k: 'bin', op: s === PLUS ? '+' : '-', l, r: this.multiplicative() };
    }
    return l;
  }
  private multiplicative(): Expr {
    let l = this.unary();
    for (let s = this.sym[this.i]; s === STAR || s === SLASH || s === PERCENT; s = this.sym[this.i]) {
      this.i++;
      l = { k: 'bin', op: operatorText(s), l, r: this.unary() };
    }
    return l;
  }
  private unary(): Expr {
    if (this.accept(MINUS)) return { k: 'neg', e: this.unary() };
    return this.primary();
  }
  private list(): Expr[] {
    const out: Expr[] = [];
    do out.push(this.expr());
    while (this.accept(COMMA));
    return out;
  }

  private primary(): Expr {
    const i = this.i;
    const k = this.kind[i];
    if (k === NUM || k === STR) {
      this.i++;
      const v = this.literal(i);
      return { k: 'raw', spark: v, duck: v };
    }
    if (k === OP) {
      if (!this.accept(LPAREN)) unsure();
      if (this.is(SELECT) || this.is(WITH)) unsure();
      const e = this.expr();
      this.expect(RPAREN);
      return { k: 'paren', e };
    }
    if (k !== ID) unsure();
    const s = this.sym[i];
    switch (s) {
      case NULL:
      case TRUE:
      case FALSE: {
        this.i++;
        const up = symbolName(s);
        return { k: 'raw', spark: up, duck: up };
      }
      case CASE:
        return this.caseExpr();
      case CAST:
        return this.cast();
      case INTERVAL:
        return this.interval();
      case CURRENT_DATE:
      case CURRENT_TIMESTAMP: {
        this.i++;
        const parens = this.is(LPAREN) && this.is(RPAREN, 1);
        if (parens) this.i += 2;
        const up = symbolName(s);
        const spark = parens ? `${up}()` : up;
        return { k: 'raw', spark, duck: s === CURRENT_DATE ? BIND_TODAY : BIND_NOW, clock: up };
      }
    }
    if (this.is(LPAREN, 1)) return this.call();
    const first = this.name();
    if (!this.accept(DOT)) return { k: 'col', text: first, column: first };
    const column = this.name();
    if (this.is(DOT)) unsure();
    return { k: 'col', text: `${first}.${column}`, qualifier: first, column };
  }

  private caseExpr(): Expr {
    this.expect(CASE);
    const operand = this.is(WHEN) ? undefined : this.expr();
    const whens: [Expr, Expr][] = [];
    while (this.accept(WHEN)) {
      const c = this.expr();
      this.expect(THEN);
      whens.push([c, this.expr()]);
    }
    if (!whens.length) unsure();
    const otherwise = this.accept(ELSE) ? this.expr() : undefined;
    this.expect(END);
    const c: Mutable<Extract<Expr, { k: 'case' }>> = { k: 'case', whens };
    if (operand) c.operand = operand;
    if (otherwise) c.otherwise = otherwise;
    return c;
  }

  private cast(): Expr {
    this.expect(CAST);
    this.expect(LPAREN);
    const e = this.expr();
    this.expect(AS);
    if (this.i >= this.n) unsure();
    const t = this.i++;
    let type: { spark: string; duck: string };
    if (this.sym[t] === DECIMAL) {
      if (this.accept(LPAREN)) {
        const p = this.i++;
        this.expect(COMMA);
        const s = this.i++;
        // Whole numbers only (a number token with no dot).
        if (this.kind[p] !== NUM || this.kind[s] !== NUM) unsure();
        const pv = this.literal(p);
        const sv = this.literal(s);
        if (pv.includes('.') || sv.includes('.')) unsure();
        this.expect(RPAREN);
        type = { spark: `DECIMAL(${pv}, ${sv})`, duck: `DECIMAL(${pv}, ${sv})` };
      } else type = { spark: 'DECIMAL', duck: 'DECIMAL' };
    } else type = (this.kind[t] === ID ? TYPES[symbolName(this.sym[t])] : undefined) ?? unsure();
    this.expect(RPAREN);
    return { k: 'cast', e, spark: type.spark, duck: type.duck };
  }

  private interval(): Expr {
    this.expect(INTERVAL);
    if (this.i >= this.n) unsure();
    const n = this.i++;
    const k = this.kind[n];
    const digits = k === NUM ? this.literal(n) : k === STR ? this.literal(n).slice(1, -1) : '';
    if (!/^[1-9][0-9]*$/.test(digits)) unsure();
    const u = this.i;
    if (this.kind[u] !== ID || !INTERVAL_UNITS.has(symbolName(this.sym[u]))) unsure();
    this.i++;
    const text = `INTERVAL '${digits}' ${symbolName(this.sym[u])}`;
    return { k: 'raw', spark: text, duck: text };
  }

  private call(): Expr {
    const f = functionOf(symbolName(this.sym[this.i++])) ?? unsure();
    this.expect(LPAREN);
    let star = false;
    let distinct = false;
    let args: Expr[] = [];
    if (f.name === 'COUNT' && this.is(STAR) && this.is(RPAREN, 1)) {
      this.i++;
      star = true;
    } else if (!this.is(RPAREN)) {
      if (f.name === 'COUNT') distinct = this.accept(DISTINCT);
      args = this.list();
    }
    this.expect(RPAREN);
    if (!star && (args.length < f.min || args.length > f.max)) unsure();
    let over: Over | undefined;
    if (this.accept(OVER)) {
      if (!f.window && !f.aggregate) unsure();
      over = this.over();
    } else if (f.window) unsure();
    if (this.is(FILTER)) unsure();
    return over ? { k: 'fn', name: f.name, args, distinct, star, over } : { k: 'fn', name: f.name, args, distinct, star };
  }

  private over(): Over {
    this.expect(LPAREN);
    const partition: Expr[] = [];
    const order: { e: Expr; desc: boolean }[] = [];
    if (this.accept(PARTITION)) {
      this.expect(BY);
      do partition.push(this.expr());
      while (this.accept(COMMA));
    }
    if (this.accept(ORDER)) {
      this.expect(BY);
      do {
        const e = this.expr();
        order.push({ e, desc: this.accept(DESC) });
        if (this.is(ASC) || this.is(NULLS)) unsure();
      } while (this.accept(COMMA));
    }
    this.expect(RPAREN);
    return { partition, order };
  }
}

/** A body's tree, its layer tables and whether a comment was dropped; undefined for an empty body. Throws Unsure outside the subset. */
export function parseSubset(text: string): { q: Query; tables: readonly TableRef[]; comments: boolean } | undefined {
  const t = tokenize(text);
  if (t.n === 0) return undefined;
  const p = new Parser(text, t);
  const q = p.statement();
  p.checkNames();
  return { q, tables: p.tables, comments: t.comments };
}
