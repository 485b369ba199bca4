// The JavaScript forest evaluator (src/ml/forest-evaluator.ts) against onnxruntime on the same ONNX
// bytes: every class-1 probability bit-equal (float32 bits compared), over trained forests (two
// datasets, one with a string feature) and random forests of other shapes (1 to 12 features, depth
// 1 to 14, single-leaf trees, string features with empty vocabularies), on inputs that hit the
// thresholds exactly, ±0, NaN, subnormals, ±large values, unknown and NULL categories and strings
// with lone surrogates, at batch sizes across both sides' blockings. Graphs it does not take
// (boosting, another post_transform, a mode other than BRANCH_LEQ) give null: onnxruntime scores them.

import { describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-node';
import { trainModel } from '../../src/ml/train.js';
import { exportOnnx, onnxOutput } from '../../src/ml/onnx-export.js';
import { ForestEvaluator } from '../../src/ml/forest-evaluator.js';
import { ModelProto } from '../../src/ml/onnx-proto.js';
import { unknownToken } from '../../src/ml/categorical.js';
import { Rng } from '../../src/ml/prng.js';
import { addNode, newTree, type Tree, type TreeEnsemble } from '../../src/ml/tree.js';
import { syntheticChurn } from './synthetic.js';
import { cardDataset, cardTransactions } from './card-fraud.js';

const FOREST_OUT = onnxOutput('random_forest');
const split = { test: 0.25, stratify: true, seed: 42 };

type Column = Float32Array | (string | null)[];

/** onnxruntime's class-1 probabilities, fed as src/ml/onnx-session.ts feeds it (NULL → a token outside the vocabulary). */
async function ortScores(bytes: Uint8Array, model: TreeEnsemble, cols: readonly Column[], n: number): Promise<Float32Array> {
  const session = await ort.InferenceSession.create(bytes, { intraOpNumThreads: 1, interOpNumThreads: 1, graphOptimizationLevel: 'all', logSeverityLevel: 3 });
  try {
    const feeds: Record<string, ort.Tensor> = {};
    model.featureNames.forEach((name, f) => {
      const col = cols[f];
      const vocab = model.categories?.[f];
      if (vocab) {
        const unknown = unknownToken(vocab);
        feeds[name] = new ort.Tensor(
          'string',
          (col as (string | null)[]).map((s) => s ?? unknown),
          [n, 1],
        );
      } else feeds[name] = new ort.Tensor('float32', col as Float32Array, [n, 1]);
    });
    const out = (await session.run(feeds, ['probabilities'])).probabilities.data as Float32Array;
    const p = new Float32Array(n);
    for (let i = 0; i < n; i++) p[i] = out[i * 2 + 1];
    return p;
  } finally {
    await session.release();
  }
}

function evaluator(bytes: Uint8Array, model: TreeEnsemble): ForestEvaluator {
  const e = ForestEvaluator.fromOnnx(bytes, model.featureNames, FOREST_OUT);
  if (!e) throw new Error('the evaluator did not take an exported forest');
  return e;
}

/** Rows where the two disagree in any bit, with both values (empty when bit-equal). */
function bitDiffs(a: Float32Array, b: Float32Array): string[] {
  expect(a.length).toBe(b.length);
  const ua = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const ub = new Uint32Array(b.buffer, b.byteOffset, b.length);
  const out: string[] = [];
  for (let i = 0; i < a.length && out.length < 5; i++) if (ua[i] !== ub[i]) out.push(`row ${i}: ${a[i]} vs ${b[i]}`);
  return out;
}

async function expectBitEqual(model: TreeEnsemble, cols: readonly Column[], n: number): Promise<Float32Array> {
  const bytes = exportOnnx(model, { name: 'm', version: 1 });
  const want = await ortScores(bytes, model, cols, n);
  const got = evaluator(bytes, model).score(cols, n);
  expect(bitDiffs(got, want)).toEqual([]);
  return want;
}

/** Columns of a row-major matrix (codes of categorical features decoded back to strings, unknown → null). */
function columnsOf(X: Float32Array, n: number, model: TreeEnsemble): Column[] {
  const F = model.featureNames.length;
  return model.featureNames.map((_, f) => {
    const vocab = model.categories?.[f];
    if (vocab) return Array.from({ length: n }, (_, i) => vocab[X[i * F + f]] ?? null);
    return Float32Array.from({ length: n }, (_, i) => X[i * F + f]);
  });
}

describe('trained forests', () => {
  it.each([
    [{ n_estimators: 30, max_depth: 10 }, 3],
    [{ n_estimators: 7, max_depth: 3 }, 4],
    [{ n_estimators: 60, max_depth: 14 }, 5],
  ])('churn-like data %o: bit-equal to onnxruntime on every held-out row', async (params, seed) => {
    const run = trainModel(syntheticChurn(5000, seed), { algorithm: 'random_forest', params, split });
    const p = await expectBitEqual(run.model, columnsOf(run.test.X, run.test.n, run.model), run.test.n);
    expect(new Set(p).size).toBeGreaterThan(20);
  });

  it('card data with a string feature (codes decoded to strings, some NULL): bit-equal', async () => {
    const run = trainModel(cardDataset(cardTransactions(6000)), { algorithm: 'random_forest', params: { n_estimators: 25, max_depth: 9 }, split });
    expect(run.model.categories?.some((c) => c)).toBe(true);
    const cols = columnsOf(run.test.X, run.test.n, run.model);
    const cat = run.model.categories!.findIndex((c) => c);
    const strings = cols[cat] as (string | null)[];
    for (let i = 0; i < strings.length; i += 7) strings[i] = i % 2 ? null : 'never seen';
    const p = await expectBitEqual(run.model, cols, run.test.n);
    expect(new Set(p).size).toBeGreaterThan(20);
  });
});

/** A random forest over F features: random depths, float32 thresholds from `cuts[f]`, leaf values in [0, 1]. */
function randomForest(
  rng: Rng,
  F: number,
  trees: number,
  maxDepth: number,
  categorical: readonly (readonly string[] | null)[],
  cuts: readonly number[][],
): TreeEnsemble {
  const grow = (t: Tree, depth: number): number => {
    const k = addNode(t);
    if (depth >= maxDepth || rng.next() < 0.15) {
      t.value[k] = rng.next() < 0.1 ? (rng.next() < 0.5 ? 0 : 1) : rng.next();
      return k;
    }
    const f = Math.floor(rng.next() * F);
    t.feature[k] = f;
    t.threshold[k] = cuts[f][Math.floor(rng.next() * cuts[f].length)];
    const l = grow(t, depth + 1);
    const r = grow(t, depth + 1);
    t.left[k] = l;
    t.right[k] = r;
    return k;
  };
  const list: Tree[] = [];
  for (let i = 0; i < trees; i++) {
    const t = newTree();
    grow(t, rng.next() < 0.05 ? maxDepth : 0);
    list.push(t);
  }
  return {
    kind: 'random_forest',
    featureNames: Array.from({ length: F }, (_, f) => `f${f}`),
    trees: list,
    baseScore: 0,
    categories: categorical,
  };
}

const SPECIAL = [0, -0, NaN, 1e-45, -1e-45, 1.1754942e-38, 3.4028234e38, -3.4028234e38, 1e30, -1e30, 0.1, -0.1, 1, -1];

describe('random forests of other shapes', () => {
  it.each([
    [1, 1, 1, 0, 11],
    [3, 40, 6, 1, 12],
    [8, 100, 10, 0, 13],
    [12, 25, 14, 3, 14],
    [5, 1, 4, 2, 15],
  ])('%i features, %i trees, depth ≤ %i, %i string features (seed %i): bit-equal on edge inputs', async (F, trees, depth, strings, seed) => {
    const rng = new Rng(seed);
    const vocabs: (string[] | null)[] = Array.from({ length: F }, (_, f) =>
      f < strings ? (f === 1 ? [] : [...Array.from({ length: 3 + f * 4 }, (_, k) => `c${k}${k % 3 ? '' : 'é'}`), '\uFFFD', 'c0\uFFFD']) : null,
    );
    // Numeric cuts: float32 values of several magnitudes, plus ±0; categorical cuts: code boundaries (x.5) and the unknown code.
    const cuts = vocabs.map((v) =>
      v
        ? [-1, -0.5, ...v.map((_, k) => k + 0.5)]
        : [0, -0, ...Array.from({ length: 30 }, () => Math.fround((rng.next() - 0.5) * 10 ** Math.floor(rng.next() * 8 - 3)))],
    );
    const model = randomForest(rng, F, trees, depth, vocabs, cuts);
    const n = 1500;
    const cols: Column[] = vocabs.map((v, f) => {
      if (v) {
        const pool = [...v, null, '', 'unseen', '\uD800', 'c0\uDC00', '\uFFFD'];
        return Array.from({ length: n }, () => pool[Math.floor(rng.next() * pool.length)]);
      }
      const c = new Float32Array(n);
      for (let i = 0; i < n; i++) {
        const r = rng.next();
        c[i] =
          r < 0.4 ? cuts[f][Math.floor(rng.next() * cuts[f].length)] : r < 0.55 ? SPECIAL[Math.floor(rng.next() * SPECIAL.length)] : (rng.next() - 0.5) * 1000;
      }
      return c;
    });
    await expectBitEqual(model, cols, n);
    // The same rows one at a time (the server's requests) and in odd batch sizes.
    const bytes = exportOnnx(model, { name: 'm', version: 1 });
    const e = evaluator(bytes, model);
    const all = e.score(cols, n);
    for (const [from, to] of [
      [0, 1],
      [1, 8],
      [8, 137],
      [137, 700],
    ]) {
      const part = cols.map((c) => c.slice(from, to)) as Column[];
      expect(bitDiffs(e.score(part, to - from), all.subarray(from, to))).toEqual([]);
    }
  });
});

describe('graphs it does not take', () => {
  const run = trainModel(syntheticChurn(1500, 9), { algorithm: 'random_forest', params: { n_estimators: 5, max_depth: 4 }, split });
  const bytes = exportOnnx(run.model, { name: 'm', version: 1 });
  const names = run.model.featureNames;

  /** The exported forest with its classifier's attributes edited. */
  function edited(edit: (attrs: Record<string, unknown>[]) => void): Uint8Array {
    const m = ModelProto.toObject(ModelProto.decode(bytes), { longs: Number, arrays: true }) as {
      graph: { node: { op_type: string; attribute: Record<string, unknown>[] }[] };
    };
    edit(m.graph.node.find((x) => x.op_type === 'TreeEnsembleClassifier')!.attribute);
    return ModelProto.encode(ModelProto.fromObject(m)).finish();
  }

  it('takes the exported forest itself', () => {
    expect(ForestEvaluator.fromOnnx(bytes, names, FOREST_OUT)).not.toBeNull();
  });

  it('refuses boosting, another output, other inputs, another post_transform or node mode, missing-value tracking', () => {
    const boost = trainModel(syntheticChurn(1500, 9), { algorithm: 'gradient_boosting', params: { max_iter: 5, max_depth: 3 }, split });
    expect(ForestEvaluator.fromOnnx(exportOnnx(boost.model, { name: 'm', version: 1 }), names, onnxOutput('gradient_boosting'))).toBeNull();
    expect(ForestEvaluator.fromOnnx(bytes, names, { name: 'probabilities', width: 2, column: 0 })).toBeNull();
    expect(ForestEvaluator.fromOnnx(bytes, [...names].reverse(), FOREST_OUT)).toBeNull();
    const text = (s: string) => new TextEncoder().encode(s);
    const setString = (name: string, s: string) =>
      edited((attrs) => {
        const a = attrs.find((x) => x.name === name)!;
        a.s = text(s);
      });
    expect(ForestEvaluator.fromOnnx(setString('post_transform', 'NONE'), names, FOREST_OUT)).not.toBeNull();
    expect(ForestEvaluator.fromOnnx(setString('post_transform', 'LOGISTIC'), names, FOREST_OUT)).toBeNull();
    const lt = edited((attrs) => {
      const modes = attrs.find((x) => x.name === 'nodes_modes')!.strings as Uint8Array[];
      modes[0] = text('BRANCH_LT');
    });
    expect(ForestEvaluator.fromOnnx(lt, names, FOREST_OUT)).toBeNull();
    const tracking = edited((attrs) => {
      attrs.push({ name: 'nodes_missing_value_tracks_true', type: 7, ints: (attrs[0].ints as number[]).map(() => 1) });
    });
    expect(ForestEvaluator.fromOnnx(tracking, names, FOREST_OUT)).toBeNull();
    expect(ForestEvaluator.fromOnnx(new Uint8Array([1, 2, 3, 255]), names, FOREST_OUT)).toBeNull();
  });
});
