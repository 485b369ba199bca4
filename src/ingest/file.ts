// Files on disk (CSV, Parquet, JSON / NDJSON): DuckDB reads them directly, no staging. The schema
// is what DuckDB's reader finds (Parquet's own schema; CSV and JSON sniffed over the whole file).

import { existsSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { literal } from '../engine/quote.js';
import type { ConnectorInput, Extracted, ExtractRequest, SourceColumn, SourceConnector } from './source.js';
import { SourceError } from './staging.js';
import { textReadType } from './types.js';

export function fileConnector(input: ConnectorInput): SourceConnector {
  // The source's `path` is the file, or, when streams name their own `path`, the folder those are
  // relative to (docs/language.md, "File sources"); relative folders start at the spec's folder.
  const folder = input.settings.path === undefined ? '' : String(input.settings.path);
  const own = input.node.stream.path;
  const raw = own !== undefined ? (isAbsolute(own) || !folder ? own : join(folder, own)) : folder;
  if (!raw) throw new SourceError('the file connector has no path');
  const path = isAbsolute(raw) ? raw : resolve(input.baseDir, raw);
  const ext =
    path
      .toLowerCase()
      .replace(/\.(gz|zst)$/, '')
      .split('.')
      .pop() ?? '';
  const format = String(input.settings.format ?? (ext === 'parquet' ? 'parquet' : ext === 'csv' || ext === 'tsv' ? 'csv' : 'json'));
  // `types`: the declared columns (CSV and JSON only; their text is parsed as textReadType says).
  // Without them (discover, undeclared streams) DuckDB sniffs, and a DECIMAL would be read as a DOUBLE.
  const reader = (types?: readonly SourceColumn[]): string => {
    const typed = (key: string) =>
      types?.length ? `, ${key} = {${types.map((c) => `${literal(c.name)}: ${literal(textReadType(c.duckType ?? 'VARCHAR'))}`).join(', ')}}` : '';
    switch (format) {
      case 'parquet':
        return `read_parquet(${literal(path)})`;
      case 'csv':
        return `read_csv(${literal(path)}, header = true, sample_size = -1${typed('types')})`;
      case 'ndjson':
        return `read_json(${literal(path)}, format = 'newline_delimited', sample_size = -1${typed('columns')})`;
      default:
        return `read_json(${literal(path)}, sample_size = -1${typed('columns')})`;
    }
  };
  const declared = new Set((input.node.stream.columns ?? []).map((c) => c.name.toLowerCase()));
  const where = `file ${path}`;
  const check = () => {
    if (!/[*?[]/.test(path) && !existsSync(path)) throw new SourceError(`${where}: no such file`);
  };
  return {
    where,
    filePattern: path,
    async discover(): Promise<readonly SourceColumn[]> {
      check();
      const { openDuck, queryAll } = await import('../engine/duckdb.js'); // not loaded by a sync whose files did not change
      const conn = await openDuck();
      try {
        const r = await queryAll(conn, `DESCRIBE SELECT * FROM ${reader()}`);
        // CSV and JSON carry no types: what the reader sniffed is a guess, so a declared column's type
        // is the schema (its values are cast to it, and a value that does not fit fails the sync).
        const typed = format === 'parquet';
        return r.rows.map((row) => {
          const name = String(row.column_name);
          const sniffed = String(row.column_type);
          return !typed && declared.has(name.toLowerCase())
            ? { name, sourceType: `${format} (read as ${sniffed})` }
            : { name, sourceType: sniffed, duckType: sniffed };
        });
      } catch (e) {
        throw new SourceError(`${where}: ${(e as Error).message.split('\n')[0]}`);
      } finally {
        conn.closeSync();
      }
    },
    async extract(req: ExtractRequest): Promise<Extracted> {
      check();
      const cols = req.columns.map((c) => `"${c.name.replace(/"/g, '""')}"`).join(', ');
      const where = req.cursor ? ` WHERE "${req.cursor.column.replace(/"/g, '""')}" >= ${literal(req.cursor.from)}` : '';
      const types = declared.size === req.columns.length && req.columns.every((c) => declared.has(c.name.toLowerCase())) ? req.columns : undefined;
      return { rows: -1, relation: `(SELECT ${cols} FROM ${reader(types)}${where})` };
    },
    async close() {},
  };
}
