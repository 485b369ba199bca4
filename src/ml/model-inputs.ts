// What a trained model depends on, as data: the feature view's definition, the fingerprints and
// snapshot ids of the tables it reads, the label, the algorithm, params and split. Its hash decides
// whether a train node needs a new model version (same hash: reuse the registered one).

import type { FeaturesNode, PipelineIR, TrainNode } from '../ir/types.js';
import type { PipelineState } from '../planner/state-store.js';
import { canonicalJson, sha256 } from '../util/canonical-json.js';

export const TRAINING_FORMAT = 1;

export function featureView(ir: PipelineIR, node: TrainNode): FeaturesNode {
  const v = ir.nodes.find((n) => n.id === node.features);
  if (!v || v.kind !== 'features') throw new Error(`internal error: ${node.id} names ${node.features}, which is not a feature view`);
  return v;
}

export function trainingInputs(ir: PipelineIR, state: PipelineState, node: TrainNode) {
  const view = featureView(ir, node);
  const table = (id: string) => ({ node: id, fingerprint: state.nodes[id]?.fingerprint ?? null, snapshot: state.nodes[id]?.snapshot?.id ?? null });
  return {
    format: TRAINING_FORMAT,
    features: {
      view: view.id,
      fingerprint: state.nodes[view.id]?.fingerprint ?? null,
      entity: view.entity,
      timestamp: view.timestamp,
      ttlSeconds: view.ttlSeconds,
      features: view.features.map((f) => ({ name: f.name, dtype: f.dtype })),
      source: table(view.from),
    },
    label: { ...node.label, source: table(node.label.from) },
    algorithm: node.algorithm,
    split: node.split,
  };
}

export const inputsHash = (inputs: unknown): string => sha256(canonicalJson(inputs));
