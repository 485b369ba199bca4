// src/ingest/pg-copy-out.ts against a scripted connection: the protocol bytes of a COPY cut into
// chunks at every size (a message header or a row split across chunks), so the bytes written are
// exactly the rows' payloads, the row count is CommandComplete's, and pg's parser gets back exactly
// the bytes after CopyDone, or an ErrorResponse from its first byte.

import { createHash } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { type CopyOut, copyOut } from '../../src/ingest/pg-copy-out.js';

const msg = (code: string, body: Buffer | string = ''): Buffer => {
  const b = Buffer.from(body);
  const h = Buffer.alloc(5);
  h.write(code, 0, 'latin1');
  h.writeUInt32BE(b.length + 4, 1);
  return Buffer.concat([h, b]);
};
const rows = ['1,"a, ""quoted""\nline",\n', '2,,""\n', `3,${'x'.repeat(300)},é\t✓\n`, '4,last,\n'];

/** Runs one COPY whose server bytes are `wire`, delivered in chunks of `size`; pg's own parser is `pgHandler`. */
async function run(wire: Buffer, size: number, handle: (client: ScriptedClient, fed: Buffer[], copy: CopyOut) => void) {
  const file = join(mkdtempSync(join(tmpdir(), 'asgard-copy-out-')), 'out.csv');
  const fd = openSync(file, 'w');
  const digest = createHash('sha256');
  const fed: Buffer[] = [];
  const client = new ScriptedClient((b) => fed.push(Buffer.from(b)));
  const copy = copyOut(client, 'COPY t TO STDOUT', fd, digest, () => undefined);
  // A copy per chunk: a socket's chunks are each their own memory, which copyOut rewrites in place.
  for (let i = 0; i < wire.length; i += size) client.stream.write(Buffer.from(wire.subarray(i, i + size)));
  handle(client, fed, copy);
  const result = await copy.done.then(
    (n) => ({ rows: n }),
    (e: Error) => ({ error: e.message }),
  );
  closeSync(fd);
  return { result, written: readFileSync(file), hex: digest.digest('hex'), fed: Buffer.concat(fed), sql: client.sql };
}

class ScriptedClient {
  readonly stream = new PassThrough();
  sql = '';
  private q: Record<string, (...a: unknown[]) => void> | undefined;
  constructor(pgHandler: (b: Buffer) => void) {
    this.stream.on('data', pgHandler);
  }
  query(q: object): void {
    this.q = q as Record<string, (...a: unknown[]) => void>;
    this.q.submit({ stream: this.stream, query: (text: string) => (this.sql = text) });
  }
  /** What pg does after parsing CommandComplete and ReadyForQuery (or an ErrorResponse). */
  complete(text: string): void {
    this.q!.handleCommandComplete({ text });
    this.q!.handleReadyForQuery();
  }
  error(message: string): void {
    this.q!.handleError(new Error(message));
  }
}

describe('copyOut', () => {
  const payload = Buffer.from(rows.join(''));
  const tail = Buffer.concat([msg('C', 'COPY 4\0'), msg('Z', 'I')]);
  const wire = Buffer.concat([
    msg('H', Buffer.from([0, 0, 3, 0, 0, 0, 0, 0, 0])),
    msg('d', rows[0]),
    msg('N', 'a notice\0'),
    msg('d', rows[1]),
    msg('d', rows[2]),
    msg('S', 'TimeZone\0UTC\0'),
    msg('d', rows[3]),
    msg('c'),
    tail,
  ]);

  it('writes exactly the rows, in chunks of any size, and gives pg back what follows CopyDone', async () => {
    for (const size of [1, 2, 3, 4, 5, 6, 7, 11, 64, 257, wire.length]) {
      const r = await run(wire, size, (client, fed) => {
        // pg parses CommandComplete and ReadyForQuery from what it was given.
        expect(Buffer.concat(fed)).toEqual(tail);
        client.complete('COPY 4');
      });
      expect(r.result).toEqual({ rows: 4 });
      expect(r.written.equals(payload)).toBe(true);
      expect(r.hex).toBe(createHash('sha256').update(payload).digest('hex'));
      expect(r.sql).toBe('COPY t TO STDOUT');
    }
  });

  it('hands an ErrorResponse to pg from its first byte, and fails with the error pg reports', async () => {
    const error = msg('E', 'SERROR\0C22P02\0Mbad value\0\0');
    const bad = Buffer.concat([msg('H', Buffer.from([0, 0, 3, 0, 0, 0, 0, 0, 0])), msg('d', rows[0]), msg('d', rows[1]), error, msg('Z', 'E')]);
    for (const size of [1, 3, 5, 8, 13, bad.length]) {
      const r = await run(bad, size, (client, fed) => {
        expect(Buffer.concat(fed)).toEqual(Buffer.concat([error, msg('Z', 'E')]));
        client.error('bad value');
      });
      expect(r.result).toEqual({ error: 'bad value' });
      expect(r.written.equals(Buffer.from(rows[0] + rows[1]))).toBe(true);
    }
  });

  it('a cancelled COPY fails at once, writes nothing more and leaves the server waiting', async () => {
    const r = await run(wire.subarray(0, 40), 7, (client, _fed, copy) => {
      copy.cancel(new Error('the load into DuckDB stopped'));
      expect(client.stream.isPaused()).toBe(true);
      client.stream.write(Buffer.from(wire.subarray(40)));
    });
    expect(r.result).toEqual({ error: 'the load into DuckDB stopped' });
    expect(r.written.length).toBe(0);
    expect(r.fed.length).toBe(0);
  });
});
