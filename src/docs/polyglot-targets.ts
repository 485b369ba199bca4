// The SQL per target of a body outside the fast parser's subset (src/docs/sql-facts.ts asks): the
// transpiler's rendering laid out by polyglot's formatter. Importing this module loads the SQL
// toolkit.
//
// What a plan or an apply already computed is reused: the SQL analysis (src/sql/analyze.ts, kept
// in the workspace's sql-analysis cache) holds each body's DuckDB rendering for schema binding;
// it is the DuckDB SQL the site shows whenever no logical-time function was substituted in it
// (renderForBind renders at BIND_TIME), so the DuckDB rendering costs no parse after a plan.

import { format } from '@polyglot-sql/sdk';
import { analyzeSql, FileSqlCache } from '../sql/analyze.js';
import { BIND_TIME, renderForBind, renderSql, type TargetDialect } from '../sql/transpile.js';
import type { SqlBody } from '../ir/types.js';
import type { Workspace } from '../workspace/workspace.js';

/** The date every bind rendering carries when a logical-time function was replaced in it. */
const BIND_DATE = BIND_TIME.toISOString().slice(0, 10);

/** A renderer of bodies as a target runs them, pretty-printed (or why they cannot run there). */
export function polyglotTargets(workspace: Workspace | undefined): (body: SqlBody, dialect: TargetDialect) => string {
  // The plan's analyses of the bodies (absent from this process when the spec came from the spec cache).
  const analyses = workspace ? new FileSqlCache(workspace.caches.sqlAnalysisFile, workspace.caches.buildId) : undefined;
  return (body, dialect) => {
    const r = dialect === 'duckdb' ? duckdbSql(body, analyses) : renderSql(body, { dialect, tableRef: (id) => id });
    return r.sql ? pretty(r.sql, dialect) : r.diagnostics.map((d) => d.message).join('\n');
  };
}

/** The body as DuckDB runs it: the analysis's bind rendering when it is that, else rendered here. */
function duckdbSql(body: SqlBody, cache: FileSqlCache | undefined): ReturnType<typeof renderSql> {
  const a = !body.vars || Object.keys(body.vars).length === 0 ? analyzeSql(body.text, cache) : undefined;
  if (a?.ok && a.bind) {
    // The analysis remembered its rendering: this fills in the table names, it parses nothing.
    const bound = renderForBind(body, (id) => id);
    if (bound.sql && bound.diagnostics.length === 0 && !bound.sql.includes(BIND_DATE)) return bound;
  }
  return renderSql(body, { dialect: 'duckdb', tableRef: (id) => id });
}

/** The transpiled SQL laid out on lines (polyglot's formatter), or as it is when it cannot be. */
function pretty(sql: string, dialect: TargetDialect): string {
  try {
    const r = format(sql, dialect as Parameters<typeof format>[1]);
    return r.success && r.sql?.[0] ? r.sql.join(';\n') : sql;
  } catch {
    return sql;
  }
}
