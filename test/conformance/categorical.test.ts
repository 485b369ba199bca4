// asgard's categorical (string) features against scikit-learn (test/conformance/py/ordinal_pipeline.py):
// on the same rows and split, asgard's training vocabulary is OrdinalEncoder's categories_ (the same
// code point order, also for non-ASCII values), every held-out row gets the same code (a NULL and a
// category seen only in the held-out rows: -1, the unknown bucket), and asgard's gradient boosting
// with that encoding is within 0.02 ROC AUC of a scikit-learn pipeline (OrdinalEncoder →
// HistGradientBoostingClassifier) with the same parameters. The exported ONNX model, run by
// Python's onnxruntime with the raw strings, gives asgard's probabilities.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { requireToolchain } from './lib/toolchain.js';
import { repoRoot } from './lib/paths.js';
import { trainModel } from '../../src/ml/train.js';
import { exportOnnx } from '../../src/ml/onnx-export.js';
import { trainTestSplit } from '../../src/ml/dataset.js';
import { CARD_FEATURES, cardDataset, cardTransactions, type CardTxn } from '../ml/card-fraud.js';

const tools = requireToolchain();
const split = { test: 0.25, stratify: true, seed: 42 };
const params = { max_iter: 60, learning_rate: 0.2, max_depth: 5 };
const NAMES = CARD_FEATURES;
const dir = mkdtempSync(join(tmpdir(), 'asg-categorical-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Rows with non-ASCII categories (whose code point and UTF-16 orders differ) and one category only in a held-out row. */
function rows(n: number): CardTxn[] {
  const base = cardTransactions(n, 21);
  const rename: Record<string, string> = { pharmacy: 'épicerie', clothing: '\u{1F600}shop', utilities: '\uFF5Emarket' };
  return base.map((r) => ({ ...r, merchant_category: r.merchant_category === null ? null : (rename[r.merchant_category] ?? r.merchant_category) }));
}

const dataset = cardDataset;

const csvField = (v: string | null) => (v === null ? '' : `"${v.replace(/"/g, '""')}"`);

function python(script: string, args: string[]): string {
  const r = spawnSync(tools!.python, [join(repoRoot(), 'test/conformance/py', script), ...args], { env: tools!.env, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${script} failed: ${r.stderr}`);
  return r.stdout;
}

describe.skipIf(!tools)('categorical features agree with scikit-learn OrdinalEncoder', () => {
  it(
    'same vocabulary and codes, ROC AUC within 0.02 of OrdinalEncoder → HistGradientBoosting, ONNX takes the raw strings',
    () => {
      let rs = rows(20_000);
      const probe = dataset(rs);
      const s = trainTestSplit(probe.y, split.test, split.stratify, split.seed);
      const heldOnly = s.test[5];
      rs = rs.map((r, i) => (i === heldOnly ? { ...r, merchant_category: 'zz_seen_only_in_test' } : r));
      const ds = dataset(rs);
      const run = trainModel(ds, { algorithm: 'gradient_boosting', params, split });

      const data = join(dir, 'data.csv');
      writeFileSync(
        data,
        [...NAMES, 'label'].join(',') +
          '\n' +
          rs.map((r) => `${csvField(r.merchant_category)},${r.card_present ? 1 : 0},${Math.fround(r.amount)},${r.hour},${r.is_fraud}`).join('\n') +
          '\n',
      );
      writeFileSync(join(dir, 'split.json'), JSON.stringify({ train: Array.from(s.train), test: Array.from(s.test) }));
      writeFileSync(join(dir, 'params.json'), JSON.stringify({ ...params, random_state: split.seed }));
      const theirs = JSON.parse(python('ordinal_pipeline.py', [data, join(dir, 'split.json'), join(dir, 'params.json'), 'merchant_category'])) as {
        categories: Record<string, string[]>;
        test_codes: Record<string, number[]>;
        roc_auc: number;
      };
      expect(run.model.categories![0]).toEqual(theirs.categories.merchant_category);
      expect(run.model.categories![0]).toContain('\u{1F600}shop');
      const ours = Array.from({ length: run.test.n }, (_, i) => run.test.X[i * NAMES.length]);
      expect(ours).toEqual(theirs.test_codes.merchant_category);
      const at = Array.from(s.test).indexOf(heldOnly);
      expect(ours[at]).toBe(-1);
      console.log(`categorical: ROC AUC asgard ${run.metrics.roc_auc.toFixed(4)}, sklearn OrdinalEncoder+HGB ${theirs.roc_auc.toFixed(4)}`);
      expect(run.metrics.roc_auc).toBeGreaterThanOrEqual(theirs.roc_auc - 0.02);

      // The ONNX graph on the raw held-out strings, in Python's onnxruntime.
      const model = join(dir, 'model.onnx');
      writeFileSync(model, exportOnnx(run.model, { name: 'fraud', version: 1 }));
      const testRows = Array.from(s.test)
        .slice(0, 500)
        .map((i) => ({ ...rs[i], merchant_category: rs[i].merchant_category ?? 'NULL is sent as a value never seen' }));
      writeFileSync(
        join(dir, 'inputs.json'),
        JSON.stringify(testRows.map((r) => ({ merchant_category: r.merchant_category, card_present: r.card_present ? 1 : 0, amount: r.amount, hour: r.hour }))),
      );
      const proba = JSON.parse(python('onnx_proba.py', [model, join(dir, 'inputs.json')])) as number[];
      for (const [i, p] of proba.entries()) expect(Math.abs(p - run.testProba[i]), `test row ${i}`).toBeLessThan(1e-5);
    },
    10 * 60_000,
  );
});
