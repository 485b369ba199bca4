// Training time at the seed's scale: 100,000 customers x 8 features (80,000 training rows after
// the 20% held-out split), the seed's random forest (100 trees, max_depth 10), and gradient boosting
// with scikit-learn's defaults (100 rounds, depth 3). Goal (issue): the forest under 20 s.

import type { Figure } from './run.js';

// Not imported from run.ts: importing a value from it runs the bench runner itself.
const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
import { trainModel } from '../src/ml/train.js';
import { syntheticChurn } from '../test/ml/synthetic.js';

const RUNS = 3;

export async function run(): Promise<Figure[]> {
  const ds = syntheticChurn(100_000);
  const split = { test: 0.2, stratify: true, seed: 42 };
  const rf: number[] = [];
  const gb: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    rf.push(trainModel(ds, { algorithm: 'random_forest', params: { n_estimators: 100, max_depth: 10 }, split }).seconds);
    gb.push(trainModel(ds, { algorithm: 'gradient_boosting', params: { n_estimators: 100, max_depth: 3 }, split }).seconds);
  }
  return [
    { name: 'ml.train.random_forest.100k.seconds', value: median(rf), unit: 's', goal: '< 20', runs: RUNS },
    { name: 'ml.train.gradient_boosting.100k.seconds', value: median(gb), unit: 's', runs: RUNS },
  ];
}
