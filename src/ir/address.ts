// Addresses: the one parser of node ids (`silver.orders_clean`, `train.churn`), table references
// (`gold.x`, also written `iceberg.gold.x`) and column addresses (`gold.x.column`). Node ids are
// `<prefix>.<name>` where the prefix is a table layer (bronze, silver, gold) or a node family
// (features, train, serve); names carry no dot. Nothing else in src/ splits an id on '.'
// (test/architecture/layers.test.ts).

import type { Layer, NodeId } from './types.js';

export const LAYERS: readonly Layer[] = ['bronze', 'silver', 'gold'];

/** A node id taken apart: `silver.orders_clean` → `{ prefix: 'silver', name: 'orders_clean' }`. */
export interface NodeAddress {
  /** A layer for table-producing nodes, else `features`, `train` or `serve`. */
  readonly prefix: string;
  readonly name: string;
}

/** A column of a table: `gold.customer_metrics.total_purchases`. */
export interface ColumnAddress {
  readonly table: NodeId;
  readonly column: string;
}

/** `prefix.name` → its parts, or undefined when the text is not exactly two non-empty dotted parts. */
export function parseNodeId(id: string): NodeAddress | undefined {
  const i = id.indexOf('.');
  if (i <= 0 || i === id.length - 1 || id.indexOf('.', i + 1) !== -1) return undefined;
  return { prefix: id.slice(0, i), name: id.slice(i + 1) };
}

/** Like parseNodeId, for ids the checker made: a malformed one is a bug, so it throws. */
export function nodeAddress(id: NodeId): NodeAddress {
  const a = parseNodeId(id);
  if (!a) throw new Error(`not a node id (prefix.name): ${id}`);
  return a;
}

export const nodeId = (prefix: string, name: string): NodeId => `${prefix}.${name}`;

export const isLayer = (s: string): s is Layer => (LAYERS as readonly string[]).includes(s);

/** `layer.table` with a bronze, silver or gold layer. */
export function isLayerTable(id: string): boolean {
  const a = parseNodeId(id);
  return !!a && isLayer(a.prefix);
}

/** A table reference as written in a spec: `iceberg.gold.x` (the catalog-qualified form) → `gold.x`; others unchanged. */
export function tableRef(ref: string): string {
  return ref.startsWith('iceberg.') && parseNodeId(ref.slice('iceberg.'.length)) ? ref.slice('iceberg.'.length) : ref;
}

/**
 * `table.column` where the table is itself dotted (`gold.labels.churned`, `iceberg.gold.labels.churned`)
 * → the table reference as written and the column; undefined when there are fewer than three parts.
 * The caller resolves the table (a spec's references go through the checker's resolver).
 */
export function splitColumnAddress(address: string): { readonly table: string; readonly column: string } | undefined {
  const i = address.lastIndexOf('.');
  if (i <= 0 || i === address.length - 1 || address.indexOf('.') === i) return undefined;
  return { table: address.slice(0, i), column: address.slice(i + 1) };
}

/** `layer.table.column` → the table's node id and the column, or undefined unless exactly three parts. */
export function parseColumnAddress(address: string): ColumnAddress | undefined {
  const a = splitColumnAddress(address);
  return a && parseNodeId(a.table) ? a : undefined;
}
