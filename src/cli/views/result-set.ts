// `asgard query` and `asgard features historical`: a result set as a text table (its row count on
// stderr), CSV, or `{"columns": [{name, type}], "rows": [{…}]}` (the shape of the HTTP query door's
// JSON answer without `truncated`, docs/http.md).

import type { QueryResult } from '../../engine/duckdb.js';
import type { View } from '../view.js';

export interface ResultSet {
  readonly result: QueryResult;
  /** Said after the row count (a truncation). */
  readonly note?: string;
}

const cell = (v: unknown): string => (v === null || v === undefined ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v));

function csvLine(cells: readonly string[]): string {
  return cells.map((c) => (/[",\n\r]/.test(c) ? `"${c.replace(/"/g, '""')}"` : c)).join(',') + '\n';
}

function textTable(r: QueryResult): string {
  const names = r.columns.map((c) => c.name);
  const body = r.rows.map((row) => names.map((n) => (row[n] === null || row[n] === undefined ? 'NULL' : cell(row[n]))));
  const widths = names.map((n, i) => Math.min(60, Math.max(n.length, ...body.map((b) => b[i].length))));
  const fit = (s: string, w: number): string => (s.length > w ? s.slice(0, w - 1) + '…' : s.padEnd(w));
  const line = (cells: string[]): string =>
    cells
      .map((c, i) => fit(c, widths[i]))
      .join('  ')
      .trimEnd() + '\n';
  return line(names) + line(widths.map((w) => '-'.repeat(w))) + body.map(line).join('');
}

export const resultSetView: View<ResultSet, 'text' | 'json' | 'csv'> = {
  text: ({ result: r, note }) => [{ out: textTable(r) }, { err: `(${r.rows.length} row${r.rows.length === 1 ? '' : 's'})${note ? ` ${note}` : ''}\n` }],
  json: ({ result: r }) => ({ columns: r.columns, rows: r.rows }),
  csv: ({ result: r }) => csvLine(r.columns.map((c) => c.name)) + r.rows.map((row) => csvLine(r.columns.map((c) => cell(row[c.name])))).join(''),
};
