// Generated imbalanced data with a card-fraud shape (not churn): about 0.7% positives, given by
// rules over a few features (large amount at night, many transactions far from home, a risky
// merchant without the card present), 3% of labels drawn at random instead, plus uninformative
// columns. Rule-made rare labels are what broke the first boosting defaults (pure leaves of a few
// rows, tiny hessians, saturated scores). Used by the trainer's tests, the scikit-learn
// conformance check and the bench.

import type { Dataset } from '../../src/ml/dataset.js';
import { Rng } from '../../src/ml/prng.js';

export const IMBALANCED_FEATURES = ['amount', 'hour', 'txn_last_24h', 'km_from_home', 'merchant_risk', 'account_age_days', 'card_present', 'noise'];

export function syntheticImbalanced(n: number, seed = 5): Dataset {
  const rng = new Rng(seed);
  const F = IMBALANCED_FEATURES.length;
  const X = new Float32Array(n * F);
  const y = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const amount = Math.round(Math.exp(3 + rng.next() * 4) * 100) / 100;
    const hour = Math.floor(rng.next() * 24);
    const velocity = Math.floor(-Math.log(1 - rng.next()) * 3);
    const km = Math.round(-Math.log(1 - rng.next()) * 400) / 10;
    const risk = rng.next();
    const age = Math.floor(rng.next() * 3000);
    const present = rng.next() < 0.6 ? 1 : 0;
    const row = [amount, hour, velocity, km, risk, age, present, rng.next()];
    for (let f = 0; f < F; f++) X[i * F + f] = row[f];
    const rule = (amount > 1000 && hour < 3) || (velocity >= 8 && km > 150) || (risk > 0.995 && present === 0);
    y[i] = rng.next() < 0.97 ? (rule ? 1 : 0) : rng.next() < 0.003 ? 1 : 0;
  }
  return { featureNames: IMBALANCED_FEATURES, n, X, y };
}
