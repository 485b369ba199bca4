// Reading `algorithm.params` from the spec, with scikit-learn's defaults and names.

import type { TrainNode } from '../ir/types.js';

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

export interface BoostingParams {
  readonly nEstimators: number;
  readonly maxDepth: number;
  readonly minSamplesLeaf: number;
  readonly learningRate: number;
  readonly l2: number;
  readonly subsample: number;
  readonly classWeight: 'balanced' | 'none';
  readonly seed: number;
}

export const FOREST_PARAMS = ['n_estimators', 'max_depth', 'min_samples_leaf', 'min_samples_split', 'max_features', 'class_weight', 'bootstrap', 'random_state'];
export const BOOSTING_PARAMS = ['n_estimators', 'max_depth', 'min_samples_leaf', 'learning_rate', 'l2_regularization', 'subsample', 'class_weight', 'random_state'];

export class ParamError extends Error {}

type Params = Readonly<Record<string, number | string | boolean>>;

function num(p: Params, key: string, dflt: number, check: (v: number) => boolean, what: string): number {
  const v = p[key];
  if (v === undefined) return dflt;
  if (typeof v !== 'number' || !Number.isFinite(v) || !check(v)) throw new ParamError(`algorithm parameter ${key} must be ${what}, got ${JSON.stringify(v)}`);
  return v;
}

function classWeight(p: Params): 'balanced' | 'none' {
  const v = p.class_weight;
  if (v === undefined || v === 'none' || v === false) return 'none';
  if (v === 'balanced') return 'balanced';
  throw new ParamError(`algorithm parameter class_weight must be "balanced" or "none", got ${JSON.stringify(v)}`);
}

function unknown(p: Params, known: readonly string[], algo: string): void {
  for (const k of Object.keys(p)) if (!known.includes(k)) throw new ParamError(`unknown ${algo} parameter ${k} (known: ${known.join(', ')})`);
}

const posInt = (v: number) => Number.isInteger(v) && v >= 1;

export function forestParams(p: Params, seed: number): ForestParams {
  unknown(p, FOREST_PARAMS, 'random_forest');
  const mf = p.max_features;
  let maxFeatures: string | number = 'sqrt';
  if (mf !== undefined) {
    if (mf === 'sqrt' || mf === 'log2' || (typeof mf === 'number' && mf > 0)) maxFeatures = mf;
    else throw new ParamError(`algorithm parameter max_features must be "sqrt", "log2" or a positive number, got ${JSON.stringify(mf)}`);
  }
  const bootstrap = p.bootstrap === undefined ? true : p.bootstrap;
  if (typeof bootstrap !== 'boolean') throw new ParamError('algorithm parameter bootstrap must be true or false');
  return {
    nEstimators: num(p, 'n_estimators', 100, posInt, 'a positive integer'),
    maxDepth: num(p, 'max_depth', Infinity, posInt, 'a positive integer'),
    minSamplesLeaf: num(p, 'min_samples_leaf', 1, posInt, 'a positive integer'),
    minSamplesSplit: num(p, 'min_samples_split', 2, (v) => Number.isInteger(v) && v >= 2, 'an integer >= 2'),
    maxFeatures,
    classWeight: classWeight(p),
    bootstrap,
    seed: num(p, 'random_state', seed, Number.isInteger, 'an integer'),
  };
}

export function boostingParams(p: Params, seed: number): BoostingParams {
  unknown(p, BOOSTING_PARAMS, 'gradient_boosting');
  return {
    nEstimators: num(p, 'n_estimators', 100, posInt, 'a positive integer'),
    maxDepth: num(p, 'max_depth', 3, posInt, 'a positive integer'),
    minSamplesLeaf: num(p, 'min_samples_leaf', 1, posInt, 'a positive integer'),
    learningRate: num(p, 'learning_rate', 0.1, (v) => v > 0 && v <= 10, 'a number in (0, 10]'),
    l2: num(p, 'l2_regularization', 0, (v) => v >= 0, 'a number >= 0'),
    subsample: num(p, 'subsample', 1, (v) => v > 0 && v <= 1, 'a number in (0, 1]'),
    classWeight: classWeight(p),
    seed: num(p, 'random_state', seed, Number.isInteger, 'an integer'),
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

export type AlgorithmName = TrainNode['algorithm']['name'];
