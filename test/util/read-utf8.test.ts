// readUtf8 (src/util/read-utf8.ts) stands in for readFileSync(path, 'utf8') where large files are
// read: it must give the very same string for any bytes, valid UTF-8 or not.

import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readUtf8 } from '../../src/util/read-utf8.js';
import { mulberry32 } from '../helpers/prng.js';

describe('readUtf8', () => {
  it('decodes any bytes as readFileSync(path, "utf8") does: invalid sequences, a byte order mark, surrogates, long ASCII runs', () => {
    const dir = mkdtempSync(join(tmpdir(), 'asgard-read-utf8-'));
    const file = join(dir, 'f');
    const rand = mulberry32(17);
    // Pieces that stress a decoder: valid characters of each length, lone continuation bytes, cut
    // sequences, overlong forms, encoded surrogates, the byte order mark.
    const pieces = [
      [0x61],
      [0xc3, 0xa9],
      [0xe2, 0x9c, 0x93],
      [0xf0, 0x9f, 0x98, 0x80],
      [0x80],
      [0xff],
      [0xc3],
      [0xe2, 0x9c],
      [0xc0, 0xaf],
      [0xed, 0xa0, 0x80],
      [0xef, 0xbb, 0xbf],
      [...Buffer.from('x'.repeat(100))],
    ];
    for (let round = 0; round < 300; round++) {
      const bytes: number[] = [];
      for (let i = Math.floor(rand() * 40); i > 0; i--) bytes.push(...pieces[Math.floor(rand() * pieces.length)]);
      writeFileSync(file, Buffer.from(bytes));
      expect(readUtf8(file), Buffer.from(bytes).toString('hex')).toBe(readFileSync(file, 'utf8'));
    }
  });
});
