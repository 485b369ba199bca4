// The one parser of node ids, table references and column addresses (src/ir/address.ts).
import { describe, expect, it } from 'vitest';
import { isLayerTable, nodeAddress, parseColumnAddress, parseNodeId, splitColumnAddress, tableRef } from '../../src/ir/address.js';

describe('addresses', () => {
  it('parses prefix.name and nothing else', () => {
    expect(parseNodeId('silver.orders_clean')).toEqual({ prefix: 'silver', name: 'orders_clean' });
    expect(parseNodeId('train.churn')).toEqual({ prefix: 'train', name: 'churn' });
    for (const bad of ['orders', '.x', 'x.', 'a.b.c', '', 'a..b']) expect(parseNodeId(bad), bad).toBeUndefined();
    expect(() => nodeAddress('a.b.c')).toThrow('not a node id');
  });

  it('knows layer tables and the catalog-qualified form', () => {
    expect(isLayerTable('gold.x')).toBe(true);
    expect(isLayerTable('features.x')).toBe(false);
    expect(isLayerTable('gold.x.y')).toBe(false);
    expect(tableRef('iceberg.gold.x')).toBe('gold.x');
    expect(tableRef('gold.x')).toBe('gold.x');
    expect(tableRef('iceberg.x')).toBe('iceberg.x');
  });

  it('splits column addresses at the last dot', () => {
    expect(parseColumnAddress('gold.labels.churned')).toEqual({ table: 'gold.labels', column: 'churned' });
    expect(parseColumnAddress('gold.labels')).toBeUndefined();
    expect(parseColumnAddress('iceberg.gold.labels.churned')).toBeUndefined();
    expect(splitColumnAddress('iceberg.gold.labels.churned')).toEqual({ table: 'iceberg.gold.labels', column: 'churned' });
    expect(splitColumnAddress('labels.churned')).toBeUndefined();
    expect(splitColumnAddress('gold.labels.')).toBeUndefined();
  });
});
