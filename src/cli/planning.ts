// Making a plan for a command: read the state (or the base spec), infer schemas when the engine
// can, and call the pure planner. Shared by `plan` and `apply`; also reads and writes plan files.

import { existsSync, readFileSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import { hasErrors } from '../diagnostics/diagnostic.js';
import type { NodeId, PipelineIR } from '../ir/types.js';
import { fingerprintPipeline } from '../planner/fingerprint.js';
import { PLAN_SCHEMA_VERSION, buildPlan, planToJson, priorFromIr, priorFromState, type Plan } from '../planner/plan.js';
import { StateError, StateStore, type ColumnSchema, type PipelineState } from '../planner/state-store.js';
import { writeFileAtomic } from '../util/fs-atomic.js';
import { CliError, type CommandContext } from './command.js';
import { failOnErrors, inferSchemas, loadBaseSpec, printDiagnostics, stateDirFor, type LoadedSpec } from './spec.js';

export interface Planned {
  readonly plan: Plan;
  /** Absent for `--base` plans. */
  readonly store?: StateStore;
  readonly state?: PipelineState;
  readonly schemas?: ReadonlyMap<NodeId, readonly ColumnSchema[]>;
}

export function checkProfile(ctx: CommandContext, ir: PipelineIR): void {
  if (ctx.profile === 'local' || ir.profiles[ctx.profile]) return;
  const names = ['local', ...Object.keys(ir.profiles)].join(', ');
  throw new CliError(`unknown profile "${ctx.profile}" (this spec has: ${names})`);
}

export function openState(ctx: CommandContext, spec: { file: string; ir: PipelineIR }): { store: StateStore; state: PipelineState } {
  const store = new StateStore(stateDirFor(ctx, spec.file), spec.ir.name);
  try {
    return { store, state: store.read() };
  } catch (e) {
    if (e instanceof StateError || e instanceof SyntaxError) throw new CliError(`cannot read the state ${store.file}: ${e.message}`, 1);
    throw e;
  }
}

/** Schemas of `ir`; schema errors are spec errors (printed, exit 2) just as `validate` reports them. */
async function schemasOf(
  ctx: CommandContext,
  spec: LoadedSpec & { ir: PipelineIR },
  known?: ReadonlyMap<NodeId, readonly ColumnSchema[]>,
): Promise<ReadonlyMap<NodeId, readonly ColumnSchema[]> | undefined> {
  let r: Awaited<ReturnType<typeof inferSchemas>>;
  try {
    r = await inferSchemas(spec.ir, known, spec);
  } catch (e) {
    ctx.err(`warning: schema inference failed (${(e as Error).message}); planning without schemas\n`);
    return undefined;
  }
  if (r.diagnostics.length) failOnErrors(ctx, { ...spec, diagnostics: r.diagnostics });
  return r.schemas;
}

export async function makePlan(ctx: CommandContext, spec: LoadedSpec & { ir: PipelineIR }, base?: string): Promise<Planned> {
  checkProfile(ctx, spec.ir);
  const fingerprints = fingerprintPipeline(spec.ir);
  if (base !== undefined) {
    const baseSpec = await loadBaseSpec(base, spec.file, ctx.io.cwd);
    if (hasErrors(baseSpec.diagnostics) || !baseSpec.ir) {
      if (ctx.format !== 'json') printDiagnostics(ctx, baseSpec.diagnostics, baseSpec.sources);
      throw new CliError(`the base spec ${base} has errors; fix it or pick another --base`);
    }
    let baseSchemas: ReadonlyMap<NodeId, readonly ColumnSchema[]> | undefined;
    try {
      baseSchemas = (await inferSchemas(baseSpec.ir)).schemas;
    } catch {
      baseSchemas = undefined;
    }
    const schemas = await schemasOf(ctx, spec);
    const plan = buildPlan({
      ir: spec.ir,
      profile: ctx.profile,
      prior: priorFromIr(baseSpec.ir, baseSchemas),
      against: { kind: 'base', ref: base },
      schemas,
      fingerprints,
    });
    return { plan, schemas };
  }
  const { store, state } = openState(ctx, spec);
  const known = new Map<NodeId, readonly ColumnSchema[]>();
  for (const [id, n] of Object.entries(state.nodes)) if (n.schema) known.set(id, n.schema);
  const schemas = await schemasOf(ctx, spec, known);
  const plan = buildPlan({
    ir: spec.ir,
    profile: ctx.profile,
    prior: priorFromState(state),
    stateSerial: state.serial,
    stateLineage: state.lineage,
    schemas,
    fingerprints,
  });
  return { plan, store, state, schemas };
}

/** Save a plan; its `spec` is written relative to the plan file so the pair can move together. */
export function savePlan(plan: Plan, file: string): void {
  const doc = planToJson(plan) as Record<string, unknown>;
  doc.spec = relative(dirname(file), plan.spec) || plan.spec;
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
  let doc: Plan;
  try {
    doc = JSON.parse(readFileSync(file, 'utf8')) as Plan;
  } catch (e) {
    throw new CliError(`cannot read the plan ${file}: ${(e as Error).message}`);
  }
  if (!doc || typeof doc !== 'object' || !Array.isArray(doc.actions) || typeof doc.spec !== 'string') {
    throw new CliError(`${file} is not a plan saved by asgard plan --out`);
  }
  if (doc.schemaVersion !== PLAN_SCHEMA_VERSION) {
    throw new CliError(`${file} has plan schemaVersion ${String(doc.schemaVersion)}; this asgard reads ${PLAN_SCHEMA_VERSION}: make the plan again`);
  }
  return { ...doc, spec: resolve(dirname(file), doc.spec) };
}

