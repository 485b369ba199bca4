// A small warehouse for the train/serve executors' tests and benches: gold.customer_metrics with
// two feature rows per customer (the observation date and the logical time), gold.churn_labels
// with one label per customer at the observation date, written as real Parquet snapshots, plus
// the IR nodes (feature view, train, serve) and a RunContext like apply's.

import { join } from 'node:path';
import type { FeaturesNode, PipelineIR, PipelineNode, ServeNode, Span, TrainNode } from '../../src/ir/types.js';
import { StateStore, type NodeState, type PipelineState } from '../../src/planner/state-store.js';
import { Warehouse } from '../../src/warehouse/warehouse.js';
import { openDuck } from '../../src/engine/duckdb.js';
import { FEATURES } from './synthetic.js';
import { NodeError, type RunContext } from '../../src/engine/executor.js';
import { Registry } from '../../src/ml/registry.js';
import { trainExecutor } from '../../src/ml/train-executor.js';
import { serveExecutor } from '../../src/ml/serve-executor.js';

export const span: Span = { file: '/spec.asg', line: 1, column: 1, endLine: 1, endColumn: 2 };
export const OBS = '2025-09-12 00:00:00';
export const NOW = '2025-11-11 00:00:00';
export const FEATURE_NAMES = FEATURES;

export interface Fixture {
  readonly warehouse: Warehouse;
  readonly state: PipelineState;
  readonly stateDir: string;
}

/**
 * `leaky`: the label is the seed's own definition (days_since_last_purchase > 60 at the same date),
 * which the leakage guard must catch. Otherwise the label depends on several features plus noise.
 */
/** `nullLabelEvery`: every k-th customer's label is NULL (an unlabelled row). */
/**
 * `latestPurchases`: added to total_purchases of the rows at the logical time only (not the
 * observation date's), of every `latestEvery`-th customer (default: all). `dropEvery`: every k-th
 * customer is left out.
 */
export async function makeWarehouse(
  dir: string,
  n: number,
  opts: { leaky?: boolean; labelSeed?: number; nullLabelEvery?: number; latestPurchases?: number; latestEvery?: number; dropEvery?: number } = {},
): Promise<Fixture> {
  const warehouse = new Warehouse(join(dir, 'warehouse'));
  const conn = await openDuck();
  const s = opts.labelSeed ?? 0;
  await conn.run(`CREATE TABLE base AS SELECT range AS customer_id,
      (hash(range, 1) % 40)::BIGINT AS total_purchases,
      20 + (hash(range, 2) % 18000) / 100.0 AS avg_purchase_value,
      (hash(range, 3) % 200)::BIGINT AS days_since_last_purchase,
      30 + (hash(range, 4) % 1500)::BIGINT AS account_age_days,
      (hash(range, 5) % 8)::BIGINT AS support_tickets,
      (hash(range, 6) % 7200) / 100.0 AS avg_support_resolution_hours,
      (hash(range, 7 + ${s}) % 100000) / 100000.0 AS noise
    FROM range(1, ${n + 1}) WHERE ${opts.dropEvery ? `range % ${opts.dropEvery} <> 0` : 'true'}`);
  const metrics = `SELECT customer_id, 'c' || customer_id || '@example.com' AS email, total_purchases,
      CAST(total_purchases * avg_purchase_value AS DOUBLE) AS customer_lifetime_value, CAST(avg_purchase_value AS DOUBLE) AS avg_purchase_value,
      days_since_last_purchase, account_age_days, CAST(total_purchases / greatest(1, account_age_days / 30.0) AS DOUBLE) AS purchase_frequency,
      support_tickets, CAST(avg_support_resolution_hours AS DOUBLE) AS avg_support_resolution_hours, TIMESTAMP '${OBS}' AS updated_at
    FROM base
    UNION ALL
    SELECT customer_id, 'c' || customer_id || '@example.com', total_purchases + 2 + CASE WHEN customer_id % ${opts.latestEvery ?? 1} = 0 THEN ${opts.latestPurchases ?? 0} ELSE 0 END, CAST((total_purchases + 2) * avg_purchase_value AS DOUBLE), CAST(avg_purchase_value AS DOUBLE),
      (days_since_last_purchase + 60) % 240, account_age_days + 60, CAST((total_purchases + 2) / greatest(1, (account_age_days + 60) / 30.0) AS DOUBLE),
      support_tickets + (customer_id % 2), CAST(avg_support_resolution_hours AS DOUBLE), TIMESTAMP '${NOW}'
    FROM base`;
  const label = opts.leaky
    ? `CASE WHEN days_since_last_purchase > 60 THEN 1 ELSE 0 END`
    : `CASE WHEN 0.025 * (days_since_last_purchase - 90) - 0.08 * (total_purchases - 20) + 0.35 * (support_tickets - 3.5) + 0.02 * (avg_support_resolution_hours - 36) + (noise - 0.5) * 3 > 0 THEN 1 ELSE 0 END`;
  const labelled = opts.nullLabelEvery ? `CASE WHEN customer_id % ${opts.nullLabelEvery} = 0 THEN NULL ELSE ${label} END` : label;
  const labels = `SELECT customer_id, TIMESTAMP '${OBS}' AS event_timestamp, ${labelled} AS churned FROM base`;
  const nodes: Record<string, NodeState> = {};
  for (const [table, sql] of [
    ['gold.customer_metrics', metrics],
    ['gold.churn_labels', labels],
  ] as const) {
    const desc = await conn.runAndReadAll(`DESCRIBE ${sql}`);
    const p = await warehouse.begin(
      table,
      desc.getRows().map((r) => ({ name: String(r[0]), type: String(r[1]) })),
    );
    await conn.run(warehouse.copySql(p, `${sql} ORDER BY ALL`));
    const snapshot = await warehouse.commit(p, conn);
    nodes[table] = {
      kind: 'model',
      fingerprint: `fp-${table}-${opts.leaky ? 'leaky' : 'clean'}-${s}`,
      metaFingerprint: 'meta',
      definition: {},
      schema: desc.getRows().map((r) => ({ name: String(r[0]), type: String(r[1]) })),
      snapshot,
      appliedAt: new Date().toISOString(),
    };
  }
  conn.closeSync();
  return { warehouse, stateDir: dir, state: { schemaVersion: 2, pipeline: 'test', lineage: 'l', serial: 1, nodes } };
}

export function featureViewNode(): FeaturesNode {
  return {
    id: 'features.customer_churn_features',
    kind: 'features',
    name: 'customer_churn_features',
    span,
    inputs: ['gold.customer_metrics'],
    entity: { name: 'customer', joinKey: 'customer_id' },
    from: 'gold.customer_metrics',
    timestamp: 'updated_at',
    ttlSeconds: 86400,
    features: FEATURE_NAMES.map((name) => ({
      name,
      dtype: name.includes('value') || name.includes('frequency') || name.includes('hours') ? 'float64' : 'int64',
      span,
    })),
  };
}

export function trainNode(extra: Partial<TrainNode> = {}): TrainNode {
  return {
    id: 'train.churn_predictor',
    kind: 'train',
    name: 'churn_predictor',
    span,
    inputs: ['features.customer_churn_features', 'gold.churn_labels'],
    features: 'features.customer_churn_features',
    label: { from: 'gold.churn_labels', column: 'churned', timestamp: 'event_timestamp' },
    algorithm: { name: 'random_forest', params: { n_estimators: 30, max_depth: 8 } },
    split: { test: 0.2, stratify: true, seed: 42 },
    gate: { metric: 'f1', op: '>=', value: 0.6, text: 'f1 >= 0.6' },
    register: 'customer_churn_predictor',
    leakage: 'warn',
    ...extra,
  };
}

export function serveNode(extra: Partial<ServeNode> = {}): ServeNode {
  return {
    id: 'serve.churn_api',
    kind: 'serve',
    name: 'churn_api',
    span,
    inputs: ['gold.customer_metrics', 'train.churn_predictor'],
    model: 'train.churn_predictor',
    riskLevels: { high: 0.7, medium: 0.4 },
    // As pipelines/churn.asg: the seed's field names.
    fields: { probability: 'churn_probability', index: 'customer_index' },
    batch: { from: 'gold.customer_metrics', to: 'customer_churn_predictions' },
    ...extra,
  };
}

export function mlIR(train: TrainNode = trainNode(), serve: ServeNode = serveNode()): PipelineIR {
  const nodes: PipelineNode[] = [featureViewNode(), train, serve];
  const edges = nodes.flatMap((n) => n.inputs.map((from) => ({ from, to: n.id })));
  return { schemaVersion: 1, name: 'test', file: '/spec.asg', warehouse: './warehouse', nodes, edges, profiles: {} };
}

/** The train and serve executors over the fixture's registry (`<stateDir>/registry`), as apply opens them. */
export const trainOn = (fx: Fixture) => trainExecutor(new Registry(fx.stateDir));
export const serveOn = (fx: Fixture) => serveExecutor(new Registry(fx.stateDir));

export function runContext<N extends PipelineNode>(ir: PipelineIR, node: N, fx: Fixture, warnings: string[] = []): RunContext<N> {
  return {
    ir,
    node,
    state: fx.state,
    warehouse: fx.warehouse,
    scratchDir: join(fx.stateDir, 'cache', 'tmp'),
    logicalTime: new Date('2025-11-11T00:00:00Z'),
    resolve(v) {
      if (v.kind === 'literal') return v.value;
      if (v.kind === 'env' && v.default !== undefined) return process.env[v.name] ?? v.default;
      throw new NodeError(`unresolved ${v.kind} ${v.name}`);
    },
    progress() {},
    warn: (m) => warnings.push(m),
    signal: new AbortController().signal,
  };
}

/** Write the fixture's state (plus extra node entries) to `<stateDir>/state/<pipeline>.json`, as apply would. */
export function persistState(fx: Fixture, ir: PipelineIR, extra: Record<string, NodeState> = {}): void {
  const store = new StateStore(fx.stateDir, ir.name);
  const prev = store.read();
  store.write({ pipeline: ir.name, nodes: { ...fx.state.nodes, ...extra } }, prev);
}
