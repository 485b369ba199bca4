// The lineage half of the leakage guard: a label computed in the same table as the features from
// the same upstream column (the seed's design) is reported, naming the feature and the column; a
// feature from other columns, or a label from its own table (the example pipeline), is not.

import { beforeAll, describe, expect, it } from 'vitest';
import { LineageGraph } from '../../src/engine/lineage.js';
import { sharedSourceLeakage } from '../../src/ml/leakage.js';
import { loadSqlToolkit } from '../../src/sql/toolkit.js';
import type { FeaturesNode, ModelNode, PipelineIR, SourceNode, Span } from '../../src/ir/types.js';

// Lineage takes the SQL toolkit from src/sql/toolkit.ts, which a command loads first.
beforeAll(() => loadSqlToolkit());

const span: Span = { file: '/spec.asg', line: 1, column: 1, endLine: 1, endColumn: 2 };
const orders: SourceNode = {
  id: 'bronze.orders',
  kind: 'source',
  layer: 'bronze',
  name: 'orders',
  span,
  inputs: [],
  connector: { name: 'db', type: 'file', settings: {}, span },
  stream: {
    primaryKey: ['order_id'],
    columns: [
      { name: 'order_id', type: 'BIGINT' },
      { name: 'customer_id', type: 'BIGINT' },
      { name: 'order_date', type: 'DATE' },
      { name: 'tickets', type: 'INTEGER' },
    ],
    mode: 'full_refresh',
  },
};
const sql = (text: string) => ({ text, span, reads: ['bronze.orders'], normalized: text });
const seedLike: ModelNode = {
  id: 'gold.metrics',
  kind: 'model',
  layer: 'gold',
  name: 'metrics',
  span,
  inputs: ['bronze.orders'],
  materialized: 'table',
  uniqueKey: [],
  partitionBy: [],
  checks: [],
  sql: sql(`SELECT customer_id,
      DATEDIFF(DATE '2025-11-11', MAX(order_date)) AS days_since_last_purchase,
      SUM(tickets) AS support_tickets,
      CAST(DATE '2025-11-11' AS TIMESTAMP) AS updated_at,
      CASE WHEN DATEDIFF(DATE '2025-11-11', MAX(order_date)) > 60 THEN 1 ELSE 0 END AS churned
    FROM bronze.orders GROUP BY customer_id`),
};
const view: FeaturesNode = {
  id: 'features.v',
  kind: 'features',
  name: 'v',
  span,
  inputs: ['gold.metrics'],
  entity: { name: 'customer', joinKey: 'customer_id' },
  from: 'gold.metrics',
  timestamp: 'updated_at',
  ttlSeconds: 0,
  features: [
    { name: 'days_since_last_purchase', dtype: 'int64', span },
    { name: 'support_tickets', dtype: 'int64', span },
  ],
};
const ir: PipelineIR = { schemaVersion: 1, name: 't', file: '/spec.asg', warehouse: './w', nodes: [orders, seedLike, view], edges: [], profiles: {} };
const schemas = new Map([
  ['bronze.orders', orders.stream.columns!],
  [
    'gold.metrics',
    [
      { name: 'customer_id', type: 'BIGINT' },
      { name: 'days_since_last_purchase', type: 'BIGINT' },
      { name: 'support_tickets', type: 'HUGEINT' },
      { name: 'updated_at', type: 'TIMESTAMP' },
      { name: 'churned', type: 'INTEGER' },
    ],
  ],
]);

describe('lineage leakage check', () => {
  it("reports the feature computed from the label's own column in the same table", () => {
    const found = sharedSourceLeakage(new LineageGraph(ir, schemas), view, { from: 'gold.metrics', column: 'churned', timestamp: 'updated_at' });
    expect(found.map((f) => f.feature)).toEqual(['days_since_last_purchase']);
    expect(found[0].message).toContain('bronze.orders.order_date');
  });

  it('says nothing when the label comes from its own table (observation time + later window)', () => {
    expect(sharedSourceLeakage(new LineageGraph(ir, schemas), view, { from: 'gold.churn_labels', column: 'churned', timestamp: 'event_timestamp' })).toEqual(
      [],
    );
  });
});
