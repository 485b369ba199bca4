// Derived incremental maintenance (docs/language.md, "Derived incremental maintenance"): from a SQL
// body's syntax tree, decide whether its table can be maintained from the changes of its inputs.
//
// The one property checked is *key partitioning*: there is an output column K and, for every table
// the query reads, a column c_T such that the rows of the output with K = v are exactly the query
// over the input rows with c_T = v. Then a change of input rows touches only the partitions of the
// key values those rows carry (old and new values), and apply recomputes just those partitions
// (src/engine/derived.ts). Every supported shape is an instance of it:
//   - row-wise SELECT/WHERE: K is a key column passed through unchanged (the input's primary key);
//   - joins: the join's equality (ON a.k = b.k) puts both sides' columns in one class;
//   - GROUP BY: K is among the grouping columns;
//   - windows: every window is PARTITION BY K (among others).
// Anything else, or anything the analysis cannot be sure of (non-deterministic functions, LIMIT,
// global aggregates, subqueries in expressions, FULL/RIGHT joins, no key), is a full rebuild, and
// the result says why.

import type { NodeId } from '../ir/types.js';
import { nodeAddress } from '../ir/address.js';
import { SQL_DIALECT, sqlToolkit } from './toolkit.js';

export type DerivedHow = 'row-wise' | 'join' | 'group' | 'window';

/** The output of a GROUP BY whose groups merge from inserted input rows. */
export interface MergeableAggregates {
  /** The output columns that are not aggregates (the grouping values, or functions of them): a group's identity. */
  readonly groups: readonly string[];
  /** The output columns that are aggregates, and which. */
  readonly merged: readonly { readonly name: string; readonly fn: 'count' | 'sum' | 'min' | 'max' }[];
  /** The inputs whose inserted rows merge (the others' changes recompute their groups). */
  readonly deltaInputs: readonly NodeId[];
}

export type Maintenance =
  | {
      readonly mode: 'derived';
      /** The output column the table is partitioned by. */
      readonly key: string;
      readonly how: DerivedHow;
      /** For each table read: its column that carries the key. */
      readonly inputs: Readonly<Record<NodeId, string>>;
      /** The SQL reads the logical time (CURRENT_DATE …): a run at another logical time is a full rebuild. */
      readonly usesLogicalTime: boolean;
      /**
       * For an input whose every read is under conditions on its own columns (a WHERE, an inner
       * join's ON, the ON of a LEFT JOIN whose right side it is): a Spark SQL SELECT of its rows that pass
       * them. A changed row that fails them never reaches the output, so its key is not affected.
       */
      readonly filters: Readonly<Record<NodeId, string>>;
      /**
       * A GROUP BY whose aggregates merge (COUNT, SUM, MIN, MAX, see `mergeableAggregates`): the groups
       * whose input rows were only inserted take the previous values merged with the aggregates of the
       * inserted rows; the others are recomputed.
       */
      readonly aggregates?: MergeableAggregates;
      /** `derived (groups by customer_id)`: what plan prints after `incremental: `. */
      readonly text: string;
    }
  | { readonly mode: 'full'; readonly reason: string; readonly text: string };

/** Known unique columns of a table (a stream's primary key, `check unique`, `unique_key`). */
export type KeysOf = (table: NodeId) => readonly string[];

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

class Full extends Error {}

const LAYERS = new Set(['bronze', 'silver', 'gold']);
// Node types and function names whose value is not a function of the row: never derived.
const NON_DETERMINISTIC = new Set([
  'rand',
  'random',
  'randn',
  'randstr',
  'uniform',
  'uuid',
  'gen_random_uuid',
  'shuffle',
  'monotonically_increasing_id',
  'spark_partition_id',
  'input_file_name',
  'unix_timestamp',
  'current_user',
  'user',
  'session_user',
  'sample',
  'table_sample',
]);
const LOGICAL_TIME = new Set(['current_date', 'current_timestamp', 'now', 'localtimestamp', 'getdate', 'curdate']);
const SET_OPS = new Set(['union', 'intersect', 'except']);
const JOIN_KINDS = new Set(['Inner', 'Left', 'LeftOuter', 'Cross', 'Implicit']);

/** A relation of the query (table, CTE, subquery, SELECT, set operation), as far as partitioning goes. */
interface Rel {
  /** Table instances read (0: a constant relation such as a CTE of literals). */
  readonly tables: number;
  /** Output column names in order, when known (no star). */
  readonly columns?: readonly string[];
  /** Columns worth trying as the key (projections, known keys under a star). */
  readonly candidates: readonly string[];
  /** For an output column: the column of each table read that carries it, or why not. */
  keyFor(col: string): Map<NodeId, string> | string;
  /** Operations seen (for the plan's wording). */
  readonly how: ReadonlySet<DerivedHow>;
  /** A query that names no table at all (a CTE of dates, `VALUES`): its syntax tree, whose text stands alone. */
  readonly constant?: Json;
}

/** Decide how a node's table is maintained. `sql` is the body's normalised (comment-free) Spark SQL. */
export function deriveMaintenance(sql: string, keysOf: KeysOf): Maintenance {
  const full = (reason: string): Maintenance => ({ mode: 'full', reason, text: reason });
  let tree: Json;
  try {
    const r = sqlToolkit().parse(sql, SQL_DIALECT as never);
    if (!r.success || !r.ast || r.ast.length !== 1) return full('SQL could not be analysed');
    tree = r.ast[0];
  } catch {
    return full('SQL could not be analysed');
  }
  let rel: Rel;
  const usesLogicalTime = { value: false };
  const analyzer = new Analyzer(keysOf, usesLogicalTime);
  try {
    rel = analyzer.query(tree, new Map());
  } catch (e) {
    if (e instanceof Full) return full(e.message);
    throw e;
  }
  if (rel.tables === 0) return full('reads no table');
  const tried: { col: string; map: Map<NodeId, string> }[] = [];
  let why = '';
  for (const col of rel.candidates) {
    const m = rel.keyFor(col);
    if (typeof m === 'string') why ||= m;
    else tried.push({ col, map: m });
  }
  if (tried.length === 0) return full(why || 'no key');
  // A key every input knows as unique recomputes the fewest rows; else the first (grouping) column.
  const known = tried.find((t) => [...t.map].every(([id, c]) => keysOf(id).some((k) => k.toLowerCase() === c)));
  const structural = rel.how.has('group') || rel.how.has('window') || rel.how.has('join');
  const pick = known ?? (structural ? tried[0] : undefined);
  if (!pick) return full('no key (the input carries no primary key or unique column)');
  const how: DerivedHow = rel.how.has('group') ? 'group' : rel.how.has('window') ? 'window' : rel.how.has('join') ? 'join' : 'row-wise';
  const verb = { group: 'groups by', window: 'partitions by', join: 'joins on', 'row-wise': 'row-wise on' }[how];
  let aggregates: MergeableAggregates | undefined;
  try {
    aggregates = how === 'group' ? mergeableAggregates(tree, analyzer.reads) : undefined;
  } catch {
    // A form the merge analysis does not know: the groups are recomputed, as without it.
    aggregates = undefined;
  }
  return {
    mode: 'derived',
    key: pick.col,
    how,
    inputs: Object.fromEntries([...pick.map].sort(([a], [b]) => a.localeCompare(b))),
    usesLogicalTime: usesLogicalTime.value,
    filters: rowFilters(analyzer.reads, [...pick.map.keys()]),
    ...(aggregates ? { aggregates } : {}),
    text: `derived (${verb} ${pick.col}${aggregates ? ', aggregates merged' : ''})`,
  };
}

const MERGEABLE = new Set(['count', 'sum', 'min', 'max']);

/**
 * Whether the query is a GROUP BY whose groups can be maintained from inserted rows by merging
 * aggregates (docs/language.md, "Derived incremental maintenance"): the outermost SELECT groups by
 * plain expressions (no HAVING, QUALIFY, DISTINCT or window) and each output column is either
 * free of aggregates (a grouping value: every GROUP BY expression must be one of them, so an output
 * row is one group) or exactly COUNT(*), COUNT(x), SUM(x), MIN(x) or MAX(x), not DISTINCT. The
 * node's own SQL over an input's inserted rows (the other inputs as they are) then gives the
 * inserted rows' aggregates per group, which merge with the previous ones: counts and sums add,
 * MIN/MAX take the lesser/greater. An input's inserted rows merge when they add rows to the
 * grouped relation without removing any (`deltaInputs`): a table read once, directly in that SELECT's FROM,
 * not on the outer side of a LEFT JOIN — or on it only when every aggregate reads a column of it
 * alone (the rows it extends with NULLs count in no aggregate) and no other condition or grouping
 * value reads it. Undefined when none merges.
 */
function mergeableAggregates(tree: Json, reads: readonly TableRead[]): MergeableAggregates | undefined {
  if (typeOf(tree) !== 'select') return undefined;
  const s = tree.select;
  const groupBy: Json[] = s.group_by?.expressions ?? [];
  if (!groupBy.length || s.group_by?.all || s.having || s.qualify || s.distinct || s.distinct_on) return undefined;
  const exprs: Json[] = s.expressions ?? [];
  if (collectWindows(exprs).length) return undefined;
  const groups: { name: string; e: Json }[] = [];
  const merged: { name: string; fn: 'count' | 'sum' | 'min' | 'max'; arg?: Json }[] = [];
  for (const e of exprs) {
    const aliased = typeOf(e) === 'alias' ? e.alias : undefined;
    const inner = aliased ? aliased.this : e;
    const name = aliased ? identName(aliased.alias) : columnRef(inner)?.name;
    if (!name) return undefined;
    const fn = typeOf(inner);
    if (fn && MERGEABLE.has(fn)) {
      const a = inner[fn];
      if (a.distinct || (a.this && sqlToolkit().ast.hasAggregates(a.this))) return undefined;
      merged.push({ name: lower(name), fn: fn as 'count' | 'sum' | 'min' | 'max', ...(a.this ? { arg: a.this } : {}) });
    } else if (sqlToolkit().ast.hasAggregates(inner)) return undefined;
    else groups.push({ name: lower(name), e: inner });
  }
  const names = [...groups, ...merged].map((c) => c.name);
  if (new Set(names).size !== names.length) return undefined;
  // Every GROUP BY expression is an output column: an output row is one group.
  const text = (e: Json): string | undefined => expressionText(e)?.toLowerCase();
  for (const g of groupBy) {
    const lit = typeOf(g) === 'literal' ? Number(g.literal.value) : NaN;
    if (Number.isInteger(lit)) {
      const e = exprs[lit - 1];
      const inner = e && typeOf(e) === 'alias' ? e.alias.this : e;
      if (!inner || !groups.some((c) => c.e === inner)) return undefined;
      continue;
    }
    const r = columnRef(g);
    const t = text(g);
    const found = groups.some((c) => {
      const cr = columnRef(c.e);
      if (r && cr) return r.name === cr.name && (r.table === cr.table || !r.table || !cr.table);
      if (r && !r.table && !cr && c.name === r.name) return true;
      return t !== undefined && text(c.e) === t;
    });
    if (!found) return undefined;
  }

  // The FROM items of this SELECT: the table each reads — directly, or through a row-wise CTE or
  // subquery used once (`WITH o AS (SELECT * FROM silver.orders WHERE …)`: its rows over inserted
  // rows are the inserted rows of its own) — and whether it is a LEFT JOIN's outer side.
  const ctes = new Map<string, Json>();
  for (const c of s.with?.ctes ?? []) if (identName(c.alias)) ctes.set(lower(identName(c.alias)!), c.this);
  const items: { alias: string; id?: NodeId; outer: boolean; on?: Json }[] = [];
  const item = (e: Json, outer: boolean, on?: Json) => {
    const t = typeOf(e) === 'paren' ? typeOf(e.paren.this) : typeOf(e);
    const x = typeOf(e) === 'paren' ? e.paren.this : e;
    if (t === 'table') {
      const tb = x.table;
      const name = identName(tb.name) ?? '';
      const schema = identName(tb.schema);
      const alias = lower(identName(tb.alias) ?? name);
      const cte = !schema ? ctes.get(lower(name)) : undefined;
      const id = schema && LAYERS.has(lower(schema)) ? `${lower(schema)}.${name}` : cte && tableRefs(tree, lower(name)) === 1 ? rowWiseRead(cte) : undefined;
      items.push({ alias, outer, on, ...(id ? { id } : {}) });
    } else {
      const id = t === 'subquery' ? rowWiseRead(x.subquery.this) : undefined;
      items.push({ alias: lower(identName(x?.subquery?.alias) ?? `?${items.length}`), outer, on, ...(id ? { id } : {}) });
    }
  };
  for (const f of s.from?.expressions ?? []) item(f, false);
  for (const j of s.joins ?? []) item(j.this, j.kind === 'Left' || j.kind === 'LeftOuter', j.on);
  // The items an expression's columns belong to (every item when a column's is not known).
  const refs = (e: Json): Set<string> => {
    const out = new Set<string>();
    const walk = (n: Json): void => {
      if (!n || typeof n !== 'object') return;
      if (Array.isArray(n)) return n.forEach(walk);
      if (typeOf(n) === 'column') {
        const r = columnRef(n);
        if (r?.table) out.add(r.table);
        else if (items.length === 1) out.add(items[0].alias);
        else for (const i of items) out.add(i.alias);
        return;
      }
      for (const k in n) if (k !== 'span' && k !== 'comments' && k !== 'trailing_comments') walk(n[k]);
    };
    walk(e);
    return out;
  };
  const deltaInputs: NodeId[] = [];
  for (const it of items) {
    if (!it.id || reads.filter((r) => r.id === it.id).length !== 1) continue;
    if (it.outer) {
      const alone = (e: Json | undefined) => e !== undefined && columnRef(e) !== undefined && [...refs(e)].every((a) => a === it.alias);
      if (!merged.every((m) => alone(m.arg))) continue;
      const elsewhere = [s.where_clause?.this, ...groupBy, ...groups.map((g) => g.e), ...items.filter((o) => o !== it).map((o) => o.on)];
      if (elsewhere.some((e) => e && refs(e).has(it.alias))) continue;
    }
    deltaInputs.push(it.id);
  }
  if (!deltaInputs.length) return undefined;
  return { groups: groups.map((g) => g.name), merged: merged.map(({ name, fn }) => ({ name, fn })), deltaInputs: deltaInputs.sort() };
}

/** The warehouse table a query reads row by row (one table, no join, aggregate, window, DISTINCT or LIMIT), if it does. */
function rowWiseRead(q: Json): NodeId | undefined {
  if (typeOf(q) !== 'select') return undefined;
  const s = q.select;
  const from: Json[] = s.from?.expressions ?? [];
  if (from.length !== 1 || s.joins?.length || s.with || s.group_by || s.having || s.qualify || s.distinct || s.distinct_on) return undefined;
  if (s.limit || s.offset || s.top || s.fetch || s.lateral_views?.length) return undefined;
  const exprs: Json[] = s.expressions ?? [];
  if (collectWindows(exprs).length || exprs.some((e) => sqlToolkit().ast.hasAggregates(e))) return undefined;
  if (typeOf(from[0]) !== 'table') return undefined;
  const tb = from[0].table;
  const schema = identName(tb.schema);
  return schema && LAYERS.has(lower(schema)) ? `${lower(schema)}.${identName(tb.name)}` : undefined;
}

/** How many times the query names `name` as a table without a schema (a CTE's uses). */
function tableRefs(tree: Json, name: string): number {
  let n = 0;
  const walk = (x: Json): void => {
    if (!x || typeof x !== 'object') return;
    if (Array.isArray(x)) return x.forEach(walk);
    if (typeOf(x) === 'table' && x.table?.name && !x.table.schema && lower(identName(x.table.name) ?? '') === name) n++;
    for (const k in x) if (k !== 'span') walk(x[k]);
  };
  walk(tree);
  return n;
}

/** Whether the query names any table (a warehouse table or a CTE). */
function namesTable(tree: Json): boolean {
  let found = false;
  const walk = (x: Json): void => {
    if (found || !x || typeof x !== 'object') return;
    if (Array.isArray(x)) return x.forEach(walk);
    if (typeOf(x) === 'table') found = true;
    else for (const k in x) if (k !== 'span') walk(x[k]);
  };
  walk(tree);
  return found;
}

/** One read of a table in the query: its alias and the conditions on its own columns its rows must pass. */
interface TableRead {
  readonly id: NodeId;
  readonly alias: string;
  readonly conds: Json[];
  /**
   * Conditions on its columns and those of constant relations beside it (`t.day < a.as_of_date`,
   * `a` a CTE of dates): a row passes when some row of those relations passes them all.
   */
  readonly joint: { readonly conds: Json[]; readonly consts: Map<string, Json> };
}

/** Per input: the SELECT of its rows that pass the conditions of every read of it (none when a read has none). */
function rowFilters(reads: readonly TableRead[], ids: readonly NodeId[]): Record<NodeId, string> {
  const out: Record<NodeId, string> = {};
  const name = (s: string): string => (/^[A-Za-z_][A-Za-z0-9_]*$/.test(s) ? s : `\`${s.replace(/`/g, '``')}\``);
  for (const id of ids) {
    const these = reads.filter((r) => r.id === id);
    if (!these.length || these.some((r) => !r.conds.length && !r.joint.conds.length)) continue;
    const { prefix: layer, name: table } = nodeAddress(id);
    const selects: string[] = [];
    for (const r of these) {
      const texts = r.conds.map(expressionText);
      if (texts.some((t) => t === undefined)) break;
      // Some row of the constant relations must pass the joint conditions with it; without their
      // text (the toolkit cannot print one), the read's own conditions alone (a weaker filter).
      const joint = r.joint.conds.map(expressionText);
      const consts = [...r.joint.consts].map(([alias, q]) => [alias, expressionText(q)] as const);
      if (joint.length && joint.every((t) => t !== undefined) && consts.every(([, t]) => t !== undefined))
        texts.push(
          `EXISTS (SELECT 1 FROM ${consts.map(([alias, t]) => `(${t}) AS ${name(alias)}`).join(', ')} WHERE ${joint.map((t) => `(${t})`).join(' AND ')})`,
        );
      if (!texts.length) break;
      selects.push(`SELECT * FROM ${name(layer)}.${name(table)} AS ${name(r.alias)} WHERE ${texts.map((t) => `(${t})`).join(' AND ')}`);
    }
    if (selects.length === these.length) out[id] = selects.join(' UNION ALL ');
  }
  return out;
}

/** Spark SQL text of an expression (or a query) of the tree, or undefined when the toolkit cannot print it alone. */
function expressionText(e: Json): string | undefined {
  try {
    const r = sqlToolkit().generate([e] as never, SQL_DIALECT as never) as { success: boolean; sql?: string[] | null };
    return r.success && r.sql?.length === 1 ? r.sql[0] : undefined;
  } catch {
    return undefined;
  }
}

/** The FROM items a condition's columns belong to; undefined when one cannot be resolved or it holds a subquery. */
function itemsOf(c: Json, resolve: (ref: { table?: string; name: string }) => FromItem | undefined): Set<FromItem> | undefined {
  const found = new Set<FromItem>();
  let ok = true;
  const walk = (n: Json): void => {
    if (!ok || !n || typeof n !== 'object') return;
    if (Array.isArray(n)) return n.forEach(walk);
    for (const k in n) {
      if (k === 'span' || k === 'comments' || k === 'trailing_comments') continue;
      if (k === 'subquery' || k === 'exists' || k === 'select' || k === 'lambda' || SET_OPS.has(k) || k === 'window_function') {
        ok = false;
        return;
      }
      if (k === 'column') {
        const ref = columnRef(n);
        const item = ref && resolve(ref);
        if (!item) ok = false;
        else found.add(item);
        continue;
      }
      walk(n[k]);
    }
  };
  walk(c);
  return ok ? found : undefined;
}

const lower = (s: string): string => s.toLowerCase();
const identName = (x: Json): string | undefined => (x && typeof x === 'object' && typeof x.name === 'string' ? x.name : undefined);
const typeOf = (n: Json): string | undefined => (n && typeof n === 'object' && !Array.isArray(n) ? Object.keys(n)[0] : undefined);

/** A column reference `t.c` / `c`. */
function columnRef(e: Json): { table?: string; name: string } | undefined {
  if (typeOf(e) === 'paren') return columnRef(e.paren.this);
  if (typeOf(e) !== 'column') return undefined;
  const c = e.column;
  const name = identName(c.name);
  if (!name) return undefined;
  const table = identName(c.table);
  return { name: lower(name), ...(table ? { table: lower(table) } : {}) };
}

/** Top-level AND conjuncts. */
function conjuncts(e: Json): Json[] {
  if (!e) return [];
  const t = typeOf(e);
  if (t === 'and') return [...conjuncts(e.and.left), ...conjuncts(e.and.right)];
  if (t === 'paren') return conjuncts(e.paren.this);
  return [e];
}

class UnionFind {
  private readonly parent = new Map<string, string>();
  find(x: string): string {
    let p = this.parent.get(x) ?? x;
    if (p !== x) {
      p = this.find(p);
      this.parent.set(x, p);
    }
    return p;
  }
  /** Every column an equality mentioned. */
  readonly seen = new Set<string>();
  union(a: string, b: string): void {
    this.seen.add(a);
    this.seen.add(b);
    const ra = this.find(a);
    const rb = this.find(b);
    if (ra !== rb) this.parent.set(ra, rb);
  }
  members(x: string, universe: Iterable<string>): string[] {
    const r = this.find(x);
    return [...universe].filter((u) => this.find(u) === r);
  }
}

interface FromItem {
  readonly alias: string;
  readonly rel: Rel;
  /** Right side of a LEFT JOIN: its columns are NULL on unmatched rows. */
  readonly nullable: boolean;
  /** A warehouse table read directly (not a CTE or subquery). */
  readonly read?: TableRead;
}

class Analyzer {
  /** Every direct read of a warehouse table, with the conditions on its own columns (rowFilters). */
  readonly reads: TableRead[] = [];

  constructor(
    private readonly keysOf: KeysOf,
    private readonly time: { value: boolean },
  ) {}

  query(node: Json, scope: ReadonlyMap<string, Rel>): Rel {
    const rel = this.queryRel(node, scope);
    return rel.tables === 0 && !namesTable(node) ? { ...rel, constant: node } : rel;
  }

  private queryRel(node: Json, scope: ReadonlyMap<string, Rel>): Rel {
    const t = typeOf(node);
    if (t === 'select') return this.select(node.select, scope);
    if (t === 'paren') return this.query(node.paren.this, scope);
    if (t === 'subquery') return this.query(node.subquery.this, scope);
    if (t && SET_OPS.has(t)) return this.setOp(node[t], scope);
    throw new Full(`unsupported query form (${t ?? 'unknown'})`);
  }

  private withCtes(w: Json, scope: ReadonlyMap<string, Rel>): Map<string, Rel> {
    const inner = new Map(scope);
    if (!w) return inner;
    if (w.recursive) throw new Full('recursive CTE');
    for (const c of w.ctes ?? []) {
      const name = identName(c.alias);
      if (!name) throw new Full('CTE without a name');
      inner.set(lower(name), this.query(c.this, inner));
    }
    return inner;
  }

  private setOp(op: Json, scope: ReadonlyMap<string, Rel>): Rel {
    const inner = this.withCtes(op.with, scope);
    if (op.limit || op.offset) throw new Full('LIMIT');
    const left = this.query(op.left, inner);
    const right = this.query(op.right, inner);
    if (!left.columns || !right.columns || left.columns.length !== right.columns.length) throw new Full('set operation over * (columns unknown)');
    const lc = left.columns;
    const rc = right.columns;
    return {
      tables: left.tables + right.tables,
      columns: lc,
      candidates: lc,
      how: new Set([...left.how, ...right.how]),
      keyFor(col) {
        const i = lc.indexOf(col);
        if (i < 0) return `no column ${col}`;
        const a = left.tables ? left.keyFor(lc[i]) : new Map<NodeId, string>();
        if (typeof a === 'string') return a;
        const b = right.tables ? right.keyFor(rc[i]) : new Map<NodeId, string>();
        if (typeof b === 'string') return b;
        return merge(a, b) ?? `a table is read with two different key columns`;
      },
    };
  }

  private fromItem(e: Json, scope: ReadonlyMap<string, Rel>): { alias: string; rel: Rel; read?: TableRead } {
    const t = typeOf(e);
    if (t === 'table') {
      const tb = e.table;
      const name = identName(tb.name);
      if (!name) throw new Full('unsupported table reference');
      const schema = identName(tb.schema);
      const catalog = identName(tb.catalog);
      const alias = lower(identName(tb.alias) ?? name);
      if (!schema && !catalog && scope.has(lower(name))) return { alias, rel: scope.get(lower(name))! };
      if (!schema || !LAYERS.has(lower(schema)) || (catalog && lower(catalog) !== 'iceberg'))
        throw new Full(`reads ${[catalog, schema, name].filter(Boolean).join('.')}, not a warehouse table`);
      const id = `${lower(schema)}.${name}`;
      const keys = this.keysOf(id).map(lower);
      const read: TableRead = { id, alias, conds: [], joint: { conds: [], consts: new Map() } };
      this.reads.push(read);
      return {
        alias,
        read,
        rel: { tables: 1, candidates: keys, how: new Set(), keyFor: (col) => new Map([[id, col]]) },
      };
    }
    if (t === 'subquery') {
      const alias = identName(e.subquery.alias);
      if (!alias) throw new Full('subquery without an alias');
      if (e.subquery.column_aliases?.length) throw new Full('subquery with column aliases');
      return { alias: lower(alias), rel: this.query(e.subquery.this, scope) };
    }
    if (t === 'paren') return this.fromItem(e.paren.this, scope);
    throw new Full(`unsupported FROM item (${t ?? 'unknown'})`);
  }

  private select(s: Json, outer: ReadonlyMap<string, Rel>): Rel {
    const scope = this.withCtes(s.with, outer);
    if (s.limit || s.offset || s.top || s.fetch) throw new Full('LIMIT');
    if (s.distinct_on) throw new Full('DISTINCT ON');
    if (s.lateral_views?.length) throw new Full('LATERAL VIEW');
    const items: FromItem[] = [];
    for (const f of s.from?.expressions ?? []) items.push({ ...this.fromItem(f, scope), nullable: false });
    const uf = new UnionFind();
    let joined = false;
    for (const j of s.joins ?? []) {
      if (!JOIN_KINDS.has(j.kind)) throw new Full(`${String(j.kind).toUpperCase()} JOIN`);
      if (j.using?.length) throw new Full('JOIN … USING');
      const it = this.fromItem(j.this, scope);
      const left = j.kind === 'Left' || j.kind === 'LeftOuter';
      items.push({ ...it, nullable: left });
      if (j.on) {
        this.checkExpr(j.on, scope);
        for (const c of conjuncts(j.on)) this.equate(c, items, uf);
        // A condition on one table's columns only: rows failing it never match (inner join: never
        // reach the output). Of a LEFT JOIN, only for its right side (the left side's rows stay either way).
        for (const c of conjuncts(j.on)) this.restrict(c, items, (x) => (left ? x === items[items.length - 1] : !x.nullable));
      }
    }
    if (items.filter((i) => i.rel.tables > 0).length > 1) joined = true;
    if (s.where_clause) {
      this.checkExpr(s.where_clause.this, scope);
      for (const c of conjuncts(s.where_clause.this)) this.equate(c, items, uf);
      for (const c of conjuncts(s.where_clause.this)) this.restrict(c, items, (x) => !x.nullable);
    }
    if (s.having) this.checkExpr(s.having.this, scope);
    if (s.qualify) this.checkExpr(s.qualify.this, scope);
    const exprs: Json[] = s.expressions ?? [];
    for (const e of exprs) this.checkExpr(e, scope);
    const groupBy: Json[] = s.group_by?.expressions ?? [];
    for (const g of groupBy) this.checkExpr(g, scope);
    const windows = collectWindows([...exprs, s.qualify?.this, s.having?.this]);
    const aggregated =
      exprs.some((e) => sqlToolkit().ast.hasAggregates(withoutWindows(e))) || (s.having && sqlToolkit().ast.hasAggregates(withoutWindows(s.having.this)));
    if (!groupBy.length && aggregated) throw new Full('global aggregate (no GROUP BY)');
    if (s.group_by?.all || groupBy.some((g) => ['cube', 'rollup', 'grouping_sets'].includes(typeOf(g) ?? '')))
      throw new Full('GROUP BY ALL/CUBE/ROLLUP/GROUPING SETS');
    for (const w of windows) if (!(w.over?.partition_by ?? []).length) throw new Full('window without partition');

    // Output columns: name → the expression (a column reference keeps the partition).
    const outputs: { name: string; ref?: { item: FromItem; col: string } }[] = [];
    const star: FromItem[] = [];
    let starUnknown = false;
    for (const e of exprs) {
      const t = typeOf(e);
      if (t === 'star' || (t === 'column' && e.column.name?.name === '*')) {
        if (t === 'star' && (e.star?.except?.length || e.star?.replace?.length || e.star?.rename?.length)) throw new Full('SELECT * EXCEPT/REPLACE');
        const table = t === 'column' ? identName(e.column.table) : identName(e.star?.table);
        const its = table ? items.filter((i) => i.alias === lower(table)) : items;
        if (its.length !== 1) starUnknown = true;
        star.push(...its);
        continue;
      }
      const aliased = t === 'alias' ? e.alias : undefined;
      const inner = aliased ? aliased.this : e;
      const ref = columnRef(inner);
      const name = aliased ? identName(aliased.alias) : ref?.name;
      if (!name) {
        outputs.push({ name: `?${outputs.length}` });
        continue;
      }
      const item = ref ? this.resolve(ref, items) : undefined;
      outputs.push({ name: lower(name), ...(item && ref ? { ref: { item, col: ref.name } } : {}) });
    }
    const universe = (): string[] => {
      const u = new Set<string>();
      for (const i of items) for (const c of [...i.rel.candidates, ...(i.rel.columns ?? [])]) u.add(`${i.alias}.${c}`);
      return [...u];
    };
    const groupRefs = groupBy.map((g) => {
      const lit = typeOf(g) === 'literal' ? Number(g.literal.value) : NaN;
      if (Number.isInteger(lit) && lit >= 1 && lit <= outputs.length) return outputs[lit - 1].ref;
      const r = columnRef(g);
      if (!r) return undefined;
      const out = !r.table ? outputs.find((o) => o.name === r.name && o.ref) : undefined;
      const item = this.resolve(r, items);
      return item ? { item, col: r.name } : out?.ref;
    });
    const how = new Set<DerivedHow>(items.flatMap((i) => [...i.rel.how]));
    if (groupBy.length) how.add('group');
    if (windows.length) how.add('window');
    if (joined) how.add('join');
    const self = this;
    const columns = starUnknown || star.length ? undefined : outputs.map((o) => o.name);
    const candidates = [...new Set([...outputs.filter((o) => o.ref).map((o) => o.name), ...star.flatMap((i) => i.rel.candidates)])];
    // Grouping and partition columns first: they are the natural key of an aggregate or a window.
    const firstGroup = groupRefs
      .map((g) => g && outputs.find((o) => o.ref && o.ref.item === g.item && o.ref.col === g.col)?.name)
      .filter((x): x is string => !!x);
    const ordered = [...new Set([...firstGroup, ...candidates])];
    return {
      tables: items.reduce((n, i) => n + i.rel.tables, 0),
      columns,
      candidates: ordered,
      how,
      keyFor(col) {
        let ref = outputs.find((o) => o.name === col)?.ref;
        if (!ref && star.length) {
          const owners = star.filter((i) => i.rel.candidates.includes(col) || i.rel.columns?.includes(col) || i.rel.tables === 1);
          if (owners.length === 1) ref = { item: owners[0], col };
        }
        if (!ref) return `${col} is not a column passed through unchanged`;
        if (ref.item.nullable) return `${col} comes from the outer side of a LEFT JOIN`;
        const here = `${ref.item.alias}.${ref.col}`;
        const klass = new Set(uf.members(here, [here, ...universe(), ...uf.seen]));
        let map = new Map<NodeId, string>();
        for (const it of items) {
          if (it.rel.tables === 0) continue;
          const cols = [...klass].filter((m) => m.startsWith(`${it.alias}.`)).map((m) => m.slice(it.alias.length + 1));
          let found: Map<NodeId, string> | undefined;
          let why = `${col} is not the join key`;
          for (const c of cols) {
            const m = it.rel.keyFor(c);
            if (typeof m === 'string') why = m;
            else {
              found = m;
              break;
            }
          }
          if (!found) return why;
          const merged = merge(map, found);
          if (!merged) return 'a table is read with two different key columns';
          map = merged;
        }
        if (groupBy.length && !groupRefs.some((g) => g && klass.has(`${g.item.alias}.${g.col}`))) return `GROUP BY does not include ${col}`;
        for (const w of windows) {
          const parts: Json[] = w.over?.partition_by ?? [];
          const ok = parts.some((p) => {
            const r = columnRef(p);
            const item = r && self.resolve(r, items);
            return !!item && klass.has(`${item.alias}.${r!.name}`);
          });
          if (!ok) return `window not partitioned by ${col}`;
        }
        return map;
      },
    };
  }

  /**
   * Record condition `c` as a row filter of the one table read it names, when `applies` to that item:
   * on its columns alone, or on its columns and those of constant relations that are no LEFT JOIN's
   * outer side (a row extended with NULLs is not one of the relation's rows).
   */
  private restrict(c: Json, items: readonly FromItem[], applies: (item: FromItem) => boolean): void {
    const its = itemsOf(c, (ref) => this.resolve(ref, items));
    if (!its) return;
    const read = [...its].filter((i) => !i.rel.constant);
    if (read.length !== 1 || !read[0].read || !applies(read[0])) return;
    const consts = [...its].filter((i) => i.rel.constant);
    if (!consts.length) read[0].read.conds.push(c);
    else if (consts.every((i) => !i.nullable)) {
      read[0].read.joint.conds.push(c);
      for (const i of consts) read[0].read.joint.consts.set(i.alias, i.rel.constant);
    }
  }

  /** Record `a.x = b.y` between two resolved column references. */
  private equate(c: Json, items: readonly FromItem[], uf: UnionFind): void {
    if (typeOf(c) !== 'eq') return;
    const l = columnRef(c.eq.left);
    const r = columnRef(c.eq.right);
    if (!l || !r) return;
    const li = this.resolve(l, items);
    const ri = this.resolve(r, items);
    if (!li || !ri) return;
    const a = `${li.alias}.${l.name}`;
    const b = `${ri.alias}.${r.name}`;
    uf.union(a, b);
  }

  private resolve(ref: { table?: string; name: string }, items: readonly FromItem[]): FromItem | undefined {
    if (ref.table) return items.find((i) => i.alias === ref.table);
    if (items.length === 1) return items[0];
    // Unqualified among several: the one item known to have it (columns or candidates).
    const has = items.filter((i) => i.rel.columns?.includes(ref.name));
    return has.length === 1 ? has[0] : undefined;
  }

  /** Expressions: no subquery that reads a table, no non-deterministic function; note the logical time. */
  private checkExpr(e: Json, scope: ReadonlyMap<string, Rel>): void {
    const walk = (n: Json): void => {
      if (Array.isArray(n)) {
        for (const x of n) walk(x);
        return;
      }
      if (!n || typeof n !== 'object') return;
      for (const k in n) {
        if (k === 'span' || k === 'comments' || k === 'trailing_comments') continue;
        const v = n[k];
        if (NON_DETERMINISTIC.has(k)) throw new Full(`non-deterministic ${k}()`);
        if (LOGICAL_TIME.has(k)) this.time.value = true;
        if (k === 'function' || k === 'aggregate_function') {
          const name = lower(String(v?.name ?? ''));
          if (NON_DETERMINISTIC.has(name)) throw new Full(`non-deterministic ${name}()`);
          if (LOGICAL_TIME.has(name)) this.time.value = true;
        }
        const query = (k === 'select' || SET_OPS.has(k)) && v && typeof v === 'object' && !Array.isArray(v) && Object.keys(n).length === 1;
        if (k === 'subquery' || k === 'exists' || (k === 'in' && v?.query) || query) {
          const q = k === 'in' ? v.query : k === 'exists' ? v.this : k === 'subquery' ? v.this : n;
          let rel: Rel | undefined;
          try {
            rel = this.query(q, scope);
          } catch (err) {
            if (err instanceof Full) throw new Full(`subquery in an expression (${err.message})`);
            throw err;
          }
          if (rel.tables > 0) throw new Full('subquery in an expression reads a table');
          if (k !== 'in') continue;
        }
        walk(v);
      }
    };
    walk(e);
  }
}

function merge(a: ReadonlyMap<NodeId, string>, b: ReadonlyMap<NodeId, string>): Map<NodeId, string> | undefined {
  const out = new Map(a);
  for (const [k, v] of b) {
    const have = out.get(k);
    if (have !== undefined && have !== v) return undefined;
    out.set(k, v);
  }
  return out;
}

function collectWindows(exprs: readonly Json[]): Json[] {
  const out: Json[] = [];
  const walk = (n: Json): void => {
    if (Array.isArray(n)) return n.forEach(walk);
    if (!n || typeof n !== 'object') return;
    for (const k in n) {
      if (k === 'span') continue;
      if (k === 'window_function') out.push(n[k]);
      if (k === 'subquery' || k === 'select') continue;
      walk(n[k]);
    }
  };
  exprs.forEach(walk);
  return out;
}

/** The expression with every window function replaced by a literal (an aggregate under OVER is not a global aggregate). */
function withoutWindows(e: Json): Json {
  if (Array.isArray(e)) return e.map(withoutWindows);
  if (!e || typeof e !== 'object') return e;
  if ('window_function' in e) return { literal: { literal_type: 'number', value: '0' } };
  const out: Json = {};
  for (const k in e) out[k] = withoutWindows(e[k]);
  return out;
}
