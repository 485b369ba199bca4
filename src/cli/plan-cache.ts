// The last reviewed plan of each spec, replayed while nothing it is made from changed (#16.3). A
// plan and its review are a pure function of: the checked spec (its spec-cache key: build id, path,
// text and `--var` values, src/cli/spec-cache.ts), the applied state (a hash of its text: nodes,
// schemas, serial, last runs), the profile, the snapshots missing from the warehouse, and whether
// schemas were inferred (schemas themselves follow from the spec, the state and the build). A
// repeated `asgard plan` (a CI re-run, a second look) then neither fingerprints, plans nor reviews a
// node, nor loads the modules that do; with the spec's head kept beside the plan (its name,
// warehouse, profiles, warnings and secret references), it does not even read the checked spec
// (replayPlan). One entry per spec in the workspace's `cache/plans/<spec>.json`, keyed by the
// spec (src/util/keyed-file.ts); any doubt (another spec or input, a damaged file) means the plan is
// made again.

import type { Diagnostic } from '../diagnostics/diagnostic.js';
import type { NodeId, PipelineIR } from '../ir/types.js';
import type { Plan } from '../planner/plan.js';
import type { PipelineState } from '../planner/state-store.js';
import { sha256 } from '../util/canonical-json.js';
import { readKeyed, writeKeyed } from '../util/keyed-file.js';
import type { Workspace, WorkspaceCaches } from '../workspace/workspace.js';
import type { CommandContext } from './command.js';
import { type SecretRef, secretRefs } from './secrets.js';
import { specKey } from './spec-cache.js';
import { cliVars, specText, specTextKey, workspaceOf, type LoadedSpec } from './spec.js';
import { resolve } from 'node:path';

/** What a plan against the state is made from, besides the spec. */
export interface PlanInputs {
  readonly profile: string;
  /** A hash of the state the plan is made from (StateStore.lastRead). */
  readonly state: string;
  readonly missingSnapshots: ReadonlyMap<NodeId, string>;
  /** Whether schema inference gave schemas (it may fail: the plan is then made without). */
  readonly schemas: boolean;
}

/** What the plan command needs of a spec whose plan is replayed without reading the checked spec. */
type Head = Pick<PipelineIR, 'name' | 'warehouse' | 'profiles'> & {
  /** The spec's warnings (it has no errors). */
  readonly diagnostics: readonly Diagnostic[];
  readonly secrets: readonly SecretRef[];
};

interface Entry {
  /** planKey of what the plan was made from. */
  readonly inputs: string;
  readonly plan: Plan;
  /** Kept when the plan printed nothing but the spec's own warnings on its way (no schema warnings). */
  readonly head?: Head;
}

const inputsKey = (inputs: PlanInputs): string =>
  sha256(JSON.stringify([inputs.profile, inputs.state, [...inputs.missingSnapshots].sort((a, b) => (a[0] < b[0] ? -1 : 1)), inputs.schemas]));

const entryOf = (caches: WorkspaceCaches, file: string, cacheKey: string): Entry | undefined =>
  readKeyed<Entry>(caches.planFile(file), specKey(caches, file, cacheKey));

/** The plan of the spec `file` (read as `cacheKey`, LoadedSpec.cacheKey) made from `inputs`, if it is the last one made. */
export function cachedPlan(caches: WorkspaceCaches, file: string, cacheKey: string, inputs: PlanInputs): Plan | undefined {
  const e = entryOf(caches, file, cacheKey);
  return e?.inputs === inputsKey(inputs) ? e.plan : undefined;
}

/** Keeps `plan`; with `spec` (whose plan printed nothing but the spec's warnings), replayPlan may answer without reading the spec. */
export function cachePlan(
  caches: WorkspaceCaches,
  file: string,
  cacheKey: string,
  inputs: PlanInputs,
  plan: Plan,
  spec?: LoadedSpec & { ir: PipelineIR },
): void {
  const head: Head | undefined = spec && {
    name: spec.ir.name,
    warehouse: spec.ir.warehouse,
    profiles: spec.ir.profiles,
    diagnostics: spec.diagnostics,
    secrets: secretRefs(spec.ir),
  };
  writeKeyed(caches.planFile(file), specKey(caches, file, cacheKey), { inputs: inputsKey(inputs), plan, ...(head ? { head } : {}) } satisfies Entry);
}

/** The state's nodes whose snapshot is gone from the warehouse (a remote one's bucket decides), by id: rebuilt by the plan. */
export async function missingSnapshots(
  ws: Workspace,
  ir: Pick<PipelineIR, 'name' | 'warehouse' | 'profiles'>,
  state: PipelineState,
): Promise<Map<NodeId, string>> {
  const warehouse = ws.warehouse(ir);
  const remote = ws.remote(ir);
  const out = new Map<NodeId, string>();
  for (const [id, n] of Object.entries(state.nodes)) {
    if (!n.snapshot) continue;
    // A remote warehouse's working copy holds only what was pulled: the bucket decides.
    const missing = remote ? ((await remote.hasSnapshot(n.snapshot)) ? undefined : n.snapshot.path) : await warehouse.missingSnapshot(n.snapshot);
    if (missing) out.set(id, missing);
  }
  return out;
}

/**
 * `asgard plan SPEC` answered from the last plan without reading the checked spec: the spec's text,
 * the state and the warehouse's snapshots are what it was made from, under a profile that reads no
 * cluster, with a local warehouse (a remote one is pulled first). Undefined when anything differs
 * or is not known: the plan is then made as usual.
 */
export async function replayPlan(ctx: CommandContext): Promise<{ plan: Plan; spec: LoadedSpec; secrets: readonly SecretRef[] } | undefined> {
  const file = resolve(ctx.io.cwd, ctx.positionals[0]);
  const text = specText(file);
  if (text === undefined) return undefined;
  const cacheKey = specTextKey(text, cliVars(ctx));
  const ws = workspaceOf(ctx, { file });
  const e = entryOf(ws.caches, file, cacheKey);
  const head = e?.head;
  if (!e || !head) return undefined;
  const profile = head.profiles[ctx.profile];
  if ((ctx.profile !== 'local' && !profile) || profile?.target === 'kubernetes') return undefined;
  try {
    if (ws.remote(head)) return undefined;
    const store = ws.state(head);
    const state = store.read();
    if (store.lastRead === undefined) return undefined;
    const inputs = { profile: ctx.profile, state: store.lastRead, missingSnapshots: await missingSnapshots(ws, head, state), schemas: true };
    if (e.inputs !== inputsKey(inputs)) return undefined;
  } catch {
    return undefined; // a bad state or profile setting: the usual path says what is wrong
  }
  return { plan: e.plan, spec: { file, diagnostics: head.diagnostics, sources: new Map([[file, text]]), cacheKey }, secrets: head.secrets };
}
