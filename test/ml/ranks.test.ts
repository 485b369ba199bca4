// rocAuc and columnMedians against their definitions (the pair-counting AUC, the median of the
// sorted non-NULL values) on random columns with ties, NULLs (NaN) and signed zeros: the leakage
// guard, the metrics and the training medians (recorded in every model) read them.

import { describe, expect, it } from 'vitest';
import { rocAuc } from '../../src/ml/metrics.js';
import { columnMedians } from '../../src/ml/dataset.js';
import { Rng } from '../../src/ml/prng.js';

/** AUC by definition: over every (positive, negative) pair, 1 when the positive scores higher, 1/2 for a tie. */
function pairAuc(y: ArrayLike<number>, s: ArrayLike<number>): number {
  let wins = 0;
  let pairs = 0;
  for (let i = 0; i < y.length; i++) {
    if (!y[i]) continue;
    for (let j = 0; j < y.length; j++) {
      if (y[j]) continue;
      pairs++;
      wins += s[i] > s[j] ? 1 : s[i] === s[j] ? 0.5 : 0;
    }
  }
  return pairs ? wins / pairs : NaN;
}

function medianOf(X: Float32Array, n: number, F: number, f: number): number {
  const vals: number[] = [];
  for (let i = 0; i < n; i++) if (!Number.isNaN(X[i * F + f])) vals.push(X[i * F + f]);
  if (!vals.length) return 0;
  vals.sort((a, b) => a - b);
  const m = vals.length >> 1;
  return Math.fround(vals.length % 2 ? vals[m] : (vals[m - 1] + vals[m]) / 2);
}

describe('rocAuc and columnMedians', () => {
  it('equal their definitions on random columns with ties, NULLs and signed zeros', () => {
    const rng = new Rng(11);
    for (let trial = 0; trial < 300; trial++) {
      const n = 1 + Math.floor(rng.next() * 60);
      const levels = 1 + Math.floor(rng.next() * 8); // few levels: many ties
      const y = new Uint8Array(n);
      const s = new Float64Array(n);
      for (let i = 0; i < n; i++) {
        y[i] = rng.next() < 0.3 ? 1 : 0;
        const v = Math.floor(rng.next() * levels) - 2;
        s[i] = v === 0 && rng.next() < 0.5 ? -0 : trial % 2 ? v : v + rng.next();
      }
      const want = pairAuc(y, s);
      if (Number.isNaN(want)) expect(rocAuc(y, s)).toBeNaN();
      else expect(rocAuc(y, s)).toBe(want);

      const F = 3;
      const X = new Float32Array(n * F);
      for (let i = 0; i < X.length; i++) X[i] = rng.next() < 0.2 ? NaN : i % F === 0 ? Math.floor(rng.next() * levels) : rng.next() * 100 - 50;
      const got = columnMedians(X, n, F);
      // Equal as numbers (a median of -0 and 0 may come out either way; both impute the same).
      for (let f = 0; f < F; f++) expect(got[f] === medianOf(X, n, F, f)).toBe(true);
    }
  });

  it('gives one half for a constant score and NaN when a class is absent', () => {
    expect(rocAuc([0, 1, 1, 0], [3, 3, 3, 3])).toBe(0.5);
    expect(rocAuc([1, 1], [0.2, 0.9])).toBeNaN();
    expect(rocAuc([1, 0, 0], [0.9, 0.1, 0.9])).toBe(0.75);
  });
});
