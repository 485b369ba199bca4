// Synthetic churn-like data for the trainer's tests and benches: 8 features shaped like the seed's,
// a label that depends on several of them plus noise (no single feature gives it away).

import type { Dataset } from '../../src/ml/dataset.js';
import { Rng } from '../../src/ml/prng.js';

export const FEATURES = [
  'total_purchases',
  'customer_lifetime_value',
  'avg_purchase_value',
  'days_since_last_purchase',
  'purchase_frequency',
  'account_age_days',
  'support_tickets',
  'avg_support_resolution_hours',
];

export function syntheticChurn(n: number, seed = 7): Dataset {
  const rng = new Rng(seed);
  const F = FEATURES.length;
  const X = new Float32Array(n * F);
  const y = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const purchases = Math.floor(rng.next() * 40);
    const avg = 20 + rng.next() * 180;
    const days = Math.floor(rng.next() * 200);
    const age = 30 + Math.floor(rng.next() * 1500);
    const freq = purchases / Math.max(1, age / 30);
    const tickets = Math.floor(rng.next() * 8);
    const resolution = rng.next() * 72;
    const row = [purchases, purchases * avg, avg, days, freq, age, tickets, resolution];
    for (let f = 0; f < F; f++) X[i * F + f] = row[f];
    const z = 0.025 * (days - 90) - 0.08 * (purchases - 20) + 0.35 * (tickets - 3.5) + 0.02 * (resolution - 36) + (rng.next() - 0.5) * 3;
    y[i] = rng.next() < 1 / (1 + Math.exp(-z)) ? 1 : 0;
  }
  return { featureNames: FEATURES, n, X, y };
}
