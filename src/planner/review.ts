// What a plan means for a reviewer: per node a change category (breaking, non-breaking, metadata,
// none) decided at column level, the downstream consumers it reaches with the columns they read —
// through feature views to the model's input fields and the serving API's request shape — the
// semantic SQL diff, and the cost of the rebuild (rows and seconds of the node's last run). Pure:
// the CLI hands in both versions of the pipeline, their inferred schemas and column lineage
// (src/engine/lineage.ts), and gets the plan back with those fields filled.
//
// How an effect travels: a node's output change is a set of columns whose values may differ
// (`cols`), columns that disappeared (`removed`), whether the set of rows may differ (`rows`), for
// a train node whether the model changed (`model`), for a feature view or model whether the input
// fields changed (`shape`), for a feature view whether the TTL did (`freshness`). A consumer is
// reached when it reads one of those columns — head lineage for columns that still exist, base
// lineage for removed ones, any mention in its SQL for filters and join keys — or reads the node at
// all when its rows change. The reach is breaking when a column it reads changed meaning or
// disappeared, its rows change, a model's input fields change or a serving API's request shape does.

import { assertNever, type FeaturesNode, type NodeId, type PipelineIR, type PipelineNode, type ServeNode } from '../ir/types.js';
import { columnsReferenced, diffSql, type SqlChange } from '../sql/sql-diff.js';
import { canonicalJson } from '../util/canonical-json.js';
import { buildDag } from './dag.js';
import { nodeDefinition, sqlForFingerprint, type NodeDefinition } from './fingerprint.js';
import type { Plan, PlannedAction, PriorNode, SchemaChange } from './plan.js';
import type { ColumnSchema, PipelineState } from './state-store.js';

export type Category = 'breaking' | 'non-breaking' | 'metadata' | 'none';

export interface Impact {
  readonly node: NodeId;
  /** The input columns this consumer reads that the change reaches (model input fields for a train node, request fields for a serving API). */
  readonly columns: readonly string[];
  /** Whether the change breaks this consumer (a column it reads changed meaning or went away, its rows, input fields or request shape change). */
  readonly breaking: boolean;
  /** What it means for that consumer, in words. */
  readonly effect: string;
}

export interface NodeCost {
  /** Rows the node's table held after its last run. */
  readonly rows?: number;
  /** Seconds its last run took. */
  readonly seconds?: number;
}

/** Answers "which input columns is this output column computed from" (LineageGraph does). */
export interface ColumnSources {
  sourcesOf(id: NodeId, column: string): readonly { readonly table: string; readonly column: string }[];
}

export interface ReviewInput {
  readonly plan: Plan;
  readonly head: PipelineIR;
  /** The base spec (plan --base); absent when planning against state. */
  readonly base?: PipelineIR;
  /** What was applied, or the base spec's nodes: definitions (with their SQL) and schemas. */
  readonly prior: Readonly<Record<NodeId, PriorNode>>;
  readonly headSchemas?: ReadonlyMap<NodeId, readonly ColumnSchema[]>;
  readonly headLineage?: ColumnSources;
  readonly baseLineage?: ColumnSources;
  /** Rows and duration of each node's last run, for the cost of the change. */
  readonly state?: PipelineState;
  /**
   * Only these actions are reviewed, the plan's others already are (a plan after an edit, its
   * actions outside them kept from the last plan: src/planner/plan.ts replannedAfterEdit). The plan
   * then lists its actions in the head DAG's order, the deletes last.
   */
  readonly only?: ReadonlySet<NodeId>;
}

interface Effect {
  readonly cols: Set<string>;
  readonly removed: Set<string>;
  rows: boolean;
  model: boolean;
  shape: boolean;
  freshness: boolean;
}

interface Reach {
  readonly columns: Set<string>;
  breaking: boolean;
}

const emptyEffect = (): Effect => ({ cols: new Set(), removed: new Set(), rows: false, model: false, shape: false, freshness: false });
const hasEffect = (e: Effect | undefined): e is Effect => !!e && (e.cols.size > 0 || e.removed.size > 0 || e.rows || e.model || e.shape || e.freshness);
const lower = (s: string) => s.toLowerCase();

/** Fields that check or gate a node's output and never change it. */
const CHECK_FIELDS = new Set(['checks', 'gate']);
/** Fields that change where or how rows are stored, not which rows or values. */
const LAYOUT_FIELDS = new Set(['partition_by', 'materialized', 'mode']);

/** The plan with category, impact, sqlDiff, breaking flags of schema changes and cost filled in. */
export function reviewPlan(input: ReviewInput): Plan {
  return new Reviewer(input).review();
}

class Reviewer {
  private readonly headById: Map<NodeId, PipelineNode>;
  private readonly baseById: Map<NodeId, PipelineNode>;
  private readonly order: readonly NodeId[];
  private readonly sqlDiffs = new Map<NodeId, readonly SqlChange[]>();

  constructor(private readonly input: ReviewInput) {
    this.headById = new Map(input.head.nodes.map((n) => [n.id, n]));
    this.baseById = new Map((input.base?.nodes ?? []).map((n) => [n.id, n]));
    this.order = input.only ? input.plan.actions.filter((a) => a.action !== 'delete').map((a) => a.node) : buildDag(input.head).order;
  }

  review(): Plan {
    const { plan } = this.input;
    const own = new Map<NodeId, Effect>();
    for (const a of plan.actions) {
      if ((a.action === 'update' || a.action === 'replace') && !a.metadataOnly) own.set(a.node, this.ownEffect(a.node));
    }
    const total = this.propagate(own).effects;
    const renamed = this.renames();
    const { only } = this.input;
    return {
      ...plan,
      actions: plan.actions.map((a) => {
        if (only && !only.has(a.node)) return a;
        const r = this.reviewAction(a, total.get(a.node));
        const to = renamed.get(a.node);
        const from = [...renamed].find(([, c]) => c === a.node)?.[0];
        if (to) return { ...r, reasons: [...r.reasons, `renamed to ${to} (same definition): readers outside the pipeline lose ${a.node}`] };
        if (from) return { ...r, reasons: [...r.reasons, `renamed from ${from} (same definition)`] };
        return r;
      }),
    };
  }

  /** Deleted node → created node of the same kind whose data definition is the same: a rename. */
  private renames(): Map<NodeId, NodeId> {
    const out = new Map<NodeId, NodeId>();
    const created = this.input.plan.actions.filter((a) => a.action === 'create');
    for (const d of this.input.plan.actions.filter((a) => a.action === 'delete')) {
      const c = created.find((x) => x.kind === d.kind && ![...out.values()].includes(x.node) && this.sameData(d.node, x.node));
      if (c) out.set(d.node, c.node);
    }
    return out;
  }

  private reviewAction(a: PlannedAction, effect: Effect | undefined): PlannedAction {
    const sqlDiff = this.sqlDiffs.get(a.node);
    const cost = a.action === 'noop' || a.action === 'delete' || a.metadataOnly ? undefined : this.cost(a.node);
    const extra = { ...(sqlDiff?.length ? { sqlDiff } : {}), ...(cost ? { cost } : {}) };
    if (a.action === 'noop') return { ...a, category: 'none', impact: [] };
    // A table or API that disappears breaks whoever reads it outside the pipeline.
    if (a.action === 'delete') return { ...a, category: 'breaking', impact: [], ...extra };
    if (a.action === 'create') return { ...a, category: 'non-breaking', impact: [], ...extra };
    if (a.metadataOnly) return { ...a, category: 'metadata', impact: [], ...extra };
    const impact = hasEffect(effect) ? this.impactOf(a.node, effect) : [];
    const removedRead = new Set([...(effect?.removed ?? [])].filter((c) => this.readers(a.node, c).length > 0));
    const schemaChanges = a.schemaChanges.map((c) => this.markBreaking(a.node, c, removedRead));
    const keys = this.ownKeys(a.node);
    const node = this.headById.get(a.node);
    let category: Category;
    if (impact.some((i) => i.breaking) || removedRead.size > 0 || schemaChanges.some((c) => c.breaking) || (node?.kind === 'serve' && effect?.shape))
      category = 'breaking';
    else if (hasEffect(effect) || schemaChanges.length > 0 || (sqlDiff?.length ?? 0) > 0 || keys.some((k) => LAYOUT_FIELDS.has(k))) category = 'non-breaking';
    else if (keys.length > 0 && keys.every((k) => CHECK_FIELDS.has(k))) category = 'metadata';
    else category = 'none';
    const reasons = [...a.reasons, ...this.shapeReasons(a.node, effect)];
    return { ...a, reasons, schemaChanges, category, impact, ...extra };
  }

  /** A model's input fields or a serving API's request shape, named field by field. */
  private shapeReasons(id: NodeId, effect: Effect | undefined): string[] {
    const node = this.headById.get(id);
    if (!effect?.shape || (node?.kind !== 'train' && node?.kind !== 'serve')) return [];
    const trainId = node.kind === 'train' ? node.id : node.model;
    const prevModel = node.kind === 'serve' ? ((this.priorData(id) as { model?: string }).model ?? trainId) : trainId;
    const before = new Map((this.inputFields(prevModel, 'before') ?? []).map((f) => [f.name, f.dtype]));
    const after = new Map((this.inputFields(trainId, 'head') ?? []).map((f) => [f.name, f.dtype]));
    const fields = [...new Set([...before.keys(), ...after.keys()])]
      .filter((f) => before.get(f) !== after.get(f))
      .sort()
      .map((f) => (!after.has(f) ? `-${f}` : !before.has(f) ? `+${f}` : `~${f} ${before.get(f)} → ${after.get(f)}`));
    return [node.kind === 'train' ? `model input fields changed: ${fields.join(', ')}` : `request shape changed (breaking API change): ${fields.join(', ')}`];
  }

  private markBreaking(node: NodeId, c: SchemaChange, removedRead: ReadonlySet<string>): SchemaChange {
    if (c.change === 'added') return { ...c, breaking: false };
    if (c.change === 'removed') return { ...c, breaking: removedRead.has(lower(c.column)) };
    return { ...c, breaking: this.readers(node, lower(c.column)).length > 0 };
  }

  // ---- own changes --------------------------------------------------------------------------------

  private readonly defs = new Map<NodeId, NodeDefinition>();
  private headDefinition(id: NodeId): NodeDefinition | undefined {
    let d = this.defs.get(id);
    const node = this.headById.get(id);
    if (!d && node) this.defs.set(id, (d = nodeDefinition(node, this.input.head)));
    return d;
  }

  private priorData(id: NodeId): Readonly<Record<string, unknown>> {
    return definitionOf(this.input.prior[id]?.definition)?.data ?? {};
  }

  /** The data fields of a node's own definition that changed (spec names, sorted). */
  private ownKeys(id: NodeId): string[] {
    const prev = definitionOf(this.input.prior[id]?.definition)?.data;
    const next = this.headDefinition(id)?.data;
    if (!prev || !next) return [];
    return [...new Set([...Object.keys(prev), ...Object.keys(next)])].filter((k) => canonicalJson(prev[k]) !== canonicalJson(next[k])).sort();
  }

  /** The change a node's own definition makes to its output (upstream changes are propagated later). */
  private ownEffect(id: NodeId): Effect {
    const e = emptyEffect();
    const node = this.headById.get(id);
    if (!node || !this.input.prior[id]) return e;
    const keys = new Set(this.ownKeys(id));
    const prevData = this.priorData(id);
    diffColumns(this.input.prior[id].schema ?? [], this.input.headSchemas?.get(id) ?? [], e);
    switch (node.kind) {
      case 'cleanse':
      case 'model': {
        if (keys.has('sql') && typeof prevData.sql === 'string') {
          const d = diffSql(prevData.sql, sqlForFingerprint(node.sql.normalized));
          if (!d) e.rows = true;
          else {
            this.sqlDiffs.set(id, d.changes);
            for (const c of d.changedColumns) e.cols.add(c);
            if (d.rowsChanged) e.rows = true;
          }
        }
        if (keys.has('unique_key') || keys.has('incremental_by') || keys.has('logical_time')) e.rows = true;
        break;
      }
      case 'source':
        if ([...keys].length > 0) e.rows = true;
        break;
      case 'features': {
        const prevView = prevData as { features?: { name: string; dtype: string }[] };
        const before = new Map((prevView.features ?? []).map((f) => [lower(f.name), f.dtype]));
        const after = new Map(node.features.map((f) => [lower(f.name), f.dtype as string]));
        for (const [n] of before) if (!after.has(n)) e.removed.add(n);
        for (const [n, t] of after) if (before.has(n) && before.get(n) !== t) e.cols.add(n);
        if (keys.has('features')) e.shape = true;
        if (keys.has('ttl')) e.freshness = true;
        if (keys.has('entity') || keys.has('timestamp') || (keys.has('from') && !this.sameData(prevData.from as string | undefined, node.from))) e.rows = true;
        break;
      }
      case 'train':
        if ([...keys].some((k) => !CHECK_FIELDS.has(k))) e.model = true;
        if (this.inputFieldsChanged(node.id)) e.shape = true;
        break;
      case 'serve': {
        const prev = prevData as { model?: string; batch?: { from: string } };
        if (keys.has('risk_levels')) for (const c of this.predictionColumns(node).filter((p) => /risk/i.test(p))) e.cols.add(lower(c));
        if (keys.has('batch') && prev.batch?.from !== node.batch?.from && !this.sameData(prev.batch?.from, node.batch?.from ?? '')) e.rows = true;
        if (keys.has('model')) for (const c of this.predictionColumns(node)) e.cols.add(lower(c));
        if (this.inputFieldsChanged(node.model, prev.model)) e.shape = true;
        break;
      }
      default:
        assertNever(node);
    }
    return e;
  }

  /** A node renamed: the old id's definition as applied equals the new id's. */
  private sameData(before: string | undefined, after: NodeId): boolean {
    if (!before) return false;
    const a = definitionOf(this.input.prior[before]?.definition)?.data;
    const b = this.headDefinition(after)?.data;
    return !!a && !!b && canonicalJson(a) === canonicalJson(b);
  }

  /** The model input fields (feature names and types) of a train node, in the head or before. */
  private inputFields(trainId: NodeId, when: 'head' | 'before'): { name: string; dtype: string }[] | undefined {
    if (when === 'head' || this.input.base) {
      const map = when === 'head' ? this.headById : this.baseById;
      const t = map.get(trainId);
      const v = t?.kind === 'train' ? map.get(t.features) : undefined;
      return v?.kind === 'features' ? v.features.map((f) => ({ name: lower(f.name), dtype: f.dtype })) : undefined;
    }
    // Against state: the view as applied.
    const view = this.priorData(trainId).features as string | undefined;
    const feats = view ? (this.priorData(view).features as { name: string; dtype: string }[] | undefined) : undefined;
    return feats?.map((f) => ({ name: lower(f.name), dtype: f.dtype }));
  }

  private inputFieldsChanged(trainId: NodeId, beforeId: NodeId = trainId): boolean {
    const before = this.inputFields(beforeId, 'before');
    const after = this.inputFields(trainId, 'head');
    return !!before && !!after && canonicalJson(before) !== canonicalJson(after);
  }

  private changedFields(trainId: NodeId, beforeId: NodeId = trainId): Set<string> {
    const before = new Map((this.inputFields(beforeId, 'before') ?? []).map((f) => [f.name, f.dtype]));
    const after = new Map((this.inputFields(trainId, 'head') ?? []).map((f) => [f.name, f.dtype]));
    return new Set([...before.keys(), ...after.keys()].filter((f) => before.get(f) !== after.get(f)));
  }

  /** The columns batch scoring adds to its input's: the head schema minus the input table's columns. */
  private predictionColumns(s: ServeNode): string[] {
    const out = this.input.headSchemas?.get(s.id)?.map((c) => c.name) ?? [];
    const from = new Set((s.batch ? (this.input.headSchemas?.get(s.batch.from) ?? []) : []).map((c) => lower(c.name)));
    return out.filter((c) => !from.has(lower(c)));
  }

  // ---- propagation ----------------------------------------------------------------------------------

  /** `seed` carried down the head DAG: every node's resulting effect, and how each consumer was reached. */
  private propagate(seed: ReadonlyMap<NodeId, Effect>): { effects: Map<NodeId, Effect>; reached: Map<NodeId, { reach: Reach; effect: Effect }> } {
    const effects = new Map<NodeId, Effect>();
    const reached = new Map<NodeId, { reach: Reach; effect: Effect }>();
    for (const id of this.order) {
      const node = this.headById.get(id)!;
      // Made only for a node with an effect of its own or an input with one: most nodes of a plan
      // after an edit have neither (two Sets per node were ~2% of a 10,000-node plan's CPU).
      const own = seed.get(id);
      let e: Effect | undefined;
      if (own) merge((e = emptyEffect()), own);
      let reach: Reach | undefined;
      for (const input of node.inputs) {
        const up = effects.get(input);
        if (!hasEffect(up)) continue;
        const r = this.reach(node, input, up, (e ??= emptyEffect()));
        if (!r) continue;
        reach ??= { columns: new Set(), breaking: false };
        for (const c of r.columns) reach.columns.add(c);
        reach.breaking ||= r.breaking;
      }
      if (reach) reached.set(id, { reach, effect: e! });
      if (hasEffect(e)) effects.set(id, e);
    }
    return { effects, reached };
  }

  /** Does `node` read what changed in `input`? Adds the consequences to `out`; undefined when it does not. */
  private reach(node: PipelineNode, input: NodeId, up: Effect, out: Effect): Reach | undefined {
    const hit = new Set<string>();
    const changed = (c: string) => up.cols.has(lower(c)) || up.removed.has(lower(c));
    switch (node.kind) {
      case 'cleanse':
      case 'model': {
        const outCols = this.input.headSchemas?.get(node.id) ?? [];
        const inCols = new Set((this.input.headSchemas?.get(input) ?? []).map((c) => lower(c.name)));
        for (const c of outCols) {
          const srcs = (this.input.headLineage?.sourcesOf(node.id, c.name) ?? []).filter((s) => s.table === input);
          const reads = up.rows ? srcs : srcs.filter((s) => changed(s.column));
          for (const s of reads) hit.add(lower(s.column));
          if (reads.length) out.cols.add(lower(c.name));
        }
        // Removed columns: who read them before the change (base lineage).
        const base = this.baseById.get(node.id);
        if (base && up.removed.size) {
          for (const c of this.input.prior[node.id]?.schema ?? []) {
            const srcs = (this.input.baseLineage?.sourcesOf(node.id, c.name) ?? []).filter((s) => s.table === input && up.removed.has(lower(s.column)));
            for (const s of srcs) hit.add(lower(s.column));
            if (srcs.length) (outCols.some((o) => lower(o.name) === lower(c.name)) ? out.cols : out.removed).add(lower(c.name));
          }
        }
        // Columns used outside the projections (filters, join keys, group by) decide rows.
        const mentioned = new Set(columnsReferenced(node.sql.normalized));
        if (base && (base.kind === 'cleanse' || base.kind === 'model'))
          for (const c of columnsReferenced(base.sql.normalized)) if (up.removed.has(c)) mentioned.add(c);
        const deciding = [...mentioned].filter((c) => (inCols.has(c) || up.removed.has(c)) && changed(c) && !hit.has(c));
        if (deciding.length || up.rows) {
          for (const c of deciding) hit.add(c);
          out.rows = true;
          for (const c of outCols) out.cols.add(lower(c.name));
          if (up.rows) for (const c of mentioned) if (inCols.has(c)) hit.add(c);
        }
        return hit.size || up.rows ? { columns: hit, breaking: true } : undefined;
      }
      case 'features': {
        if (node.from !== input) return undefined;
        const base = this.baseById.get(node.id);
        const now = new Set(viewColumns(node).map(lower));
        for (const c of new Set([...viewColumns(node), ...(base?.kind === 'features' ? viewColumns(base) : [])])) {
          if (!up.rows && !changed(c)) continue;
          hit.add(lower(c));
          if (c === node.entity.joinKey || c === node.timestamp) out.rows = true;
          else (now.has(lower(c)) ? out.cols : out.removed).add(lower(c));
        }
        if (up.rows) out.rows = true;
        return hit.size ? { columns: hit, breaking: true } : undefined;
      }
      case 'train': {
        let breaking = false;
        if (input === node.features) {
          for (const f of this.inputFields(node.id, 'head') ?? []) if (up.rows || up.freshness || changed(f.name)) hit.add(f.name);
          const fields = this.changedFields(node.id);
          for (const f of up.removed) if (fields.has(f)) hit.add(f);
          // A removed feature column, or the view's own field list, changes the model's inputs.
          if (up.shape || [...hit].some((f) => fields.has(f))) out.shape = true;
          breaking = up.rows || out.shape || [...hit].some((f) => changed(f));
        }
        if (input === node.label.from && (up.rows || changed(node.label.column))) {
          hit.add(lower(node.label.column));
          breaking = true;
        }
        if (!hit.size && !out.shape) return undefined;
        out.model = true;
        return { columns: hit, breaking };
      }
      case 'serve':
        return this.reachServe(node, input, up, out);
      case 'source':
        return undefined;
      default:
        return assertNever(node);
    }
  }

  private reachServe(node: ServeNode, input: NodeId, up: Effect, out: Effect): Reach | undefined {
    if (input === node.model) {
      if (!up.model && !up.shape) return undefined;
      const hit = up.shape ? this.changedFields(node.model) : new Set<string>();
      if (up.shape) out.shape = true;
      for (const c of this.predictionColumns(node)) out.cols.add(lower(c));
      return { columns: hit, breaking: up.shape };
    }
    if (node.batch && input === node.batch.from) {
      const hit = new Set<string>();
      for (const c of this.input.headSchemas?.get(input) ?? []) if (up.rows || up.cols.has(lower(c.name))) hit.add(lower(c.name));
      for (const c of up.removed) hit.add(c);
      for (const c of hit) out.cols.add(c);
      if (up.rows) out.rows = true;
      // The batch output copies its input's columns: nothing downstream in the pipeline reads it.
      return hit.size || up.rows ? { columns: hit, breaking: false } : undefined;
    }
    return undefined;
  }

  /** Consumers reached from `id` with `effect`, in DAG order, each with the columns it reads that changed. */
  private impactOf(id: NodeId, effect: Effect): Impact[] {
    const { reached } = this.propagate(new Map([[id, effect]]));
    const out: Impact[] = [];
    for (const nid of this.order) {
      const r = reached.get(nid);
      if (nid === id || !r) continue;
      out.push({ node: nid, columns: [...r.reach.columns].sort(), breaking: r.reach.breaking, effect: describe(this.headById.get(nid)!, r.effect, r.reach) });
    }
    return out;
  }

  /** Nodes (before the change, or now) that read column `col` of `id`. */
  private readers(id: NodeId, col: string): NodeId[] {
    const out = new Set<NodeId>();
    const scan = (nodes: readonly PipelineNode[], lineage: ColumnSources | undefined, schemaOf: (n: NodeId) => readonly ColumnSchema[] | undefined) => {
      for (const n of nodes) {
        if (!n.inputs.includes(id)) continue;
        let reads = false;
        if (n.kind === 'features') reads = viewColumns(n).some((c) => lower(c) === col);
        else if (n.kind === 'train')
          reads = (n.label.from === id && lower(n.label.column) === col) || (n.features === id && viewFeatures(nodes, id).includes(col));
        else if (n.kind === 'serve') reads = n.batch?.from === id;
        else if (n.kind === 'cleanse' || n.kind === 'model') {
          reads =
            (schemaOf(n.id) ?? []).some((c) => (lineage?.sourcesOf(n.id, c.name) ?? []).some((s) => s.table === id && lower(s.column) === col)) ||
            columnsReferenced(n.sql.normalized).has(col);
        }
        if (reads) out.add(n.id);
      }
    };
    if (this.input.base) scan(this.input.base.nodes, this.input.baseLineage, (n) => this.input.prior[n]?.schema);
    scan(this.input.head.nodes, this.input.headLineage, (n) => this.input.headSchemas?.get(n));
    return [...out].sort();
  }

  private cost(id: NodeId): NodeCost | undefined {
    const n = this.input.state?.nodes[id];
    if (!n) return undefined;
    const rows = n.lastRun?.rows ?? n.snapshot?.rows;
    const seconds = n.lastRun?.seconds;
    if (rows === undefined && seconds === undefined) return undefined;
    return { ...(rows !== undefined ? { rows } : {}), ...(seconds !== undefined ? { seconds } : {}) };
  }
}

function describe(node: PipelineNode, e: Effect, r: Reach): string {
  switch (node.kind) {
    case 'train':
      if (e.shape) return 'model input fields change';
      return r.breaking ? 'model retrained on changed inputs' : 'model retrained';
    case 'serve':
      if (e.shape) return 'breaking API change: the request shape changes';
      return r.columns.size ? 'batch output columns change' : 'scores change';
    default:
      if (e.rows && r.breaking) return 'rows may change';
      return 'reads changed columns';
  }
}

function merge(into: Effect, from: Effect): void {
  for (const c of from.cols) into.cols.add(c);
  for (const c of from.removed) into.removed.add(c);
  into.rows ||= from.rows;
  into.model ||= from.model;
  into.shape ||= from.shape;
  into.freshness ||= from.freshness;
}

function diffColumns(before: readonly ColumnSchema[], after: readonly ColumnSchema[], e: Effect): void {
  if (!before.length || !after.length) return;
  const next = new Map(after.map((c) => [lower(c.name), c.type]));
  for (const c of before) {
    const t = next.get(lower(c.name));
    if (t === undefined) e.removed.add(lower(c.name));
    else if (t.toUpperCase() !== c.type.toUpperCase()) e.cols.add(lower(c.name));
  }
}

const viewFeatures = (nodes: readonly PipelineNode[], id: NodeId): string[] => {
  const v = nodes.find((n) => n.id === id);
  return v?.kind === 'features' ? v.features.map((f) => lower(f.name)) : [];
};

const viewColumns = (v: FeaturesNode): string[] => [v.entity.joinKey, v.timestamp, ...v.features.map((f) => f.name)];

function definitionOf(d: unknown): NodeDefinition | undefined {
  if (d && typeof d === 'object' && 'data' in d && 'meta' in d) return d as NodeDefinition;
  return undefined;
}
