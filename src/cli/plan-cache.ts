// The last reviewed plan of each spec, replayed while nothing it is made from changed (#16.3). A
// plan and its review are a pure function of: the checked spec (its spec-cache key: build id, path,
// text and `--var` values, src/cli/spec-cache.ts), the applied state (a hash of its text: nodes,
// schemas, serial, last runs), the profile, the snapshots missing from the warehouse, and whether
// schemas were inferred (schemas themselves follow from the spec, the state and the build). A
// repeated `asgard plan` (a CI re-run, a second look) then neither fingerprints, plans nor reviews a
// node, nor loads the modules that do; with the spec's head kept beside the plan (its name,
// warehouse, profiles, warnings and secret references), it does not even read the checked spec
// (replayPlan). One entry per spec in the workspace's `cache/plans/<spec>.json`, keyed by the
// spec (its first bytes, src/util/keyed-file.ts), the actions kept as printed (planEntryParts); any
// doubt (another spec or input, a damaged file) means the plan is made again. A plan that differs
// from the whole entry this command read in under half of its actions (a plan after an edit: the
// edit's downstream) is kept as those actions only, in `<spec>.json.delta` over that entry, so an
// edit of a large spec does not rewrite the whole plan (10 MB at 10,000 nodes) as the spec cache
// does not rewrite the whole checked spec.

import type { Diagnostic } from '../diagnostics/diagnostic.js';
import type { NodeId, PipelineIR } from '../ir/types.js';
import type { Plan, PlannedAction } from '../planner/plan.js';
import { ACTION_SEPARATOR, actionText, actionsText, joinedTexts, knownActionText } from '../planner/plan-json.js';
import type { PipelineState, SnapshotRef, StateStore } from '../planner/state-store.js';
import type { Warehouse } from '../warehouse/warehouse.js';
import { sha256 } from '../util/canonical-json.js';
import { writeFileAtomic } from '../util/fs-atomic.js';
import { hasKey } from '../util/keyed-file.js';
import type { Workspace, WorkspaceCaches } from '../workspace/workspace.js';
import type { CommandContext } from './command.js';
import { type SecretRef, secretRefs } from './secrets.js';
import { cliVars, workspaceOf, type LoadedSpec } from './spec.js';
import { specTextKey } from './spec-text.js';
import { existsSync, rmSync, statSync } from 'node:fs';
import { readUtf8 } from '../util/read-utf8.js';
import { resolve } from 'node:path';
import type { ReplayProof } from './plan-replay.cjs';

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

/** An entry of the plan cache (its file: planEntryParts). */
export interface PlanEntry {
  /** planKey of what the plan was made from. */
  readonly inputs: string;
  readonly plan: Plan;
  /** Kept when the plan printed nothing but the spec's own warnings on its way (no schema warnings). */
  readonly head?: Head;
}

/** The entry file's first line. */
interface EntryHead extends Omit<PlanEntry, 'plan'> {
  readonly key: string;
  readonly plan: Omit<Plan, 'actions'>;
  /** The length of each action's text in the array that follows. */
  readonly lengths: readonly number[];
}

/** What a delta entry's first line adds: the whole entry it changes and the places of the actions it replaces. */
interface DeltaOf {
  /** The whole entry's key and inputs. */
  readonly base: string;
  readonly baseInputs: string;
  /** The place in the base's actions of each action in the delta's array, ascending. */
  readonly places: readonly number[];
}

const inputsKey = (inputs: PlanInputs): string =>
  sha256(JSON.stringify([inputs.profile, inputs.state, [...inputs.missingSnapshots].sort((a, b) => (a[0] < b[0] ? -1 : 1)), inputs.schemas]));

const deltaPath = (path: string): string => `${path}.delta`;

/**
 * The file of the entry `entry` under `key`: its first line the entry without the plan's actions,
 * with the length of each action's printed text (src/planner/plan-json.ts); then the actions as one
 * JSON array of those texts (`[` text `,\n    ` text … `]`). A reader parses the array once and
 * knows each action's text from the lengths: a plan printed from kept actions serialises none of
 * them again, and neither does the entry written after it. A delta entry's file is the same with
 * only the actions it replaces in the array, and `delta` on its first line.
 */
export function planEntryParts(key: string, entry: PlanEntry, delta?: DeltaOf): Buffer[] {
  const { actions, ...plan } = entry.plan;
  const { text, lengths } = delta ? joinedTexts(delta.places.map((i) => actions[i])) : actionsText(actions);
  const head: EntryHead & { delta?: DeltaOf } = { key, ...entry, plan, lengths, ...(delta ? { delta } : {}) };
  return [Buffer.from(`${JSON.stringify(head)}\n[`), Buffer.from(text), Buffer.from(']')];
}

/** The entry in the text of an entry file (planEntryParts), its actions' texts known; undefined when damaged. */
export function parsePlanEntry(text: string): (PlanEntry & { readonly key: string; readonly delta?: DeltaOf }) | undefined {
  const nl = text.indexOf('\n');
  if (nl < 0) return undefined;
  let head: EntryHead & { delta?: DeltaOf };
  let actions: PlannedAction[];
  const body = text.slice(nl + 1);
  try {
    head = JSON.parse(text.slice(0, nl)) as EntryHead;
    actions = JSON.parse(body) as PlannedAction[];
  } catch {
    return undefined;
  }
  if (!head || typeof head !== 'object') return undefined;
  const { lengths, plan, ...rest } = head;
  if (!Array.isArray(actions) || !Array.isArray(lengths) || lengths.length !== actions.length) return undefined;
  // Each action's text, by the lengths: they must tile the array exactly.
  const texts: string[] = [];
  let at = 1;
  for (const n of lengths) {
    const last = texts.length === lengths.length - 1;
    if (body[at] !== '{' || body[at + n - 1] !== '}' || !body.startsWith(last ? ']' : ACTION_SEPARATOR, at + n)) return undefined;
    texts.push(body.slice(at, at + n));
    at += n + ACTION_SEPARATOR.length;
  }
  if ((actions.length ? at - ACTION_SEPARATOR.length + 1 : 2) !== body.length) return undefined;
  for (let i = 0; i < actions.length; i++) knownActionText(actions[i], texts[i]);
  return { ...rest, plan: { ...plan, actions } };
}

/** The entry file's text when its first bytes say it holds the entry of `key`. */
const keyedText = (path: string, key: string): string | undefined => (hasKey(path, key) ? readUtf8(path) : undefined);

/**
 * The whole entry each entry read by this process was, or was made from (by path), with its file's
 * size and time when read: a plan made next is kept as a delta of it when the file is still that
 * one (another command, or another process, may have written it since) and the plan differs from
 * it in under half of its actions (cachePlan).
 */
const wholeEntries = new Map<string, { readonly key: string; readonly inputs: string; readonly actions: readonly PlannedAction[]; readonly stamp: string }>();
const stampOf = (path: string): string => {
  const st = statSync(path);
  return `${st.ino} ${st.size} ${st.mtimeMs}`;
};

function entryOf(caches: WorkspaceCaches, file: string, cacheKey: string): PlanEntry | undefined {
  const path = caches.planFile(file);
  const key = caches.specKey(file, cacheKey);
  try {
    const stamp = stampOf(path);
    const whole = keyedText(path, key);
    if (whole !== undefined) {
      const e = parsePlanEntry(whole);
      if (e?.key !== key || e.delta) return undefined;
      wholeEntries.set(path, { key, inputs: e.inputs, actions: e.plan.actions, stamp });
      return e;
    }
    const deltaText = keyedText(deltaPath(path), key);
    const d = deltaText === undefined ? undefined : parsePlanEntry(deltaText);
    const baseText = d?.delta && keyedText(path, d.delta.base);
    const base = baseText ? parsePlanEntry(baseText) : undefined;
    if (d?.key !== key || !d.delta || !base || base.delta || base.key !== d.delta.base || base.inputs !== d.delta.baseInputs) return undefined;
    const { places } = d.delta;
    if (!Array.isArray(places) || places.length !== d.plan.actions.length) return undefined;
    const actions = base.plan.actions.slice();
    for (let i = 0; i < places.length; i++) {
      if (!Number.isInteger(places[i]) || places[i] < (i ? places[i - 1] + 1 : 0) || places[i] >= actions.length) return undefined;
      actions[places[i]] = d.plan.actions[i];
    }
    wholeEntries.set(path, { key: base.key, inputs: base.inputs, actions: base.plan.actions, stamp });
    const { delta: _delta, ...entry } = d;
    return { ...entry, plan: { ...d.plan, actions } };
  } catch {
    return undefined; // a damaged or foreign file: no entry
  }
}

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
  const path = caches.planFile(file);
  const key = caches.specKey(file, cacheKey);
  const entry: PlanEntry = { inputs: inputsKey(inputs), plan, ...(head ? { head } : {}) };
  const base = wholeEntries.get(path);
  wholeEntries.delete(path);
  try {
    const places = base && base.key !== key && base.stamp === stampOf(path) ? changedPlaces(base.actions, plan.actions) : undefined;
    if (places && base) {
      writeFileAtomic(deltaPath(path), planEntryParts(key, entry, { base: base.key, baseInputs: base.inputs, places }), false);
    } else {
      writeFileAtomic(path, planEntryParts(key, entry), false);
      rmSync(deltaPath(path), { force: true });
    }
  } catch {
    // a cache (never fsynced): a read-only state folder means the next plan is made again
  }
}

/** Where `actions` print otherwise than `base`'s (the same length), when that is under half of them. */
function changedPlaces(base: readonly PlannedAction[], actions: readonly PlannedAction[]): number[] | undefined {
  if (base.length !== actions.length) return undefined;
  const places: number[] = [];
  for (let i = 0; i < actions.length; i++) {
    // A kept action is the base's own object, or prints as the same text.
    if (actions[i] !== base[i] && actionText(actions[i]) !== actionText(base[i])) places.push(i);
    if (places.length * 2 >= actions.length) return undefined;
  }
  return places;
}

/** What a plan found of the state's snapshots in the warehouse. */
export interface SnapshotCheck {
  /** The nodes whose snapshot is gone, by id, with the path found missing: rebuilt by the plan. */
  readonly missing: Map<NodeId, string>;
  /** Every local path found there (a local warehouse whose snapshots could all be read): what a replay checks again (plan-replay.cts). */
  readonly present?: readonly string[];
}

/** The state's snapshots as the warehouse holds them now (a remote one's bucket decides). */
export async function snapshotCheck(ws: Workspace, ir: Pick<PipelineIR, 'name' | 'warehouse' | 'profiles'>, state: PipelineState): Promise<SnapshotCheck> {
  const warehouse = ws.warehouse(ir);
  const remote = ws.remote(ir);
  const missing = new Map<NodeId, string>();
  let present: string[] | undefined = remote ? undefined : [];
  // The paths of a snapshot seen whole before are known without reading its manifests (its files
  // never change once committed): only whether each is still there is looked at again.
  const known = remote ? undefined : ws.caches.snapshotPaths();
  for (const [id, n] of Object.entries(state.nodes)) {
    if (!n.snapshot) continue;
    // A remote warehouse's working copy holds only what was pulled: the bucket decides.
    if (remote) {
      if (!(await remote.hasSnapshot(n.snapshot))) missing.set(id, n.snapshot.path);
      continue;
    }
    const key = snapshotKey(warehouse, n.snapshot);
    const cached = known?.get(key);
    const { paths, complete } = cached ? { paths: cached, complete: true } : await warehouse.snapshotPaths(n.snapshot);
    const gone = paths.find((p) => !existsSync(p));
    if (gone) missing.set(id, gone);
    else if (complete && !cached) known?.set(key, paths);
    if (complete) present?.push(...paths);
    else present = undefined;
  }
  known?.save();
  return { missing, ...(present ? { present } : {}) };
}

const snapshotKey = (warehouse: Warehouse, s: SnapshotRef): string => JSON.stringify([warehouse.root, s.path, s.metadataLocation, s.manifestList]);

/**
 * Records the paths of the state's snapshots that snapshotCheck has not seen (those an apply just
 * committed, while the manifests it wrote are at hand), so that the next plan over them, a no-op
 * apply's, reads no manifest. A local warehouse only (a remote one's bucket decides).
 */
export async function rememberSnapshots(ws: Workspace, ir: Pick<PipelineIR, 'name' | 'warehouse' | 'profiles'>, state: PipelineState): Promise<void> {
  if (ws.remote(ir)) return;
  const warehouse = ws.warehouse(ir);
  const known = ws.caches.snapshotPaths();
  for (const n of Object.values(state.nodes)) {
    if (!n.snapshot) continue;
    const key = snapshotKey(warehouse, n.snapshot);
    if (known.get(key)) continue;
    const { paths, complete } = await warehouse.snapshotPaths(n.snapshot);
    if (complete && paths.every((p) => existsSync(p))) known.set(key, paths);
  }
  known.save();
}

/**
 * What a later `asgard plan` process must find unchanged to print this plan's output again
 * (src/cli/plan-replay.cts), or undefined when that cannot be proven from files alone: a kubernetes
 * profile (drift is read from the cluster), a remote warehouse, a snapshot missing or not wholly
 * known, a profile setting read from the environment (the warehouse may move).
 */
export function replayProof(
  ctx: CommandContext,
  ws: Workspace,
  head: Pick<PipelineIR, 'profiles'> & { readonly secrets: readonly SecretRef[] },
  spec: { readonly file: string; readonly text: string | undefined; readonly cacheKey: string },
  store: StateStore,
  snapshots: SnapshotCheck,
): ReplayProof | undefined {
  // The text alone is what the spec was checked from (no --var: a replayed command line has none).
  if (spec.text === undefined || spec.cacheKey !== spec.text) return undefined;
  const profile = head.profiles[ctx.profile];
  if (profile?.target === 'kubernetes' || Object.values(profile?.settings ?? {}).some((v) => v.kind !== 'literal')) return undefined;
  if (!snapshots.present || snapshots.missing.size > 0 || store.lastRead === undefined) return undefined;
  return {
    record: ws.caches.replayFile(spec.file),
    build: ws.caches.buildId,
    spec: { file: spec.file, text: spec.text },
    state: { file: store.file, hash: store.lastRead },
    present: snapshots.present,
    env: [...new Set(head.secrets.map((r) => r.name))],
  };
}

/**
 * `asgard plan SPEC` (its file's `text`, specText) answered from the last plan without reading the checked spec: the spec's text,
 * the state and the warehouse's snapshots are what it was made from, under a profile that reads no
 * cluster, with a local warehouse (a remote one is pulled first). Undefined when anything differs
 * or is not known: the plan is then made as usual.
 */
export async function replayPlan(
  ctx: CommandContext,
  text: string | undefined,
): Promise<{ plan: Plan; spec: LoadedSpec; secrets: readonly SecretRef[]; proof?: ReplayProof } | undefined> {
  const file = resolve(ctx.io.cwd, ctx.positionals[0]);
  if (text === undefined) return undefined;
  const cacheKey = specTextKey(text, cliVars(ctx));
  const ws = workspaceOf(ctx, { file });
  const e = entryOf(ws.caches, file, cacheKey);
  const head = e?.head;
  if (!e || !head) return undefined;
  const profile = head.profiles[ctx.profile];
  if ((ctx.profile !== 'local' && !profile) || profile?.target === 'kubernetes') return undefined;
  let proof: ReplayProof | undefined;
  try {
    if (ws.remote(head)) return undefined;
    const store = ws.state(head);
    const state = store.read();
    if (store.lastRead === undefined) return undefined;
    const snapshots = await snapshotCheck(ws, head, state);
    if (e.inputs !== inputsKey({ profile: ctx.profile, state: store.lastRead, missingSnapshots: snapshots.missing, schemas: true })) return undefined;
    proof = replayProof(ctx, ws, head, { file, text, cacheKey }, store, snapshots);
  } catch {
    return undefined; // a bad state or profile setting: the usual path says what is wrong
  }
  return {
    plan: e.plan,
    spec: { file, diagnostics: head.diagnostics, sources: new Map([[file, text]]), cacheKey },
    secrets: head.secrets,
    ...(proof ? { proof } : {}),
  };
}
