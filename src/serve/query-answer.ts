// The two shapes of a /data-products/query answer, fed row chunk by row chunk from the query engine
// (src/serve/query-door.ts; each row arrives as its JSON text, bigints as strings):
// - JSON (the default): {"columns", "rows", "truncated"}, serialised as the rows arrive and sent
//   with a Content-Length; past MAX_RESULT_BYTES the query is stopped and the answer is 413
//   result_too_large, so memory stays bounded whatever the query selects.
// - NDJSON (`Accept: application/x-ndjson`): streamed as it is read, with backpressure, no byte
//   limit: a first line {"columns"}, one line per row, a last line {"rows", "truncated"}; an error
//   after the first line is a last line {"error": {...}} instead.

import type { ServerResponse } from 'node:http';
import type { SerializedSink } from './query-door.js';
import { HttpError } from './http.js';

/** The largest JSON result the door sends (NDJSON answers stream without one). */
export const MAX_RESULT_BYTES = 32 << 20;

export const NDJSON = 'application/x-ndjson';

const json = (v: unknown): string => JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? x.toString() : x));

export interface QueryEnd {
  readonly rows: number;
  readonly truncated: boolean;
}

export class JsonAnswer implements SerializedSink {
  private head = '';
  private readonly parts: string[] = [];
  private bytes = 0;

  columns(columns: readonly unknown[]): void {
    this.head = `{"columns":${json(columns)},"rows":[`;
    this.bytes = Buffer.byteLength(this.head);
  }

  rows(rows: readonly string[]): boolean {
    for (const s of rows) {
      this.bytes += Buffer.byteLength(s) + 1;
      if (this.bytes > MAX_RESULT_BYTES) {
        this.parts.length = 0;
        throw new HttpError(
          413,
          'result_too_large',
          `the result is over the ${MAX_RESULT_BYTES / 2 ** 20} MiB limit of a JSON answer: select fewer columns, set a smaller limit, or ask for a stream with Accept: ${NDJSON}`,
          { field: 'limit' },
        );
      }
      this.parts.push(s);
    }
    return true;
  }

  body(end: QueryEnd): string {
    return `${this.head}${this.parts.join(',')}],"truncated":${end.truncated}}`;
  }
}

export class NdjsonAnswer implements SerializedSink {
  private ended = false;
  constructor(private readonly res: ServerResponse) {}

  /** Whether the first line went out (after it, errors are a last line, not a status). */
  get started(): boolean {
    return this.res.headersSent;
  }

  columns(columns: readonly unknown[]): void {
    this.res.writeHead(200, { 'content-type': NDJSON, 'cache-control': 'no-store' });
    this.res.write(`${json({ columns })}\n`);
  }

  async rows(rows: readonly string[]): Promise<boolean> {
    if (this.ended || this.res.destroyed) return false;
    let chunk = '';
    for (const r of rows) chunk += `${r}\n`;
    if (!this.res.write(chunk)) {
      await new Promise<void>((resolve) => {
        const done = () => {
          this.res.off('drain', done);
          this.res.off('close', done);
          resolve();
        };
        this.res.on('drain', done);
        this.res.on('close', done);
      });
    }
    return !this.ended && !this.res.destroyed;
  }

  end(end: QueryEnd): void {
    if (this.ended) return;
    this.ended = true;
    this.res.end(`${json({ rows: end.rows, truncated: end.truncated })}\n`);
  }

  fail(e: HttpError): void {
    if (this.ended) return;
    this.ended = true;
    this.res.end(`${json({ error: { code: e.code, message: e.message } })}\n`);
  }
}
