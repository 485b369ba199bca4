// A trained tree ensemble as plain data (JSON-serialisable, what ONNX export reads). Binary
// classification only. Internal node: x[feature] <= threshold goes left (ONNX BRANCH_LEQ).

export interface Tree {
  /** -1 for a leaf. */
  readonly feature: number[];
  /** float32 values. */
  readonly threshold: number[];
  readonly left: number[];
  readonly right: number[];
  /** Leaf values: the class-1 fraction (forest) or the raw score already scaled by the learning rate (boosting). */
  readonly value: number[];
}

export interface TreeEnsemble {
  readonly kind: 'random_forest' | 'gradient_boosting';
  readonly featureNames: readonly string[];
  readonly trees: readonly Tree[];
  /** Boosting: the initial log-odds. */
  readonly baseScore: number;
  /** Per feature: the vocabulary of a categorical feature (its inputs are codes, src/ml/categorical.ts), null for a numeric one. */
  readonly categories?: readonly (readonly string[] | null)[];
}

export function newTree(): Tree {
  return { feature: [], threshold: [], left: [], right: [], value: [] };
}

/** Append a node; returns its index. */
export function addNode(t: Tree): number {
  t.feature.push(-1);
  t.threshold.push(0);
  t.left.push(-1);
  t.right.push(-1);
  t.value.push(0);
  return t.feature.length - 1;
}

/** Class-1 probability for each row of a row-major float32 matrix. */
export function predictProba(model: TreeEnsemble, X: Float32Array, n: number): Float64Array {
  const F = model.featureNames.length;
  const out = new Float64Array(n);
  for (const t of model.trees) {
    const { feature, threshold, left, right, value } = t;
    for (let i = 0; i < n; i++) {
      let node = 0;
      const base = i * F;
      while (feature[node] >= 0) node = X[base + feature[node]] <= threshold[node] ? left[node] : right[node];
      out[i] += value[node];
    }
  }
  if (model.kind === 'random_forest') {
    const k = model.trees.length;
    for (let i = 0; i < n; i++) out[i] /= k;
  } else {
    for (let i = 0; i < n; i++) out[i] = sigmoid(out[i] + model.baseScore);
  }
  return out;
}

export const sigmoid = (z: number): number => 1 / (1 + Math.exp(-z));

export function nodeCount(model: TreeEnsemble): number {
  return model.trees.reduce((s, t) => s + t.feature.length, 0);
}
