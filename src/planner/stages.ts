// A plan becomes steps for apply, with no I/O: what each node will do and which steps it waits for.
// Whether a `check` step actually runs is decided at run time, when its inputs' new snapshots are
// known (a noop node re-runs when an input produced a new snapshot in this apply).

import type { NodeId, NodeKind, PipelineIR } from '../ir/types.js';
import { buildDag, downstreamOf, type Dag } from './dag.js';
import type { Plan } from './plan.js';

export type StepKind =
  /** Data changed (create/update): run the executor. */
  | 'run'
  /** Replace: forget the node's state (cursor, snapshots), then run. */
  | 'replace'
  /** A source the plan leaves alone: sync it (incremental) so new data arrives. */
  | 'refresh'
  /** A noop node: run only if an input's snapshot (or model version) moved. */
  | 'check'
  /** Only description/tags changed: record the new metadata (and run only if an input moved, as `check`). */
  | 'metadata'
  /** Removed from the spec: drop its state and its snapshots. */
  | 'delete';

export interface Step {
  readonly node: NodeId;
  readonly kind: NodeKind;
  readonly step: StepKind;
  /** Steps this one waits for (its selected inputs). */
  readonly after: readonly NodeId[];
}

export class SelectError extends Error {}

/**
 * `--select` expressions: `node` alone, `node+` with everything downstream. Several may be given,
 * comma-separated. Unknown names are an error naming the closest match's absence.
 */
export function parseSelect(exprs: readonly string[], dag: Dag): Set<NodeId> {
  const known = new Set(dag.order);
  const out = new Set<NodeId>();
  for (const raw of exprs
    .flatMap((e) => e.split(','))
    .map((e) => e.trim())
    .filter(Boolean)) {
    const plus = raw.endsWith('+');
    const id = plus ? raw.slice(0, -1) : raw;
    if (!known.has(id)) throw new SelectError(`--select ${raw}: no node ${id} in this spec`);
    out.add(id);
    if (plus) for (const d of downstreamOf(dag, id)) out.add(d);
  }
  // `--select ''` (an unset variable in a script) selects nothing: refuse it rather than apply nothing.
  if (out.size === 0) throw new SelectError(`--select ${JSON.stringify(exprs.join(','))} names no node: give NODE or NODE+ (comma-separate several)`);
  return out;
}

export interface StepOptions {
  /** Only these nodes (and deletions are skipped unless selected). Absent: all. */
  readonly select?: ReadonlySet<NodeId>;
  /** Sync sources that did not change (default true). */
  readonly refreshSources?: boolean;
}

/** The steps of a plan in topological order (deletions last). */
export function planSteps(plan: Plan, ir: Pick<PipelineIR, 'nodes'>, opts: StepOptions = {}): Step[] {
  const dag = buildDag(ir);
  const actions = new Map(plan.actions.map((a) => [a.node, a]));
  const selected = (id: NodeId) => !opts.select || opts.select.has(id);
  const kinds = new Map(dag.nodes.map((n) => [n.id, n.kind]));
  const steps: Step[] = [];
  for (const id of dag.order) {
    if (!selected(id)) continue;
    const a = actions.get(id);
    const kind = kinds.get(id)!;
    let step: StepKind;
    if (!a || a.action === 'noop') step = kind === 'source' && opts.refreshSources !== false ? 'refresh' : 'check';
    else if (a.action === 'replace') step = 'replace';
    else if (a.metadataOnly) step = 'metadata';
    else step = 'run';
    steps.push({ node: id, kind, step, after: (dag.parents.get(id) ?? []).filter(selected) });
  }
  for (const a of plan.actions) {
    if (a.action === 'delete' && (!opts.select || opts.select.has(a.node))) steps.push({ node: a.node, kind: a.kind, step: 'delete', after: [] });
  }
  return steps;
}
