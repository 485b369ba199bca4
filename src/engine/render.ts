// The engine's DuckDB renderings of SQL bodies, kept across processes so that an apply whose SQL did
// not change never loads the SQL toolkit (@polyglot-sql/sdk: ~260 ms of CPU to load and ~110 ms more
// for its first parse, src/sql/toolkit.ts). A run after new source rows is a new `asgard apply`
// whose plan is all no-ops (it answers from the plan's caches without the toolkit): before this,
// its first SQL node loaded the toolkit and rendered its body cold (bench/apply.md, session 13).
//
// A rendering is kept as a template (src/sql/bind-templates.ts: the SQL with a placeholder where
// each table goes), by content: the dialect, the spec variables the body uses and its text, salted
// with the build id by the cache file (src/workspace/caches.ts). The logical time enters a rendering
// only through CURRENT_DATE and its kin (src/sql/transpile.ts renderTree): a body whose text has
// none of those words renders the same at every time and is kept without it; any other body is
// kept for its logical time only (a word in a string literal or a column name costs a rendering per
// time, never a wrong one).

import type { NodeId, SqlBody } from '../ir/types.js';
import type { Diagnostic } from '../diagnostics/diagnostic.js';
import { fillTemplate, type RenderedTemplate } from '../sql/bind-templates.js';
import { loadSqlToolkit } from '../sql/toolkit.js';
import { sha256 } from '../util/canonical-json.js';
import type { KeyValueCache } from '../util/json-cache.js';

/** Renderings kept across processes (the workspace's cache file; the caller saves it). */
export type RenderCache = KeyValueCache<RenderedTemplate>;

export interface RenderRequest {
  /** The text to use for a table node id. */
  readonly tableRef: (nodeId: NodeId) => string;
  readonly logicalTime: Date;
}

export interface Rendered {
  readonly sql: string;
  readonly diagnostics: readonly Diagnostic[];
}

/** The functions src/sql/transpile.ts replaces with the logical time (NOW_FUNCTIONS, TODAY_FUNCTIONS), as words of a body's text. */
const TIME_WORDS = /\b(current_timestamp|now|localtimestamp|getdate|current_date|curdate)\b/i;

/** The cache key of a body's DuckDB rendering at `logicalTime`. */
export function renderKey(body: SqlBody, logicalTime: Date): string {
  const time = TIME_WORDS.test(body.text) ? logicalTime.toISOString() : '';
  return sha256(`duckdb\u0000${time}\u0000${body.vars ? JSON.stringify(body.vars) : ''}\u0000${body.text}`);
}

/**
 * The body rendered for DuckDB at the logical time, as src/sql/transpile.ts renderSql renders it:
 * from `cache` when an earlier process kept it, else rendered (the toolkit loaded first) and kept.
 * Problems come back as diagnostics (never kept).
 */
export async function renderBody(body: SqlBody, req: RenderRequest, cache?: RenderCache): Promise<Rendered> {
  const key = cache && renderKey(body, req.logicalTime);
  const kept = key ? cache.get(key) : undefined;
  if (kept) return { sql: fillTemplate(kept, req.tableRef), diagnostics: [] };
  await loadSqlToolkit();
  const { renderSql } = await import('../sql/transpile.js');
  // Rendered with our placeholders for the tables (in the order the body names them), then filled.
  const tables: NodeId[] = [];
  const r = renderSql(body, {
    dialect: 'duckdb',
    logicalTime: req.logicalTime,
    tableRef: (id) => {
      let i = tables.indexOf(id);
      if (i < 0) i = tables.push(id) - 1;
      return `__asg_ref_${i}__`;
    },
  });
  if (r.diagnostics.length) return { sql: '', diagnostics: r.diagnostics };
  const template: RenderedTemplate = { sql: r.sql, tables };
  if (key) cache.set(key, template);
  return { sql: fillTemplate(template, req.tableRef), diagnostics: [] };
}

/** The tables a body reads, from its parsed tree (src/sql/transpile.ts tablesRead; loads the toolkit). */
export async function tablesReadBy(body: SqlBody): Promise<NodeId[]> {
  await loadSqlToolkit();
  return (await import('../sql/transpile.js')).tablesRead(body);
}

/** Loads the SQL toolkit unless `kept` (src/planner/maintenance.ts maintenanceKept: the analysis is known without it). */
export async function toolkitUnless(kept: boolean): Promise<void> {
  if (!kept) await loadSqlToolkit();
}
