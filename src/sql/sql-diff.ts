// A semantic diff of two versions of one SQL body, from polyglot's syntax trees (never a line
// diff): what changed in each query scope (the query, each CTE, each subquery in FROM) by clause —
// projections by output name, filters and HAVING by conjunct, joins by joined table, group by,
// windows, distinct, order, limit, set operations — and which output columns changed meaning
// (their expression, followed through CTEs, differs).
//
// Formatting, comments, keyword case and table aliases do not reach the comparison: positions,
// comments and optional keywords are dropped from the trees, and every column qualified by a table
// alias is re-qualified by the table's name before items are compared, so renaming `c` to `cust` is
// no change. (polyglot's own tree diff, `diff()`, answers the same "did anything change" question
// but takes over a second on churn's largest query and names no clause, so it is not used here.)

import { SQL_DIALECT, sqlToolkit, type SqlToolkit } from './toolkit.js';

export type SqlClause =
  | 'cte'
  | 'projection'
  | 'from'
  | 'join'
  | 'filter'
  | 'group_by'
  | 'having'
  | 'qualify'
  | 'window'
  | 'distinct'
  | 'order_by'
  | 'limit'
  | 'set_operation';

export interface SqlChange {
  /** `query`, `cte customer_orders`, `subquery x` (nested scopes joined by ` > `). */
  readonly scope: string;
  readonly clause: SqlClause;
  readonly change: 'added' | 'removed' | 'changed';
  /** The output name of a projection, the joined table, the CTE name … */
  readonly item?: string;
  readonly before?: string;
  readonly after?: string;
}

export interface SqlDiff {
  readonly changes: readonly SqlChange[];
  /** Output columns present before and after whose defining expression (through CTEs) changed. */
  readonly changedColumns: readonly string[];
  /** A clause deciding which rows exist changed (filter, join, from, group by, having, qualify, distinct, limit, set operation). */
  readonly rowsChanged: boolean;
}

/** Clauses whose change alters which rows (or how many) a scope produces. */
const ROW_CLAUSES: ReadonlySet<SqlClause> = new Set(['from', 'join', 'filter', 'group_by', 'having', 'qualify', 'distinct', 'limit', 'set_operation']);

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type Obj = { [k: string]: Json };

const isObj = (x: Json | undefined): x is Obj => x !== null && x !== undefined && typeof x === 'object' && !Array.isArray(x);

/** Keys that carry layout only: positions, comments, optional keywords, quoting. */
const LAYOUT_KEYS = new Set([
  'span',
  'trailing_comments',
  'leading_comments',
  'left_comments',
  'operator_comments',
  'pre_alias_comments',
  'comments',
  'alias_explicit_as',
  'use_inner_keyword',
  'use_outer_keyword',
  'explicit_asc',
  'quoted',
  // How a function name was spelled (`count` or `COUNT`).
  'original_name',
]);

/** Diff two SQL bodies; undefined when either does not parse as one query (the checker reports that). */
export function diffSql(before: string, after: string): SqlDiff | undefined {
  const a = parseOne(before);
  const b = parseOne(after);
  if (!a || !b) return undefined;
  const sa = scopesOf(a);
  const sb = scopesOf(b);
  const changes: SqlChange[] = [];
  for (const [name, scope] of sa) {
    if (!sb.has(name)) changes.push({ scope: parentOf(name), clause: 'cte', change: 'removed', item: leafOf(name), before: shortText(scope.shown) });
  }
  for (const [name, scope] of sb) {
    const old = sa.get(name);
    if (!old) changes.push({ scope: parentOf(name), clause: 'cte', change: 'added', item: leafOf(name), after: shortText(scope.shown) });
    else changes.push(...diffScope(name, old, scope));
  }
  const sigA = new Signatures(sa);
  const sigB = new Signatures(sb);
  const outA = sigA.outputs();
  const outB = sigB.outputs();
  const changedColumns = [...outB.keys()].filter((c) => outA.has(c) && outA.get(c) !== outB.get(c)).sort();
  return { changes, changedColumns, rowsChanged: changes.some((c) => ROW_CLAUSES.has(c.clause)) };
}

/** The statement as written with comments emptied (printable), keyed beside its layout-free form. */
function parseOne(sql: string): Obj | undefined {
  let r: ReturnType<SqlToolkit['parse']>;
  try {
    r = sqlToolkit().parse(sql, SQL_DIALECT as never);
  } catch {
    return undefined;
  }
  const stmts = (r.ast ?? []) as unknown as Json[];
  if (!r.success || stmts.length !== 1 || !isObj(stmts[0])) return undefined;
  return noComments(stmts[0]) as Obj;
}

/** Comments emptied, everything else kept: polyglot can still print it. */
function noComments(x: Json): Json {
  if (Array.isArray(x)) return x.map(noComments);
  if (!isObj(x)) return x;
  const out: Obj = {};
  for (const k in x) out[k] = k.endsWith('comments') && Array.isArray(x[k]) ? [] : noComments(x[k]);
  return out;
}

function stripLayout(x: Json): Json {
  if (Array.isArray(x)) return x.map(stripLayout);
  if (!isObj(x)) return x;
  const out: Obj = {};
  for (const k in x) if (!LAYOUT_KEYS.has(k)) out[k] = stripLayout(x[k]);
  return out;
}

// ---- scopes -------------------------------------------------------------------------------------

interface Scope {
  /** The select, aliases resolved (for comparison). */
  readonly select: Obj;
  /** The select as written, comments removed (for display). */
  readonly shown: Obj;
  /** CTE scopes visible from here, by lower-case name → scope key. */
  readonly ctes: ReadonlyMap<string, string>;
  /** For a set operation: its branch number (1-based), else 0. */
  readonly branch: number;
  /** The set operation joining this branch to the previous one (`union all` …). */
  readonly setOp?: string;
}

const parentOf = (key: string) => (key.includes(' > ') ? key.slice(0, key.lastIndexOf(' > ')) : 'query');
const leafOf = (key: string) =>
  key
    .slice(key.lastIndexOf(' > ') + 1)
    .replace(/^> /, '')
    .replace(/^(cte|subquery) /, '');

/** Every select of the statement, keyed by a stable scope name. */
function scopesOf(stmt: Obj): Map<string, Scope> {
  const out = new Map<string, Scope>();
  const visit = (q: Obj, key: string, ctes: Map<string, string>): void => {
    const branches = setBranches(q);
    const withs = [q, ...branches.map((b) => b.select)].map((s) => withOf(s)).filter((w): w is Obj => !!w);
    const visible = new Map(ctes);
    for (const w of withs) {
      for (const c of (w.ctes as Json[]) ?? []) {
        if (!isObj(c) || !isObj(c.alias) || !isObj(c.this)) continue;
        const name = String(c.alias.name).toLowerCase();
        const k = key === 'query' ? `cte ${name}` : `${key} > cte ${name}`;
        visible.set(name, k);
        visit(c.this, k, new Map(visible));
      }
    }
    branches.forEach((b, i) => {
      const k = branches.length > 1 ? `${key} branch ${i + 1}` : key;
      const sel = b.select;
      out.set(k, { select: resolveAliases(stripLayout(sel) as Obj), shown: sel, ctes: visible, branch: branches.length > 1 ? i + 1 : 0, setOp: b.op });
      for (const sub of fromSubqueries(sel)) visit(sub.query, `${k} > subquery ${sub.alias}`, new Map(visible));
    });
  };
  visit(stmt, 'query', new Map());
  return out;
}

const SET_OPS = ['union', 'intersect', 'except'] as const;

/** The selects of a (possibly nested) set operation, left to right, each with the operator before it. */
function setBranches(q: Obj): { select: Obj; op?: string }[] {
  if (isObj(q.select)) return [{ select: q.select }];
  for (const op of SET_OPS) {
    const s = q[op];
    if (isObj(s) && isObj(s.left) && isObj(s.right)) {
      const left = setBranches(s.left);
      const right = setBranches(s.right);
      const name = `${op}${s.all ? ' all' : s.distinct ? ' distinct' : ''}`;
      return [...left, { ...right[0], op: name }, ...right.slice(1)];
    }
  }
  if (isObj(q.subquery) && isObj(q.subquery.this)) return setBranches(q.subquery.this);
  if (isObj(q.paren) && isObj(q.paren.this)) return setBranches(q.paren.this);
  return [];
}

function withOf(q: Obj): Obj | undefined {
  if (isObj(q.with)) return q.with;
  if (isObj(q.select) && isObj(q.select.with)) return q.select.with;
  for (const op of SET_OPS) if (isObj(q[op]) && isObj((q[op] as Obj).with)) return (q[op] as Obj).with as Obj;
  return undefined;
}

function fromSubqueries(sel: Obj): { alias: string; query: Obj }[] {
  const items: Json[] = [
    ...((isObj(sel.from) && (sel.from.expressions as Json[])) || []),
    ...((sel.joins as Json[]) ?? []).map((j) => (isObj(j) ? j.this : null)),
  ];
  const out: { alias: string; query: Obj }[] = [];
  items.forEach((it, i) => {
    if (isObj(it) && isObj(it.subquery) && isObj(it.subquery.this)) {
      const alias = isObj(it.subquery.alias) ? String(it.subquery.alias.name).toLowerCase() : `#${i + 1}`;
      out.push({ alias, query: it.subquery.this });
    }
  });
  return out;
}

/** `iceberg.silver.x` → `silver.x`; identifiers compare case-insensitively. */
function tableName(t: Obj): string {
  const parts = ['catalog', 'schema', 'name'].map((p) => (isObj(t[p]) ? String((t[p] as Obj).name).toLowerCase() : '')).filter(Boolean);
  if (parts.length === 3 && parts[0] === 'iceberg') parts.shift();
  return parts.join('.');
}

/**
 * The select with every table alias replaced by the table's name (columns `c.x` → `silver.c.x`'s
 * table), aliases dropped from table references, and identifiers lower-cased: the form compared.
 * Nested selects (other than CTEs and FROM subqueries, compared as their own scopes) are resolved
 * with the enclosing aliases visible.
 */
function resolveAliases(sel: Obj): Obj {
  const aliases = new Map<string, string>();
  const sources: Json[] = [
    ...((isObj(sel.from) && (sel.from.expressions as Json[])) || []),
    ...((sel.joins as Json[]) ?? []).map((j) => (isObj(j) ? j.this : null)),
  ];
  for (const s of sources) {
    if (isObj(s) && isObj(s.table)) {
      const t = s.table;
      if (isObj(t.alias)) aliases.set(String(t.alias.name).toLowerCase(), tableName(t));
    }
  }
  const rewrite = (x: Json): Json => {
    if (Array.isArray(x)) return x.map(rewrite);
    if (!isObj(x)) return x;
    const out: Obj = {};
    for (const k in x) {
      const v = x[k];
      if (k === 'table' && isObj(v) && isObj(v.name) && 'schema' in v) {
        // A table reference: its canonical name, no alias.
        out[k] = { ...(rewrite(v) as Obj), alias: null, name: { name: tableName(v) }, schema: null, catalog: null };
      } else if (k === 'column' && isObj(v) && isObj(v.table)) {
        const q = String(v.table.name).toLowerCase();
        out[k] = { ...(rewrite(v) as Obj), table: { name: aliases.get(q) ?? q } };
      } else if (k === 'name' && typeof v === 'string') {
        out[k] = v.toLowerCase();
      } else out[k] = rewrite(v);
    }
    return out;
  };
  return rewrite(sel) as Obj;
}

// ---- clauses ------------------------------------------------------------------------------------

interface Item {
  readonly key: string;
  /** Canonical form: equal forms mean the same thing. */
  readonly canon: string;
  /** The AST as written, for display. */
  readonly shown: Json;
}

const canon = (x: Json): string => JSON.stringify(x);

/** The SQL text of an expression as written (comments removed), for display. */
function sqlText(x: Json): string {
  if (x === null || x === undefined) return '';
  try {
    const r = sqlToolkit().generate([x] as never, SQL_DIALECT as never) as { success: boolean; sql?: string[] | null };
    if (r.success && r.sql?.length) return r.sql[0];
  } catch {
    // fall through: an AST fragment polyglot cannot print on its own
  }
  return '(expression)';
}

const MAX_SHOWN = 300;
const shortText = (select: Obj): string => {
  const t = sqlText({ select });
  return t.length > MAX_SHOWN ? `${t.slice(0, MAX_SHOWN - 1)}…` : t;
};

function outputName(p: Json, i: number): string {
  if (isObj(p)) {
    if (isObj(p.alias) && isObj(p.alias.alias)) return String(p.alias.alias.name).toLowerCase();
    if (isObj(p.column) && isObj(p.column.name)) return String(p.column.name.name).toLowerCase();
    if ('star' in p) return '*';
  }
  return `#${i + 1}`;
}

/** Split `a AND b AND c` into its conjuncts. */
function conjuncts(x: Json): Json[] {
  if (isObj(x) && isObj(x.and) && 'left' in x.and && 'right' in x.and) return [...conjuncts(x.and.left), ...conjuncts(x.and.right)];
  if (isObj(x) && isObj(x.paren) && 'this' in x.paren) {
    const inner = conjuncts(x.paren.this);
    if (inner.length > 1) return inner;
  }
  return [x];
}

function listItems(resolved: Json[], shown: Json[], keyOf: (x: Json, i: number) => string): Item[] {
  const seen = new Map<string, number>();
  return resolved.map((r, i) => {
    let key = keyOf(r, i);
    const n = (seen.get(key) ?? 0) + 1;
    seen.set(key, n);
    if (n > 1) key = `${key} (${n})`;
    return { key, canon: canon(r), shown: shown[i] };
  });
}

const conditionItems = (resolved: Json | undefined, shown: Json | undefined): Item[] =>
  resolved === undefined || resolved === null ? [] : listItems(conjuncts(resolved), conjuncts(shown ?? null), (r) => canon(r));

const whereOf = (s: Obj, k: 'where_clause' | 'having' | 'qualify'): Json | undefined => (isObj(s[k]) ? ((s[k] as Obj).this ?? s[k]) : undefined);

function joinItems(sel: Obj, shown: Obj): Item[] {
  const r = ((sel.joins as Json[]) ?? []) as Json[];
  const s = ((shown.joins as Json[]) ?? []) as Json[];
  const keyOf = (j: Json): string => {
    const t = isObj(j) ? j.this : null;
    if (isObj(t) && isObj(t.table)) return tableName(t.table);
    if (isObj(t) && isObj(t.subquery) && isObj(t.subquery.alias)) return String(t.subquery.alias.name);
    return 'join';
  };
  return listItems(r, s, keyOf);
}

function joinText(j: Json): string {
  if (!isObj(j)) return '';
  const kind = typeof j.kind === 'string' && j.kind !== 'Inner' ? `${j.kind.toUpperCase()} ` : '';
  const on = j.on ? ` ON ${sqlText(j.on)}` : '';
  const using = Array.isArray(j.using) && j.using.length ? ` USING (${j.using.map(sqlText).join(', ')})` : '';
  return `${kind}JOIN ${sqlText(j.this)}${on}${using}`;
}

function windowOf(x: Json): Json | undefined {
  if (Array.isArray(x)) {
    for (const v of x) {
      const w = windowOf(v);
      if (w !== undefined) return w;
    }
    return undefined;
  }
  if (!isObj(x)) return undefined;
  if (isObj(x.window_function)) return x.window_function.over ?? null;
  for (const k in x) {
    const w = windowOf(x[k]);
    if (w !== undefined) return w;
  }
  return undefined;
}

/** Projection minus its window spec: tells a window change from an expression change. */
function withoutWindow(x: Json): Json {
  if (Array.isArray(x)) return x.map(withoutWindow);
  if (!isObj(x)) return x;
  const out: Obj = {};
  for (const k in x) out[k] = k === 'over' ? null : withoutWindow(x[k]);
  return out;
}

function diffItems(scope: string, clause: SqlClause, a: Item[], b: Item[], show: (x: Json) => string = sqlText, named = true): SqlChange[] {
  const out: SqlChange[] = [];
  const before = new Map(a.map((i) => [i.key, i]));
  const after = new Map(b.map((i) => [i.key, i]));
  for (const i of a) {
    if (!after.has(i.key)) out.push({ scope, clause, change: 'removed', ...(named ? { item: i.key } : {}), before: show(i.shown) });
  }
  for (const i of b) {
    const old = before.get(i.key);
    if (!old) out.push({ scope, clause, change: 'added', ...(named ? { item: i.key } : {}), after: show(i.shown) });
    else if (old.canon !== i.canon)
      out.push({ scope, clause, change: 'changed', ...(named ? { item: i.key } : {}), before: show(old.shown), after: show(i.shown) });
  }
  return out;
}

function diffScope(scope: string, a: Scope, b: Scope): SqlChange[] {
  const out: SqlChange[] = [];
  const sa = a.select;
  const sb = b.select;
  if ((a.setOp ?? '') !== (b.setOp ?? ''))
    out.push({ scope, clause: 'set_operation', change: 'changed', before: a.setOp ?? '(none)', after: b.setOp ?? '(none)' });

  // Projections by output name; a change confined to the OVER (...) part is a window change.
  const proj = (s: Obj, shown: Obj) => listItems((s.expressions as Json[]) ?? [], (shown.expressions as Json[]) ?? [], (p, i) => outputName(p, i));
  const pa = proj(sa, a.shown);
  const pb = proj(sb, b.shown);
  for (const c of diffItems(scope, 'projection', pa, pb)) {
    if (c.change === 'changed') {
      const ra = ((sa.expressions as Json[]) ?? [])[pa.findIndex((i) => i.key === c.item)];
      const rb = ((sb.expressions as Json[]) ?? [])[pb.findIndex((i) => i.key === c.item)];
      if (canon(withoutWindow(ra)) === canon(withoutWindow(rb)) && canon(windowOf(ra) ?? null) !== canon(windowOf(rb) ?? null)) {
        out.push({ ...c, clause: 'window' });
        continue;
      }
    }
    out.push(c);
  }

  const fromItems = (s: Obj, shown: Obj) =>
    listItems((isObj(s.from) && (s.from.expressions as Json[])) || [], (isObj(shown.from) && (shown.from.expressions as Json[])) || [], (f) =>
      isObj(f) && isObj(f.table) ? tableName(f.table) : canon(f),
    );
  out.push(...diffItems(scope, 'from', fromItems(sa, a.shown), fromItems(sb, b.shown), sqlText));
  out.push(...diffItems(scope, 'join', joinItems(sa, a.shown), joinItems(sb, b.shown), joinText));
  out.push(
    ...diffItems(
      scope,
      'filter',
      conditionItems(whereOf(sa, 'where_clause'), whereOf(a.shown, 'where_clause')),
      conditionItems(whereOf(sb, 'where_clause'), whereOf(b.shown, 'where_clause')),
      sqlText,
      false,
    ),
  );
  const groups = (s: Obj) => (isObj(s.group_by) ? ((s.group_by.expressions as Json[]) ?? []) : []);
  out.push(
    ...diffItems(
      scope,
      'group_by',
      listItems(groups(sa), groups(a.shown), (g) => canon(g)),
      listItems(groups(sb), groups(b.shown), (g) => canon(g)),
      sqlText,
      false,
    ),
  );
  out.push(
    ...diffItems(
      scope,
      'having',
      conditionItems(whereOf(sa, 'having'), whereOf(a.shown, 'having')),
      conditionItems(whereOf(sb, 'having'), whereOf(b.shown, 'having')),
      sqlText,
      false,
    ),
  );
  out.push(
    ...diffItems(
      scope,
      'qualify',
      conditionItems(whereOf(sa, 'qualify'), whereOf(a.shown, 'qualify')),
      conditionItems(whereOf(sb, 'qualify'), whereOf(b.shown, 'qualify')),
      sqlText,
      false,
    ),
  );
  if (canon(sa.windows ?? null) !== canon(sb.windows ?? null))
    out.push({ scope, clause: 'window', change: 'changed', item: 'WINDOW', before: sqlText(a.shown.windows ?? null), after: sqlText(b.shown.windows ?? null) });
  const distinct = (s: Obj) => canon([s.distinct ?? false, s.distinct_on ?? null]);
  if (distinct(sa) !== distinct(sb))
    out.push({ scope, clause: 'distinct', change: 'changed', before: sa.distinct ? 'DISTINCT' : '(none)', after: sb.distinct ? 'DISTINCT' : '(none)' });
  for (const [clause, key] of [
    ['order_by', 'order_by'],
    ['limit', 'limit'],
  ] as const) {
    if (canon(sa[key] ?? null) !== canon(sb[key] ?? null)) {
      out.push({
        scope,
        clause,
        change: sa[key] ? (sb[key] ? 'changed' : 'removed') : 'added',
        before: sa[key] ? sqlText(a.shown[key]) : undefined,
        after: sb[key] ? sqlText(b.shown[key]) : undefined,
      });
    }
  }
  return out.map((c) => Object.fromEntries(Object.entries(c).filter(([, v]) => v !== undefined)) as unknown as SqlChange);
}

// ---- column signatures --------------------------------------------------------------------------

/**
 * A column's meaning as one string: its expression in canonical form, followed into the CTEs and
 * FROM subqueries it reads. Two versions of a query whose output column has the same signature
 * compute it the same way from the same input columns (row-set changes are reported separately).
 */
class Signatures {
  private readonly memo = new Map<string, string>();

  constructor(private readonly scopes: ReadonlyMap<string, Scope>) {}

  /** Signature of each output column of the query (by name; set operations by position, named by branch 1). */
  outputs(): Map<string, string> {
    const branches = [...this.scopes].filter(([k, s]) => k === 'query' || (s.branch > 0 && k.startsWith('query branch ')));
    const out = new Map<string, string>();
    const first = branches[0]?.[1];
    if (!first) return out;
    const names = ((first.select.expressions as Json[]) ?? []).map(outputName);
    names.forEach((name, i) => {
      out.set(name, branches.map(([k]) => this.column(k, i)).join(' ∪ '));
    });
    return out;
  }

  private column(scopeKey: string, index: number, depth = 0): string {
    const memoKey = `${scopeKey}#${index}`;
    const hit = this.memo.get(memoKey);
    if (hit !== undefined) return hit;
    const scope = this.scopes.get(scopeKey);
    const expr = scope ? ((scope.select.expressions as Json[]) ?? [])[index] : undefined;
    let sig = expr === undefined ? 'missing' : canon(expr);
    if (scope && expr !== undefined && depth < 32) {
      const refs = columnRefs(expr).map((r) => this.reference(scopeKey, scope, r, depth + 1));
      if (refs.length) sig += ` <- [${refs.join(', ')}]`;
    }
    this.memo.set(memoKey, sig);
    return sig;
  }

  private byName(scopeKey: string, name: string, depth: number): string | undefined {
    const scope = this.scopes.get(scopeKey);
    if (!scope) return undefined;
    const names = ((scope.select.expressions as Json[]) ?? []).map(outputName);
    const i = names.indexOf(name);
    if (i >= 0) return this.column(scopeKey, i, depth);
    if (names.includes('*')) {
      const inner = this.sourcesOf(scopeKey, scope)
        .map((k) => this.byName(k, name, depth + 1))
        .filter((s): s is string => s !== undefined);
      return `* <- [${inner.join(', ')}]`;
    }
    return undefined;
  }

  /** Scope keys of the CTEs and subqueries a select reads. */
  private sourcesOf(scopeKey: string, scope: Scope): string[] {
    const out: string[] = [];
    for (const t of tablesRead(scope.select)) {
      const cte = scope.ctes.get(t);
      if (cte) out.push(cte);
    }
    for (const k of this.scopes.keys()) if (k.startsWith(`${scopeKey} > subquery `) && !k.slice(scopeKey.length + 3).includes(' > ')) out.push(k);
    return out;
  }

  private reference(scopeKey: string, scope: Scope, ref: { table?: string; column: string }, depth: number): string {
    if (ref.table) {
      const cte = scope.ctes.get(ref.table) ?? (this.scopes.has(`${scopeKey} > subquery ${ref.table}`) ? `${scopeKey} > subquery ${ref.table}` : undefined);
      if (cte) return this.byName(cte, ref.column, depth) ?? `${ref.table}.${ref.column}`;
      return `${ref.table}.${ref.column}`;
    }
    for (const k of this.sourcesOf(scopeKey, scope)) {
      const s = this.byName(k, ref.column, depth);
      if (s !== undefined) return s;
    }
    return ref.column;
  }
}

function tablesRead(sel: Obj): string[] {
  const items: Json[] = [
    ...((isObj(sel.from) && (sel.from.expressions as Json[])) || []),
    ...((sel.joins as Json[]) ?? []).map((j) => (isObj(j) ? j.this : null)),
  ];
  return items.flatMap((i) => (isObj(i) && isObj(i.table) && isObj(i.table.name) ? [String(i.table.name.name)] : []));
}

function columnRefs(x: Json, out: { table?: string; column: string }[] = []): { table?: string; column: string }[] {
  if (Array.isArray(x)) {
    for (const v of x) columnRefs(v, out);
    return out;
  }
  if (!isObj(x)) return out;
  if (isObj(x.column) && isObj(x.column.name)) {
    const table = isObj(x.column.table) ? String(x.column.table.name) : undefined;
    const ref = { ...(table ? { table } : {}), column: String(x.column.name.name) };
    if (!out.some((r) => r.table === ref.table && r.column === ref.column)) out.push(ref);
    return out;
  }
  for (const k in x) columnRefs(x[k], out);
  return out;
}

const referencedMemo = new Map<string, ReadonlySet<string>>();

/**
 * Every column name a query mentions anywhere (projections, filters, join conditions, group by…),
 * lower-cased: a column used only in a WHERE or ON clause decides rows without reaching the output,
 * so column lineage alone does not see it. Empty when the SQL does not parse.
 */
export function columnsReferenced(sql: string): ReadonlySet<string> {
  const hit = referencedMemo.get(sql);
  if (hit) return hit;
  const stmt = parseOne(sql);
  const names = new Set(stmt ? columnRefs(stmt).map((r) => r.column.toLowerCase()) : []);
  if (referencedMemo.size > 5000) referencedMemo.clear();
  referencedMemo.set(sql, names);
  return names;
}

/**
 * The grain of a query's output: its GROUP BY columns when it groups by plain columns only, and
 * whether it keeps its input's rows one for one (no grouping, join, DISTINCT or set operation), so
 * the input's key is still a key. Both undefined/false when the SQL does not parse.
 */
export function queryGrain(sql: string): { groupBy?: string[]; rowPreserving: boolean } {
  const stmt = parseOne(sql);
  if (!stmt || !isObj(stmt.select)) return { rowPreserving: false };
  const sel = stripLayout(stmt.select) as Obj;
  if (isObj(sel.with)) return { rowPreserving: false };
  const groups = isObj(sel.group_by) ? ((sel.group_by.expressions as Json[]) ?? []) : [];
  if (groups.length) {
    const names = groups.map((g) => (isObj(g) && isObj(g.column) && isObj(g.column.name) ? String(g.column.name.name) : undefined));
    return names.every((n): n is string => !!n) ? { groupBy: names, rowPreserving: false } : { rowPreserving: false };
  }
  const from = (isObj(sel.from) && (sel.from.expressions as Json[])) || [];
  const joins = (sel.joins as Json[]) ?? [];
  return { rowPreserving: from.length === 1 && joins.length === 0 && !sel.distinct && !sel.distinct_on };
}
