// One training run, pure: split (stratified, seeded) → impute NULLs with the training medians →
// bin on the training side → fit → score the held-out side → metrics. No I/O.

import { binData, computeThresholds } from './binning.js';
import { columnMedians, impute, subset, trainTestSplit, type Dataset } from './dataset.js';
import { fitOnTraining, UNKNOWN_CODE } from './categorical.js';
import { fitBoosting } from './gradient-boosting.js';
import { classificationMetrics, type Metrics } from './metrics.js';
import { boostingParams, forestParams, type AlgorithmName } from './params.js';
import { trainForest } from './random-forest.js';
import { predictProba, type TreeEnsemble } from './tree.js';

export interface TrainSpec {
  readonly algorithm: AlgorithmName;
  readonly params: Readonly<Record<string, number | string | boolean>>;
  readonly split: { readonly test: number; readonly stratify: boolean; readonly seed: number };
  readonly threshold?: number;
}

export interface TrainingRun {
  readonly model: TreeEnsemble;
  readonly metrics: Metrics;
  /** Per feature: the value a NULL is replaced with (the training median; the unknown code for a categorical feature). */
  readonly fill: readonly number[];
  /** The held-out rows (imputed) and the in-memory model's probabilities on them. */
  readonly test: Dataset;
  readonly testProba: Float64Array;
  readonly trainRows: number;
  /** The resolved parameters (defaults filled in). */
  readonly resolvedParams: Record<string, unknown>;
  readonly seconds: number;
}

export function trainModel(ds: Dataset, spec: TrainSpec): TrainingRun {
  const t0 = performance.now();
  const F = ds.featureNames.length;
  const split = trainTestSplit(ds.y, spec.split.test, spec.split.stratify, spec.split.seed);
  let train = subset(ds, split.train);
  let test = subset(ds, split.test);
  // Categorical features: the vocabulary is learned on the training side only (a value seen only
  // in the held-out rows is unknown there, as a new category is at serving time).
  if (ds.categories) {
    const categories = ds.categories.map((v, f) => (v ? fitOnTraining(v, f, F, train, [test]) : null));
    train = { ...train, categories };
    test = { ...test, categories };
  }
  const fill = columnMedians(train.X, train.n, F).map((m, f) => (ds.categories?.[f] ? UNKNOWN_CODE : m));
  impute(train.X, F, fill);
  impute(test.X, F, fill);
  const binned = binData(train.X, train.n, F, computeThresholds(train.X, train.n, F));
  let model: TreeEnsemble;
  let resolvedParams: Record<string, unknown>;
  if (spec.algorithm === 'random_forest') {
    const p = forestParams(spec.params, spec.split.seed);
    resolvedParams = { ...p, maxDepth: Number.isFinite(p.maxDepth) ? p.maxDepth : null };
    model = trainForest(binned, train.y, ds.featureNames, p);
  } else {
    const p = boostingParams(spec.params, spec.split.seed);
    const run = fitBoosting(binned, train.y, ds.featureNames, p);
    model = run.model;
    const finite = (v: number) => (Number.isFinite(v) ? v : null);
    resolvedParams = { ...p, maxLeafNodes: finite(p.maxLeafNodes), maxDepth: finite(p.maxDepth), iterations: run.iterations, earlyStopping: run.earlyStopping };
  }
  if (train.categories) model = { ...model, categories: train.categories };
  const testProba = predictProba(model, test.X, test.n);
  const metrics = classificationMetrics(test.y, testProba, spec.threshold ?? 0.5);
  return { model, metrics, fill, test, testProba, trainRows: train.n, resolvedParams, seconds: (performance.now() - t0) / 1000 };
}
