// Hand-written IR for planner and apply tests: small pipelines without going through the DSL.
import type { CleanseNode, ModelNode, PipelineIR, PipelineNode, SourceNode, Span, TrainNode, ServeNode, FeaturesNode } from '../../src/ir/types.js';

export const span: Span = { file: '/spec.asg', line: 1, column: 1, endLine: 1, endColumn: 2 };

export function source(name: string, extra: Partial<SourceNode['stream']> = {}, settings: SourceNode['connector']['settings'] = {}): SourceNode {
  return {
    id: `bronze.${name}`,
    kind: 'source',
    layer: 'bronze',
    name,
    span,
    inputs: [],
    connector: { name: `${name}_db`, type: 'postgres', settings, span },
    stream: { primaryKey: ['id'], cursor: 'updated_at', mode: 'incremental', ...extra },
  };
}

const sqlBody = (normalized: string, reads: string[], text = normalized) => ({ text, span, reads, normalized });

export function cleanse(name: string, normalized: string, reads: string[], extra: Partial<CleanseNode> = {}): CleanseNode {
  return {
    id: `silver.${name}`,
    kind: 'cleanse',
    layer: 'silver',
    name,
    span,
    inputs: [...reads].sort(),
    sql: sqlBody(normalized, reads),
    partitionBy: [],
    mode: 'overwrite',
    checks: [],
    ...extra,
  };
}

export function model(name: string, normalized: string, reads: string[], extra: Partial<ModelNode> = {}): ModelNode {
  return {
    id: `gold.${name}`,
    kind: 'model',
    layer: 'gold',
    name,
    span,
    inputs: [...reads].sort(),
    sql: sqlBody(normalized, reads),
    materialized: 'table',
    uniqueKey: [],
    partitionBy: [],
    checks: [],
    ...extra,
  };
}

export function features(name: string, from: string): FeaturesNode {
  return {
    id: `features.${name}`,
    kind: 'features',
    name,
    span,
    inputs: [from],
    entity: { name: 'customer', joinKey: 'id' },
    from,
    timestamp: 'updated_at',
    ttlSeconds: 86400,
    features: [{ name: 'total', dtype: 'int64', span }],
  };
}

export function train(name: string, feats: string, labelFrom: string): TrainNode {
  return {
    id: `train.${name}`,
    kind: 'train',
    name,
    span,
    inputs: [feats, labelFrom].sort(),
    features: feats,
    label: { from: labelFrom, column: 'churned', timestamp: 'event_timestamp' },
    algorithm: { name: 'random_forest', params: { n_estimators: 10 } },
    split: { test: 0.2, stratify: true, seed: 42 },
    register: name,
    leakage: 'warn',
  };
}

export function serve(name: string, modelId: string): ServeNode {
  return { id: `serve.${name}`, kind: 'serve', name, span, inputs: [modelId], model: modelId, riskLevels: { high: 0.7, medium: 0.4 } };
}

export function pipeline(nodes: PipelineNode[], extra: Partial<PipelineIR> = {}): PipelineIR {
  const edges = nodes.flatMap((n) => n.inputs.map((from) => ({ from, to: n.id }))).sort((a, b) => (a.from + a.to < b.from + b.to ? -1 : 1));
  return { schemaVersion: 1, name: 'test', file: '/tmp/spec.asg', warehouse: './.asgard/warehouse', nodes, edges, profiles: {}, ...extra };
}

/** bronze.a, bronze.b → silver.a_clean (a), silver.b_clean (b) → gold.m (both) ; gold.solo (b only) */
export function diamond(over: { aSql?: string; aDesc?: string; aPartition?: string[] } = {}): PipelineIR {
  return pipeline([
    source('a'),
    source('b'),
    cleanse('a_clean', over.aSql ?? 'SELECT id FROM bronze.a', ['bronze.a'], { description: over.aDesc, partitionBy: over.aPartition ?? [] }),
    cleanse('b_clean', 'SELECT id FROM bronze.b', ['bronze.b']),
    model('m', 'SELECT * FROM silver.a_clean JOIN silver.b_clean USING (id)', ['silver.a_clean', 'silver.b_clean']),
    model('solo', 'SELECT * FROM silver.b_clean', ['silver.b_clean']),
  ]);
}
