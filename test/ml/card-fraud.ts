// Generated card-fraud-like rows for the categorical-feature tests: a merchant category (string,
// some NULL), whether the card was present (bool), the amount and the hour; fraud depends mostly on
// the category (two risky ones), on card-not-present and on large amounts, plus noise.

import { Rng } from '../../src/ml/prng.js';
import { codeMap, encodeValue, vocabulary } from '../../src/ml/categorical.js';
import type { Dataset } from '../../src/ml/dataset.js';

export const MERCHANT_CATEGORIES = [
  'grocery',
  'fuel',
  'restaurant',
  'electronics',
  'travel',
  'gambling',
  'crypto_exchange',
  'pharmacy',
  'clothing',
  'utilities',
];
const RISK: Record<string, number> = { gambling: 2.2, crypto_exchange: 2.6, electronics: 0.8, travel: 0.5 };

export interface CardTxn {
  readonly txn_id: number;
  readonly merchant_category: string | null;
  readonly card_present: boolean;
  readonly amount: number;
  readonly hour: number;
  readonly is_fraud: 0 | 1;
}

export function cardTransactions(n: number, seed = 3): CardTxn[] {
  const rng = new Rng(seed);
  const out: CardTxn[] = [];
  for (let i = 0; i < n; i++) {
    const u = rng.next();
    const merchant_category = u < 0.03 ? null : MERCHANT_CATEGORIES[Math.floor(rng.next() * MERCHANT_CATEGORIES.length)];
    const card_present = rng.next() < 0.7;
    const amount = Math.round(Math.exp(2 + rng.next() * 5) * 100) / 100;
    const hour = Math.floor(rng.next() * 24);
    const z =
      -3.2 + (merchant_category ? (RISK[merchant_category] ?? 0) : 0.4) + (card_present ? -0.8 : 0.9) + (amount > 500 ? 0.9 : 0) + (rng.next() - 0.5) * 1.5;
    out.push({ txn_id: i + 1, merchant_category, card_present, amount, hour, is_fraud: rng.next() < 1 / (1 + Math.exp(-z)) ? 1 : 0 });
  }
  return out;
}

export const CARD_FEATURES = ['merchant_category', 'card_present', 'amount', 'hour'];

/** The rows as training-data.ts builds a dataset: the category as codes into the vocabulary of all rows. */
export function cardDataset(rs: readonly CardTxn[]): Dataset {
  const vocab = vocabulary(rs.map((r) => r.merchant_category));
  const codes = codeMap(vocab);
  const F = CARD_FEATURES.length;
  const X = new Float32Array(rs.length * F);
  const y = new Uint8Array(rs.length);
  rs.forEach((r, i) => {
    X.set([encodeValue(codes, r.merchant_category), r.card_present ? 1 : 0, r.amount, r.hour], i * F);
    y[i] = r.is_fraud;
  });
  return { featureNames: CARD_FEATURES, n: rs.length, X, y, categories: [vocab, null, null, null] };
}
