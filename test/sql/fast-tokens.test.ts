// The fast SQL tokenizer's interned words (src/sql/fast-tokens.ts): a word met again is found by a
// hash of its characters, and the table of words grows for a body with more words than it holds
// and is emptied between bodies when full. Whatever the table's state, a body's tokens are the same.

import { describe, expect, it } from 'vitest';
import { symbolName, tokenize, wordOfToken } from '../../src/sql/fast-tokens.js';

/** Each token's text as written and its symbol's name (words), as plain values. */
function words(text: string): { word: string; sym: string }[] {
  const t = tokenize(text);
  const out: { word: string; sym: string }[] = [];
  for (let i = 0; i < t.n; i++) if (t.word[i] >= 0) out.push({ word: wordOfToken(t.word[i]), sym: symbolName(t.sym[i]) });
  return out;
}

describe('fast SQL tokens', () => {
  it('keeps each word as written, with its upper-case symbol, across growth and resets of the word table', () => {
    // `Aa` and `BB` (and `AaBB`, `BBAa`) have the same hash of characters: told apart by their text.
    const small = 'SELECT Amount, amount AS AMOUNT, x_1, X_1, Aa, BB, AaBB, BBAa FROM bronze.t';
    const expected = [
      { word: 'SELECT', sym: 'SELECT' },
      { word: 'Amount', sym: 'AMOUNT' },
      { word: 'amount', sym: 'AMOUNT' },
      { word: 'AS', sym: 'AS' },
      { word: 'AMOUNT', sym: 'AMOUNT' },
      { word: 'x_1', sym: 'X_1' },
      { word: 'X_1', sym: 'X_1' },
      { word: 'Aa', sym: 'AA' },
      { word: 'BB', sym: 'BB' },
      { word: 'AaBB', sym: 'AABB' },
      { word: 'BBAa', sym: 'BBAA' },
      { word: 'FROM', sym: 'FROM' },
      { word: 'bronze', sym: 'BRONZE' },
      { word: 't', sym: 'T' },
    ];
    expect(words(small)).toEqual(expected);
    // One body with 30,000 distinct words (more than the table holds at first, and than the limit
    // that empties it between bodies), then bodies after the reset.
    const names = Array.from({ length: 30_000 }, (_, i) => `c${i.toString(36)}_${i % 7}`);
    const big = words(`SELECT ${names.join(', ')} FROM bronze.t`);
    expect(big.slice(1, -3).map((w) => w.word)).toEqual(names);
    expect(big.slice(1, -3).map((w) => w.sym)).toEqual(names.map((n) => n.toUpperCase()));
    expect(words(small)).toEqual(expected);
    expect(
      words(`SELECT ${names.slice(0, 50).join(', ')} FROM bronze.t`)
        .slice(1, -3)
        .map((w) => w.word),
    ).toEqual(names.slice(0, 50));
  });
});
