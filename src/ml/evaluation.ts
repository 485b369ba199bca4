// What a model version's page draws, computed once at training time from the held-out split and
// stored beside the model (`evaluation.json` in the version folder, src/ml/registry.ts):
//  - the ROC curve (false/true positive rate) and the precision–recall curve, one point per
//    distinct score threshold, thinned to at most MAX_POINTS;
//  - permutation importance: how much ROC AUC drops when one feature's held-out column is shuffled
//    (model-agnostic, on the data the metrics come from).

import type { Dataset } from './dataset.js';
import { rocAuc } from './metrics.js';
import { Rng } from './prng.js';
import { predictProba, type TreeEnsemble } from './tree.js';

export const MAX_POINTS = 200;

export interface Evaluation {
  /** [false positive rate, true positive rate, threshold], from (0,0) to (1,1). */
  readonly roc: readonly (readonly [number, number, number])[];
  /** [recall, precision, threshold], recall ascending. */
  readonly pr: readonly (readonly [number, number, number])[];
  /** Drop of ROC AUC on the held-out rows when the feature is permuted, largest first. */
  readonly importance: readonly { readonly feature: string; readonly importance: number }[];
}

const r4 = (x: number) => Math.round(x * 1e4) / 1e4;

/** ROC and PR points over every distinct score (a prediction is positive when score >= threshold). */
export function curves(y: ArrayLike<number>, score: ArrayLike<number>): Pick<Evaluation, 'roc' | 'pr'> {
  const n = y.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => score[b] - score[a]);
  let P = 0;
  for (let i = 0; i < n; i++) P += y[i] ? 1 : 0;
  const N = n - P;
  const roc: [number, number, number][] = [[0, 0, 1]];
  const pr: [number, number, number][] = [];
  let tp = 0;
  let fp = 0;
  for (let k = 0; k < n; ) {
    const s = score[order[k]];
    while (k < n && score[order[k]] === s) {
      if (y[order[k]]) tp++;
      else fp++;
      k++;
    }
    roc.push([N ? r4(fp / N) : 0, P ? r4(tp / P) : 0, r4(s)]);
    pr.push([P ? r4(tp / P) : 0, r4(tp / (tp + fp)), r4(s)]);
  }
  return { roc: thin(roc), pr: thin(pr) };
}

/** Keep the first and last points and an even spread in between. */
function thin<T>(points: T[]): T[] {
  if (points.length <= MAX_POINTS) return points;
  const out: T[] = [];
  const step = (points.length - 1) / (MAX_POINTS - 1);
  for (let i = 0; i < MAX_POINTS; i++) out.push(points[Math.round(i * step)]);
  return out;
}

export function permutationImportance(model: TreeEnsemble, test: Dataset, seed: number): Evaluation['importance'] {
  const F = test.featureNames.length;
  const base = rocAuc(test.y, predictProba(model, test.X, test.n));
  const rng = new Rng(seed);
  const X = Float32Array.from(test.X);
  const out = test.featureNames.map((feature, f) => {
    const perm = rng.shuffle(Array.from({ length: test.n }, (_, i) => i));
    for (let i = 0; i < test.n; i++) X[i * F + f] = test.X[perm[i] * F + f];
    const auc = rocAuc(test.y, predictProba(model, X, test.n));
    for (let i = 0; i < test.n; i++) X[i * F + f] = test.X[i * F + f];
    return { feature, importance: Number.isNaN(base) || Number.isNaN(auc) ? 0 : r4(base - auc) };
  });
  return out.sort((a, b) => b.importance - a.importance || a.feature.localeCompare(b.feature));
}

export function evaluate(model: TreeEnsemble, test: Dataset, testProba: ArrayLike<number>, seed: number): Evaluation {
  return { ...curves(test.y, testProba), importance: permutationImportance(model, test, seed) };
}
