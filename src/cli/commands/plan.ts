// `asgard plan SPEC`: what apply would do, and why — against the applied state, or against a base
// spec for pull-request review (no state, no credentials).

import { resolve } from 'node:path';
import { hasChanges, type Plan } from '../../planner/plan.js';
import { CliError, EXIT, type Command, type CommandContext } from '../command.js';
import type { NodeId, PipelineIR, TrainNode } from '../../ir/types.js';
import type { PriorNode, ScoreChange } from '../../planner/plan.js';
import type { DataDiffInput } from '../../engine/data-diff.js';
import type { Registry } from '../../ml/registry.js';
import { warehouseOf } from '../engine-access.js';
import { makePlan, savePlan } from '../planning.js';
import { remoteError } from '../remote.js';
import { secretRefs, unsetSecrets } from '../secrets.js';
import { displayPath, loadValidSpec, specText, varOption, workspaceOf, type LoadedSpec } from '../spec.js';
import { replayPlan, replayProof } from '../plan-cache.js';
import { formatsOf, note, preview, show } from '../view.js';
import { planView, planWarningsView } from '../views/plan.js';
import { diagnosticsText } from '../views/diagnostics.js';
import type { Drift } from '../../kube/drift.js';

/** The plan with each changed SQL node's data diff (src/engine/data-diff.ts): reads the warehouse, writes nothing. */
async function withDataDiff(
  ctx: CommandContext,
  spec: { file: string; ir: PipelineIR },
  plan: Plan,
  prior: Readonly<Record<NodeId, PriorNode>>,
): Promise<Plan> {
  const raw = ctx.str('sample');
  const sample = raw === undefined ? undefined : Number(raw);
  if (sample !== undefined && (!Number.isInteger(sample) || sample < 1))
    throw new CliError(`--sample must be a whole number of keys, at least 1, not "${raw}"`);
  const { state, warehouse } = await warehouseOf(ctx, spec.ir, spec.file);
  if (Object.keys(state.nodes).length === 0) {
    throw new CliError(
      `--diff-data runs over the current warehouse, and ${displayPath(ctx.io.cwd)(spec.file)} has never been applied here: apply it first (or point --state at its state)`,
    );
  }
  const { diffData } = await import('../../engine/data-diff.js');
  const diffs = await diffData({
    plan,
    ir: spec.ir,
    state,
    warehouse,
    logicalTime: logicalTimeOf(spec.ir, ctx.io.env),
    priorSql: (id) => {
      const sql = (prior[id]?.definition as { data?: { sql?: unknown } } | undefined)?.data?.sql;
      return typeof sql === 'string' ? sql : undefined;
    },
    priorFingerprint: (id) => prior[id]?.fingerprint,
    ...(sample ? { sample } : {}),
    scoreModels: modelScores(spec.ir, workspaceOf(ctx, { file: spec.file }).registry()),
  });
  return { ...plan, actions: plan.actions.map((a) => (diffs.has(a.node) ? { ...a, dataDiff: diffs.get(a.node)! } : a)) };
}

/**
 * The served version of each model trained on a view scores the view's rows before and after
 * (src/ml/score-diff.ts); a model never trained here has nothing to compare.
 */
function modelScores(ir: PipelineIR, registry: Registry): NonNullable<DataDiffInput['scoreModels']> {
  return async (conn, view, before, after, sample) => {
    const out = new Map<NodeId, ScoreChange | { error: string }>();
    const trains = ir.nodes.filter((n): n is TrainNode => n.kind === 'train' && n.features === view.id);
    if (!trains.length) return out;
    const { scoreDiff } = await import('../../ml/score-diff.js');
    const { OnnxScorer } = await import('../../ml/onnx-session.js');
    for (const t of trains) {
      const served = registry.servingVersion(t.register);
      if (!served) {
        out.set(t.id, { error: `no served version of model ${t.register} to score with` });
        continue;
      }
      const schema = registry.features(t.register, served.version);
      const scorer = await OnnxScorer.load(registry.onnxPath(t.register, served.version), schema.features, schema.output);
      try {
        out.set(t.id, await scoreDiff({ conn, view, before, after, schema, scorer, version: served.version, ...(sample ? { sample } : {}) }));
      } catch (e) {
        out.set(t.id, { error: (e as Error).message.split('\n')[0] });
      } finally {
        await scorer.release();
      }
    }
    return out;
  };
}

/** The run's logical time as apply would take it: the spec's setting (an env reference read now), else now. */
function logicalTimeOf(ir: PipelineIR, env: Readonly<Record<string, string | undefined>>): Date {
  const r = ir.logicalTime;
  const v = !r ? undefined : r.kind === 'literal' ? String(r.value) : r.kind === 'env' ? (env[r.name] ?? r.default) : undefined;
  const d = v ? new Date(v) : new Date();
  if (Number.isNaN(d.getTime())) throw new CliError(`logical_time "${v}" is not an ISO-8601 time`);
  return d;
}

/**
 * The cluster's drift from the compiled objects of the applied nodes (src/kube/drift.ts), or why it
 * could not be checked (no kubeconfig, cluster unreachable): the plan itself never needs a cluster.
 */
async function kubeDrift(
  ctx: CommandContext,
  spec: LoadedSpec & { ir: PipelineIR },
  applied: readonly NodeId[],
): Promise<{ drift: Drift[] } | { error: string }> {
  const { kubeAccess, compiledTree } = await import('../kube.js');
  const { clusterDrift } = await import('../../kube/drift.js');
  const { kubeObjects } = await import('../../targets/k8s-objects.js');
  const { KubeError } = await import('../../kube/cluster.js');
  try {
    const { cluster } = kubeAccess(ctx, spec.ir, ctx.profile);
    if (applied.length === 0) return { drift: [] };
    const objects = kubeObjects(await compiledTree(ctx, spec, ctx.profile)).map((x) => x.object);
    return { drift: await clusterDrift(cluster, objects, new Set(applied)) };
  } catch (e) {
    if (e instanceof KubeError || (e instanceof CliError && e.exitCode === EXIT.failed)) return { error: e.message };
    throw e;
  }
}

/** Does the plan trip `--fail-on`: a breaking change, or any change at all. */
export const failsOn = (plan: Plan, on: string): boolean => (on === 'breaking' ? plan.actions.some((a) => a.category === 'breaking') : hasChanges(plan));

export const command: Command = {
  usage: 'asgard plan SPEC [--base REF] [--out plan.json] [--format text|json|markdown] [--detailed-exitcode] [--fail-on breaking|any]',
  help: `
Compares the spec with the applied state (in --state, default .asgard/ beside the spec) and lists,
per node, the action apply would take and its reasons: "sql changed", "upstream silver.x changed",
"description changed (metadata only)". Reformatting SQL or editing comments changes nothing;
a description or tag edit updates metadata without rebuilding; a change to a node's data (its SQL,
settings or checks) updates it and everything downstream. Breaking schema changes (a column removed
or retyped) and changes to partitioning or keys replace the table.

With --base REF the spec is compared with another version of itself instead of the state: a file,
or gitref:path read with git show (path from the repository root). No state and no credentials are
needed, which is what a pull-request check wants. --format markdown renders a PR comment.

Each changed node gets a category: breaking (a column it outputs was removed, retyped or changed
meaning and a downstream node reads it; its rows change and something reads it; a model's input
fields or a serving API's request shape change), non-breaking (a column added, a removed column
nobody reads, a retrained model), metadata (descriptions, tags, checks, the gate) or none (layout,
comments, table aliases). Its impact names every downstream consumer reached, with the columns it
reads, through feature views to the model's input fields and the serving request. SQL changes are
shown by structure (projections, filters, joins, group by, windows, CTEs), and, when there is a
state, what the node's last run produced and took: the cost of rebuilding it.

Under a profile with target kubernetes the plan also reads the applied nodes' objects from the
cluster (kubeconfig as for apply) and lists drift: an object someone changed or deleted by hand, with
the fields asgard owns that differ (a server-side apply dry run is compared with the live object, so
a label added by hand is not drift). --detailed-exitcode counts drift as a change. Without a
reachable cluster the plan is made anyway and says drift was not checked.

--out FILE saves the plan; \`asgard apply FILE\` then executes exactly that plan, and refuses it if
the state or the spec moved since. --detailed-exitcode exits 3 when there are changes, 0 when none.
--fail-on breaking exits 1 when a change is breaking, --fail-on any when anything changes (a CI
gate; it wins over --detailed-exitcode; invalid input stays 2).

Examples:
  asgard plan pipelines/churn.asg
  asgard plan pipelines/churn.asg --out churn.plan.json && asgard apply churn.plan.json --yes
  asgard plan pipelines/churn.asg --base origin/main:pipelines/churn.asg --format markdown
  asgard plan pipelines/churn.asg --format json --detailed-exitcode
  asgard plan pipelines/churn.asg --base origin/main:pipelines/churn.asg --fail-on breaking`,
  options: [
    varOption,
    { name: 'base', type: 'string', arg: 'REF', description: 'compare with this spec (file or gitref:path) instead of the state' },
    { name: 'out', type: 'string', arg: 'FILE', description: 'save the plan for apply' },
    { name: 'detailed-exitcode', type: 'boolean', description: 'exit 3 when there are changes' },
    {
      name: 'diff-data',
      type: 'boolean',
      description: 'run the changed nodes of before and after in a sandbox over the current warehouse and compare their rows',
    },
    { name: 'sample', type: 'string', arg: 'N', description: 'with --diff-data: compare a deterministic sample of N keys' },
    { name: 'fail-on', type: 'string', arg: 'CATEGORY', choices: ['breaking', 'any'], description: 'exit 1 when the plan has a change of this category' },
  ],
  formats: formatsOf(planView),
  async run(ctx) {
    // The last plan of this very spec over this very state, without reading the checked spec (src/cli/plan-cache.ts).
    // The spec's text, read once: for the replay, else for the load (6 MB at 10,000 nodes).
    const text = specText(resolve(ctx.io.cwd, ctx.positionals[0]));
    const replayed = ctx.str('base') === undefined && !ctx.flag('diff-data') && ctx.str('sample') === undefined ? await replayPlan(ctx, text) : undefined;
    if (replayed) {
      // The spec's warnings, as loadValidSpec prints them.
      note(ctx, (io) => diagnosticsText(replayed.spec, io));
      preview(ctx, planWarningsView, { diagnostics: unsetSecrets(replayed.secrets, ctx.io.env), sources: replayed.spec.sources });
      if (replayed.proof) ctx.services.replayable?.(replayed.proof);
      return shown(ctx, replayed.plan);
    }
    const spec = await loadValidSpec(ctx, ctx.positionals[0], text);
    // A warehouse on S3 keeps the state beside it: plan against that one.
    if (ctx.str('base') === undefined) await workspaceOf(ctx, spec).remote(spec.ir)?.pull({ data: false }).catch(remoteError);
    const planned = await makePlan(ctx, spec, ctx.str('base'), true);
    // What apply would run without: secrets unset here (a pull-request plan with --base needs none).
    if (ctx.str('base') === undefined) preview(ctx, planWarningsView, { diagnostics: unsetSecrets(spec.ir, ctx.io.env), sources: spec.sources });
    let plan = planned.plan;
    if (ctx.flag('diff-data')) plan = await withDataDiff(ctx, spec, plan, planned.prior);
    else if (ctx.str('sample') !== undefined) throw new CliError('--sample goes with --diff-data');
    // Under a kubernetes profile: the applied nodes' objects as the cluster holds them now.
    const drift =
      ctx.str('base') === undefined && spec.ir.profiles[ctx.profile]?.target === 'kubernetes'
        ? await kubeDrift(ctx, spec, Object.keys(planned.prior))
        : undefined;
    // What a repeated plan process checks before printing this output again (src/cli/plan-replay.cts).
    const { store, snapshots } = planned;
    const proof =
      ctx.str('base') === undefined && !ctx.flag('diff-data') && spec.cacheKey !== undefined && store && snapshots
        ? replayProof(
            ctx,
            workspaceOf(ctx, spec),
            { profiles: spec.ir.profiles, secrets: secretRefs(spec.ir) },
            { file: spec.file, text: spec.sources.get(spec.file), cacheKey: spec.cacheKey },
            store,
            snapshots,
          )
        : undefined;
    if (proof) ctx.services.replayable?.(proof);
    return shown(ctx, plan, drift);
  },
};

/** Saves (--out) and shows the plan; the exit code. */
function shown(ctx: CommandContext, plan: Plan, drift?: { drift: Drift[] } | { error: string }): number {
  const out = ctx.str('out');
  if (out) savePlan(plan, resolve(ctx.io.cwd, out));
  show(ctx, planView, { plan, ...(drift ? { drift } : {}), ...(out ? { saved: out } : {}) });
  const drifted = !!drift && 'drift' in drift && drift.drift.length > 0;
  const failOn = ctx.str('fail-on');
  if (failOn && failsOn(plan, failOn)) {
    ctx.err(`plan has ${failOn === 'breaking' ? 'a breaking change' : 'changes'} (--fail-on ${failOn})\n`);
    return EXIT.failed;
  }
  return ctx.flag('detailed-exitcode') && (hasChanges(plan) || drifted) ? EXIT.changes : EXIT.ok;
}
