// `asgard lineage SPEC LAYER.TABLE.COLUMN`: column-level lineage, back to the source systems'
// columns and forward to the feature views, from the SQL's own structure (no data touched).

import { hasErrors } from '../../diagnostics/diagnostic.js';
import { CliError, EXIT, type Command } from '../command.js';
import { inferSchemas, loadValidSpec, workspaceOf } from '../spec.js';
import { LineageError, LineageGraph } from '../../engine/lineage.js';
import { loadSqlToolkit } from '../../sql/toolkit.js';
import type { ColumnSchema } from '../../planner/state-store.js';
import { show } from '../view.js';
import { lineageView } from '../views/lineage.js';
import { failedCheckView } from '../views/diagnostics.js';

export const command: Command = {
  usage: 'asgard lineage SPEC LAYER.TABLE.COLUMN [--format text|json]',
  help: `
Traces one column through the pipeline using the structure of the SQL bodies (CTEs, joins,
subqueries and SELECT * expanded against the inferred schemas): upstream to the source system's
columns it is computed from, downstream to every silver/gold column and feature that uses it.
--format json prints {"column": {"table","column"}, "upstream": [tree], "downstream": [tree]} where a
tree is {"table","column","kind","note"?,"children":[tree]}.

Examples:
  asgard lineage pipelines/churn.asg gold.customer_metrics.customer_lifetime_value
  asgard lineage pipelines/churn.asg bronze.transactions.amount --format json`,
  options: [],
  positionals: [2, 2],
  async run(ctx) {
    const spec = await loadValidSpec(ctx, ctx.positionals[0]);
    // Sources without declared columns take the schema their last sync discovered.
    const known = new Map<string, readonly ColumnSchema[]>();
    const workspace = workspaceOf(ctx, spec);
    for (const [id, ns] of Object.entries(workspace.state(spec.ir).read().nodes)) if (ns.schema) known.set(id, ns.schema);
    const { schemas, diagnostics } = await inferSchemas(spec.ir, known, { ...spec, workspace });
    if (hasErrors(diagnostics) || !schemas) {
      show(ctx, failedCheckView, { diagnostics, sources: spec.sources });
      return EXIT.invalid;
    }
    await loadSqlToolkit();
    let result;
    try {
      result = new LineageGraph(spec.ir, schemas).lineage(ctx.positionals[1]);
    } catch (e) {
      if (e instanceof LineageError) throw new CliError(e.message);
      throw e;
    }
    show(ctx, lineageView, result);
    return EXIT.ok;
  },
};
