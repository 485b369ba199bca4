// src/util/sort.ts sorts short arrays by insertion instead of Array.prototype.sort: the order must be
// the one Array.prototype.sort gives, for every length around the insertion limit, with strings that
// compare differently by code unit than by code point or locale (surrogate pairs, digits, case), and
// with ties under a comparator (a stable sort keeps their order). canonicalJson, which sorts every
// object's keys with it, must write what JSON.stringify of a copy with `Object.keys(o).sort()` writes.
import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../../src/util/canonical-json.js';
import { sortBy, sortStrings } from '../../src/util/sort.js';
import { mulberry32 } from '../helpers/prng.js';

const ALPHABET = ['a', 'B', 'b', '_', '0', '1', '9', '10', '2', 'é', 'É', '\u{1F600}', '\uFFFF', '\u0000', ' ', '.', ''];

function word(rand: () => number): string {
  let s = '';
  const n = Math.floor(rand() * 4);
  for (let i = 0; i < n; i++) s += ALPHABET[Math.floor(rand() * ALPHABET.length)];
  return s;
}

describe('sortStrings and sortBy', () => {
  it('give Array.prototype.sort order for every length 0..40', () => {
    const rand = mulberry32(16);
    for (let n = 0; n <= 40; n++) {
      for (let round = 0; round < 20; round++) {
        const a = Array.from({ length: n }, () => word(rand));
        const copy = [...a];
        expect(sortStrings(copy)).toBe(copy); // in place
        expect(copy).toEqual([...a].sort());
      }
    }
  });

  it('keep ties in their order, as the stable Array.prototype.sort does', () => {
    const rand = mulberry32(17);
    const byStart = (x: { start: number }, y: { start: number }) => x.start - y.start;
    for (let n = 0; n <= 40; n++) {
      for (let round = 0; round < 20; round++) {
        const a = Array.from({ length: n }, (_, i) => ({ start: Math.floor(rand() * 5), i }));
        const copy = [...a];
        expect(sortBy(copy, byStart)).toBe(copy);
        expect(copy).toEqual([...a].sort(byStart));
      }
    }
  });
});

describe('canonicalJson', () => {
  const reference = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(reference);
    if (v && typeof v === 'object') {
      const out: Record<string, unknown> = {};
      for (const k of Object.keys(v).sort()) if ((v as Record<string, unknown>)[k] !== undefined) out[k] = reference((v as Record<string, unknown>)[k]);
      return out;
    }
    return typeof v === 'bigint' ? v.toString() : v;
  };
  const value = (rand: () => number, depth: number): unknown => {
    const r = rand();
    if (depth > 3 || r < 0.3) return [1, 'x', null, true, undefined, 10n][Math.floor(rand() * 6)];
    if (r < 0.5) return Array.from({ length: Math.floor(rand() * 4) }, () => value(rand, depth + 1));
    const o: Record<string, unknown> = {};
    const n = Math.floor(rand() * 25); // across the insertion limit; integer-like keys come first in Object.keys
    for (let i = 0; i < n; i++) o[rand() < 0.2 ? String(Math.floor(rand() * 30)) : word(rand)] = value(rand, depth + 1);
    return o;
  };

  it('writes the keys of every object in Object.keys(o).sort() order', () => {
    const rand = mulberry32(18);
    for (let i = 0; i < 500; i++) {
      const v = value(rand, 0);
      expect(canonicalJson(v)).toBe(JSON.stringify(reference(v)));
    }
  });
});
