// What the site shows of a SQL node that no earlier build cached (src/docs/site-data.ts keeps the
// rest): the body as each target runs it, pretty-printed, and each output column's input columns.
// site-data.ts imports this module only when some node misses the cache.
//
// A body in the fast parser's subset (src/sql/fast-analyze.ts) is rendered for both targets and its
// lineage traced without the SQL toolkit (polyglot); test/sql/fast-targets.test.ts and
// fast-lineage.test.ts check they give exactly polyglot's text and edges. Only the other bodies load
// the toolkit (src/docs/polyglot-targets.ts), so a build after a plan of such a pipeline never does.

import { fastTargetSql } from '../sql/fast-analyze.js';
import { loadSqlToolkit, SqlToolkitNotLoaded } from '../sql/toolkit.js';
import type { TargetDialect } from '../sql/transpile.js';
import { LineageGraph } from '../engine/lineage.js';
import type { CleanseNode, ModelNode, NodeId, PipelineIR, SqlBody } from '../ir/types.js';
import type { ColumnSchema } from '../planner/state-store.js';
import type { Workspace } from '../workspace/workspace.js';
import type { SqlFacts } from './site-data.js';

const TARGETS: readonly { dialect: 'duckdb' | 'spark'; runs: string }[] = [
  { dialect: 'duckdb', runs: 'apply (embedded DuckDB) and dbt-duckdb' },
  { dialect: 'spark', runs: 'the compiled SparkApplications' },
];

export interface SqlFactsMaker {
  targets(n: CleanseNode | ModelNode): Promise<SqlFacts['targets']>;
  columns(n: CleanseNode | ModelNode): Promise<SqlFacts['columns']>;
}

export function sqlFactsMaker(ir: PipelineIR, schemas: ReadonlyMap<NodeId, readonly ColumnSchema[]>, workspace?: Workspace): SqlFactsMaker {
  let graph: LineageGraph | undefined;
  let slow: ((body: SqlBody, dialect: TargetDialect) => string) | undefined;
  const edges = (n: CleanseNode | ModelNode): SqlFacts['columns'] => {
    graph ??= new LineageGraph(ir, schemas);
    const g = graph;
    return Object.fromEntries((schemas.get(n.id) ?? []).map((c) => [c.name, g.sourcesOf(n.id, c.name).map((r) => [r.table, r.column] as const)]));
  };
  return {
    targets: async (n) => {
      // A variable's value is not in the text: such a body is rendered by the transpiler.
      const fast = n.sql.vars && Object.keys(n.sql.vars).length ? undefined : fastTargetSql(n.sql.text);
      if (fast) return TARGETS.map((t) => ({ dialect: t.dialect, runs: t.runs, sql: fast[t.dialect] }));
      slow ??= (await import('./polyglot-targets.js')).polyglotTargets(workspace);
      const render = slow;
      return TARGETS.map((t) => ({ dialect: t.dialect, runs: t.runs, sql: render(n.sql, t.dialect) }));
    },
    columns: async (n) => {
      try {
        return edges(n);
      } catch (e) {
        // A body outside the fast path's subset: its lineage is polyglot's.
        if (!(e instanceof SqlToolkitNotLoaded)) throw e;
        await loadSqlToolkit();
        return edges(n);
      }
    },
  };
}
