import type { Table } from './compare.js';

/**
 * A key to match rows on: the first column alone if it is unique in the table, else the first
 * column with the first timestamp/date column that makes it unique (a table "as of" several
 * dates), else the whole row.
 */
export function inferKey(t: Table): string[] {
  if (t.columns.length === 0) return [];
  const first = t.columns[0].name;
  const unique = (cols: string[]) => new Set(t.rows.map((r) => JSON.stringify(cols.map((c) => r[c] ?? null)))).size === t.rows.length;
  if (unique([first])) return [first];
  for (const c of t.columns.slice(1)) {
    if (/^(TIMESTAMP|DATE)/i.test(c.type) && unique([first, c.name])) return [first, c.name];
  }
  return [];
}
