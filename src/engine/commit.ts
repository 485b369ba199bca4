// Recording a node's run in the state: the one commit path of apply (src/engine/apply.ts) and of
// the server's batch scoring (src/serve/batch.ts). A new snapshot pushes the current one into the
// history (SNAPSHOTS_KEPT per table in all), the state is written in one atomic write, and then
// the table's Iceberg snapshots that the state no longer points to are expired, files included.

import type { NodeId, PipelineNode } from '../ir/types.js';
import { outputTable } from '../ir/types.js';
import type { NodeState, PipelineState, SnapshotRef, StateStore } from '../planner/state-store.js';
import type { Warehouse } from '../warehouse/warehouse.js';
import { canonicalJson } from '../util/canonical-json.js';

/** Snapshots kept per table: the current one and this many minus one in history. */
export const SNAPSHOTS_KEPT = 3;

/** What a node's dependents compare: its snapshot, else its model version, else its last run. */
export function outputToken(n: NodeState | undefined): string | undefined {
  if (!n) return undefined;
  if (n.snapshot) return n.snapshot.id;
  if (n.modelVersion !== undefined) return `model@${n.modelVersion}`;
  return `run@${n.appliedAt}`;
}

/** The tokens of a node's inputs in `state`: a later change of one makes the node run again. */
export function inputTokens(node: PipelineNode, state: PipelineState): Record<NodeId, string> {
  return Object.fromEntries(node.inputs.map((i) => [i, outputToken(state.nodes[i])!]));
}

/** A snapshot's `layer/table` path → `layer.table`. */
export const tableOf = (s: SnapshotRef): string => s.path.split('/').slice(0, 2).join('.');

export interface CommitRun {
  readonly store: StateStore;
  readonly warehouse: Warehouse;
  readonly node: PipelineNode;
  /** The entry the run builds on (undefined for a new node or a replace). */
  readonly base: NodeState | undefined;
  /** The new entry; its `history` is computed here. */
  readonly next: Omit<NodeState, 'history'>;
  /** A replace: the table's old snapshots go even when the run wrote none. */
  readonly replace?: boolean;
}

/**
 * Commit one node's new state entry, then expire the table's snapshots nothing points to (files
 * included); a table replaced by a node that writes none (a view) is dropped whole. A run that
 * changed nothing the state records but when it ran (a source sync that found no new rows: same
 * snapshot, cursor, schema and inputs) writes nothing: the serial stays, and a remote state
 * (src/warehouse/remote-state.ts) is not uploaded again. Only for a node whose dependents compare
 * its snapshot or model version; one they compare by its last run always records the run.
 */
export async function commitRun(c: CommitRun): Promise<NodeState> {
  const { base, next } = c;
  let history: readonly SnapshotRef[] = base?.history ?? [];
  if (next.snapshot && base?.snapshot && next.snapshot.id !== base.snapshot.id) history = [base.snapshot, ...history].slice(0, SNAPSHOTS_KEPT - 1);
  const entry: NodeState = withoutUndefined({ ...next, history: history.length ? history : undefined });
  if (base && !c.replace && (base.snapshot || base.modelVersion !== undefined) && sameRecord(base, entry)) return base;
  c.store.commitNode(c.node.id, entry);
  const table = next.snapshot ? tableOf(next.snapshot) : outputTable(c.node);
  if (table && next.snapshot) await c.warehouse.expire(table, [next.snapshot, ...history]);
  else if (table && c.replace) await c.warehouse.drop(table);
  return entry;
}

/** Whether two entries of a node differ only in when it ran and what that run took. */
function sameRecord(a: NodeState, b: NodeState): boolean {
  const { appliedAt: _a, lastRun: _l, costs: _c, ...x } = a;
  const { appliedAt: _b, lastRun: _m, costs: _d, ...y } = b;
  return canonicalJson(x) === canonicalJson(y);
}

export function withoutUndefined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}
