// What a trained model depends on, as data, hashed twice to decide whether a train node needs a new
// model version (same hash: reuse the registered one):
// - inputsHash: the feature view's definition, the fingerprints and snapshot ids of the tables it
//   reads, the label, the algorithm, params and split. Known before any row is read.
// - trainingSetHash: the same definitions with, instead of snapshot ids, the training set itself
//   (every value and label trainModel receives, in its order). New snapshots of the inputs often
//   leave it as it was (rows added after the label's event times, a table rebuilt with the same
//   rows); training is deterministic (seeded), so the same training set gives the same model.

import { createHash } from 'node:crypto';
import type { FeaturesNode, PipelineIR, TrainNode } from '../ir/types.js';
import type { PipelineState } from '../planner/state-store.js';
import { canonicalJson, sha256 } from '../util/canonical-json.js';
import type { Dataset } from './dataset.js';

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

/**
 * SHA-256 over what a training run reads: the definitions trainModel and the registry's feature
 * schema take (view, entity, features, label, algorithm, params, split) and the dataset's bytes —
 * the float32 matrix, the labels, the feature names and categorical vocabularies, in row order (the
 * seeded split depends on it). Equal hashes mean an equal training run.
 */
export function trainingSetHash(view: FeaturesNode, node: TrainNode, ds: Dataset): string {
  const definition = {
    format: TRAINING_FORMAT,
    view: view.id,
    entity: view.entity,
    features: view.features.map((f) => ({ name: f.name, dtype: f.dtype })),
    label: node.label,
    algorithm: node.algorithm,
    split: node.split,
    dataset: { n: ds.n, featureNames: ds.featureNames, categories: ds.categories ?? null },
  };
  const h = createHash('sha256');
  for (const part of [Buffer.from(canonicalJson(definition)), ds.X, ds.y]) {
    // Each part's length first: no two different sequences of parts hash the same bytes.
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(BigInt(part.byteLength));
    h.update(len).update(new Uint8Array(part.buffer, part.byteOffset, part.byteLength));
  }
  return h.digest('hex');
}
