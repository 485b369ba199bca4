// The content-addressed cache file (src/util/json-cache.ts): a run that adds a few entries to a
// large cache appends them instead of rewriting the file (#16.3: one edited body among 10,000), a
// line torn by a crash is skipped, and a file of another salt is never read.
import { appendFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { JsonCacheFile } from '../../src/util/json-cache.js';
import { mulberry32 } from '../helpers/prng.js';

const fresh = () => join(mkdtempSync(join(tmpdir(), 'asgard-json-cache-')), 'cache.json');

describe('JsonCacheFile', () => {
  it('appends the entries a run adds; a new reader sees them all', () => {
    const path = fresh();
    const first = new JsonCacheFile<number[]>(path, 'salt');
    for (let i = 0; i < 100; i++) first.set(`k${i}`, [i]);
    expect(first.save()).toBe(true);
    const written = readFileSync(path, 'utf8');

    const second = new JsonCacheFile<number[]>(path, 'salt');
    expect(second.get('k7')).toEqual([7]);
    second.set('new', [1, 2]);
    expect(second.save()).toBe(true);
    // The file written before is kept byte for byte: one line is added after it.
    const after = readFileSync(path, 'utf8');
    expect(after.startsWith(written)).toBe(true);
    expect(after.slice(written.length)).toBe('["new",[1,2]]\n');
    expect(second.save()).toBe(false);

    const third = new JsonCacheFile<number[]>(path, 'salt');
    expect(third.get('new')).toEqual([1, 2]);
    expect(third.get('k99')).toEqual([99]);
  });

  it('writes an entry set as JSON text exactly as the value set itself, whole or appended', () => {
    const value = (i: number) => ({ line: i, drafts: [{ name: `n${i}`, sql: 'SELECT "x"\n' }], empty: {} });
    const [byValue, byJson] = [fresh(), fresh()];
    const a = new JsonCacheFile<ReturnType<typeof value>>(byValue, 'salt');
    const b = new JsonCacheFile<ReturnType<typeof value>>(byJson, 'salt');
    for (const i of [3, 1, 2]) {
      a.set(`k${i}`, value(i));
      b.setJson(`k${i}`, JSON.stringify(value(i)));
    }
    expect(b.get('k2')).toEqual(value(2)); // read back before it is saved
    a.save();
    b.save();
    expect(readFileSync(byJson, 'utf8')).toBe(readFileSync(byValue, 'utf8'));
    const [a2, b2] = [new JsonCacheFile<ReturnType<typeof value>>(byValue, 'salt'), new JsonCacheFile<ReturnType<typeof value>>(byJson, 'salt')];
    a2.set('k4', value(4));
    b2.setJson('k4', JSON.stringify(value(4)));
    a2.save();
    b2.save();
    expect(readFileSync(byJson, 'utf8')).toBe(readFileSync(byValue, 'utf8'));
    expect(new JsonCacheFile<ReturnType<typeof value>>(byJson, 'salt').get('k4')).toEqual(value(4));
  });

  it('skips a torn line, and reads none of a file with another salt', () => {
    const path = fresh();
    const a = new JsonCacheFile<string>(path, 'salt');
    a.set('a', 'x');
    a.save();
    appendFileSync(path, '["b","y"]\n["c","z');
    const b = new JsonCacheFile<string>(path, 'salt');
    expect([b.get('a'), b.get('b'), b.get('c')]).toEqual(['x', 'y', undefined]);
    // The torn line does not swallow what is added next.
    b.set('d', 'w');
    b.save();
    const c = new JsonCacheFile<string>(path, 'salt');
    expect([c.get('a'), c.get('b'), c.get('d')]).toEqual(['x', 'y', 'w']);

    expect(new JsonCacheFile<string>(path, 'another build').get('a')).toBeUndefined();
    writeFileSync(path, '{not json');
    expect(new JsonCacheFile<string>(path, 'salt').get('a')).toBeUndefined();
  });

  it('rewrites the whole file as one JSON document of the entries in key order: any keys, values set as text or not', () => {
    // The file as the entries' texts joined in key order (what save wrote before it stringified them in one call).
    const reference = (salt: string, entries: readonly (readonly [string, string])[]) =>
      `{"salt":${JSON.stringify(salt)},"entries":{${[...entries]
        .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
        .map(([k, json]) => `${JSON.stringify(k)}:${json}`)
        .join(',')}}}\n`;
    const random = mulberry32(16);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)];
    const keys = ['__proto__', 'constructor', 'toString', '0', '7', '017', '4294967296', '-1', 'a"b', 'é', '\u2028', ' ', '', 'k'];
    for (let round = 0; round < 200; round++) {
      const salt = `salt ${round}`;
      const path = fresh();
      const cache = new JsonCacheFile<unknown>(path, salt);
      const set = new Map<string, string>();
      const n = 1 + Math.floor(random() * 8);
      for (let i = 0; i < n; i++) {
        const key = random() < 0.5 ? pick(keys) : `${Math.floor(random() * 1e6).toString(16)}${pick(['', 'x'])}`;
        const value = pick<unknown>([
          [{ name: 'id', type: 'BIGINT' }],
          { ok: true, sql: `SELECT '${key}'\n`, n: i },
          `text ${i}`,
          i,
          null,
          { nested: { [key]: [i] } },
        ]);
        if (random() < 0.2) cache.setJson(key, JSON.stringify(value));
        else cache.set(key, value);
        set.set(key, JSON.stringify(value));
      }
      expect(cache.save()).toBe(true);
      const text = readFileSync(path, 'utf8');
      expect(text).toBe(reference(salt, [...set]));
      const again = new JsonCacheFile<unknown>(path, salt);
      for (const [k, json] of set) expect(JSON.stringify(again.get(k))).toBe(json);
    }
  });
});
