// Column lineage without the SQL toolkit, for the bodies src/sql/fast-analyze.ts parses: each output
// column of the statement and the input table columns its expression reads, through CTEs, subqueries
// and UNIONs, `*` expanded with the inputs' schemas. It gives exactly what polyglot's OpenLineage
// column-lineage facet gives (src/engine/lineage.ts asks it otherwise) — the direct inputs only:
// the columns in the select expression (function arguments, CASE branches and conditions, a
// window's PARTITION BY and ORDER BY), not those in WHERE, JOIN … ON, GROUP BY or HAVING; the
// table as written (`iceberg.bronze.t`), the column as written — or nothing: where polyglot's
// answer is peculiar (an unqualified column two inputs have, a name given twice, `*` over a
// subquery or over a join, a table's name in another case) or not sure, it returns undefined and
// the caller asks polyglot. test/sql/fast-lineage.test.ts compares both on the repository's
// pipelines, the generated bench specs and one case per construct.
//
// Cost: microseconds per body instead of ~10 ms of polyglot (and its 22 MB WebAssembly module).

import { fastParseSql } from './fast-analyze.js';
import { type Body, columnRef, type Expr, type FromItem, type Query } from './fast-parse.js';
import { Unsure, unsure } from './unsure.js';

/** An input table's columns, by the table's name as the SQL writes it (`bronze.t` or `iceberg.bronze.t`). */
export type LineageTables = readonly { readonly name: string; readonly columns: readonly { readonly name: string }[] }[];

/** An input column: the table as the SQL names it, the column as written. */
export interface InputField {
  readonly name: string;
  readonly field: string;
}

interface Output {
  readonly name: string;
  readonly inputs: readonly InputField[];
}

/** A FROM item as the select list sees it: a table (columns known or not) or a derived table's outputs. */
type Source =
  | { readonly alias: string; readonly table: string; readonly columns?: readonly string[] }
  | { readonly alias: string; readonly outputs: readonly Output[] };

const sameName = (a: string, b: string): boolean => {
  if (a === b) return true;
  // polyglot compares names by case in some places and not in others: leave those to it.
  if (a.toLowerCase() === b.toLowerCase()) unsure();
  return false;
};

class Tracer {
  constructor(private readonly tables: LineageTables) {}

  query(q: Query, ctes: ReadonlyMap<string, readonly Output[]>): readonly Output[] {
    const scope = new Map(ctes);
    for (const c of q.ctes) scope.set(c.name.toLowerCase(), this.query(c.q, scope));
    return this.body(q.body, scope);
  }

  private body(b: Body, ctes: ReadonlyMap<string, readonly Output[]>): readonly Output[] {
    if (b.k === 'union') {
      const [l, r] = [this.body(b.l, ctes), this.body(b.r, ctes)];
      if (l.length !== r.length) unsure();
      return l.map((o, i) => ({ name: o.name, inputs: merge(o.inputs, r[i].inputs) }));
    }
    const sources = [...b.from, ...b.joins.map((j) => j.item)].map((f) => this.source(f, ctes));
    const aliases = new Set<string>();
    for (const s of sources) {
      if (aliases.has(s.alias.toLowerCase())) unsure();
      aliases.add(s.alias.toLowerCase());
    }
    const out: Output[] = [];
    for (const it of b.items) {
      if ('star' in it) out.push(...this.star(it.star, sources));
      else {
        const name = it.alias ?? (it.e.k === 'col' ? columnRef(it.e.text).column : unsure());
        const inputs: InputField[] = [];
        for (const c of columnsIn(it.e))
          for (const f of this.resolve(c, sources)) if (!inputs.some((x) => x.name === f.name && x.field === f.field)) inputs.push(f);
        out.push({ name, inputs });
      }
    }
    const names = new Set<string>();
    for (const o of out) {
      // A name given twice: polyglot's answer for it is not what either expression reads.
      if (names.has(o.name.toLowerCase())) unsure();
      names.add(o.name.toLowerCase());
    }
    return out;
  }

  private source(f: FromItem, ctes: ReadonlyMap<string, readonly Output[]>): Source {
    if (f.k === 'sub') return { alias: f.alias, outputs: this.query(f.q, ctes) };
    const alias = f.alias ?? f.name;
    if (!f.ref) return { alias, outputs: ctes.get(f.name.toLowerCase()) ?? unsure() };
    if (f.text !== f.text.toLowerCase()) unsure();
    const t = this.tables.find((x) => x.name.toLowerCase() === f.text);
    if (t && t.name !== f.text) unsure();
    return { alias, table: f.text, ...(t ? { columns: t.columns.map((c) => c.name) } : {}) };
  }

  /** `*` or `t.*`: only over tables whose columns are known (polyglot expands neither a subquery's nor a join's alike). */
  private star(star: string, sources: readonly Source[]): Output[] {
    let s: Source | undefined;
    if (star === '*') s = sources.length === 1 ? sources[0] : unsure();
    else {
      const q = star.slice(0, -2);
      s = sources.find((x) => sameName(x.alias, q)) ?? unsure();
    }
    if (!s || !('table' in s) || !s.columns) return unsure();
    const table = s.table;
    return s.columns.map((c) => ({ name: c, inputs: [{ name: table, field: c }] }));
  }

  /** The input columns a column reference of the select list reads. */
  private resolve(text: string, sources: readonly Source[]): readonly InputField[] {
    const { qualifier, column } = columnRef(text);
    let s: Source | undefined;
    if (qualifier !== undefined) s = sources.find((x) => sameName(x.alias, qualifier)) ?? unsure();
    else if (sources.length === 1) s = sources[0];
    else {
      const having = sources.filter((x) => ('table' in x ? (x.columns ?? unsure()) : x.outputs.map((o) => o.name)).some((c) => sameName(c, column)));
      // Two inputs with the column: polyglot leaves it out; none: not sure what it would say.
      if (having.length !== 1) unsure();
      s = having[0];
    }
    if (!s) return unsure();
    if ('table' in s) return [{ name: s.table, field: column }];
    return (s.outputs.find((o) => sameName(o.name, column)) ?? unsure()).inputs;
  }
}

const merge = (a: readonly InputField[], b: readonly InputField[]): InputField[] => [
  ...a,
  ...b.filter((f) => !a.some((x) => x.name === f.name && x.field === f.field)),
];

/** The column references of an expression, in the order they are written. */
function columnsIn(e: Expr): string[] {
  const out: string[] = [];
  const walk = (x: Expr): void => {
    switch (x.k) {
      case 'raw':
        return;
      case 'col':
        out.push(x.text);
        return;
      case 'fn':
        x.args.forEach(walk);
        for (const p of x.over?.partition ?? []) walk(p);
        for (const o of x.over?.order ?? []) walk(o.e);
        return;
      case 'cast':
      case 'paren':
      case 'neg':
      case 'not':
      case 'isnull':
        walk(x.e);
        return;
      case 'case':
        if (x.operand) walk(x.operand);
        for (const [c, r] of x.whens) {
          walk(c);
          walk(r);
        }
        if (x.otherwise) walk(x.otherwise);
        return;
      case 'bin':
        walk(x.l);
        walk(x.r);
        return;
      case 'in':
        walk(x.e);
        x.list.forEach(walk);
        return;
      case 'between':
        walk(x.e);
        walk(x.lo);
        walk(x.hi);
        return;
      case 'like':
        walk(x.e);
        walk(x.pat);
        return;
    }
  };
  walk(e);
  return out;
}

/**
 * Each output column of the body (by its name in the statement) and the input columns it is
 * computed from, as polyglot's column-lineage facet gives them; undefined when the body is outside
 * the fast parser's subset or polyglot's answer is not certain. Never throws.
 */
export function fastColumnLineage(text: string, tables: LineageTables): Record<string, readonly InputField[]> | undefined {
  const q = fastParseSql(text);
  if (!q) return undefined;
  try {
    return Object.fromEntries(new Tracer(tables).query(q, new Map()).map((o) => [o.name, o.inputs]));
  } catch (e) {
    if (e instanceof Unsure) return undefined;
    throw e;
  }
}
