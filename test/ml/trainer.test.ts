// The trainer on synthetic data: deterministic for a seed, better than chance by a wide margin,
// stratified split keeps the class balance, class weights move the decision toward the minority,
// and the metrics match their definitions.

import { describe, expect, it } from 'vitest';
import { trainModel } from '../../src/ml/train.js';
import { trainTestSplit } from '../../src/ml/dataset.js';
import { classificationMetrics, evaluateGate, rocAuc } from '../../src/ml/metrics.js';
import { binData, computeThresholds } from '../../src/ml/binning.js';
import { syntheticChurn } from './synthetic.js';
import { syntheticImbalanced } from './imbalanced.js';
import { boostingParams } from '../../src/ml/params.js';

const split = { test: 0.2, stratify: true, seed: 42 };

describe('random forest', () => {
  it('is deterministic for a seed and differs for another seed', () => {
    const ds = syntheticChurn(4000);
    const a = trainModel(ds, { algorithm: 'random_forest', params: { n_estimators: 15, max_depth: 6 }, split });
    const b = trainModel(ds, { algorithm: 'random_forest', params: { n_estimators: 15, max_depth: 6 }, split });
    expect(JSON.stringify(a.model)).toBe(JSON.stringify(b.model));
    expect(Array.from(a.testProba)).toEqual(Array.from(b.testProba));
    const c = trainModel(ds, { algorithm: 'random_forest', params: { n_estimators: 15, max_depth: 6, random_state: 7 }, split });
    expect(JSON.stringify(c.model)).not.toBe(JSON.stringify(a.model));
  });

  it('learns the synthetic signal (held-out ROC AUC well above chance) and respects max_depth', () => {
    const ds = syntheticChurn(8000);
    const r = trainModel(ds, { algorithm: 'random_forest', params: { n_estimators: 40, max_depth: 8 }, split });
    expect(r.metrics.roc_auc).toBeGreaterThan(0.78);
    expect(r.metrics.accuracy).toBeGreaterThan(0.68);
    expect(r.metrics.test_rows).toBe(1600);
    expect(r.model.trees).toHaveLength(40);
    for (const t of r.model.trees) expect(depth(t, 0)).toBeLessThanOrEqual(8);
    // Leaves hold class fractions.
    for (const t of r.model.trees) for (const [i, v] of t.value.entries()) if (t.feature[i] < 0) expect(v >= 0 && v <= 1).toBe(true);
  });

  it('class_weight=balanced raises recall on a rare class', () => {
    const ds = syntheticChurn(6000, 3);
    // Make positives rare: keep only 1 in 6.
    const keep: number[] = [];
    for (let i = 0; i < ds.n; i++) if (!ds.y[i] || i % 6 === 0) keep.push(i);
    const F = ds.featureNames.length;
    const X = new Float32Array(keep.length * F);
    const y = new Uint8Array(keep.length);
    keep.forEach((i, k) => {
      X.set(ds.X.subarray(i * F, i * F + F), k * F);
      y[k] = ds.y[i];
    });
    const rare = { featureNames: ds.featureNames, n: keep.length, X, y };
    const plain = trainModel(rare, { algorithm: 'random_forest', params: { n_estimators: 30, max_depth: 6 }, split });
    const balanced = trainModel(rare, { algorithm: 'random_forest', params: { n_estimators: 30, max_depth: 6, class_weight: 'balanced' }, split });
    expect(balanced.metrics.recall).toBeGreaterThan(plain.metrics.recall + 0.1);
  });

  it('refuses unknown or invalid params, naming them', () => {
    const ds = syntheticChurn(200);
    expect(() => trainModel(ds, { algorithm: 'random_forest', params: { n_trees: 10 }, split })).toThrow(/n_trees/);
    expect(() => trainModel(ds, { algorithm: 'random_forest', params: { max_depth: -1 }, split })).toThrow(/max_depth/);
  });
});

describe('gradient boosting', () => {
  it('is deterministic and learns the signal', () => {
    const ds = syntheticChurn(6000);
    const spec = { algorithm: 'gradient_boosting' as const, params: { max_iter: 60, max_depth: 3, learning_rate: 0.1 }, split };
    const a = trainModel(ds, spec);
    const b = trainModel(ds, spec);
    expect(JSON.stringify(a.model)).toBe(JSON.stringify(b.model));
    expect(a.metrics.roc_auc).toBeGreaterThan(0.78);
    expect(a.model.trees).toHaveLength(60);
  });
});

describe('gradient boosting on a rare label (defaults as scikit-learn HistGradientBoostingClassifier)', () => {
  // 20,000 rows, about 0.7% positives made by rules: the first defaults (depth-3 trees, leaves of
  // one row, no early stopping) gave ROC AUC 0.61 here and, at learning_rate 0.3, all zeros.
  const ds = syntheticImbalanced(20_000);
  const rare = { test: 0.25, stratify: true, seed: 42 };
  const positivesPredicted = (r: { testProba: Float64Array }) => r.testProba.filter((p) => p > 0.5).length;

  it("resolves scikit-learn's defaults", () => {
    expect(boostingParams({}, 42)).toEqual({
      learningRate: 0.1,
      maxIter: 100,
      maxLeafNodes: 31,
      maxDepth: Infinity,
      minSamplesLeaf: 20,
      l2: 0,
      earlyStopping: 'auto',
      validationFraction: 0.1,
      nIterNoChange: 10,
      tol: 1e-7,
      classWeight: 'none',
      seed: 42,
    });
  });

  it('with its defaults ranks as well as the random forest', () => {
    const forest = trainModel(ds, { algorithm: 'random_forest', params: {}, split: rare });
    const boosting = trainModel(ds, { algorithm: 'gradient_boosting', params: {}, split: rare });
    expect(boosting.metrics.roc_auc).toBeGreaterThan(0.95);
    expect(boosting.metrics.roc_auc).toBeGreaterThan(forest.metrics.roc_auc - 0.02);
    expect(positivesPredicted(boosting)).toBeGreaterThan(0);
    // More than 10,000 training rows: early stopping is on and ends before max_iter here.
    expect(boosting.resolvedParams.earlyStopping).toBe(true);
    expect(boosting.model.trees.length).toBeLessThan(100);
    for (const t of boosting.model.trees) expect(t.feature.filter((f) => f < 0).length).toBeLessThanOrEqual(31);
  });

  it('at learning_rate 0.3 still predicts both classes', () => {
    const r = trainModel(ds, { algorithm: 'gradient_boosting', params: { learning_rate: 0.3 }, split: rare });
    expect(positivesPredicted(r)).toBeGreaterThan(0);
    expect(r.metrics.roc_auc).toBeGreaterThan(0.75);
  });

  it('class_weight = balanced raises recall', () => {
    const plain = trainModel(ds, { algorithm: 'gradient_boosting', params: { max_iter: 30, early_stopping: false }, split: rare });
    const balanced = trainModel(ds, { algorithm: 'gradient_boosting', params: { max_iter: 30, early_stopping: false, class_weight: 'balanced' }, split: rare });
    expect(plain.model.trees).toHaveLength(30);
    expect(balanced.metrics.recall).toBeGreaterThan(plain.metrics.recall);
  });

  it('refuses parameters scikit-learn would refuse, naming them', () => {
    const small = syntheticChurn(200);
    expect(() => trainModel(small, { algorithm: 'gradient_boosting', params: { n_estimators: 10 }, split })).toThrow(/n_estimators.*max_iter/);
    expect(() => trainModel(small, { algorithm: 'gradient_boosting', params: { max_leaf_nodes: 1 }, split })).toThrow(/max_leaf_nodes/);
    expect(() => trainModel(small, { algorithm: 'gradient_boosting', params: { early_stopping: 'sometimes' }, split })).toThrow(/early_stopping/);
  });
});

describe('split, binning and metrics', () => {
  it('stratified split keeps each class in proportion and is seeded', () => {
    const y = new Uint8Array(1000).map((_, i) => (i % 10 < 3 ? 1 : 0));
    const s = trainTestSplit(y, 0.2, true, 1);
    expect(s.test.length).toBe(200);
    expect(Array.from(s.test).filter((i) => y[i]).length).toBe(60);
    expect(new Set([...s.train, ...s.test]).size).toBe(1000);
    expect(Array.from(trainTestSplit(y, 0.2, true, 1).test)).toEqual(Array.from(s.test));
    expect(Array.from(trainTestSplit(y, 0.2, true, 2).test)).not.toEqual(Array.from(s.test));
  });

  it('bins agree with x <= threshold for every value (the ONNX BRANCH_LEQ rule)', () => {
    const ds = syntheticChurn(3000);
    const F = ds.featureNames.length;
    const th = computeThresholds(ds.X, ds.n, F);
    const b = binData(ds.X, ds.n, F, th);
    let checked = 0;
    let disagreements = 0;
    for (let f = 0; f < F; f++) {
      expect(th[f].length).toBeLessThanOrEqual(254);
      for (let i = 0; i < ds.n; i++) {
        const code = b.codes[f * ds.n + i];
        const x = ds.X[i * F + f];
        for (let c = 0; c < th[f].length; c++, checked++) if (code <= c !== x <= th[f][c]) disagreements++;
      }
    }
    expect(checked).toBeGreaterThan(1_000_000);
    expect(disagreements).toBe(0);
  });

  it('metrics match hand-computed values', () => {
    const y = [1, 1, 1, 0, 0, 0, 0, 1];
    const p = [0.9, 0.8, 0.3, 0.6, 0.2, 0.1, 0.5, 0.7];
    const m = classificationMetrics(y, p);
    // predicted 1 when p > 0.5: rows 0,1,3,7 → tp=3 (0,1,7), fp=1 (3), fn=1 (2), tn=3 (4,5,6)
    expect(m.confusion_matrix).toEqual([
      [3, 1],
      [1, 3],
    ]);
    expect(m.accuracy).toBeCloseTo(6 / 8, 12);
    expect(m.precision).toBeCloseTo(0.75, 12);
    expect(m.recall).toBeCloseTo(0.75, 12);
    expect(m.f1).toBeCloseTo(0.75, 12);
    // AUC: of 16 (pos, neg) pairs, the positive scores higher in 14 (0.3 loses to 0.6 and 0.5).
    expect(m.roc_auc).toBeCloseTo(14 / 16, 12);
    const ll = -(Math.log(0.9) + Math.log(0.8) + Math.log(0.3) + Math.log(0.4) + Math.log(0.8) + Math.log(0.9) + Math.log(0.5) + Math.log(0.7)) / 8;
    expect(m.log_loss).toBeCloseTo(ll, 12);
    expect(rocAuc([0, 1, 0, 1], [0.5, 0.5, 0.5, 0.5])).toBe(0.5);
    expect(evaluateGate({ metric: 'f1', op: '>=', value: 0.75 }, m).passed).toBe(true);
    expect(evaluateGate({ metric: 'f1', op: '>', value: 0.75 }, m).passed).toBe(false);
    expect(evaluateGate({ metric: 'bogus', op: '>', value: 0 }, m).passed).toBe(false);
  });
});

function depth(t: { feature: number[]; left: number[]; right: number[] }, node: number): number {
  return t.feature[node] < 0 ? 0 : 1 + Math.max(depth(t, t.left[node]), depth(t, t.right[node]));
}
