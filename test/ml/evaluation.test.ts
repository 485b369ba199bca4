// The curves and feature importance a version's page draws (src/ml/evaluation.ts), checked against
// what they must be: the ROC curve's area is the ROC AUC the metrics report, the curves end where
// they must, and shuffling the only informative feature costs AUC while shuffling noise does not.

import { describe, expect, it } from 'vitest';
import { curves, evaluate, MAX_POINTS } from '../../src/ml/evaluation.js';
import { rocAuc } from '../../src/ml/metrics.js';
import { Rng } from '../../src/ml/prng.js';
import { trainModel } from '../../src/ml/train.js';
import type { Dataset } from '../../src/ml/dataset.js';

/** Area under points by the trapezoid rule. */
const area = (pts: readonly (readonly [number, number, number])[]) => pts.slice(1).reduce((s, p, i) => s + ((p[0] - pts[i][0]) * (p[1] + pts[i][1])) / 2, 0);

describe('curves', () => {
  it('a perfect score: ROC through (0, 1), precision 1 up to recall 1', () => {
    const c = curves([0, 0, 1, 1], [0.1, 0.2, 0.8, 0.9]);
    expect(c.roc[0]).toEqual([0, 0, 1]);
    expect(c.roc).toContainEqual([0, 1, 0.8]);
    expect(c.roc.at(-1)!.slice(0, 2)).toEqual([1, 1]);
    expect(c.pr.filter((p) => p[0] <= 1 && p[2] >= 0.8).every((p) => p[1] === 1)).toBe(true);
  });

  it('on random scores the ROC curve encloses the ROC AUC, and it is thinned to MAX_POINTS', () => {
    const rng = new Rng(3);
    const n = 5000;
    const y = Array.from({ length: n }, () => (rng.next() < 0.3 ? 1 : 0));
    const score = y.map((v) => Math.round((rng.next() * 0.7 + v * 0.3) * 1e6) / 1e6);
    const c = curves(y, score);
    expect(c.roc.length).toBeLessThanOrEqual(MAX_POINTS);
    expect(area(c.roc)).toBeCloseTo(rocAuc(y, score), 2);
    expect(c.pr.at(-1)![0]).toBe(1); // every positive found at the lowest threshold
    expect(c.pr.at(-1)![1]).toBeCloseTo(y.filter(Boolean).length / n, 3); // precision = the positive rate
  });
});

describe('permutation importance', () => {
  it('ranks the feature the label depends on first; noise costs nothing', () => {
    const rng = new Rng(9);
    const n = 1200;
    const X = new Float32Array(n * 2);
    const y = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      X[i * 2] = rng.next();
      X[i * 2 + 1] = rng.next();
      y[i] = X[i * 2] + (rng.next() - 0.5) * 0.2 > 0.5 ? 1 : 0;
    }
    const ds: Dataset = { featureNames: ['signal', 'noise'], n, X, y };
    const run = trainModel(ds, { algorithm: 'random_forest', params: { n_estimators: 20, max_depth: 6 }, split: { test: 0.25, stratify: true, seed: 1 } });
    const e = evaluate(run.model, run.test, run.testProba, 1);
    expect(e.importance.map((x) => x.feature)).toEqual(['signal', 'noise']);
    expect(e.importance[0].importance).toBeGreaterThan(0.2);
    expect(Math.abs(e.importance[1].importance)).toBeLessThan(0.02);
    expect(area(e.roc)).toBeCloseTo(run.metrics.roc_auc, 2);
  });
});
