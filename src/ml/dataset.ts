// The training matrix: float32 features (row-major, the precision ONNX sees at serving time) and a
// 0/1 label. NULL features are imputed with the training median of the column; the medians are
// recorded in the model's feature schema so batch scoring imputes the same way (the online API
// refuses missing features instead: 422).

import { Rng } from './prng.js';

export interface Dataset {
  readonly featureNames: readonly string[];
  readonly n: number;
  /** Row-major: X[i * F + f]. */
  readonly X: Float32Array;
  readonly y: Uint8Array;
  /**
   * Per feature: the vocabulary of a categorical (string) feature, whose column in X holds codes
   * (src/ml/categorical.ts: index in the vocabulary, -1 for NULL or unknown); null for a numeric one.
   * Absent: every feature is numeric.
   */
  readonly categories?: readonly (readonly string[] | null)[];
}

export function numFeatures(ds: Dataset): number {
  return ds.featureNames.length;
}

/** Rows `idx` of `ds` as a new dataset. */
export function subset(ds: Dataset, idx: ArrayLike<number>): Dataset {
  const F = ds.featureNames.length;
  const X = new Float32Array(idx.length * F);
  const y = new Uint8Array(idx.length);
  for (let k = 0; k < idx.length; k++) {
    const i = idx[k];
    X.set(ds.X.subarray(i * F, i * F + F), k * F);
    y[k] = ds.y[i];
  }
  return { featureNames: ds.featureNames, n: idx.length, X, y, ...(ds.categories ? { categories: ds.categories } : {}) };
}

/**
 * Stratified (or plain) shuffle split: a `test` fraction of each class goes to the test side, so
 * both sides keep the class balance. Deterministic for a seed.
 */
export function trainTestSplit(y: Uint8Array, test: number, stratify: boolean, seed: number): { train: Uint32Array; test: Uint32Array } {
  const rng = new Rng(seed);
  const groups: number[][] = stratify ? [[], []] : [[]];
  for (let i = 0; i < y.length; i++) groups[stratify ? y[i] : 0].push(i);
  const tr: number[] = [];
  const te: number[] = [];
  for (const g of groups) {
    rng.shuffle(g);
    const nTest = Math.round(g.length * test);
    for (let k = 0; k < g.length; k++) (k < nTest ? te : tr).push(g[k]);
  }
  tr.sort((a, b) => a - b);
  te.sort((a, b) => a - b);
  return { train: Uint32Array.from(tr), test: Uint32Array.from(te) };
}

/** Median of each column over non-NaN values (NaN stands for NULL); 0 for an all-NULL column. */
export function columnMedians(X: Float32Array, n: number, F: number): number[] {
  const out: number[] = [];
  const vals = new Float32Array(n);
  for (let f = 0; f < F; f++) {
    let k = 0;
    for (let i = 0; i < n; i++) {
      const v = X[i * F + f];
      if (!Number.isNaN(v)) vals[k++] = v;
    }
    if (k === 0) {
      out.push(0);
      continue;
    }
    // A typed array sorts numerically in native code: ~10x less CPU than a comparator over numbers.
    const sorted = vals.subarray(0, k).sort();
    const m = k >> 1;
    out.push(Math.fround(k % 2 ? sorted[m] : (sorted[m - 1] + sorted[m]) / 2));
  }
  return out;
}

/** Replace NaN (NULL) by the column's fill value, in place. Returns how many were filled. */
export function impute(X: Float32Array, F: number, fill: readonly number[]): number {
  let filled = 0;
  for (let i = 0; i < X.length; i++) {
    if (Number.isNaN(X[i])) {
      X[i] = fill[i % F];
      filled++;
    }
  }
  return filled;
}
