// Reading `algorithm.params` from the spec into the trainers' settings. What each algorithm accepts
// (names, forms, defaults) is the one table in src/ir/algorithms.ts; this file only applies it.

import { checkParam, HYPERPARAMS, type AlgorithmName, type ParamValue } from '../ir/algorithms.js';

export type { AlgorithmName } from '../ir/algorithms.js';

export interface ForestParams {
  readonly nEstimators: number;
  /** Infinity: grow until pure (scikit-learn's max_depth=None). */
  readonly maxDepth: number;
  readonly minSamplesLeaf: number;
  readonly minSamplesSplit: number;
  /** 'sqrt' | 'log2' | an integer count | a fraction in (0, 1]. */
  readonly maxFeatures: string | number;
  readonly classWeight: 'balanced' | 'none';
  readonly bootstrap: boolean;
  readonly seed: number;
}

/** scikit-learn HistGradientBoostingClassifier's settings (binary log-loss). */
export interface BoostingParams {
  readonly learningRate: number;
  readonly maxIter: number;
  /** Infinity: no limit (None). */
  readonly maxLeafNodes: number;
  readonly maxDepth: number;
  readonly minSamplesLeaf: number;
  readonly l2: number;
  readonly earlyStopping: 'auto' | boolean;
  readonly validationFraction: number;
  readonly nIterNoChange: number;
  readonly tol: number;
  readonly classWeight: 'balanced' | 'none';
  readonly seed: number;
}

/** A parameter the trainer cannot take (a spec that went through the checker never has one). */
export class ParamError extends Error {}

type Params = Readonly<Record<string, ParamValue>>;

/** Every parameter checked, defaults filled in; `none` becomes Infinity for the numeric limits. */
function resolve(algorithm: AlgorithmName, p: Params, seed: number): (name: string) => ParamValue {
  for (const [k, v] of Object.entries(p)) {
    const problem = checkParam(algorithm, k, v);
    if (problem) throw new ParamError(problem.kind === 'unknown' && problem.hint ? `${problem.message}: ${problem.hint}` : problem.message);
  }
  return (name) => {
    const v = p[name] ?? HYPERPARAMS[algorithm].find((h) => h.name === name)?.default ?? (name === 'random_state' ? seed : undefined);
    if (v === undefined) throw new Error(`internal error: ${algorithm} has no parameter ${name}`);
    return v;
  };
}

const limit = (v: ParamValue): number => (v === 'none' ? Infinity : (v as number));

export function forestParams(p: Params, seed: number): ForestParams {
  const get = resolve('random_forest', p, seed);
  return {
    nEstimators: get('n_estimators') as number,
    maxDepth: limit(get('max_depth')),
    minSamplesLeaf: get('min_samples_leaf') as number,
    minSamplesSplit: get('min_samples_split') as number,
    maxFeatures: get('max_features') as string | number,
    classWeight: get('class_weight') as 'balanced' | 'none',
    bootstrap: get('bootstrap') as boolean,
    seed: get('random_state') as number,
  };
}

export function boostingParams(p: Params, seed: number): BoostingParams {
  const get = resolve('gradient_boosting', p, seed);
  return {
    learningRate: get('learning_rate') as number,
    maxIter: get('max_iter') as number,
    maxLeafNodes: limit(get('max_leaf_nodes')),
    maxDepth: limit(get('max_depth')),
    minSamplesLeaf: get('min_samples_leaf') as number,
    l2: get('l2_regularization') as number,
    earlyStopping: get('early_stopping') as 'auto' | boolean,
    validationFraction: get('validation_fraction') as number,
    nIterNoChange: get('n_iter_no_change') as number,
    tol: get('tol') as number,
    classWeight: get('class_weight') as 'balanced' | 'none',
    seed: get('random_state') as number,
  };
}

export function resolveMaxFeatures(mf: string | number, F: number): number {
  if (mf === 'sqrt') return Math.max(1, Math.floor(Math.sqrt(F)));
  if (mf === 'log2') return Math.max(1, Math.floor(Math.log2(F)));
  if (typeof mf === 'number') return Math.min(F, Math.max(1, mf <= 1 && !Number.isInteger(mf) ? Math.floor(mf * F) : Math.floor(mf)));
  return F;
}

/** scikit-learn's "balanced": n / (2 · count(class)). */
export function classWeights(y: Uint8Array, mode: 'balanced' | 'none'): [number, number] {
  if (mode === 'none') return [1, 1];
  let c1 = 0;
  for (let i = 0; i < y.length; i++) c1 += y[i];
  const c0 = y.length - c1;
  return [c0 ? y.length / (2 * c0) : 1, c1 ? y.length / (2 * c1) : 1];
}
