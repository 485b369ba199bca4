// A tree ensemble as an ONNX model (ai.onnx.ml opset 3). One input per feature, shape [N, 1], named
// after the feature and concatenated in the graph in the order of the feature schema, so a client
// (or Feast-style caller) feeds features by name: float32 for a numeric feature, string for a
// categorical one, which a LabelEncoder turns into its code first (src/ml/categorical.ts). A forest is a TreeEnsembleClassifier
// whose leaf class weights are the class fractions divided by the number of trees, post_transform
// NONE (outputs `label` [N] and `probabilities` [N, 2]); boosting is a TreeEnsembleRegressor
// (sum of leaves + base score) followed by Sigmoid (output `probability` [N, 1]).

import type { TreeEnsemble } from './tree.js';
import { UNKNOWN_CODE } from './categorical.js';
import { attrFloat, attrFloats, attrInt, attrInts, attrString, attrStrings, ElemType, encodeModel, tensorInfo } from './onnx-proto.js';

export const ONNX_IR_VERSION = 8;
export const ONNX_OPSET = 13;
export const ONNX_ML_OPSET = 3;

/** Which output holds the class-1 probability and in which column. */
export interface OnnxOutput {
  readonly name: string;
  readonly width: number;
  readonly column: number;
}

export function onnxOutput(kind: TreeEnsemble['kind']): OnnxOutput {
  return kind === 'random_forest' ? { name: 'probabilities', width: 2, column: 1 } : { name: 'probability', width: 1, column: 0 };
}

export function exportOnnx(model: TreeEnsemble, meta: { name: string; version: number }): Uint8Array {
  const nodes_treeids: number[] = [];
  const nodes_nodeids: number[] = [];
  const nodes_featureids: number[] = [];
  const nodes_values: number[] = [];
  const nodes_modes: string[] = [];
  const nodes_truenodeids: number[] = [];
  const nodes_falsenodeids: number[] = [];
  const leafTree: number[] = [];
  const leafNode: number[] = [];
  const leafValue: number[] = [];
  model.trees.forEach((t, ti) => {
    for (let k = 0; k < t.feature.length; k++) {
      nodes_treeids.push(ti);
      nodes_nodeids.push(k);
      const leaf = t.feature[k] < 0;
      nodes_featureids.push(leaf ? 0 : t.feature[k]);
      nodes_values.push(leaf ? 0 : t.threshold[k]);
      nodes_modes.push(leaf ? 'LEAF' : 'BRANCH_LEQ');
      nodes_truenodeids.push(leaf ? 0 : t.left[k]);
      nodes_falsenodeids.push(leaf ? 0 : t.right[k]);
      if (leaf) {
        leafTree.push(ti);
        leafNode.push(k);
        leafValue.push(t.value[k]);
      }
    }
  });
  const nodeAttrs = [
    attrInts('nodes_treeids', nodes_treeids),
    attrInts('nodes_nodeids', nodes_nodeids),
    attrInts('nodes_featureids', nodes_featureids),
    attrFloats('nodes_values', nodes_values),
    attrStrings('nodes_modes', nodes_modes),
    attrInts('nodes_truenodeids', nodes_truenodeids),
    attrInts('nodes_falsenodeids', nodes_falsenodeids),
  ];
  const F = model.featureNames.length;
  const vocab = (f: number) => model.categories?.[f] ?? null;
  const encoders: Record<string, unknown>[] = [];
  const columns = model.featureNames.map((name, f) => {
    const v = vocab(f);
    if (!v) return name;
    // An empty vocabulary (the column was NULL on every training row): one key nobody sends.
    const keys = v.length ? [...v] : [''];
    const values = v.length ? v.map((_, k) => k) : [UNKNOWN_CODE];
    encoders.push({
      name: `encode_${name}`,
      op_type: 'LabelEncoder',
      domain: 'ai.onnx.ml',
      input: [name],
      output: [`${name}__code`],
      attribute: [attrStrings('keys_strings', keys), attrFloats('values_floats', values), attrFloat('default_float', UNKNOWN_CODE)],
    });
    return `${name}__code`;
  });
  const graphNodes: Record<string, unknown>[] = [
    ...encoders,
    { name: 'concat_features', op_type: 'Concat', input: columns, output: ['features'], attribute: [attrInt('axis', 1)] },
  ];
  let outputs: Record<string, unknown>[];
  if (model.kind === 'random_forest') {
    const k = model.trees.length;
    const class_treeids: number[] = [];
    const class_nodeids: number[] = [];
    const class_ids: number[] = [];
    const class_weights: number[] = [];
    for (let j = 0; j < leafTree.length; j++) {
      for (const c of [0, 1]) {
        class_treeids.push(leafTree[j]);
        class_nodeids.push(leafNode[j]);
        class_ids.push(c);
        class_weights.push((c ? leafValue[j] : 1 - leafValue[j]) / k);
      }
    }
    graphNodes.push({
      name: 'forest',
      op_type: 'TreeEnsembleClassifier',
      domain: 'ai.onnx.ml',
      input: ['features'],
      output: ['label', 'probabilities'],
      attribute: [
        ...nodeAttrs,
        attrInts('class_treeids', class_treeids),
        attrInts('class_nodeids', class_nodeids),
        attrInts('class_ids', class_ids),
        attrFloats('class_weights', class_weights),
        attrInts('classlabels_int64s', [0, 1]),
        attrString('post_transform', 'NONE'),
      ],
    });
    outputs = [tensorInfo('label', ElemType.INT64, ['N']), tensorInfo('probabilities', ElemType.FLOAT, ['N', 2])];
  } else {
    graphNodes.push({
      name: 'boosting',
      op_type: 'TreeEnsembleRegressor',
      domain: 'ai.onnx.ml',
      input: ['features'],
      output: ['score'],
      attribute: [
        ...nodeAttrs,
        attrInts('target_treeids', leafTree),
        attrInts('target_nodeids', leafNode),
        attrInts(
          'target_ids',
          leafTree.map(() => 0),
        ),
        attrFloats('target_weights', leafValue),
        attrInt('n_targets', 1),
        attrString('aggregate_function', 'SUM'),
        attrFloats('base_values', [model.baseScore]),
        attrString('post_transform', 'NONE'),
      ],
    });
    graphNodes.push({ name: 'logistic', op_type: 'Sigmoid', input: ['score'], output: ['probability'] });
    outputs = [tensorInfo('probability', ElemType.FLOAT, ['N', 1])];
  }
  return encodeModel({
    ir_version: ONNX_IR_VERSION,
    producer_name: 'asgard',
    producer_version: '0.1.0',
    model_version: meta.version,
    doc_string: `${meta.name} v${meta.version}: ${model.kind}, ${model.trees.length} trees, ${F} features`,
    opset_import: [
      { domain: '', version: ONNX_OPSET },
      { domain: 'ai.onnx.ml', version: ONNX_ML_OPSET },
    ],
    graph: {
      name: meta.name,
      node: graphNodes,
      input: model.featureNames.map((f, j) => tensorInfo(f, vocab(j) ? ElemType.STRING : ElemType.FLOAT, ['N', 1])),
      output: outputs,
    },
    metadata_props: [
      { key: 'asgard.features', value: model.featureNames.join(',') },
      { key: 'asgard.algorithm', value: model.kind },
    ],
  });
}
