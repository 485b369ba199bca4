// Building a plan: a pure diff of the spec's IR against what was applied before (the state) or
// against the IR of a base spec (pull-request review, no state needed). No I/O: the CLI reads
// files and state and hands them in; a plan is plain data that can be saved and applied later.

import type { NodeId, NodeKind, PipelineIR, PipelineNode } from '../ir/types.js';
import type { ColumnSchema, PipelineState } from './state-store.js';
import { allDownstream, buildDag } from './dag.js';
import { fingerprintPipeline, specFingerprint, type NodeDefinition, type NodeFingerprint, FORCES_REPLACEMENT } from './fingerprint.js';
import { canonicalJson, sha256 } from '../util/canonical-json.js';
import type { SqlChange } from '../sql/sql-diff.js';
import { featuresMaintenance, maintenanceOf, maintenanceText, rebuildsTable } from './maintenance.js';
import type { Category, Impact, NodeCost } from './review.js';

export const PLAN_SCHEMA_VERSION = 1;

export type Action = 'create' | 'update' | 'replace' | 'delete' | 'noop';

export interface SchemaChange {
  readonly column: string;
  readonly change: 'added' | 'removed' | 'type_changed';
  readonly from?: string;
  readonly to?: string;
  readonly breaking: boolean;
}

export interface PlannedAction {
  readonly node: NodeId;
  readonly kind: NodeKind;
  readonly action: Action;
  readonly reasons: readonly string[];
  readonly schemaChanges: readonly SchemaChange[];
  readonly downstream: readonly NodeId[];
  /**
   * Table nodes that run again with an unchanged definition: `incremental: derived (groups by k)`
   * or `full: <why>` (src/planner/maintenance.ts).
   */
  readonly maintenance?: string;
  /** Only the metadata (description, tags …) changed: state is updated, nothing runs. */
  readonly metadataOnly?: boolean;
  /** What the change means for readers (filled by reviewPlan, src/planner/review.ts). */
  readonly category?: Category;
  /** Downstream consumers the change reaches, with the columns they read. */
  readonly impact?: readonly Impact[];
  /** Structural changes of the SQL body. */
  readonly sqlDiff?: readonly SqlChange[];
  /** Rows and seconds of the node's last run: what rebuilding it costs. */
  readonly cost?: NodeCost;
  /** `plan --diff-data`: base and head outputs compared in a sandbox. */
  readonly dataDiff?: DataDiff;
  /** The new fingerprints (absent for delete): apply records them. */
  readonly fingerprint?: string;
  readonly metaFingerprint?: string;
}

export interface DistributionStats {
  readonly mean: number | null;
  readonly nullShare: number;
}

/** Base and head outputs of one node compared by primary key (`plan --diff-data`, src/engine/data-diff.ts). */
export interface DataDiff {
  readonly key: readonly string[];
  /** Keys sampled (deterministically) when `--sample N` was given. */
  readonly sample?: number;
  /** Why the node could not be compared (no key, not a table …). */
  readonly error?: string;
  readonly rows?: {
    readonly before: number;
    readonly after: number;
    readonly added: number;
    readonly removed: number;
    readonly changed: number;
    readonly unchanged: number;
    readonly addedKeys: readonly string[];
    readonly removedKeys: readonly string[];
  };
  /** Per column present before and after: keys whose value differs, with a few example keys. */
  readonly columns: readonly { readonly column: string; readonly changed: number; readonly exampleKeys: readonly string[] }[];
  /** Feature views: each feature's distribution before and after. */
  readonly distributions?: readonly { readonly column: string; readonly before: DistributionStats; readonly after: DistributionStats }[];
  /** Train nodes: the served model's scores on the same entities, before and after the change (src/ml/score-diff.ts). */
  readonly scores?: ScoreChange;
}

/** How a change moves a model's scores: the served version scores each entity's current row before and after. */
export interface ScoreChange {
  /** The registry version that scored. */
  readonly version: number;
  /** Entities scored (present on both sides; `--sample N` caps them). */
  readonly rows: number;
  readonly before: { readonly mean: number };
  readonly after: { readonly mean: number };
  /** Entities whose score moved (by more than 1e-6). */
  readonly changed: number;
  /** Predictions that cross the threshold, either way. */
  readonly flipped: number;
  readonly flips: { readonly toPositive: number; readonly toNegative: number };
  /** prediction = 1 when the probability exceeds it. */
  readonly threshold: number;
  readonly meanAbsChange: number;
  /** Quantiles of the per-entity change (after − before). */
  readonly delta: { readonly min: number; readonly p10: number; readonly p50: number; readonly p90: number; readonly max: number };
}

export interface Plan {
  readonly schemaVersion: typeof PLAN_SCHEMA_VERSION;
  readonly pipeline: string;
  readonly profile: string;
  /** Absolute path of the spec the plan was made from. */
  readonly spec: string;
  readonly specFingerprint: string;
  /** What the spec was compared with: the state, or a base spec (`--base`). */
  readonly against: { readonly kind: 'state' } | { readonly kind: 'base'; readonly ref: string };
  /** Serial and lineage of the state the plan was made from (0 and '' for an empty state or a base). */
  readonly stateSerial: number;
  readonly stateLineage: string;
  readonly summary: Readonly<Record<Action, number>>;
  readonly actions: readonly PlannedAction[];
}

/** What was applied before, per node: NodeState has this shape, and so has a base spec's IR. */
export interface PriorNode {
  readonly kind: NodeKind;
  readonly fingerprint: string;
  readonly metaFingerprint: string;
  readonly definition: unknown;
  readonly schema?: readonly ColumnSchema[];
}

export interface PlanInput {
  readonly ir: PipelineIR;
  readonly profile?: string;
  readonly prior: Readonly<Record<NodeId, PriorNode>>;
  readonly against?: Plan['against'];
  readonly stateSerial?: number;
  readonly stateLineage?: string;
  /** Inferred output schemas of the spec's nodes, when known: enables schemaChanges. */
  readonly schemas?: ReadonlyMap<NodeId, readonly ColumnSchema[]>;
  /** Precomputed fingerprints of `ir` (the CLI computes them once). */
  readonly fingerprints?: ReadonlyMap<NodeId, NodeFingerprint>;
  /** Nodes whose state points to a snapshot folder that no longer exists → its path: rebuilt. */
  readonly missingSnapshots?: ReadonlyMap<NodeId, string>;
}

/** The prior of a base spec: its nodes' fingerprints and definitions, and its schemas when known. */
export function priorFromIr(base: PipelineIR, schemas?: ReadonlyMap<NodeId, readonly ColumnSchema[]>): Record<NodeId, PriorNode> {
  const out: Record<NodeId, PriorNode> = {};
  for (const f of fingerprintPipeline(base).values()) {
    const schema = schemas?.get(f.id);
    out[f.id] = { kind: f.kind, fingerprint: f.fingerprint, metaFingerprint: f.metaFingerprint, definition: f.definition, ...(schema ? { schema } : {}) };
  }
  return out;
}

export const priorFromState = (state: PipelineState): Record<NodeId, PriorNode> => ({ ...state.nodes });

export function buildPlan(input: PlanInput): Plan {
  const { ir, prior } = input;
  const fps = input.fingerprints ?? fingerprintPipeline(ir);
  const dag = buildDag(ir);
  const downstream = allDownstream(dag);
  const byId = new Map(ir.nodes.map((n) => [n.id, n]));
  const planned = new Map<NodeId, PlannedAction>();
  for (const id of dag.order) planned.set(id, plannedAction(input, byId.get(id)!, fps.get(id)!, downstream.get(id) ?? [], planned));
  const actions = [...planned.values()];
  const deleted = Object.keys(prior)
    .filter((id) => !byId.has(id))
    .sort();
  for (const id of deleted) {
    actions.push({ node: id, kind: prior[id].kind, action: 'delete', reasons: ['removed from spec'], schemaChanges: [], downstream: [] });
  }
  return planOf(input, fps, actions);
}

/** The plan of `actions` (in the DAG's order, then the deletes). */
function planOf(input: PlanInput, fps: ReadonlyMap<NodeId, NodeFingerprint>, actions: readonly PlannedAction[]): Plan {
  const summary: Record<Action, number> = { create: 0, update: 0, replace: 0, delete: 0, noop: 0 };
  for (const a of actions) summary[a.action]++;
  return {
    schemaVersion: PLAN_SCHEMA_VERSION,
    pipeline: input.ir.name,
    profile: input.profile ?? 'local',
    spec: input.ir.file,
    specFingerprint: specFingerprint(input.ir, fps),
    against: input.against ?? { kind: 'state' },
    stateSerial: input.stateSerial ?? 0,
    stateLineage: input.stateLineage ?? '',
    summary,
    actions,
  };
}

/** Does the action change the node's data (its readers then run again)? */
const changesData = (a: PlannedAction | undefined): boolean =>
  !!a && (a.action === 'create' || a.action === 'replace' || (a.action === 'update' && !a.metadataOnly));

/**
 * The action of one node: a function of the node, its fingerprints, its prior, its missing snapshot,
 * its schema and the actions `planned` of its inputs (which change data) and, for a feature view, of
 * its source (src/planner/maintenance.ts reads the node's SQL and its inputs' keys from `ir`).
 */
function plannedAction(
  input: PlanInput,
  node: PipelineNode,
  fp: NodeFingerprint,
  downstream: readonly NodeId[],
  planned: ReadonlyMap<NodeId, PlannedAction>,
): PlannedAction {
  const id = node.id;
  const before = input.prior[id];
  // Each action one object literal in this key order: `{ ...base, action, … }` cost ~1 KB more an
  // action (the copy's property store grown key by key; bench/plan.md, session 15, planm).
  const { fingerprint, metaFingerprint } = fp;
  const made = (action: Action, reasons: readonly string[], schemaChanges: readonly SchemaChange[]): PlannedAction => ({
    node: id,
    kind: node.kind,
    downstream,
    fingerprint,
    metaFingerprint,
    action,
    reasons,
    schemaChanges,
  });
  if (!before || before.kind !== node.kind) {
    return made('create', [before ? `kind changed from ${before.kind}` : 'never applied'], []);
  }
  const prevDef = asDefinition(before.definition);
  const missing = input.missingSnapshots?.get(id);
  if (missing !== undefined) {
    // The state says the table exists, the warehouse does not have it: only a rebuild restores it.
    return made('replace', [`snapshot missing: ${missing} does not exist`], []);
  }
  if (before.fingerprint === fp.fingerprint) {
    if (before.metaFingerprint === fp.metaFingerprint) return made('noop', [], []);
    const changed = changedKeys(prevDef?.meta, fp.definition.meta);
    const reasons = (changed.length ? changed : ['metadata']).map((k) => `${k.replace(/_/g, ' ')} changed (metadata only)`);
    return { node: id, kind: node.kind, downstream, fingerprint, metaFingerprint, action: 'update', reasons, schemaChanges: [], metadataOnly: true };
  }
  let own = changedKeys(prevDef?.data, fp.definition.data);
  // Whether SQL reads the logical time follows from the SQL: name the SQL, not the consequence.
  if (own.includes('sql')) own = own.filter((k) => k !== 'logical_time');
  const upstream = node.inputs.filter((p) => changesData(planned.get(p))).sort();
  const meta = before.metaFingerprint === fp.metaFingerprint ? [] : changedKeys(prevDef?.meta, fp.definition.meta);
  const reasons = [
    ...own.map((k) => (k.startsWith('var ') ? k.replace(/^(var \S+)/, '$1 changed') : `${k} changed`)),
    ...upstream.map((p) => `upstream ${p} changed`),
    ...meta.map((k) => `${k.replace(/_/g, ' ')} changed`),
  ];
  if (reasons.length === 0) reasons.push('definition changed');
  const newSchema = input.schemas?.get(id);
  const schemaChanges = before.schema && newSchema ? diffSchemas(before.schema, newSchema) : [];
  // A removed or retyped column cannot be altered in place: the table is rebuilt. Whether that
  // breaks a reader is the review's question (src/planner/review.ts), not the action's.
  const incompatible = schemaChanges.some((c) => c.change !== 'added');
  if (incompatible) reasons.push('column removed or retyped');
  // Rows appended by an append cleanse or an incremental model were computed by the old SQL:
  // keeping them would mix two definitions in one table.
  const accumulates = (node.kind === 'cleanse' && node.mode === 'append') || (node.kind === 'model' && node.materialized === 'incremental');
  const replace = incompatible || own.some((k) => FORCES_REPLACEMENT[node.kind].includes(k.split('.')[0])) || (accumulates && own.includes('sql'));
  // How the table follows its inputs' changes (only an unchanged definition can build on the last run).
  const maintenance = replace ? undefined : plannedMaintenance(node, own, input.ir, planned);
  const action = made(replace ? 'replace' : 'update', reasons, schemaChanges);
  return maintenance ? { ...action, maintenance } : action;
}

/**
 * The nodes an edit of the nodes `changed` reaches (them and their downstream), in the DAG's order,
 * from `last`, the plan of the text before the edit; undefined when a changed node is not in it.
 */
export function editedDownstream(last: Plan, changed: ReadonlySet<NodeId>): NodeId[] | undefined {
  const reached = new Set<NodeId>();
  for (const id of changed) {
    const a = last.actions.find((x) => x.node === id);
    if (!a || a.action === 'delete') return undefined;
    reached.add(id);
    for (const d of a.downstream) reached.add(d);
  }
  return last.actions.filter((a) => reached.has(a.node)).map((a) => a.node);
}

/**
 * The plan after an edit that changed the nodes `changed` only (a patched spec: the same node ids,
 * kinds and inputs, src/dsl/patch.ts), from `last`, the plan of the text before it made from the
 * same prior, missing snapshots, state and profile: the actions of `edited` (the changed nodes and
 * their downstream, editedDownstream) are made again, every other kept. Outside `edited` a node's
 * IR, fingerprints (src/planner/fingerprint.ts FingerprintReuse), schema, prior and missing snapshot
 * are those of before, and so, by induction in the DAG's order, whether its inputs change data; its
 * maintenance reads only its SQL and its inputs' keys: its action is the same. The DAG is the same
 * (same ids and inputs), and so are the downstream lists, the order and the deletes. `redone` also
 * holds each update or replace upstream of `edited`: its review (impact, readers) reads the nodes
 * downstream. The review pairs deletes with creates of the same data definition (renames), and only
 * a changed node's definition differs: with a delete, a changed node that is created makes the plan
 * in full. Undefined then, or when `last` does not fit (another node set, a kind changed).
 */
export function replannedAfterEdit(
  input: PlanInput & { readonly fingerprints: ReadonlyMap<NodeId, NodeFingerprint> },
  last: Plan,
  changed: ReadonlySet<NodeId>,
  edited: readonly NodeId[],
): { plan: Plan; redone: ReadonlySet<NodeId> } | undefined {
  const { ir, prior } = input;
  const byId = new Map(ir.nodes.map((n) => [n.id, n]));
  const deletes = Object.keys(prior).filter((id) => !byId.has(id)).length;
  if (last.actions.length !== byId.size + deletes) return undefined;
  if (deletes > 0 && last.actions.some((a) => a.action === 'create' && changed.has(a.node))) return undefined;
  const reached = new Set(edited);
  const redone = new Set(
    last.actions
      .filter((a) => reached.has(a.node) || ((a.action === 'update' || a.action === 'replace') && !a.metadataOnly && a.downstream.some((d) => reached.has(d))))
      .map((a) => a.node),
  );
  const planned = new Map<NodeId, PlannedAction>();
  const actions: PlannedAction[] = [];
  for (const a of last.actions) {
    if (a.action === 'delete') {
      if (byId.has(a.node) || !prior[a.node]) return undefined;
      actions.push(a);
      continue;
    }
    const node = byId.get(a.node);
    const fp = input.fingerprints.get(a.node);
    if (!node || !fp || node.kind !== a.kind) return undefined;
    const next = redone.has(a.node) ? plannedAction(input, node, fp, a.downstream, planned) : a;
    planned.set(a.node, next);
    actions.push(next);
  }
  return { plan: planOf(input, input.fingerprints, actions), redone };
}

/** How a table follows its inputs' changes; only an unchanged definition (`own`: none) can build on the last run. */
function plannedMaintenance(node: PipelineNode, own: readonly string[], ir: PipelineIR, planned: ReadonlyMap<NodeId, PlannedAction>): string | undefined {
  if (node.kind === 'train') return trainMaintenance(own);
  if (node.kind !== 'features' && !rebuildsTable(node)) return undefined;
  if (own.length) return `full: ${own[0].replace(/_/g, ' ')} changed`;
  if (node.kind !== 'features') return maintenanceText(maintenanceOf(node, ir));
  // A view reads its source's new files: a source this plan rebuilds writes every row again.
  const from = planned.get(node.from);
  if (from && (from.action === 'create' || from.action === 'replace' || from.maintenance?.startsWith('full:'))) return `full: ${node.from} is rebuilt`;
  return maintenanceText(featuresMaintenance(node, ir));
}

/** What a training run takes (src/ml/model-inputs.ts trainingSetHash) or names: a change of one trains a new version. */
const TRAINS_AGAIN = ['features', 'label', 'algorithm', 'split', 'register'];

/**
 * A train node retrains only when its training set changed (src/ml/train-executor.ts): the plan
 * cannot know that before the rows are read, so it says so, unless the change itself retrains.
 */
function trainMaintenance(own: readonly string[]): string {
  const retrains = own.find((k) => TRAINS_AGAIN.includes(k.split('.')[0]));
  if (retrains) return `retrains: ${retrains.replace(/_/g, ' ')} changed`;
  return 'retrains only if its training set changed; else keeps the version trained on the same rows';
}

export const hasChanges = (plan: Plan): boolean => plan.actions.some((a) => a.action !== 'noop');

function asDefinition(d: unknown): NodeDefinition | undefined {
  if (d && typeof d === 'object' && 'data' in d && 'meta' in d) return d as NodeDefinition;
  return undefined;
}

const plainObject = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v);

/**
 * The keys whose values differ, in sorted order. `settings` is opened one level so a reason names
 * the setting ("settings.host changed"). Without a previous definition, nothing can be named.
 */
function changedKeys(prev: Readonly<Record<string, unknown>> | undefined, next: Readonly<Record<string, unknown>>): string[] {
  if (!prev) return [];
  const keys = [...new Set([...Object.keys(prev), ...Object.keys(next)])].sort();
  const out: string[] = [];
  for (const k of keys) {
    const a = prev[k];
    const b = next[k];
    if (canonicalJson(a) === canonicalJson(b)) continue;
    if (k === 'settings' && plainObject(a) && plainObject(b)) {
      out.push(...changedKeys(a, b).map((s) => `settings.${s}`));
    } else if (k === 'vars') {
      // `var min_kwh changed (0.5 → 1)`: the variable, not the SQL or setting it feeds.
      const pa = plainObject(a) ? a : {};
      const pb = plainObject(b) ? b : {};
      for (const name of changedKeys(pa, pb))
        out.push(`var ${name}${name in pa && name in pb ? ` (${JSON.stringify(pa[name])} → ${JSON.stringify(pb[name])})` : ''}`);
    } else {
      out.push(k);
    }
  }
  return out;
}

/** Column-level differences; removals and type changes break readers, additions do not. */
export function diffSchemas(before: readonly ColumnSchema[], after: readonly ColumnSchema[]): SchemaChange[] {
  const norm = (t: string) => t.trim().toUpperCase().replace(/\s+/g, ' ');
  const prev = new Map(before.map((c) => [c.name.toLowerCase(), c]));
  const next = new Map(after.map((c) => [c.name.toLowerCase(), c]));
  const out: SchemaChange[] = [];
  for (const c of before) {
    const n = next.get(c.name.toLowerCase());
    if (!n) out.push({ column: c.name, change: 'removed', from: c.type, breaking: true });
    else if (norm(n.type) !== norm(c.type)) out.push({ column: c.name, change: 'type_changed', from: c.type, to: n.type, breaking: true });
  }
  for (const c of after) if (!prev.has(c.name.toLowerCase())) out.push({ column: c.name, change: 'added', to: c.type, breaking: false });
  return out;
}

/** The PRODUCT.md `plan --format json` document (plus the saved-plan fields). */
export function planToJson(plan: Plan): unknown {
  return { ...planHeadJson(plan), actions: plan.actions.map(actionJson) };
}

/** The document's fields before its actions, in their order. */
export function planHeadJson(plan: Plan): Record<string, unknown> {
  return {
    schemaVersion: plan.schemaVersion,
    pipeline: plan.pipeline,
    profile: plan.profile,
    spec: plan.spec,
    specFingerprint: plan.specFingerprint,
    against: plan.against,
    stateSerial: plan.stateSerial,
    stateLineage: plan.stateLineage,
    summary: plan.summary,
  };
}

/** One action of the document: a function of the action alone. */
export function actionJson(a: PlannedAction): unknown {
  return {
    node: a.node,
    kind: a.kind,
    action: a.action,
    reasons: a.reasons,
    schemaChanges: a.schemaChanges,
    downstream: a.downstream,
    ...(a.category ? { category: a.category } : {}),
    ...(a.impact ? { impact: a.impact } : {}),
    ...(a.sqlDiff ? { sqlDiff: a.sqlDiff } : {}),
    ...(a.cost ? { cost: a.cost } : {}),
    ...(a.dataDiff ? { dataDiff: a.dataDiff } : {}),
    ...(a.metadataOnly ? { metadataOnly: true } : {}),
    ...(a.maintenance ? { maintenance: a.maintenance } : {}),
    ...(a.fingerprint ? { fingerprint: a.fingerprint, metaFingerprint: a.metaFingerprint } : {}),
  };
}

/**
 * The digest that binds a saved plan to its content: SHA-256 over the canonical JSON of everything in
 * the plan file (actions, spec fingerprint, state serial and lineage, profile...) except the digest
 * itself and the spec's path (which is rewritten relative to the plan file). apply recomputes it and
 * refuses a plan whose content was edited after `plan --out` wrote it.
 */
export function planDigest(doc: Readonly<Record<string, unknown>>): string {
  const { digest: _digest, spec: _spec, ...content } = doc;
  return sha256(canonicalJson(content));
}
