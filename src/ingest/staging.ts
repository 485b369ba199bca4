// Staging files between a connector and DuckDB: CSV written either by the database itself
// (PostgreSQL COPY) or by `StagingWriter` from driver rows, and the DuckDB expression that reads it
// back with exact types. Conventions: NULL is an empty unquoted field, an empty string is `""`.

import { createHash, type Hash } from 'node:crypto';
import { createWriteStream, type WriteStream } from 'node:fs';
import { ident, literal } from '../engine/quote.js';
import type { SourceColumn } from './source.js';

/** A failure of a source (connection, catalog, data): the executor turns it into a NodeError. */
export class SourceError extends Error {}

/** read_csv over a staging file, typed exactly as the columns say. */
export function csvRelation(file: string | readonly string[], columns: readonly SourceColumn[], stageTypes?: Readonly<Record<string, string>>): string {
  const cols = columns.map((c) => `${literal(c.name)}: ${literal(stageTypes?.[c.name] ?? c.duckType ?? 'VARCHAR')}`).join(', ');
  return (
    `read_csv(${typeof file === 'string' ? literal(file) : `[${file.map(literal).join(', ')}]`}, header = false, auto_detect = false, columns = {${cols}}, ` +
    `delim = ',', quote = '"', escape = '"', nullstr = '', allow_quoted_nulls = false, ` +
    `new_line = '\\n')`
  );
}

const NEEDS_QUOTES = /[",\n\r]/;

/** One CSV field: null → empty; '' → `""`; quotes doubled where needed. */
export function csvField(v: string | null): string {
  if (v === null) return '';
  if (v === '') return '""';
  return NEEDS_QUOTES.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}

/** The hash of a connector's staged bytes (`Extracted.digest`): SHA-256 over everything staged, in order. */
export const stagingDigest = (): Hash => createHash('sha256');

/**
 * A staged text file (CSV lines, NDJSON pages) written in large chunks; `line` returns false when the
 * caller should wait for `drained()`. A write error (disk full, or a write still in flight when a
 * failed read destroys the file) is kept, never thrown from an event: `close` rejects with it, and
 * `drained` settles, so a caller waiting on it is not left hanging. (An unheard 'error' event of the
 * stream ended `asgard apply` with a stack trace and no summary when a source died mid-read.)
 */
export class StagingWriter {
  private buf = '';
  private readonly out: WriteStream;
  private error: Error | undefined;
  rows = 0;

  /** `digest`: a stagingDigest that every line written is added to (one for all the files of a read). */
  constructor(
    file: string,
    private readonly digest?: Hash,
  ) {
    this.out = createWriteStream(file, { highWaterMark: 1 << 20 });
    this.out.on('error', (e) => {
      this.error ??= e;
    });
  }

  /** Append ready-made text (one line or many, newlines included). */
  line(text: string): boolean {
    this.buf += text;
    this.rows++;
    if (this.buf.length >= 1 << 18) {
      this.digest?.update(this.buf);
      const ok = this.out.write(this.buf);
      this.buf = '';
      return ok || this.out.destroyed;
    }
    return true;
  }

  /** Settles when the caller may write again: the stream drained, or failed (`close` reports why). */
  drained(): Promise<void> {
    if (this.out.destroyed) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        this.out.off('drain', done).off('close', done);
        resolve();
      };
      this.out.on('drain', done).on('close', done);
    });
  }

  async close(): Promise<void> {
    this.digest?.update(this.buf);
    if (this.buf && !this.error) this.out.write(this.buf);
    this.buf = '';
    await new Promise<void>((resolve, reject) => {
      if (this.error) return reject(this.error);
      this.out.once('error', reject);
      this.out.end((e?: Error | null) => {
        const failed = e ?? this.error;
        if (failed) reject(failed);
        else resolve();
      });
    });
  }

  /** Drops the file's stream (a failed read): nothing more is written, and no error is raised. */
  destroy(): void {
    this.out.destroy();
  }
}

export { ident };
