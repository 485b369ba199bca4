// groupDigits writes numbers as toLocaleString('en-US') does (the CLI's row counts, the plan's
// markdown), without loading ICU's number formatting.

import { describe, expect, it } from 'vitest';
import { groupDigits } from '../../src/util/digits.js';
import { mulberry32 } from '../helpers/prng.js';

describe('groupDigits', () => {
  it('writes every number as toLocaleString("en-US") does', () => {
    const rnd = mulberry32(16);
    const values = [0, -0, 1, -1, 9, 10, 99, 100, 999, 1000, -1000, 9999, 10_000, 123_456, 999_999, 1_000_000, 45_000, 1_234_567];
    values.push(
      Number.MAX_SAFE_INTEGER,
      -Number.MAX_SAFE_INTEGER,
      2 ** 53,
      1e21,
      1.5,
      -2.5,
      1234.5678,
      Number.NaN,
      Number.POSITIVE_INFINITY,
      Number.NEGATIVE_INFINITY,
    );
    for (let i = 0; i < 2000; i++) {
      const digits = 1 + Math.floor(rnd() * 16);
      const v = Math.floor(rnd() * 10 ** digits);
      values.push(rnd() < 0.2 ? -v : v);
    }
    for (const v of values) expect(groupDigits(v), String(v)).toBe(v.toLocaleString('en-US'));
  });
});
