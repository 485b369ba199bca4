// `asgard apply SPEC|plan.json`: execute the plan on the embedded engine, incrementally.

import { resolve } from 'node:path';
import { ApplyRefused, applyPlan } from '../../engine/apply.js';
import { buildDag } from '../../planner/dag.js';
import { hasChanges, type Plan } from '../../planner/plan.js';
import { SelectError, parseSelect } from '../../planner/stages.js';
import { StateError } from '../../planner/state-store.js';
import { CliError, EXIT, type Command, type CommandContext } from '../command.js';
import { clusterExecutors, defaultExecutors } from '../executors.js';
import { rememberSnapshots } from '../plan-cache.js';
import { checkProfile, isPlanFile, makePlan, readPlanFile } from '../planning.js';
import { progressReporter } from '../progress.js';
import { planId, remoteError } from '../remote.js';
import { failOnErrors, loadValidSpec, workspaceOf, varOption } from '../spec.js';
import { formatsOf, preview, printsDocument, show } from '../view.js';
import { applyPlanView, applyView } from '../views/apply.js';

export const command: Command = {
  usage: 'asgard apply SPEC|plan.json [--yes] [--select NODE[+]]',
  help: `
Plans the spec against the state, shows the plan and, once confirmed, runs it: sources are synced
(incrementally, from their cursors), and a cleanse, model, feature view, training or serving node
runs when it is new, when its definition changed, or when one of its inputs has a new snapshot since
it last ran. Everything else is left alone; a description or tag edit only updates the state.
Independent nodes run two at a time; a failed node skips everything downstream of it while other
branches go on. Each finished node is recorded in the state (in --state, default .asgard/ beside the
spec) with one atomic write, so an interrupted apply resumes where it stopped.

On a terminal apply asks for confirmation; elsewhere (CI, scripts) pass --yes. A plan saved with
\`asgard plan --out FILE\` is applied exactly as reviewed (its changes only: unchanged sources are
not synced), without asking, and refused when the state or the spec changed since it was made.

Under a profile with target kubernetes (\`--profile kubernetes\`) the same plan is submitted to the
cluster of the kubeconfig (KUBECONFIG, ~/.kube/config, or the in-cluster service account): each
changed node's compiled objects are server-side applied (field manager asgard) and its
SparkApplication or Job watched to completion; sources are synced through the Airbyte API; the
objects of removed nodes are deleted. State, lock and registry live beside the S3 warehouse.
See docs/kubernetes.md.

Under a profile with \`spark_master\` (target cluster) the cleanses run on that Spark cluster as
their compiled SparkApplications, through spark-submit, against the S3 warehouse's Iceberg catalog;
every other node runs embedded. See docs/lakehouse.md.

--select NODE runs that node only; NODE+ runs it and everything downstream (comma-separate several).

Examples:
  asgard apply pipelines/churn.asg --yes
  asgard apply pipelines/churn.asg --yes --select silver.customers_cleaned+
  asgard plan pipelines/churn.asg --out churn.plan.json && asgard apply churn.plan.json
  asgard apply pipelines/churn.asg --yes --format json   # {"ok": true, "nodes": [...]}
  asgard apply pipelines/churn.asg --profile kubernetes --yes`,
  formats: formatsOf(applyView),
  options: [
    varOption,
    { name: 'yes', type: 'boolean', short: 'y', description: 'apply without asking for confirmation' },
    { name: 'select', type: 'string', arg: 'NODE[+]', description: 'only this node (NODE+: and its downstream); comma-separated' },
    { name: 'concurrency', type: 'string', arg: 'N', description: 'nodes run at once (default 2)' },
  ],
  async run(ctx) {
    const arg = ctx.positionals[0];
    const argPath = resolve(ctx.io.cwd, arg);
    const saved = isPlanFile(argPath) ? readPlanFile(argPath) : undefined;
    if (saved && ctx.str('profile') && ctx.str('profile') !== saved.profile) {
      throw new CliError(`the saved plan is for profile ${saved.profile}; --profile ${ctx.profile} does not match`);
    }
    const profile = saved?.profile ?? ctx.profile;
    const spec = await loadValidSpec(ctx, saved ? saved.spec : arg);
    checkProfile({ ...ctx, profile }, spec.ir);
    const target = spec.ir.profiles[profile]?.target ?? 'local';
    if (spec.ir.profiles[profile]) {
      // Settings nothing of the profile's target reads, or of the wrong form, are refused before any work (validate --profile says the same).
      failOnErrors(ctx, { ...spec, diagnostics: (await import('../profiles.js')).profileDiagnostics(spec.ir, profile) });
    }

    // A warehouse on S3 keeps state, registry and lock beside it: take the lock before planning
    // (the plan is made against a state nobody else can move now) and work on a pulled copy.
    const workspace = workspaceOf(ctx, spec, profile);
    // The profile's locations (S3 warehouse, shared catalog) resolve before any work: a bad one is exit 2.
    let remote, warehouse;
    try {
      remote = workspace.remote(spec.ir);
      warehouse = workspace.warehouse(spec.ir);
    } catch (e) {
      remoteError(e);
    }
    // Under a kubernetes profile the same plan is submitted to the cluster (src/kube/deploy.ts).
    // Loaded only then: the Kubernetes client is a large import every other apply does without.
    const kubeCli = target === 'kubernetes' ? await import('../kube.js') : undefined;
    const kube = kubeCli ? await kubeCli.openKubeDeployment(ctx, spec, profile, remote) : undefined;
    const held = remote
      ? await remote
          .lock(arg)
          .acquire({ operation: 'apply', ...(saved ? { planId: planId(saved) } : {}) })
          .catch(remoteError)
      : undefined;
    let result;
    // The plan id goes into the lock while the apply runs (one request less to wait for); it is
    // settled before the lock is released, and a lock broken meanwhile fails the apply.
    let annotated: Promise<void> | undefined;
    try {
      if (remote) await remote.pull().catch(remoteError);
      let plan: Plan;
      if (saved) plan = saved;
      else {
        plan = (await makePlan(ctx, spec)).plan;
        if (held) {
          annotated = held.annotate(planId(plan));
          annotated.catch(() => undefined);
        }
        preview(ctx, applyPlanView, plan);
        if (!ctx.flag('yes')) await confirm(ctx, hasChanges(plan));
      }

      let select: Set<string> | undefined;
      const sel = ctx.str('select');
      if (sel !== undefined) {
        try {
          select = parseSelect([sel], buildDag(spec.ir));
        } catch (e) {
          if (e instanceof SelectError) throw new CliError(e.message);
          throw e;
        }
      }
      const concurrency = ctx.str('concurrency') === undefined ? 2 : Number(ctx.str('concurrency'));
      if (!Number.isInteger(concurrency) || concurrency < 1) throw new CliError(`--concurrency must be a positive integer, not "${ctx.str('concurrency')}"`);

      const reporter = progressReporter({
        err: ctx.err,
        tty: ctx.io.stderrIsTTY && !printsDocument(ctx),
        color: ctx.colorErr,
        debug: ctx.io.env.ASGARD_DEBUG === '1',
      });
      // Ctrl-C or SIGTERM (a CI job cancelled, a pod stopped): running nodes are stopped (their
      // Spark drivers and source reads too), the rest skipped, the lock released; exit 1. A second
      // signal ends the process at once.
      const abort = new AbortController();
      const onSignal = () => abort.abort();
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
      const maintenance = workspace.caches.maintenance();
      const renderings = workspace.caches.renderings();
      try {
        result = await applyPlan({
          ir: spec.ir,
          plan,
          store: workspace.state(spec.ir),
          warehouse,
          scratchDir: workspace.scratchDir(),
          runs: workspace.runs(spec.ir),
          executors: kube
            ? kube.executors()
            : (ctx.services.executors ??
              (target === 'cluster' ? clusterExecutors(workspace, spec.ir, { env: ctx.io.env, specPath: spec.file }) : defaultExecutors(workspace))),
          select,
          concurrency,
          // A saved plan is applied exactly as reviewed: its changes and nothing else, so unchanged
          // sources are not synced (that would run nodes the reviewer did not see).
          // On the cluster an unchanged source is not re-submitted either: a second apply submits nothing.
          refreshSources: !saved && !kube,
          env: ctx.io.env,
          onEvent: reporter.onEvent,
          signal: abort.signal,
          // A removed source's Airbyte objects go in its delete step (src/kube/deploy.ts).
          ...(kube ? { removeNode: (r) => kube.removeNode(r) } : {}),
          maintenanceCache: maintenance,
          renderCache: renderings,
        });
        // The objects the spec no longer compiles to (found by asgard's labels: removed nodes', and
        // the pipeline's own that no node needs any more) are deleted, once an apply went through
        // (a failed one leaves that to the next).
        if (kube && kubeCli && result.ok) {
          const deleted = await kube.sweep(new Set(spec.ir.nodes.map((n) => n.id))).catch(kubeCli.kubeCliError);
          for (const d of deleted) reporter.onEvent({ type: 'warn', node: spec.ir.name, message: `deleted ${d}` });
        }
        // The next plan checks the snapshots committed here without reading their manifests (a cache:
        // what fails here is done again by that plan).
        if (!kube) await rememberSnapshots(workspace, spec.ir, result.state).catch(() => undefined);
        // Every finished node's snapshot and state reach the remote before the lock goes.
        if (annotated) await annotated.catch(remoteError);
        if (remote) {
          await remote.flush().catch(remoteError);
          await remote.pushRegistry().catch(remoteError);
        }
      } catch (e) {
        if (e instanceof ApplyRefused) throw new CliError(e.message, EXIT.invalid);
        if (e instanceof StateError) throw new CliError(e.message, EXIT.failed);
        throw e;
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
        maintenance.save();
        renderings.save();
        reporter.done();
      }
    } finally {
      // Pushes still in flight after a failure finish (or fail) before the lock goes.
      if (remote) await remote.flush().catch(() => undefined);
      await annotated?.catch(() => undefined);
      if (held) await held.release().catch(remoteError);
    }
    show(ctx, applyView, result);
    return result.ok ? EXIT.ok : EXIT.failed;
  },
};

async function confirm(ctx: CommandContext, changes: boolean): Promise<void> {
  if (!ctx.io.stdinIsTTY) {
    throw new CliError('refusing to apply without confirmation: stdin is not a terminal, pass --yes to apply');
  }
  const q = changes
    ? 'Apply these changes and sync the sources? Only "yes" is accepted: '
    : 'No definition changes; sync the sources and run what they feed? Only "yes" is accepted: ';
  const answer = (await ctx.io.prompt(q)).trim();
  if (answer !== 'yes') throw new CliError('apply cancelled', EXIT.failed);
}
