// Staging files between a connector and DuckDB: CSV written either by the database itself
// (PostgreSQL COPY) or by `CsvWriter` from driver rows, and the DuckDB expression that reads it
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

/** Buffers CSV text and writes it in large chunks; `write` returns false when the caller should wait. */
export class CsvWriter {
  private buf = '';
  private readonly out: WriteStream;
  rows = 0;

  /** `digest`: a stagingDigest that every line written is added to (one for all the files of a read). */
  constructor(
    file: string,
    private readonly digest?: Hash,
  ) {
    this.out = createWriteStream(file, { highWaterMark: 1 << 20 });
  }

  /** Append one ready-made line (fields already encoded, newline included). */
  line(text: string): boolean {
    this.buf += text;
    this.rows++;
    if (this.buf.length >= 1 << 18) {
      this.digest?.update(this.buf);
      const ok = this.out.write(this.buf);
      this.buf = '';
      return ok;
    }
    return true;
  }

  drained(): Promise<void> {
    return new Promise((resolve) => this.out.once('drain', resolve));
  }

  async close(): Promise<void> {
    this.digest?.update(this.buf);
    if (this.buf) this.out.write(this.buf);
    this.buf = '';
    await new Promise<void>((resolve, reject) => {
      this.out.once('error', reject);
      this.out.end(resolve);
    });
  }

  destroy(): void {
    this.out.destroy();
  }
}

export { ident };
