// The ONNX export, loaded by onnxruntime-node: its probabilities equal the in-memory model's on the
// whole held-out split (float32 rounding only), for a forest and for boosting; inputs are named
// per feature. Columns that are views of one buffer (floatColumns: the server's per-request columns)
// score as separate arrays do.

import { describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-node';
import { trainModel } from '../../src/ml/train.js';
import { exportOnnx, onnxOutput } from '../../src/ml/onnx-export.js';
import { floatColumns, OnnxScorer } from '../../src/ml/onnx-session.js';
import { syntheticChurn, FEATURES } from './synthetic.js';

const split = { test: 0.25, stratify: true, seed: 42 };

describe.each([
  ['random_forest', { n_estimators: 25, max_depth: 10 }],
  ['gradient_boosting', { max_iter: 40, max_depth: 4, learning_rate: 0.2 }],
] as const)('%s → ONNX', (algorithm, params) => {
  it('matches the in-memory model on the whole test split', async () => {
    const ds = syntheticChurn(6000, 11);
    const run = trainModel(ds, { algorithm, params, split });
    const bytes = exportOnnx(run.model, { name: 'm', version: 1 });
    const session = await ort.InferenceSession.create(bytes);
    expect(session.inputNames).toEqual(FEATURES);
    await session.release();
    const scorer = await OnnxScorer.load(
      bytes,
      run.model.featureNames.map((name) => ({ name })),
      onnxOutput(run.model.kind),
    );
    const p = await scorer.scoreRows(run.test.X, run.test.n);
    await scorer.release();
    expect(p.length).toBe(1500);
    let maxDiff = 0;
    const distinct = new Set<number>();
    for (let i = 0; i < run.test.n; i++) {
      maxDiff = Math.max(maxDiff, Math.abs(p[i] - run.testProba[i]));
      distinct.add(run.testProba[i]);
    }
    expect(maxDiff).toBeLessThan(1e-6);
    // Not a constant model: the comparison means something.
    expect(distinct.size).toBeGreaterThan(100);
  });
});

it('scores columns that are views of one buffer (floatColumns) as it scores separate arrays', async () => {
  const ds = syntheticChurn(2000, 5);
  const run = trainModel(ds, { algorithm: 'random_forest', params: { n_estimators: 10, max_depth: 6 }, split });
  const F = run.model.featureNames.length;
  const scorer = await OnnxScorer.load(
    exportOnnx(run.model, { name: 'm', version: 1 }),
    run.model.featureNames.map((name) => ({ name })),
    onnxOutput(run.model.kind),
  );
  const n = 64;
  const expected = await scorer.scoreRows(run.test.X, n);
  const batch = floatColumns(F, n);
  expect(new Set(batch.map((c) => c.buffer)).size).toBe(1);
  for (let i = 0; i < n; i++) for (let f = 0; f < F; f++) batch[f][i] = run.test.X[i * F + f];
  expect([...(await scorer.scoreColumns(batch, n))]).toEqual([...expected]);
  for (let i = 0; i < n; i++) {
    const row = floatColumns(F, 1);
    for (let f = 0; f < F; f++) row[f][0] = run.test.X[i * F + f];
    expect((await scorer.scoreColumns(row, 1))[0]).toBe(expected[i]);
  }
  await scorer.release();
});
