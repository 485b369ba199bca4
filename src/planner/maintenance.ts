// How a table node is maintained when its inputs change (docs/language.md, "Derived incremental
// maintenance"): the plan prints it, the SQL executor (src/engine/derived.ts) acts on it. The
// analysis itself is src/sql/derive.ts; this module gives it the keys each table carries.

import type { CleanseNode, ModelNode, NodeId, PipelineIR, PipelineNode } from '../ir/types.js';
import { deriveMaintenance, type Maintenance } from '../sql/derive.js';

/** Nodes whose table is rebuilt from its SQL on every run (not an append, incremental model or view). */
export function rebuildsTable(node: PipelineNode): node is CleanseNode | ModelNode {
  return (node.kind === 'cleanse' && node.mode === 'overwrite') || (node.kind === 'model' && node.materialized === 'table');
}

/** The unique columns each table of the pipeline is known to carry: a stream's primary key, `check unique`, `unique_key`. */
export function knownKeys(ir: Pick<PipelineIR, 'nodes'>): (table: NodeId) => readonly string[] {
  const keys = new Map<NodeId, string[]>();
  for (const n of ir.nodes) {
    const k: string[] = [];
    if (n.kind === 'source' && n.stream.primaryKey.length === 1) k.push(n.stream.primaryKey[0]);
    if (n.kind === 'model' && n.uniqueKey.length === 1) k.push(n.uniqueKey[0]);
    if (n.kind === 'cleanse' || n.kind === 'model') for (const c of n.checks) if (c.kind === 'unique' && c.column) k.push(c.column);
    keys.set(n.id, k);
  }
  return (id) => keys.get(id) ?? [];
}

const memo = new WeakMap<PipelineNode, Maintenance>();

/** The node's maintenance: derived (and on which key) or full (and why). Only for rebuildsTable nodes. */
export function maintenanceOf(node: CleanseNode | ModelNode, ir: Pick<PipelineIR, 'nodes'>): Maintenance {
  let m = memo.get(node);
  if (!m) {
    m = deriveMaintenance(node.sql.normalized, knownKeys(ir));
    // Every table the SQL reads must carry the key (the analysis saw the same tables).
    const inputs = m.mode === 'derived' ? m.inputs : {};
    if (m.mode === 'derived' && node.inputs.some((i) => !(i in inputs))) m = { mode: 'full', reason: 'an input is not read through the key', text: 'an input is not read through the key' };
    memo.set(node, m);
  }
  return m;
}

/** The plan's wording: `incremental: derived (groups by customer_id)` or `full: window without partition`. */
export const maintenanceText = (m: Maintenance): string => (m.mode === 'derived' ? `incremental: ${m.text}` : `full: ${m.reason}`);
