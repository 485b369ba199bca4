// What the site shows of a SQL node that no earlier build cached (src/docs/site-data.ts keeps the
// rest): the body as each target runs it, pretty-printed, and each output column's input columns.
// This module loads the SQL toolkit (polyglot), so site-data.ts imports it only when some node
// misses the cache: a build of an unchanged pipeline never loads it.
//
// What a plan or an apply already computed is reused: the SQL analysis (src/sql/analyze.ts, kept
// in the workspace's sql-analysis cache) holds each body's DuckDB rendering for schema binding;
// it is the DuckDB SQL the site shows whenever no logical-time function was substituted in it
// (renderForBind renders at BIND_TIME), so the DuckDB rendering costs no parse after a plan.

import { format } from '@polyglot-sql/sdk';
import { analyzeSql, FileSqlCache } from '../sql/analyze.js';
import { BIND_TIME, renderForBind, renderSql, type TargetDialect } from '../sql/transpile.js';
import { LineageGraph } from '../engine/lineage.js';
import type { CleanseNode, ModelNode, NodeId, PipelineIR, SqlBody } from '../ir/types.js';
import type { ColumnSchema } from '../planner/state-store.js';
import type { Workspace } from '../workspace/workspace.js';
import type { SqlFacts } from './site-data.js';

const TARGETS: readonly { dialect: TargetDialect; runs: string }[] = [
  { dialect: 'duckdb', runs: 'apply (embedded DuckDB) and dbt-duckdb' },
  { dialect: 'spark', runs: 'the compiled SparkApplications' },
];

/** The date every bind rendering carries when a logical-time function was replaced in it. */
const BIND_DATE = BIND_TIME.toISOString().slice(0, 10);

export interface SqlFactsMaker {
  targets(n: CleanseNode | ModelNode): SqlFacts['targets'];
  columns(n: CleanseNode | ModelNode): SqlFacts['columns'];
}

export function sqlFactsMaker(ir: PipelineIR, schemas: ReadonlyMap<NodeId, readonly ColumnSchema[]>, workspace?: Workspace): SqlFactsMaker {
  // The plan's analyses of the bodies (absent from this process when the spec came from the spec cache).
  const analyses = workspace ? new FileSqlCache(workspace.caches.sqlAnalysisFile, workspace.caches.buildId) : undefined;
  let graph: LineageGraph | undefined;
  return {
    targets: (n) =>
      TARGETS.map((t) => {
        const r = t.dialect === 'duckdb' ? duckdbSql(n.sql, analyses) : renderSql(n.sql, { dialect: t.dialect, tableRef: (id) => id });
        return { dialect: t.dialect, runs: t.runs, sql: r.sql ? pretty(r.sql, t.dialect) : r.diagnostics.map((d) => d.message).join('\n') };
      }),
    columns: (n) => {
      graph ??= new LineageGraph(ir, schemas);
      const g = graph;
      return Object.fromEntries((schemas.get(n.id) ?? []).map((c) => [c.name, g.sourcesOf(n.id, c.name).map((r) => [r.table, r.column] as const)]));
    },
  };
}

/** The body as DuckDB runs it: the analysis's bind rendering when it is that, else rendered here. */
function duckdbSql(body: SqlBody, analyses: FileSqlCache | undefined): ReturnType<typeof renderSql> {
  const a = !body.vars || Object.keys(body.vars).length === 0 ? analyzeSql(body.text, analyses) : undefined;
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
