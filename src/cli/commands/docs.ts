// `asgard docs SPEC --out DIR [--plan plan.json]`: a self-contained static site of the pipeline
// (src/docs/: the page data; site/: the browser code, bundled by `npm run build`). Reads the spec,
// the state, the run history, the warehouse and the registry; changes nothing.

import { relative, resolve } from 'node:path';
import { collectSiteData, type SavedPlan, type SiteCacheEntry } from '../../docs/site-data.js';
import type { GraphLayout } from '../../docs/graph-layout.js';
import { SiteAssetsMissing, writeSite } from '../../docs/site-files.js';
import type { NodeId } from '../../ir/types.js';
import type { ColumnSchema } from '../../planner/state-store.js';
import { CliError, EXIT, type Command } from '../command.js';
import { openState, readPlanFile } from '../planning.js';
import { inferSchemas, loadValidSpec, workspaceOf } from '../spec.js';
import { formatsOf, show } from '../view.js';
import { docsView } from '../views/docs.js';

export const command: Command = {
  usage: 'asgard docs SPEC --out DIR [--plan plan.json]',
  help: `
Writes a site to look at the pipeline in a browser: DIR/index.html (the page data embedded),
DIR/app.js and DIR/app.css. It needs no server and makes no request: open DIR/index.html, or publish
the folder. \`asgard serve SPEC\` serves the same site at http://127.0.0.1:8000/.

- Graph: every node left to right by stage (source systems, bronze, silver, gold, features, models,
  serving), searchable and zoomable. With --plan (a plan saved by \`asgard plan --out\`) each node is
  coloured by its action (create, update, replace, delete) and breaking changes are marked.
- A page per node: description, SQL as written and as each target runs it, output schema, checks,
  last run, snapshots, upstream and downstream, and each column's lineage back to the source
  columns and forward to the features and the model's inputs.
- Runs: the last applies as a timeline, one bar per node (what ran in parallel), rows and errors.
- Models: every registered version with its metrics, gate, ROC and precision-recall curves,
  confusion matrix, feature importance and training data; two versions side by side; the serving
  table's predictions by risk level.

Examples:
  asgard docs pipelines/churn.asg --out site && open site/index.html
  asgard plan pipelines/churn.asg --out plan.json && asgard docs pipelines/churn.asg --out review --plan plan.json`,
  formats: formatsOf(docsView),
  options: [
    { name: 'out', type: 'string', short: 'o', arg: 'DIR', description: 'folder to write the site to (created if needed)' },
    { name: 'plan', type: 'string', arg: 'FILE', description: 'a saved plan: colour the graph by its actions' },
  ],
  async run(ctx) {
    const outArg = ctx.str('out');
    if (!outArg) throw new CliError('--out DIR is required: the folder to write the site to');
    const spec = await loadValidSpec(ctx, ctx.positionals[0]);
    let plan: SavedPlan | undefined;
    const planArg = ctx.str('plan');
    if (planArg !== undefined) {
      plan = readPlanFile(resolve(ctx.io.cwd, planArg));
      if (plan.pipeline !== spec.ir.name)
        throw new CliError(`--plan ${planArg} is a plan of pipeline ${plan.pipeline}; ${ctx.positionals[0]} defines ${spec.ir.name}`);
    }
    const { state } = openState(ctx, spec);
    const workspace = workspaceOf(ctx, spec);
    const known = new Map<NodeId, readonly ColumnSchema[]>();
    for (const [id, ns] of Object.entries(state.nodes)) if (ns.schema) known.set(id, ns.schema);
    let schemas: ReadonlyMap<NodeId, readonly ColumnSchema[]> = new Map();
    try {
      schemas = (await inferSchemas(spec.ir, known, { ...spec, workspace })).schemas ?? known;
    } catch (e) {
      ctx.err(`warning: schema inference failed (${(e as Error).message}); the site shows the applied schemas only\n`);
      schemas = known;
    }
    const cache = workspace.caches.site<SiteCacheEntry>();
    const layoutCache = workspace.caches.siteLayout<GraphLayout>();
    const data = await collectSiteData({
      ir: spec.ir,
      specPath: relative(ctx.io.cwd, spec.file) || spec.file,
      workspace,
      state,
      schemas,
      cache,
      layoutCache,
      ...(plan ? { plan } : {}),
    });
    cache.save();
    layoutCache.save();
    const out = resolve(ctx.io.cwd, outArg);
    let files: string[];
    try {
      files = writeSite(out, data);
    } catch (e) {
      if (e instanceof SiteAssetsMissing) throw new CliError(e.message, EXIT.failed);
      throw e;
    }
    show(ctx, docsView, {
      out,
      files,
      nodes: data.nodes.length,
      runs: data.runs.length,
      models: data.models.map((m) => ({ name: m.name, versions: m.versions.length })),
    });
    return EXIT.ok;
  },
};
