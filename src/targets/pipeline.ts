// Lookups over the IR that several targets share.

import type { NodeId, PipelineIR, PipelineNode } from '../ir/types.js';
import { nodeAddress } from '../ir/address.js';

export type NodeOfKind<K extends PipelineNode['kind']> = Extract<PipelineNode, { kind: K }>;

export function nodesOf<K extends PipelineNode['kind']>(ir: PipelineIR, kind: K): NodeOfKind<K>[] {
  return ir.nodes.filter((n): n is NodeOfKind<K> => n.kind === kind);
}

export function nodeById(ir: PipelineIR, id: NodeId): PipelineNode | undefined {
  return ir.nodes.find((n) => n.id === id);
}

/** `silver.customers_cleaned` → `{layer: 'silver', table: 'customers_cleaned'}`. */
export function splitTable(id: NodeId): { layer: string; table: string } {
  const a = nodeAddress(id);
  return { layer: a.prefix, table: a.name };
}

/** Kubernetes object names: lowercase RFC 1123 labels. */
export const k8sName = (...parts: string[]): string =>
  parts
    .join('-')
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 63)
    .replace(/-+$/, '');

/** `CUSTOMER_DB`: environment-variable style names for placeholders. */
export const envName = (...parts: string[]): string =>
  parts
    .join('_')
    .toUpperCase()
    .replace(/[^A-Z0-9]+/g, '_');
