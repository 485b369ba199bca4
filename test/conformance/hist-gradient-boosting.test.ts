// asgard's gradient_boosting against scikit-learn's HistGradientBoostingClassifier (the estimator
// its compiled training job runs) on generated imbalanced data (about 0.7% positives, made by
// rules, test/ml/imbalanced.ts): the same rows, the same train/test split, the same parameters.
// Per parameter set, the mean held-out ROC AUC over several generated data sets is at most 0.02
// below scikit-learn's, and asgard never predicts a single class where scikit-learn does not.
// (Being better than scikit-learn is not a failure: on a few dozen test positives both vary.)
//
// At learning_rate 0.3 both implementations overfit the rare label within two or three rounds
// (leaf values near ±45 on pure leaves; the validation loss climbs from 0.04 to over 1) and early
// stopping keeps about 11 trees. The held-out ROC AUC then depends on which few rows land in
// those leaves: scikit-learn alone ranges from 0.54 to 0.88 over data seeds 1–10, and from 0.76 to
// 0.90 on one data set when only its validation split's random_state changes. Three data sets
// measure that noise, not a difference between the two (seeds 5, 9 and 13 happened to put
// asgard 0.09 below, seeds 1–10 put it 0.04 above), so that case averages over ten.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { requireToolchain } from './lib/toolchain.js';
import { repoRoot } from './lib/paths.js';
import { trainModel } from '../../src/ml/train.js';
import { trainTestSplit, type Dataset } from '../../src/ml/dataset.js';
import { syntheticImbalanced } from '../ml/imbalanced.js';

const tools = requireToolchain();
const ROWS = 100_000;
const SEEDS = [5, 9, 13];
/** For the high learning rate, whose per-data-set AUC spread is wide (see above). */
const MANY_SEEDS = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
const split = { test: 0.25, stratify: true, seed: 42 };
const dir = mkdtempSync(join(tmpdir(), 'asg-hgb-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Side {
  readonly auc: number;
  readonly positives: number;
}

function sklearn(ds: Dataset, seed: number, params: Record<string, number | string | boolean>): Side {
  const F = ds.featureNames.length;
  const data = join(dir, `data-${seed}.csv`);
  let csv = [...ds.featureNames, 'label'].join(',') + '\n';
  for (let i = 0; i < ds.n; i++) csv += `${Array.from(ds.X.subarray(i * F, i * F + F)).join(',')},${ds.y[i]}\n`;
  writeFileSync(data, csv);
  const s = trainTestSplit(ds.y, split.test, split.stratify, split.seed);
  writeFileSync(join(dir, 'split.json'), JSON.stringify({ train: Array.from(s.train), test: Array.from(s.test) }));
  writeFileSync(join(dir, 'params.json'), JSON.stringify({ ...params, random_state: split.seed }));
  const r = spawnSync(
    tools!.python,
    [join(repoRoot(), 'test/conformance/py/hist_gradient_boosting.py'), data, join(dir, 'split.json'), join(dir, 'params.json')],
    {
      env: tools!.env,
      encoding: 'utf8',
    },
  );
  if (r.status !== 0) throw new Error(`hist_gradient_boosting.py failed: ${r.stderr}`);
  const out = JSON.parse(r.stdout) as { roc_auc: number; positives_predicted: number };
  return { auc: out.roc_auc, positives: out.positives_predicted };
}

function asgard(ds: Dataset, params: Record<string, number | string | boolean>): Side {
  const run = trainModel(ds, { algorithm: 'gradient_boosting', params, split });
  return { auc: run.metrics.roc_auc, positives: run.testProba.filter((p) => p > 0.5).length };
}

describe.skipIf(!tools)('gradient_boosting agrees with scikit-learn HistGradientBoostingClassifier on a rare label', () => {
  it.each([
    [{}, SEEDS],
    [{ class_weight: 'balanced' }, SEEDS],
    [{ learning_rate: 0.3 }, MANY_SEEDS],
  ] as const)(
    'params %o',
    (params, seeds) => {
      const rows: string[] = [];
      let a = 0;
      let s = 0;
      for (const seed of seeds) {
        const ds = syntheticImbalanced(ROWS, seed);
        const ours = asgard(ds, params);
        const theirs = sklearn(ds, seed, params);
        rows.push(`seed ${seed}: asgard ${ours.auc.toFixed(4)} (${ours.positives} predicted positive), sklearn ${theirs.auc.toFixed(4)} (${theirs.positives})`);
        if (theirs.positives > 0) expect(ours.positives, rows.join('\n')).toBeGreaterThan(0);
        a += ours.auc / seeds.length;
        s += theirs.auc / seeds.length;
      }
      console.log(`gradient_boosting ${JSON.stringify(params)}: mean ROC AUC asgard ${a.toFixed(4)}, sklearn ${s.toFixed(4)}\n  ${rows.join('\n  ')}`);
      expect(a, rows.join('\n')).toBeGreaterThanOrEqual(s - 0.02);
    },
    20 * 60_000,
  );
});
