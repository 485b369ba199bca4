// Categorical (string) features in the trainer and the ONNX export (src/ml/categorical.ts): the
// vocabulary is learned on the training side of the split, sorted by code point; the exported graph
// takes the raw strings (a LabelEncoder per categorical input) and scores exactly as the in-memory
// model; NULL and a category never seen in training land in the same unknown bucket.

import { describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-node';
import { trainModel } from '../../src/ml/train.js';
import { exportOnnx, onnxOutput } from '../../src/ml/onnx-export.js';
import { OnnxScorer } from '../../src/ml/onnx-session.js';
import { codeMap, compareCodePoints, encodeValue, UNKNOWN_CODE, vocabulary } from '../../src/ml/categorical.js';
import { trainTestSplit } from '../../src/ml/dataset.js';
import { CARD_FEATURES, cardDataset, cardTransactions, MERCHANT_CATEGORIES } from './card-fraud.js';

const NAMES = CARD_FEATURES;
const dataset = (n: number) => cardDataset(cardTransactions(n));

const split = { test: 0.25, stratify: true, seed: 42 };

describe('the vocabulary', () => {
  it('is sorted by code point (not by UTF-16 unit), distinct, without NULL', () => {
    expect(vocabulary(['b', null, 'a', 'b', 'Z', 'é', '\u{1F600}', '\uFF5E'])).toEqual(['Z', 'a', 'b', 'é', '\uFF5E', '\u{1F600}']);
    expect(compareCodePoints('\uFF5E', '\u{1F600}')).toBeLessThan(0);
    const codes = codeMap(['a', 'b']);
    expect([encodeValue(codes, 'b'), encodeValue(codes, null), encodeValue(codes, 'new')]).toEqual([1, UNKNOWN_CODE, UNKNOWN_CODE]);
  });

  it('is learned on the training side only: a value only in the held-out rows is unknown there', () => {
    const ds = dataset(2000);
    // One held-out-only category: a held-out row's code rewritten to a value appended to the vocabulary.
    const F = NAMES.length;
    const held = trainTestSplit(ds.y, split.test, split.stratify, split.seed).test[0];
    const vocab = [...ds.categories![0]!, 'zz_only_once'];
    const X = Float32Array.from(ds.X);
    X[held * F] = vocab.length - 1;
    const run = trainModel(
      { ...ds, X, categories: [vocab, null, null, null] },
      { algorithm: 'random_forest', params: { n_estimators: 5, max_depth: 4 }, split },
    );
    const learned = run.model.categories![0]!;
    expect(learned).toEqual([...MERCHANT_CATEGORIES].sort());
    expect(run.fill[0]).toBe(UNKNOWN_CODE);
    // The held-out row is the first test row (the split keeps index order); its code is the unknown bucket.
    expect(run.test.X[0]).toBe(UNKNOWN_CODE);
    const codes = [...Array(run.test.n).keys()].map((i) => run.test.X[i * F]);
    expect(Math.max(...codes)).toBe(learned.length - 1);
  });
});

describe.each([
  ['random_forest', { n_estimators: 20, max_depth: 8 }],
  ['gradient_boosting', { max_iter: 40, max_depth: 4, learning_rate: 0.2 }],
] as const)('%s with a string feature → ONNX', (algorithm, params) => {
  it('takes the raw string, scores as the in-memory model, and sends unknown values to the unknown bucket', async () => {
    const ds = dataset(6000);
    const run = trainModel(ds, { algorithm, params, split });
    expect(run.metrics.roc_auc).toBeGreaterThan(0.7);
    const bytes = exportOnnx(run.model, { name: 'fraud', version: 1 });
    const session = await ort.InferenceSession.create(bytes);
    expect(session.inputNames).toEqual(NAMES);
    // The category is a string input: ORT refuses a float for it.
    const feeds = (category: string, amount = 50) => ({
      merchant_category: new ort.Tensor('string', [category], [1, 1]),
      card_present: new ort.Tensor('float32', Float32Array.of(0), [1, 1]),
      amount: new ort.Tensor('float32', Float32Array.of(amount), [1, 1]),
      hour: new ort.Tensor('float32', Float32Array.of(3), [1, 1]),
    });
    await expect(session.run({ ...feeds('gambling'), merchant_category: new ort.Tensor('float32', Float32Array.of(1), [1, 1]) })).rejects.toThrow();
    const out = onnxOutput(run.model.kind);
    const p = async (c: string) => {
      const d = (await session.run(feeds(c)))[out.name].data as Float32Array;
      return d[out.column];
    };
    expect(await p('crypto_exchange')).toBeGreaterThan(await p('grocery'));
    expect(await p('never-seen-before')).toBe(await p('another new one'));
    await session.release();

    const scorer = await OnnxScorer.load(
      bytes,
      NAMES.map((name, f) => ({ name, categories: run.model.categories![f] })),
      out,
    );
    const onnx = await scorer.scoreRows(run.test.X, run.test.n, run.model.categories);
    // NULL (fed as the unknown token) scores as an unseen category does.
    const nullRow = await scorer.scoreColumns([[null], Float32Array.of(0), Float32Array.of(50), Float32Array.of(3)], 1);
    const newRow = await scorer.scoreColumns([['brand-new'], Float32Array.of(0), Float32Array.of(50), Float32Array.of(3)], 1);
    await scorer.release();
    expect(nullRow[0]).toBe(newRow[0]);
    let maxDiff = 0;
    for (let i = 0; i < run.test.n; i++) maxDiff = Math.max(maxDiff, Math.abs(onnx[i] - run.testProba[i]));
    expect(maxDiff).toBeLessThan(1e-5);
    expect(new Set(run.testProba).size).toBeGreaterThan(20);
  });
});
