// `COPY … TO STDOUT` read straight off a pg.Client's socket into a file descriptor (a staging file
// or the named pipe DuckDB reads). PostgreSQL sends one CopyData message per row: their payloads are
// moved together inside each socket chunk (copyWithin: the 5-byte message headers squeezed out, no
// Buffer or event per row; a socket's chunks are each their own memory, and no other listener reads them), and the chunks are hashed and written in batches as they come. This is
// the hot loop of a PostgreSQL sync (bench/ingest.md: pg-copy-streams made a Buffer per row, then a
// stream chain per chunk). The socket is taken from pg's parser for the COPY, as pg-copy-streams
// does, and handed back at CopyDone or an ErrorResponse, so that pg reads the command's completion,
// its errors and the ReadyForQuery as it reads any query's.

import type { Hash } from 'node:crypto';
import { writev } from 'node:fs';
import type { Readable } from 'node:stream';

const COPY_DATA = 0x64; // 'd'
const COPY_DONE = 0x63; // 'c'
const ERROR = 0x45; // 'E'
/** Messages that may come between CopyData messages (CopyOutResponse, notices, parameter changes, notifications). */
const SKIPPED = new Set([0x48, 0x4e, 0x53, 0x41]);

/** Bytes gathered before a write; above 4 times this, the socket waits for the writes. */
const BATCH = 1 << 20;

/** wholeRows' position in a chunk: bytes read, payload bytes kept (moved down to the chunk's start), rows seen in all. */
interface Scan {
  i: number;
  w: number;
  rows: number;
}

/**
 * The CopyData messages that lie whole in `chunk` from `s.i` on: their payloads moved down to
 * `s.w`, up to the first message that is not CopyData or does not end in this chunk. The hot loop
 * of a sync, apart from the cases met a few times a sync (a message split across two chunks, the
 * COPY's end), so that V8's optimized code of it never meets a case it has no feedback for: with
 * them in one function, that code was thrown away and rebuilt 3-5 times a sync (--trace-deopt,
 * "insufficient type feedback"), TurboFan's work on V8's helper threads beside the sync.
 */
function wholeRows(chunk: Buffer, s: Scan): void {
  const n = chunk.length;
  let i = s.i;
  let w = s.w;
  let rows = s.rows;
  while (n - i >= 5 && chunk[i] === COPY_DATA) {
    // The length counts its own 4 bytes, not the code's.
    const length = ((chunk[i + 1] << 24) | (chunk[i + 2] << 16) | (chunk[i + 3] << 8) | chunk[i + 4]) >>> 0;
    const end = i + 1 + length;
    if (end > n) break;
    if (w !== i + 5) chunk.copyWithin(w, i + 5, end);
    w += end - i - 5;
    i = end;
    rows++;
  }
  s.i = i;
  s.w = w;
  s.rows = rows;
}

/** What pg's Client calls on a query object it runs (pg's Submittable). */
interface PgConnection {
  readonly stream: Readable;
  query(text: string): void;
}

export interface CopyOut {
  /** Rows written (CommandComplete's count), once PostgreSQL has finished and every byte is written to `fd`. */
  readonly done: Promise<number>;
  /** Stop: nothing more is written and `done` rejects with `reason` (the session should then be ended). */
  cancel(reason: Error): void;
}

/**
 * Run `sql` (a `COPY … TO STDOUT`) on `client`, writing its bytes to `fd` (not closed here; while it
 * is a promise, up to 4 MiB are held) and into `digest`; `onRows` is called with the rows received
 * so far after each socket chunk.
 */
export function copyOut(
  client: { query(q: object): unknown },
  sql: string,
  fd: number | Promise<number>,
  digest: Hash,
  onRows: (rows: number) => void,
): CopyOut {
  let resolveDone!: (rows: number) => void;
  let rejectDone!: (e: Error) => void;
  const done = new Promise<number>((res, rej) => {
    resolveDone = res;
    rejectDone = rej;
  });
  let stream: Readable | undefined;
  let pgHandler: ((chunk: Buffer) => void) | undefined;
  let finished = false;
  let rows = 0;
  let rowCount: number | undefined;
  let copyDone = false;
  let ready = false;
  // The current message: its code and the payload bytes still to come; a header split across chunks.
  let code = 0;
  let need = 0;
  const head = Buffer.alloc(5);
  let headLen = 0;
  // Written in order: the batch being gathered, and whether a write is in flight.
  let batch: Buffer[] = [];
  let batchBytes = 0;
  let writing = false;
  let queued = 0;
  let target: number | undefined;

  let failure: Error | undefined;
  // Failing waits for a write in flight: the caller closes `fd` once `done` settles.
  const fail = (e: Error): void => {
    if (finished) return;
    finished = true;
    failure = e;
    // While the socket is this COPY's, PostgreSQL is made to wait (the session is to be ended).
    if (stream && !copyDone) stream.pause();
    if (!writing) rejectDone(e);
  };
  const settle = (): void => {
    if (!finished && copyDone && ready && !writing && batchBytes === 0) {
      finished = true;
      resolveDone(rowCount ?? rows);
    }
  };
  const flush = (): void => {
    if (writing || finished || batchBytes === 0 || target === undefined) return settle();
    const bufs = batch;
    const n = batchBytes;
    batch = [];
    batchBytes = 0;
    writing = true;
    writev(target, bufs, (err) => {
      writing = false;
      queued -= n;
      if (failure) return rejectDone(failure);
      if (err) return fail(err);
      if (stream?.isPaused() && queued < 4 * BATCH && !finished && !copyDone) stream.resume();
      if (batchBytes >= BATCH || copyDone) flush();
      else settle();
    });
  };
  const push = (b: Buffer): void => {
    if (b.length === 0) return;
    digest.update(b);
    batch.push(b);
    batchBytes += b.length;
    queued += b.length;
    if (batchBytes >= BATCH) flush();
    if (queued >= 4 * BATCH) stream?.pause();
  };
  /** Give the socket back to pg's parser, with the bytes it is to read first. */
  const detach = (rest: Buffer): void => {
    stream!.removeListener('data', onData);
    stream!.on('data', pgHandler!);
    stream!.resume();
    if (rest.length) pgHandler!(rest);
  };

  const scan: Scan = { i: 0, w: 0, rows: 0 };
  const onData = (chunk: Buffer): void => {
    if (finished) return;
    const n = chunk.length;
    let i = 0;
    let w = 0; // payload bytes are moved down to chunk[0..w)
    while (i < n) {
      if (need === 0 && headLen === 0) {
        scan.i = i;
        scan.w = w;
        wholeRows(chunk, scan);
        i = scan.i;
        w = scan.w;
        rows = scan.rows;
        if (i === n) break;
      }
      // What wholeRows leaves: a message that began in an earlier chunk or goes on in the next one,
      // and any message but CopyData.
      if (need > 0) {
        const k = Math.min(need, n - i);
        if (code === COPY_DATA) {
          if (w !== i) chunk.copyWithin(w, i, i + k);
          w += k;
        }
        i += k;
        need -= k;
        continue;
      }
      let start: Buffer | undefined; // a header that began in an earlier chunk
      if (headLen > 0 || n - i < 5) {
        while (headLen < 5 && i < n) head[headLen++] = chunk[i++];
        if (headLen < 5) break;
        headLen = 0;
        start = head;
        code = head[0];
        need = head.readUInt32BE(1) - 4;
      } else {
        code = chunk[i];
        need = chunk.readUInt32BE(i + 1) - 4;
        i += 5;
      }
      if (code === COPY_DATA) scan.rows = ++rows;
      else if (code === COPY_DONE || code === ERROR || !SKIPPED.has(code)) {
        // From here on pg reads: CopyDone's completion, or the error (its header included).
        push(chunk.subarray(0, w));
        if (code === COPY_DONE) {
          copyDone = true;
          detach(chunk.subarray(i + need));
          need = 0;
        } else {
          detach(start ? Buffer.concat([start, chunk.subarray(i)]) : chunk.subarray(i - 5));
        }
        onRows(rows);
        flush();
        return;
      }
    }
    push(chunk.subarray(0, w));
    onRows(rows);
  };

  if (typeof fd === 'number') target = fd;
  else
    fd.then((v) => {
      target = v;
      flush();
    }, fail);
  client.query({
    submit(connection: PgConnection): void {
      stream = connection.stream;
      const handlers = stream.listeners('data');
      if (handlers.length !== 1) throw new Error(`COPY: the connection has ${handlers.length} data listeners, expected pg's one`);
      pgHandler = handlers[0] as (chunk: Buffer) => void;
      stream.removeListener('data', pgHandler);
      stream.on('data', onData);
      connection.query(sql);
    },
    handleCommandComplete(msg: { text?: string }): void {
      const m = /^COPY (\d+)/.exec(msg?.text ?? '');
      if (m) rowCount = Number(m[1]);
    },
    handleReadyForQuery(): void {
      ready = true;
      if (!copyDone) fail(new Error('COPY ended without its data'));
      flush();
    },
    handleError(e: Error): void {
      if (stream && pgHandler && stream.listeners('data').includes(onData)) detach(Buffer.alloc(0));
      fail(e);
    },
    handleRowDescription: () => undefined,
    handleDataRow: () => undefined,
    handleEmptyQuery: () => undefined,
    handlePortalSuspended: () => undefined,
    handleCopyInResponse: () => undefined,
    handleCopyData: () => undefined,
  });
  return { done, cancel: fail };
}
