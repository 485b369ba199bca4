// Spark SQL (the dialect users write in SQL bodies) → the SQL each engine runs.
//
// Users write Spark SQL (Spark ≥ 3.3, which also accepts Trino's `DATE_DIFF('day', a, b)`); asgard
// transpiles it with @polyglot-sql/sdk. Everything is done on the parsed tree, never on raw text:
//
//  - Table references `bronze.x` / `silver.x` / `gold.x` (and the `iceberg.<layer>.x` alias) become
//    whatever `tableRef(nodeId)` returns. The tree holds a placeholder identifier that is swapped
//    for the caller's text after generation, so a caller may return `{{ ref('x') }}` or
//    `read_parquet(...)`; a reference without an alias gets the table's own name as alias, so
//    `customers.col` qualifiers keep working.
//  - `var('name')` becomes the literal of the spec variable's value (SqlBody.vars).
//  - `CURRENT_DATE`, `CURRENT_TIMESTAMP`, `NOW()`, `LOCALTIMESTAMP` become literals of the run's
//    logical time when one is given (DOMAIN.md: reruns are reproducible, engines comparable).
//
// Semantics we keep from Spark, where polyglot's default mapping differs:
//  - CAST: Spark 4 is ANSI by default — a CAST of a bad value is an error, not NULL. polyglot maps
//    Spark CAST to DuckDB/Trino TRY_CAST (Spark 3's legacy behaviour); we turn those back into
//    CAST. A TRY_CAST the user wrote stays TRY_CAST.
//  - TIMESTAMP: Spark's TIMESTAMP is TIMESTAMP_LTZ (session zone). asgard runs every session in UTC,
//    where LTZ and NTZ hold the same wall-clock values, so Spark `TIMESTAMP` becomes the naive
//    `TIMESTAMP` (what the warehouse's Parquet and the declared source types use). Only an
//    explicit `TIMESTAMP_LTZ` becomes `TIMESTAMPTZ`.
//  - Division by zero: DuckDB returns NULL (Infinity for `/` on doubles) where ANSI Spark raises;
//    not rewritten (documented difference).

import * as polyglot from '@polyglot-sql/sdk';
import { parse, generate, transpile } from '@polyglot-sql/sdk';
import type { Diagnostic } from '../diagnostics/diagnostic.js';
import type { NodeId, SqlBody } from '../ir/types.js';
import { bodySpan, sqlDiag } from './spans.js';
import { Codes } from '../diagnostics/catalogue.js';
import { provideSqlToolkit } from './toolkit.js';
import { BIND_TIME, bindTemplateFor, fillTemplate, provideBindRenderer, type RenderedTemplate } from './bind-templates.js';

export { BIND_TIME, rememberBindTemplate, type RenderedTemplate } from './bind-templates.js';

export type TargetDialect = 'duckdb' | 'spark' | 'trino' | 'postgres';

export interface RenderOptions {
  readonly dialect: TargetDialect;
  /** The text to use for a table node id (`silver.customers_cleaned`). */
  readonly tableRef: (nodeId: NodeId) => string;
  readonly logicalTime?: Date;
}

export interface RenderResult {
  readonly sql: string;
  readonly diagnostics: Diagnostic[];
}

const LAYERS = new Set(['bronze', 'silver', 'gold']);
const POLYGLOT_DIALECT: Record<TargetDialect, string> = { duckdb: 'duckdb', spark: 'spark', trino: 'trino', postgres: 'postgresql' };
const NOW_FUNCTIONS = new Set(['CURRENT_TIMESTAMP', 'NOW', 'LOCALTIMESTAMP', 'GETDATE']);
const TODAY_FUNCTIONS = new Set(['CURRENT_DATE', 'CURDATE']);
const MARK_TRY = '__asg_try';
const MARK_LTZ = '__asg_ltz';
const PLACEHOLDER = '__asg_ref_';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

const cache = new Map<string, RenderResult>();

/**
 * The body's DuckDB rendering at BIND_TIME for schema binding, reusing the analysis's when there is
 * one (a body with variables is always rendered: its values are not part of the text).
 */
export function renderForBind(body: SqlBody, tableRef: (nodeId: NodeId) => string): RenderResult {
  const t = body.vars && Object.keys(body.vars).length ? undefined : bindTemplateFor(body.text);
  if (!t) return renderSql(body, { dialect: 'duckdb', tableRef, logicalTime: BIND_TIME });
  return { sql: fillTemplate(t, tableRef), diagnostics: [] };
}

/**
 * The bind rendering of a body from a tree already parsed from its exact text (the SQL analysis's),
 * or undefined when the body cannot run on DuckDB (renderSql then reports why, at bind time).
 */
export function bindTemplateOf(text: string, ast: Json[]): RenderedTemplate | undefined {
  const r = renderTree(ast, { text, span: undefined as never, reads: [], normalized: '' }, { dialect: 'duckdb', logicalTime: BIND_TIME });
  return 'diagnostics' in r ? undefined : r;
}

/** Transpile one SQL body. Never throws for bad SQL: problems come back as diagnostics at the body's span. */
export function renderSql(body: SqlBody, opts: RenderOptions): RenderResult {
  // The rendering with placeholders for the tables depends on the text, its variables, the dialect
  // and the logical time only: a node's SQL rendered again (a derived run renders it over the
  // inputs restricted to the changed keys, after the full rendering) is not parsed again.
  const key = `${opts.dialect}\u0000${opts.logicalTime?.toISOString() ?? ''}\u0000${body.vars ? JSON.stringify(body.vars) : ''}\u0000${body.text}`;
  let r = templates.get(key);
  if (!r) {
    const parsed = parseSpark(body);
    if ('diagnostics' in parsed) return { sql: '', diagnostics: parsed.diagnostics };
    const t = renderTree(parsed.ast, body, opts);
    if ('diagnostics' in t) return { sql: '', diagnostics: t.diagnostics };
    if (templates.size > 5000) templates.clear();
    templates.set(key, (r = t));
  }
  return { sql: fillTemplate(r, opts.tableRef), diagnostics: [] };
}

/** renderSql's successful renderings with placeholders, by everything they depend on. */
const templates = new Map<string, RenderedTemplate>();

provideSqlToolkit(polyglot);
provideBindRenderer(bindTemplateOf);

/** The rendering of a parsed body (its tree is not changed), with placeholders for its tables. */
function renderTree(ast: Json[], body: SqlBody, opts: Omit<RenderOptions, 'tableRef'>): RenderedTemplate | { diagnostics: Diagnostic[] } {
  // Rewrite the Spark tree: table references, logical time, cast markers.
  const tableIds: NodeId[] = [];
  const tree = mapTree(ast, (node) => {
    if (node && typeof node === 'object' && 'table' in node && isTableRef(node.table)) {
      const t = node.table;
      const layer = t.schema?.name?.toLowerCase();
      if (!LAYERS.has(layer) || (t.catalog && t.catalog.name.toLowerCase() !== 'iceberg')) return undefined;
      const id = `${layer}.${t.name.name}`;
      let i = tableIds.indexOf(id);
      if (i < 0) i = tableIds.push(id) - 1;
      return {
        table: {
          ...t,
          name: { ...t.name, name: `${PLACEHOLDER}${i}__`, quoted: false },
          schema: null,
          catalog: null,
          alias: t.alias ?? { name: t.name.name, quoted: t.name.quoted, trailing_comments: [] },
        },
      };
    }
    // `var('name')`: the spec variable's value, set by the checker on the body (src/sql/vars.ts).
    if (node?.function && String(node.function.name).toLowerCase() === 'var' && node.function.args?.length === 1) {
      const arg = node.function.args[0]?.literal;
      const value = arg?.literal_type === 'string' ? body.vars?.[arg.value] : undefined;
      if (value !== undefined) return sparkExpr(sqlLiteral(value));
    }
    if (opts.logicalTime && node?.function && node.function.args?.length === 0) {
      const name = String(node.function.name).toUpperCase();
      if (NOW_FUNCTIONS.has(name)) return sparkExpr(`CAST('${isoTimestamp(opts.logicalTime)}' AS TIMESTAMP)`);
      if (TODAY_FUNCTIONS.has(name)) return sparkExpr(`CAST('${opts.logicalTime.toISOString().slice(0, 10)}' AS DATE)`);
    }
    if (opts.dialect !== 'spark') {
      if (node?.try_cast) return markerCall(MARK_TRY, node);
      if (node?.cast && isLtz(node.cast.to)) return markerCall(MARK_LTZ, node);
    }
    return undefined;
  });

  const sparkText = generate(tree, 'spark' as never);
  if (!sparkText.success || !sparkText.sql) return fail(body, `cannot render the SQL: ${sparkText.error ?? 'unknown error'}`);

  let out: string;
  if (opts.dialect === 'spark') {
    out = sparkText.sql.join(';\n');
  } else {
    const key = `${opts.dialect}\u0000${sparkText.sql[0]}`;
    const hit = cache.get(key);
    if (hit) out = hit.sql;
    else {
      const t = transpile(sparkText.sql[0], 'spark' as never, POLYGLOT_DIALECT[opts.dialect] as never, { unsupportedLevel: 'raise' });
      if (!t.success || !t.sql) return fail(body, `this SQL cannot run on ${opts.dialect}: ${t.error ?? 'unknown error'}`);
      const back = parse(t.sql[0], POLYGLOT_DIALECT[opts.dialect] as never) as Json;
      if (!back.success) return fail(body, `this SQL cannot run on ${opts.dialect}: ${back.error}`);
      const fixed = mapTree(back.ast, (node) => fixCasts(node));
      const g = generate(fixed, POLYGLOT_DIALECT[opts.dialect] as never);
      if (!g.success || !g.sql) return fail(body, `this SQL cannot run on ${opts.dialect}: ${g.error ?? 'unknown error'}`);
      out = g.sql[0];
      if (cache.size > 5000) cache.clear();
      cache.set(key, { sql: out, diagnostics: [] });
    }
  }
  return { sql: out, tables: tableIds };
}

/** Node ids of the layer tables a body reads, from its parsed tree. */
export function tablesRead(body: SqlBody): NodeId[] {
  const parsed = parseSpark(body);
  if ('diagnostics' in parsed) return [];
  const out = new Set<NodeId>();
  mapTree(parsed.ast, (node) => {
    if (node && typeof node === 'object' && 'table' in node && isTableRef(node.table)) {
      const layer = node.table.schema?.name?.toLowerCase();
      if (LAYERS.has(layer)) out.add(`${layer}.${node.table.name.name}`);
    }
    return undefined;
  });
  return [...out].sort();
}

function parseSpark(body: SqlBody): { ast: Json[] } | { diagnostics: Diagnostic[] } {
  const r = parse(body.text, 'spark' as never) as Json;
  if (!r.success) {
    const span = r.errorLine ? bodySpan(body, r.errorLine, r.errorColumn ?? 1) : body.span;
    return { diagnostics: [sqlDiag(Codes.SqlSyntax.code, `SQL syntax error: ${String(r.error).split('\n')[0]}`, span)] };
  }
  if (r.ast.length !== 1) return { diagnostics: [sqlDiag(Codes.SqlEmpty.code, `a SQL body holds exactly one statement; found ${r.ast.length}`, body.span)] };
  return { ast: r.ast };
}

function fail(body: SqlBody, message: string): { diagnostics: Diagnostic[] } {
  return { diagnostics: [sqlDiag(Codes.SqlTargetUnsupported.code, message, body.span)] };
}

function isTableRef(t: Json): boolean {
  return t && typeof t === 'object' && t.name && typeof t.name.name === 'string' && 'schema' in t;
}

function isLtz(to: Json): boolean {
  if (!to) return false;
  if (to.data_type === 'timestamp' && to.timezone === true) return true;
  return to.data_type === 'custom' && /^TIMESTAMP_?LTZ$/i.test(String(to.name));
}

function markerCall(name: string, arg: Json): Json {
  return { function: { name, args: [arg], distinct: false, trailing_comments: [], use_bracket_syntax: false, no_parens: false, quoted: false } };
}

/** On the target's tree: CAST stays CAST (ANSI), Spark TIMESTAMP stays naive, markers are unwrapped. */
function fixCasts(node: Json): Json | undefined {
  const fname = node?.function?.name ? String(node.function.name).toLowerCase() : '';
  if (fname === MARK_TRY) {
    const inner = node.function.args[0];
    return inner?.try_cast ? { try_cast: fixCastBody(inner.try_cast, false) } : mapTree(inner, fixCasts);
  }
  if (fname === MARK_LTZ) {
    const inner = node.function.args[0];
    const c = inner?.try_cast ?? inner?.cast;
    return c ? { cast: fixCastBody(c, true) } : mapTree(inner, fixCasts);
  }
  if (node?.try_cast) return { cast: fixCastBody(node.try_cast, false) };
  if (node?.cast) return { cast: fixCastBody(node.cast, false) };
  return undefined;
}

function fixCastBody(c: Json, keepZone: boolean): Json {
  const to = !keepZone && c.to?.data_type === 'timestamp' && c.to.timezone === true ? { ...c.to, timezone: false } : c.to;
  const out: Json = { ...c, to };
  for (const k of Object.keys(c)) if (k !== 'to') out[k] = mapTree(c[k], fixCasts);
  return out;
}

const exprCache = new Map<string, Json>();
function sparkExpr(sql: string): Json {
  let e = exprCache.get(sql);
  if (!e) {
    const r = parse(`SELECT ${sql}`, 'spark' as never) as Json;
    e = r.ast[0].select.expressions[0];
    exprCache.set(sql, e);
  }
  return structuredClone(e);
}

function sqlLiteral(v: string | number | boolean): string {
  if (typeof v === 'boolean') return v ? 'TRUE' : 'FALSE';
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : `CAST(${String(v)} AS DOUBLE)`;
  return `'${v.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

function isoTimestamp(d: Date): string {
  return d.toISOString().replace('T', ' ').replace('Z', '');
}

/**
 * Deep map over a JSON tree: `fn` returns a replacement for a node, or undefined to descend into it.
 * Replacements are not descended into (the caller maps their children if it wants to).
 */
export function mapTree(node: Json, fn: (n: Json) => Json | undefined): Json {
  if (Array.isArray(node)) return node.map((n) => mapTree(n, fn));
  if (node === null || typeof node !== 'object') return node;
  const r = fn(node);
  if (r !== undefined) return r;
  const out: Json = {};
  for (const k of Object.keys(node)) out[k] = mapTree(node[k], fn);
  return out;
}
