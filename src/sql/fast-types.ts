// The output columns of a SQL body without DuckDB, for the bodies src/sql/fast-analyze.ts parses
// (and renders for binding): what DuckDB's binder gives for the bind rendering over empty tables of
// the inputs' schemas (src/engine/schemas.ts), or nothing. Types follow DuckDB's rules for the
// subset's expressions — column references, literals, CAST, CASE, COALESCE, arithmetic, comparisons,
// the aggregates, GROUP BY — and only where they are certain: anything else (an unknown or
// ambiguous column, a type or a pair of types not listed here, a name DuckDB would make up for an
// unnamed expression, a constant DuckDB would fold and could reject, a window) returns undefined,
// and the caller binds in DuckDB, which also reports every error. test/sql/fast-types.test.ts
// compares both on every body of the repository, the generated bench specs, one case per rule, and
// random expressions over typed columns.
//
// Cost: microseconds per body instead of ~0.5–1.2 ms of DuckDB's binder (and loading DuckDB at all).

import type { Body, Expr, FromItem, Query, Select } from './fast-parse.js';
import { fastBindTree } from './fast-analyze.js';
import { Unsure, unsure } from './unsure.js';

export interface TypedColumn {
  readonly name: string;
  readonly type: string;
}

/**
 * An expression's type as DuckDB binds it. Literals are typed by their use (DuckDB's
 * INTEGER_LITERAL and STRING_LITERAL): `lit` keeps which, and the value where it matters.
 */
interface Typed {
  readonly t: string;
  readonly lit?: 'int' | 'str' | 'null';
  readonly value?: string;
}

/** Types DuckDB prints as it names them (the input schemas must use these names; anything else: unsure). */
const PLAIN = /^(BOOLEAN|TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|FLOAT|DOUBLE|VARCHAR|DATE|TIMESTAMP|INTERVAL|DECIMAL\((\d+),(\d+)\))$/;
const INT_RANK: Readonly<Record<string, number>> = { TINYINT: 1, SMALLINT: 2, INTEGER: 3, BIGINT: 4, HUGEINT: 5 };
/** The decimal an integer type converts to (DuckDB's implicit cast). */
const INT_DECIMAL: Readonly<Record<string, number>> = { TINYINT: 3, SMALLINT: 5, INTEGER: 10, BIGINT: 19, HUGEINT: 38 };
const INT_RANGE: Readonly<Record<string, bigint>> = { TINYINT: 127n, SMALLINT: 32767n, INTEGER: 2147483647n, BIGINT: 9223372036854775807n };

/** A type DuckDB prints as it names it, by type (a few distinct types, met at every column reference). */
const plainTypes = new Map<string, boolean>();
function plain(t: string): boolean {
  let yes = plainTypes.get(t);
  if (yes === undefined) {
    yes = PLAIN.test(t);
    if (plainTypes.size < 1000) plainTypes.set(t, yes);
  }
  return yes;
}

const isInt = (t: string): boolean => t in INT_RANK;
/** A decimal type's precision and scale, by type (undefined: not a decimal). */
const decimals = new Map<string, { p: number; s: number } | undefined>();
const decimal = (t: string): { p: number; s: number } | undefined => {
  if (decimals.has(t)) return decimals.get(t);
  const m = /^DECIMAL\((\d+),(\d+)\)$/.exec(t);
  const d = m ? { p: Number(m[1]), s: Number(m[2]) } : undefined;
  if (decimals.size < 1000) decimals.set(t, d);
  return d;
};
const isNumeric = (t: string): boolean => isInt(t) || t === 'DOUBLE' || t === 'FLOAT' || decimal(t) !== undefined;
const isTemporal = (t: string): boolean => t === 'DATE' || t === 'TIMESTAMP';
const decimalType = (p: number, s: number): string => `DECIMAL(${Math.min(38, p)},${s})`;

/** The decimal a type converts to when it meets a decimal (undefined: not an exact number). */
function asDecimal(x: Typed): { p: number; s: number } | undefined {
  // An integer literal meets a decimal as an INTEGER.
  if (x.lit === 'int') return { p: INT_DECIMAL.INTEGER, s: 0 };
  return decimal(x.t) ?? (isInt(x.t) ? { p: INT_DECIMAL[x.t], s: 0 } : undefined);
}

/** An integer literal fits the integer type `t`. */
const fits = (value: string, t: string): boolean =>
  t === 'HUGEINT' ||
  // Up to 9 digits (below 2^31) fits an INTEGER or BIGINT without a BigInt.
  (value.length <= 9 && value[0] !== '-' && (t === 'INTEGER' || t === 'BIGINT')) ||
  (BigInt(value) <= INT_RANGE[t] && BigInt(value) >= -INT_RANGE[t] - 1n);

/** A strict ISO date (what a string literal compared with a DATE or TIMESTAMP column must be here). */
function isoDate(lit: string): boolean {
  const m = /^'(\d{4})-(\d{2})-(\d{2})'$/.exec(lit);
  if (!m) return false;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (y < 1 || mo < 1 || mo > 12 || d < 1) return false;
  const days = [31, y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0) ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][mo - 1];
  return d <= days;
}

/**
 * The common type of two values (CASE branches, COALESCE arguments, both sides of a comparison):
 * DuckDB's max logical type, for the pairs listed; unsure for the rest.
 */
function common(a: Typed, b: Typed): Typed {
  if (a.lit === 'null') return b;
  if (b.lit === 'null') return a;
  if (a.lit === 'int' && b.lit === 'int') return { t: 'INTEGER', lit: 'int', value: BigInt(a.value!) > BigInt(b.value!) ? a.value : b.value };
  if (a.lit === 'str' && b.lit === 'str') return a;
  if (a.lit && !b.lit) return common(b, a);
  // `a` is not a literal from here on unless both are.
  if (b.lit === 'str') return a.t === 'VARCHAR' ? { t: 'VARCHAR' } : unsure();
  if (b.lit === 'int') {
    if (isInt(a.t)) return fits(b.value!, a.t) ? { t: a.t } : unsure();
    if (a.t === 'DOUBLE' || a.t === 'FLOAT') return { t: a.t };
    const d = decimal(a.t);
    if (d) {
      const l = asDecimal(b)!;
      return { t: decimalType(Math.max(d.p - d.s, l.p) + d.s, d.s) };
    }
    return unsure();
  }
  if (a.t === b.t) return { t: a.t };
  if (isInt(a.t) && isInt(b.t)) return { t: INT_RANK[a.t] > INT_RANK[b.t] ? a.t : b.t };
  if (isTemporal(a.t) && isTemporal(b.t)) return { t: 'TIMESTAMP' };
  const da = asDecimal(a);
  const db = asDecimal(b);
  if (da && db) {
    const s = Math.max(da.s, db.s);
    const p = Math.max(da.p - da.s, db.p - db.s) + s;
    return p <= 38 ? { t: decimalType(p, s) } : unsure();
  }
  if (isNumeric(a.t) && isNumeric(b.t) && (a.t === 'DOUBLE' || b.t === 'DOUBLE')) return { t: 'DOUBLE' };
  return unsure();
}

/**
 * The type two values DuckDB compares meet in: their common type, or the date or time a string
 * literal is read as. A comparison of several (IN, BETWEEN) folds it over all of them.
 */
function comparable(a: Typed, b: Typed): Typed {
  if (a.lit === 'str' && isTemporal(b.t) && !b.lit && isoDate(a.value!)) return b;
  if (b.lit === 'str' && isTemporal(a.t) && !a.lit && isoDate(b.value!)) return a;
  return common(a, b);
}

/** The type a value has as an output column (a literal's own type). */
function final(x: Typed): string {
  if (x.lit === 'null') unsure();
  if (x.lit === 'int') return fits(x.value!, 'INTEGER') ? 'INTEGER' : unsure();
  return plain(x.t) ? x.t : unsure();
}

const BOOL: Typed = { t: 'BOOLEAN' };
const boolean = (x: Typed): void => {
  if (x.t !== 'BOOLEAN' || x.lit) unsure();
};

/** CAST targets as the fast parser renders them for DuckDB, by the type DuckDB names. */
const CAST_TYPES: Readonly<Record<string, string>> = {
  INT: 'INTEGER',
  BIGINT: 'BIGINT',
  SMALLINT: 'SMALLINT',
  DOUBLE: 'DOUBLE',
  REAL: 'FLOAT',
  DATE: 'DATE',
  TIMESTAMP: 'TIMESTAMP',
  BOOLEAN: 'BOOLEAN',
  TEXT: 'VARCHAR',
  DECIMAL: 'DECIMAL(18,3)',
};

/** Casts DuckDB binds between these types whatever the value (a constant is never cast here: DuckDB folds it and may reject it). */
function castable(from: string, to: string): boolean {
  if (from === to || from === 'VARCHAR' || to === 'VARCHAR') return true;
  if (isNumeric(from) && isNumeric(to)) return true;
  if (isTemporal(from) && isTemporal(to)) return true;
  return false;
}

/** A FROM item as expressions see it: its name (alias) and columns, both also in lower case. */
interface Binding {
  readonly alias: string;
  readonly lowerAlias: string;
  readonly columns: readonly TypedColumn[];
  readonly lower: readonly string[];
}

/**
 * Column names in lower case, per columns array (an input's are shared by every body reading it),
 * or null when a name is given twice in any case (DuckDB's to rename or reject).
 */
const lowerNames = new WeakMap<readonly TypedColumn[], readonly string[] | null>();

/** A binding of `columns` under `alias`. */
function bind(alias: string, columns: readonly TypedColumn[]): Binding {
  let lower = lowerNames.get(columns);
  if (lower === undefined) {
    const names = columns.map((c) => c.name.toLowerCase());
    lower = new Set(names).size === names.length ? names : null;
    lowerNames.set(columns, lower);
  }
  return { alias, lowerAlias: alias.toLowerCase(), columns, lower: lower ?? unsure() };
}

interface Scope {
  readonly bindings: readonly Binding[];
  /** Aggregates are allowed here (SELECT list, HAVING); column references outside them are collected in `bare`. */
  readonly aggregates: boolean;
  /** Each as `binding * COLUMN_KEY + column`. */
  readonly bare?: number[];
}

/** The key of a column reference: its binding's index times this, plus the column's. */
const COLUMN_KEY = 1 << 16;

const AGGREGATES = new Set(['SUM', 'AVG', 'MIN', 'MAX', 'COUNT', 'STDDEV', 'COUNT_IF']);

class Typer {
  constructor(private readonly inputs: (id: string) => readonly TypedColumn[] | undefined) {}

  query(q: Query, ctes: ReadonlyMap<string, readonly TypedColumn[]>): readonly TypedColumn[] {
    if (!q.ctes.length) return this.body(q.body, ctes);
    const scope = new Map(ctes);
    for (const c of q.ctes) {
      const key = c.name.toLowerCase();
      if (scope.has(key) && !ctes.has(key)) unsure(); // a name given twice
      scope.set(key, this.query(c.q, scope));
    }
    return this.body(q.body, scope);
  }

  private body(b: Body, ctes: ReadonlyMap<string, readonly TypedColumn[]>): readonly TypedColumn[] {
    if (b.k === 'select') return this.select(b, ctes);
    const l = this.body(b.l, ctes);
    const r = this.body(b.r, ctes);
    if (l.length !== r.length || l.some((c, i) => c.type !== r[i].type)) unsure();
    return l;
  }

  private binding(f: FromItem, ctes: ReadonlyMap<string, readonly TypedColumn[]>): Binding {
    if (f.k === 'sub') return bind(f.alias, this.query(f.q, ctes));
    const columns = f.id !== undefined ? this.inputs(f.id) : ctes.get(f.name.toLowerCase());
    return bind(f.alias ?? f.name, columns ?? unsure());
  }

  private select(s: Select, ctes: ReadonlyMap<string, readonly TypedColumn[]>): readonly TypedColumn[] {
    const bindings: Binding[] = [this.binding(s.from[0], ctes)];
    // Indexed loops: this runs per SELECT of every body, mostly before V8 optimises it, where a
    // for…of allocates an iterator result per element.
    for (let i = 0; i < s.joins.length; i++) {
      const j = s.joins[i];
      bindings.push(this.binding(j.item, ctes));
      // An ON condition sees the tables joined so far (typed here, before the array grows).
      if (j.on) boolean(this.expr(j.on, { bindings, aggregates: false }));
    }
    for (let b = 1; b < bindings.length; b++) for (let a = 0; a < b; a++) if (bindings[a].lowerAlias === bindings[b].lowerAlias) unsure();
    if (s.where) boolean(this.expr(s.where, { bindings, aggregates: false }));
    const groups = new Set<number>();
    for (let i = 0; i < s.groupBy.length; i++) {
      const g = s.groupBy[i];
      if (g.k !== 'col') unsure();
      const bare: number[] = [];
      this.expr(g, { bindings, aggregates: false, bare });
      groups.add(bare[0]);
    }
    const bare: number[] = [];
    const inSelect: Scope = { bindings, aggregates: true, bare };
    const out: TypedColumn[] = [];
    let aggregated = s.groupBy.length > 0;
    for (let i = 0; i < s.items.length; i++) {
      const it = s.items[i];
      if ('star' in it) {
        const from = it.star === '*' ? bindings : bindings.filter((x) => `${x.alias}.*`.toLowerCase() === it.star.toLowerCase());
        if (from.length === 0) unsure();
        for (const x of from) for (const c of x.columns) out.push({ name: c.name, type: plain(c.type) ? c.type : unsure() });
        if (s.groupBy.length) unsure();
        continue;
      }
      const before = this.aggregateCalls;
      const t = this.expr(it.e, inSelect);
      if (this.aggregateCalls !== before) aggregated = true;
      // DuckDB names a bare column by its name as written; any other expression by its own text.
      const e = it.e;
      const name = it.alias ?? (e.k === 'col' ? e.column : unsure());
      out.push({ name, type: final(t) });
    }
    if (s.having) {
      const before = this.aggregateCalls;
      boolean(this.expr(s.having, inSelect));
      if (this.aggregateCalls !== before) aggregated = true;
    }
    if (aggregated) {
      if (s.items.some((it) => 'star' in it)) unsure();
      for (let i = 0; i < bare.length; i++) if (!groups.has(bare[i])) unsure();
    }
    const names = new Set<string>();
    for (let i = 0; i < out.length; i++) names.add(out[i].name.toLowerCase());
    if (names.size !== out.length) unsure(); // DuckDB renames repeated names: not followed here
    return out;
  }

  /** Aggregate calls seen so far (a select is aggregated when its items or HAVING add some). */
  private aggregateCalls = 0;

  /** A column reference: its binding and column (the key GROUP BY compares), and its type. */
  private column(e: Extract<Expr, { k: 'col' }>, scope: Scope): Typed {
    const qual = e.qualifier?.toLowerCase();
    const lower = e.column.toLowerCase();
    // A binding's names are unique (bind), so a name found in two bindings is ambiguous: DuckDB's error.
    let key = -1;
    const { bindings } = scope;
    for (let b = 0; b < bindings.length; b++) {
      const x = bindings[b];
      if (qual !== undefined && x.lowerAlias !== qual) continue;
      const c = x.lower.indexOf(lower);
      if (c < 0) continue;
      if (key >= 0) unsure();
      key = b * COLUMN_KEY + c;
    }
    // Not found: a select alias, an outer query or an error — DuckDB's call.
    if (key < 0) return unsure();
    const col = bindings[Math.floor(key / COLUMN_KEY)].columns[key % COLUMN_KEY];
    // The output is named as written; a name written in another case than the column's is left to DuckDB.
    if (col.name !== e.column) unsure();
    if (!plain(col.type)) unsure();
    scope.bare?.push(key);
    return { t: col.type };
  }

  expr(e: Expr, scope: Scope): Typed {
    switch (e.k) {
      case 'raw':
        return this.raw(e);
      case 'col':
        return this.column(e, scope);
      case 'paren':
        return this.expr(e.e, scope);
      case 'cast': {
        const x = this.expr(e.e, scope);
        if (x.lit) unsure();
        const d = /^DECIMAL\((\d+), (\d+)\)$/.exec(e.duck);
        const to = d ? (Number(d[1]) >= 1 && Number(d[1]) <= 38 && Number(d[2]) <= Number(d[1]) ? `DECIMAL(${d[1]},${d[2]})` : unsure()) : CAST_TYPES[e.duck];
        if (!to || !castable(x.t, to)) unsure();
        return { t: to };
      }
      case 'case': {
        let result: Typed | undefined;
        if (e.operand) {
          const op = this.expr(e.operand, scope);
          let c = op;
          for (const [w] of e.whens) c = comparable(c, this.expr(w, scope));
        } else for (const [w] of e.whens) boolean(this.expr(w, scope));
        for (const [, r] of e.whens) {
          const t = this.expr(r, scope);
          result = result ? common(result, t) : t;
        }
        if (e.otherwise) result = common(result!, this.expr(e.otherwise, scope));
        // The CASE's own type: a literal's type once it is a branch.
        return { t: final(result!) };
      }
      case 'neg': {
        const x = this.expr(e.e, scope);
        if (x.lit || !isNumeric(x.t)) unsure();
        return x;
      }
      case 'not':
        boolean(this.expr(e.e, scope));
        return BOOL;
      case 'isnull':
        this.expr(e.e, scope);
        return BOOL;
      case 'in': {
        let c = this.expr(e.e, scope);
        for (const y of e.list) c = comparable(c, this.expr(y, scope));
        return BOOL;
      }
      case 'between': {
        comparable(comparable(this.expr(e.e, scope), this.expr(e.lo, scope)), this.expr(e.hi, scope));
        return BOOL;
      }
      case 'like': {
        const x = this.expr(e.e, scope);
        const p = this.expr(e.pat, scope);
        if (x.t !== 'VARCHAR' || p.t !== 'VARCHAR') unsure();
        return BOOL;
      }
      case 'bin':
        return this.binary(e.op, this.expr(e.l, scope), this.expr(e.r, scope));
      case 'fn':
        return this.call(e, scope);
    }
  }

  private raw(e: Extract<Expr, { k: 'raw' }>): Typed {
    if (e.clock) return { t: e.clock === 'CURRENT_DATE' ? 'DATE' : 'TIMESTAMP' };
    const v = e.duck;
    if (/^[0-9]+$/.test(v)) return fits(v, 'INTEGER') ? { t: 'INTEGER', lit: 'int', value: v } : unsure();
    if (v.startsWith("'")) return { t: 'VARCHAR', lit: 'str', value: v };
    if (v === 'TRUE' || v === 'FALSE') return BOOL;
    if (v === 'NULL') return { t: 'NULL', lit: 'null' };
    // INTERVAL 'n' UNIT: a bounded count, so the value is never out of range.
    if (/^INTERVAL '[0-9]{1,6}' [A-Z]+$/.test(v)) return { t: 'INTERVAL' };
    return unsure(); // decimals and other literals
  }

  private binary(op: string, l: Typed, r: Typed): Typed {
    switch (op) {
      case 'AND':
      case 'OR':
        boolean(l);
        boolean(r);
        return BOOL;
      case '=':
      case '<>':
      case '<':
      case '<=':
      case '>':
      case '>=':
        comparable(l, r);
        return BOOL;
      case '+':
      case '-': {
        // Dates and times with an interval.
        if (isTemporal(l.t) && !l.lit && r.t === 'INTERVAL') return { t: 'TIMESTAMP' };
        if (op === '+' && l.t === 'INTERVAL' && isTemporal(r.t) && !r.lit) return { t: 'TIMESTAMP' };
        return this.arithmetic(op, l, r);
      }
      case '*':
        return this.arithmetic(op, l, r);
      default:
        return unsure(); // `/` and `%`: DuckDB's rules differ by type
    }
  }

  /** `+ - *` over numbers: integers widen, decimals grow by DuckDB's rule, a double wins. */
  private arithmetic(op: string, l: Typed, r: Typed): Typed {
    if (l.lit && r.lit) unsure(); // a constant DuckDB folds (and may find overflowing)
    if (!isNumeric(l.t) || !isNumeric(r.t)) unsure();
    if (l.t === 'FLOAT' || r.t === 'FLOAT') unsure();
    if (l.t === 'DOUBLE' || r.t === 'DOUBLE') return { t: 'DOUBLE' };
    if (isInt(l.t) && isInt(r.t)) {
      const c = common(l, r);
      return { t: c.t };
    }
    // DuckDB's decimal rules (its DecimalAddBind / DecimalMultiplyBind): a result wider than 18 digits
    // from inputs of at most 18 is kept at 18 (checked for overflow when it runs), and none is wider than 38.
    const a = asDecimal(l)!;
    const b = asDecimal(r)!;
    const narrow = a.p <= 18 && b.p <= 18;
    if (op === '*') {
      const p = a.p + b.p;
      const s = a.s + b.s;
      if (p > 38) unsure();
      return { t: decimalType(p > 18 && narrow && s < 18 ? 18 : p, s) };
    }
    const s = Math.max(a.s, b.s);
    const p = Math.max(Math.max(a.p - a.s, b.p - b.s) + s, a.p, b.p) + 1;
    return { t: decimalType(p > 18 && narrow ? 18 : p, s) };
  }

  private call(e: Extract<Expr, { k: 'fn' }>, scope: Scope): Typed {
    if (e.over) unsure();
    const aggregate = AGGREGATES.has(e.name);
    if (aggregate) {
      if (!scope.aggregates) unsure(); // an aggregate in WHERE, ON, GROUP BY or inside another one
      this.aggregateCalls++;
      if (e.star) return { t: 'BIGINT' };
      const inner: Scope = { bindings: scope.bindings, aggregates: false };
      const x = this.expr(e.args[0], inner);
      if (x.lit) unsure();
      switch (e.name) {
        case 'COUNT':
          return { t: 'BIGINT' };
        case 'COUNT_IF':
          boolean(x);
          return { t: 'HUGEINT' };
        case 'MIN':
        case 'MAX':
          return { t: x.t };
        case 'SUM': {
          if (isInt(x.t)) return { t: 'HUGEINT' };
          const d = decimal(x.t);
          if (d) return { t: decimalType(38, d.s) };
          return x.t === 'DOUBLE' ? x : unsure();
        }
        case 'AVG':
        case 'STDDEV':
          return isNumeric(x.t) && x.t !== 'FLOAT' ? { t: 'DOUBLE' } : unsure();
      }
      return unsure();
    }
    const args = e.args.map((a) => this.expr(a, scope));
    switch (e.name) {
      case 'UPPER':
      case 'LOWER':
      case 'TRIM':
        if (args[0].t !== 'VARCHAR' || args[0].lit) unsure();
        return { t: 'VARCHAR' };
      case 'COALESCE':
      case 'GREATEST':
      case 'LEAST': {
        let t = args[0];
        for (const a of args.slice(1)) t = common(t, a);
        if (t.lit) unsure();
        return t;
      }
    }
    return unsure();
  }
}

/** A body's input tables' columns, by node id (undefined: not known). */
export type TypeInputs = (id: string) => readonly TypedColumn[] | undefined;

/**
 * The output columns of `text` rendered for binding, over its input tables' columns (by node id), or
 * undefined where DuckDB must bind it. Never throws.
 */
export function fastOutputColumns(text: string, inputs: TypeInputs): TypedColumn[] | undefined {
  const early = typedBefore(text, inputs);
  if (early) return [...early];
  const q = fastBindTree(text);
  return q && typeTree(q, inputs);
}

/**
 * The columns typeEarly gave `text`, when each input that typing read has the same columns in
 * `inputs` (the same text over the same columns types the same), else undefined. Two nodes may have
 * the same body: the SQL analysis parses it once, and the second is typed from the first's answer.
 */
export function typedBefore(text: string, inputs: TypeInputs): readonly TypedColumn[] | undefined {
  const early = typedEarly.get(text);
  return early?.read.every(([id, columns]) => sameColumns(inputs(id), columns)) ? early.columns : undefined;
}

/**
 * Types the bind tree of `text` (`fastBindTree(text)`, handed over by the SQL analysis that parsed
 * it: src/sql/analyze.ts) over the input columns known so far, and keeps the answer for
 * fastOutputColumns: typing needs no second parse of the body, and no tree is kept.
 */
export function typeEarly(text: string, q: Query, inputs: TypeInputs): readonly TypedColumn[] | undefined {
  const read: [string, readonly TypedColumn[]][] = [];
  const columns = typeTree(q, (id) => {
    const c = inputs(id);
    if (c) read.push([id, c]);
    return c;
  });
  if (!columns) return undefined;
  if (typedEarly.size >= EARLY_LIMIT) typedEarly.clear();
  typedEarly.set(text, { read, columns });
  return columns;
}

/**
 * Bodies typed early, by text: the columns of each input the typing read, and what came out. The
 * columns are a pure function of the text and those inputs, so typedBefore answers with them (for
 * every body with that text) when its inputs have the same columns. Bounded; cleared wholesale when full.
 */
const typedEarly = new Map<string, { readonly read: readonly (readonly [string, readonly TypedColumn[]])[]; readonly columns: readonly TypedColumn[] }>();
const EARLY_LIMIT = 20_000;

const sameColumns = (a: readonly TypedColumn[] | undefined, b: readonly TypedColumn[]): boolean =>
  a !== undefined && a.length === b.length && a.every((c, i) => c.name === b[i].name && c.type === b[i].type);

function typeTree(q: Query, inputs: TypeInputs): TypedColumn[] | undefined {
  try {
    return [...new Typer(inputs).query(q, new Map())];
  } catch (e) {
    if (e instanceof Unsure) return undefined;
    throw e;
  }
}
