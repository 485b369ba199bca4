// Making a plan for a command: read the state (or the base spec), infer schemas when the engine
// can, and call the pure planner. Shared by `plan` and `apply`; also reads and writes plan files.

import { existsSync, readFileSync } from 'node:fs';
import { readUtf8 } from '../util/read-utf8.js';
import { dirname, relative, resolve } from 'node:path';
import { hasErrors } from '../diagnostics/diagnostic.js';
import type { NodeId, PipelineIR } from '../ir/types.js';
import { fingerprintPipeline, fingerprintsAfterEdit } from '../planner/fingerprint.js';
import {
  PLAN_SCHEMA_VERSION,
  buildPlan,
  editedDownstream,
  planDigest,
  planToJson,
  priorFromIr,
  priorFromState,
  replannedAfterEdit,
  type Plan,
  type PlanInput,
  type PriorNode,
} from '../planner/plan.js';
import { StateError, type ColumnSchema, type PipelineState, type StateStore } from '../planner/state-store.js';
import type { ColumnSources, ReviewInput } from '../planner/review.js';
import { loadSqlToolkit } from '../sql/toolkit.js';
import { writeFileAtomic } from '../util/fs-atomic.js';
import { CliError, type CommandContext } from './command.js';
import { cachePlan, cachedPlan, snapshotCheck, type PlanInputs, type SnapshotCheck } from './plan-cache.js';
import { cacheFingerprints, fingerprintsBeforeEdit, textBeforeEdit } from './spec-cache.js';
import { failOnErrors, inferSchemas, loadBaseSpec, workspaceOf, type LoadedSpec } from './spec.js';
import { preview } from './view.js';
import { otherSpecErrorsView } from './views/diagnostics.js';

export interface Planned {
  readonly plan: Plan;
  /** Absent for `--base` plans. */
  readonly store?: StateStore;
  readonly state?: PipelineState;
  readonly schemas?: ReadonlyMap<NodeId, readonly ColumnSchema[]>;
  /** What the plan compared with: the base spec's nodes or the applied state's. */
  readonly prior: Readonly<Record<NodeId, PriorNode>>;
  /** The state's snapshots in the warehouse (absent for `--base` plans). */
  readonly snapshots?: SnapshotCheck;
}

export function checkProfile(ctx: CommandContext, ir: PipelineIR): void {
  if (ctx.profile === 'local' || ir.profiles[ctx.profile]) return;
  const names = ['local', ...Object.keys(ir.profiles)].join(', ');
  throw new CliError(`unknown profile "${ctx.profile}" (this spec has: ${names})`);
}

export function openState(ctx: CommandContext, spec: { file: string; ir: PipelineIR }): { store: StateStore; state: PipelineState } {
  const store = workspaceOf(ctx, spec).state(spec.ir);
  try {
    return { store, state: store.read() };
  } catch (e) {
    if (e instanceof StateError || e instanceof SyntaxError) throw new CliError(`cannot read the state ${store.file}: ${e.message}`, 1);
    throw e;
  }
}

/**
 * Schemas of `ir`; schema errors are spec errors (printed, exit 2) just as `validate` reports them.
 * `quiet`: nothing was printed (no schema warning, inference did not fail).
 */
async function schemasOf(
  ctx: CommandContext,
  spec: LoadedSpec & { ir: PipelineIR },
  known?: ReadonlyMap<NodeId, readonly ColumnSchema[]>,
): Promise<{ schemas?: ReadonlyMap<NodeId, readonly ColumnSchema[]>; quiet: boolean }> {
  let r: Awaited<ReturnType<typeof inferSchemas>>;
  try {
    r = await inferSchemas(spec.ir, known, { ...spec, workspace: workspaceOf(ctx, spec) });
  } catch (e) {
    ctx.err(`warning: schema inference failed (${(e as Error).message}); planning without schemas\n`);
    return { quiet: false };
  }
  if (r.diagnostics.length) failOnErrors(ctx, { ...spec, diagnostics: r.diagnostics });
  return { schemas: r.schemas, quiet: r.diagnostics.length === 0 };
}

/**
 * Column lineage of the head (and of the base, with `--base`). Lineage parses every SQL body once per output column, so a base
 * node whose SQL and input schemas equal the head's reuses the head's answers.
 */
async function lineages(
  head: PipelineIR,
  headSchemas: ReadonlyMap<NodeId, readonly ColumnSchema[]> | undefined,
  base?: PipelineIR,
  baseSchemas?: ReadonlyMap<NodeId, readonly ColumnSchema[]>,
): Promise<{ headLineage?: ColumnSources; baseLineage?: ColumnSources }> {
  if (!headSchemas) return {};
  const { LineageGraph } = await import('../engine/lineage.js');
  const headLineage = new LineageGraph(head, headSchemas);
  if (!base || !baseSchemas) return { headLineage };
  const baseGraph = new LineageGraph(base, baseSchemas);
  const headById = new Map(head.nodes.map((n) => [n.id, n]));
  const same = (id: NodeId): boolean => {
    const a = base.nodes.find((n) => n.id === id);
    const b = headById.get(id);
    if (!a || !b || !('sql' in a) || !('sql' in b) || a.sql.text !== b.sql.text) return false;
    const cols = (s: ReadonlyMap<NodeId, readonly ColumnSchema[]>, n: typeof a) => JSON.stringify([n.inputs, n.inputs.map((i) => s.get(i)), s.get(n.id)]);
    return cols(baseSchemas, a) === cols(headSchemas, b);
  };
  const memo = new Map<NodeId, boolean>();
  const baseLineage: ColumnSources = {
    sourcesOf(id, column) {
      let s = memo.get(id);
      if (s === undefined) memo.set(id, (s = same(id)));
      return (s ? headLineage : baseGraph).sourcesOf(id, column);
    },
  };
  return { headLineage, baseLineage };
}

/** The review (src/planner/review.ts) and column lineage load only when a plan is made, not replayed (src/cli/plan-cache.ts). */
async function reviewPlan(input: ReviewInput): Promise<Plan> {
  return (await import('../planner/review.js')).reviewPlan(input);
}

/** State beside the spec when there is one (a --base plan needs none; it only shows costs from it). */
function stateIfAny(ctx: CommandContext, spec: { file: string; ir: PipelineIR }): PipelineState | undefined {
  try {
    const store = workspaceOf(ctx, spec).state(spec.ir);
    return existsSync(store.file) ? store.read() : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Loads the SQL toolkit when the plan may analyse SQL: derived maintenance, SQL diffs and column
 * lineage are asked only about nodes whose definition differs from what the plan compares with
 * (or that it deletes). A plan where nothing changed never loads it (~0.5 s of CPU).
 */
async function toolkitIfChanged(
  ir: PipelineIR,
  prior: Readonly<Record<NodeId, PriorNode>>,
  fingerprints: ReturnType<typeof fingerprintPipeline>,
): Promise<void> {
  const ids = new Set(ir.nodes.map((n) => n.id));
  const changed = ir.nodes.some((n) => prior[n.id] !== undefined && prior[n.id].fingerprint !== fingerprints.get(n.id)?.fingerprint);
  if (changed || Object.keys(prior).some((id) => !ids.has(id))) await loadSqlToolkit();
}

/**
 * Makes the plan; with `review`, also what it means for a reviewer (category, impact, SQL diff,
 * cost: src/planner/review.ts). Apply does not need the review, so it skips its cost.
 */
export async function makePlan(ctx: CommandContext, spec: LoadedSpec & { ir: PipelineIR }, base?: string, review = false): Promise<Planned> {
  checkProfile(ctx, spec.ir);
  if (base !== undefined) {
    const fingerprints = fingerprintPipeline(spec.ir);
    const { spec: baseSpec, cacheFor } = await loadBaseSpec(base, spec.file, {
      cwd: ctx.io.cwd,
      ...(ctx.stateDir !== undefined ? { stateDir: ctx.stateDir } : {}),
    });
    if (hasErrors(baseSpec.diagnostics) || !baseSpec.ir) {
      preview(ctx, otherSpecErrorsView, baseSpec);
      throw new CliError(`the base spec ${base} has errors; fix it or pick another --base`);
    }
    let baseSchemas: ReadonlyMap<NodeId, readonly ColumnSchema[]> | undefined;
    try {
      // Through the caches as the head's are: a warm re-run binds nothing and never loads DuckDB.
      baseSchemas = (await inferSchemas(baseSpec.ir, undefined, cacheFor)).schemas;
    } catch {
      baseSchemas = undefined;
    }
    const { schemas } = await schemasOf(ctx, spec);
    const prior = priorFromIr(baseSpec.ir, baseSchemas);
    await toolkitIfChanged(spec.ir, prior, fingerprints);
    let plan = buildPlan({ ir: spec.ir, profile: ctx.profile, prior, against: { kind: 'base', ref: base }, schemas, fingerprints });
    if (review) {
      plan = await reviewPlan({
        plan,
        head: spec.ir,
        base: baseSpec.ir,
        prior,
        headSchemas: schemas,
        ...(await lineages(spec.ir, schemas, baseSpec.ir, baseSchemas)),
        state: stateIfAny(ctx, spec),
      });
    }
    return { plan, schemas, prior };
  }
  const { store, state } = openState(ctx, spec);
  const known = new Map<NodeId, readonly ColumnSchema[]>();
  for (const [id, n] of Object.entries(state.nodes)) if (n.schema) known.set(id, n.schema);
  const { schemas, quiet } = await schemasOf(ctx, spec, known);
  const prior = priorFromState(state);
  const ws = workspaceOf(ctx, spec);
  const snapshots = await snapshotCheck(ws, spec.ir, state);
  const missing = snapshots.missing;
  // The same spec reviewed over the same state: the last plan, replayed (src/cli/plan-cache.ts).
  const inputs =
    review && spec.cacheKey !== undefined && store.lastRead !== undefined
      ? { profile: ctx.profile, state: store.lastRead, missingSnapshots: missing, schemas: !!schemas }
      : undefined;
  const replayed = inputs && cachedPlan(ws.caches, spec.file, spec.cacheKey!, inputs);
  if (replayed) return { plan: replayed, store, state, schemas, prior, snapshots };
  const planInput = { ir: spec.ir, profile: ctx.profile, prior, missingSnapshots: missing, stateSerial: state.serial, stateLineage: state.lineage, schemas };
  // After an edit inside one block: the last plan, its actions outside the edit's downstream kept.
  const edit = inputs && afterEdit(ctx, spec, inputs, planInput);
  let plan: Plan;
  if (edit) {
    await toolkitIfChanged(spec.ir, prior, edit.plan.fingerprints);
    plan = await reviewPlan({
      plan: edit.plan.plan,
      head: spec.ir,
      prior,
      headSchemas: schemas,
      ...(await lineages(spec.ir, schemas)),
      state,
      only: edit.plan.redone,
    });
  } else {
    const fingerprints = fingerprintsOf(ctx, spec);
    await toolkitIfChanged(spec.ir, prior, fingerprints);
    plan = buildPlan({ ...planInput, fingerprints });
    if (review) plan = await reviewPlan({ plan, head: spec.ir, prior, headSchemas: schemas, ...(await lineages(spec.ir, schemas)), state });
  }
  if (inputs) cachePlan(ws.caches, spec.file, spec.cacheKey!, inputs, plan, quiet ? spec : undefined);
  return { plan, store, state, schemas, prior, snapshots };
}

/**
 * The plan of a spec patched after an edit (src/cli/spec-cache.ts patchedSpec) made from the last
 * plan of the text before the edit, when that plan was made from the same `inputs` (state, profile,
 * missing snapshots): only the edit's downstream is fingerprinted and planned again
 * (src/planner/plan.ts replannedAfterEdit). Undefined otherwise.
 */
function afterEdit(
  ctx: CommandContext,
  spec: LoadedSpec & { ir: PipelineIR },
  inputs: PlanInputs,
  planInput: Omit<PlanInput, 'fingerprints'>,
): { plan: NonNullable<ReturnType<typeof replannedAfterEdit>> & { fingerprints: Fingerprints } } | undefined {
  const { caches } = workspaceOf(ctx, spec);
  const before = spec.cacheKey !== undefined ? textBeforeEdit(caches, spec.file, spec.cacheKey) : undefined;
  const reuse = before !== undefined ? fingerprintsBeforeEdit(caches, spec.file, spec.cacheKey!) : undefined;
  const last = reuse && cachedPlan(caches, spec.file, before!, inputs);
  const edited = last && editedDownstream(last, reuse.changed);
  const fingerprints = edited && fingerprintsAfterEdit(spec.ir, reuse, edited);
  const plan = fingerprints && replannedAfterEdit({ ...planInput, fingerprints }, last!, reuse!.changed, edited!);
  if (!plan) return undefined;
  cacheFingerprints(caches, spec.file, spec.cacheKey!, fingerprints!);
  return { plan: { ...plan, fingerprints: fingerprints! } };
}

type Fingerprints = ReturnType<typeof fingerprintPipeline>;

/**
 * The spec's fingerprints: after a patched edit only the edit's downstream is hashed
 * (src/planner/fingerprint.ts FingerprintReuse); kept with the spec's cache entry for the next edit.
 */
function fingerprintsOf(ctx: CommandContext, spec: LoadedSpec & { ir: PipelineIR }): ReturnType<typeof fingerprintPipeline> {
  if (spec.cacheKey === undefined) return fingerprintPipeline(spec.ir);
  const { caches } = workspaceOf(ctx, spec);
  const fingerprints = fingerprintPipeline(spec.ir, fingerprintsBeforeEdit(caches, spec.file, spec.cacheKey));
  cacheFingerprints(caches, spec.file, spec.cacheKey, fingerprints);
  return fingerprints;
}

/** Save a plan; its `spec` is written relative to the plan file so the pair can move together. */
export function savePlan(plan: Plan, file: string): void {
  const doc = planToJson(plan) as Record<string, unknown>;
  doc.spec = relative(dirname(file), plan.spec) || plan.spec;
  doc.digest = planDigest(doc);
  writeFileAtomic(file, JSON.stringify(doc, null, 2) + '\n');
}

/** Does this file look like a saved plan (rather than a spec)? */
export function isPlanFile(file: string): boolean {
  if (!existsSync(file)) return false;
  if (file.endsWith('.json')) return true;
  const head = readFileSync(file, 'utf8').slice(0, 200).trimStart();
  return head.startsWith('{');
}

export function readPlanFile(file: string): Plan {
  let doc: Plan & { digest?: unknown };
  try {
    doc = JSON.parse(readUtf8(file)) as Plan & { digest?: unknown };
  } catch (e) {
    throw new CliError(`cannot read the plan ${file}: ${(e as Error).message}`);
  }
  if (!doc || typeof doc !== 'object' || !Array.isArray(doc.actions) || typeof doc.spec !== 'string') {
    throw new CliError(`${file} is not a plan saved by asgard plan --out`);
  }
  if (doc.schemaVersion !== PLAN_SCHEMA_VERSION) {
    throw new CliError(`${file} has plan schemaVersion ${String(doc.schemaVersion)}; this asgard reads ${PLAN_SCHEMA_VERSION}: make the plan again`);
  }
  if (typeof doc.digest !== 'string' || doc.digest !== planDigest(doc as unknown as Record<string, unknown>)) {
    throw new CliError(
      `${file} was changed after \`asgard plan --out\` wrote it (its digest ${typeof doc.digest === 'string' ? 'does not match its content' : 'is missing'}): a saved plan is applied only exactly as it was made; make a new plan`,
    );
  }
  const { digest: _digest, ...plan } = doc;
  return { ...plan, spec: resolve(dirname(file), doc.spec) };
}
