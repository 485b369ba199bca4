// One place that opens DuckDB and turns its values into plain JS. 64-bit integers stay exact:
// they become numbers only when safe, strings otherwise; decimals are always strings.

import { DuckDBInstance, type DuckDBConnection, DuckDBDecimalValue } from '@duckdb/node-api';

export type Row = Record<string, unknown>;

export interface QueryResult {
  readonly columns: readonly { readonly name: string; readonly type: string }[];
  readonly rows: readonly Row[];
}

export async function openDuck(path = ':memory:', options: Record<string, string> = {}): Promise<DuckDBConnection> {
  // TimeZone cannot go in the creation options: DuckDB applies them before the (statically linked)
  // ICU extension is loaded and refuses the setting. Every session runs in UTC.
  const instance = await DuckDBInstance.create(path, options);
  const conn = await instance.connect();
  await conn.run(`SET TimeZone = 'UTC'`);
  return conn;
}

export async function queryAll(conn: DuckDBConnection, sql: string): Promise<QueryResult> {
  const reader = await conn.runAndReadAll(sql);
  const names = reader.columnNames();
  const types = reader.columnTypes().map(String);
  const rows = reader.getRows().map((r) => {
    const o: Row = {};
    names.forEach((n, i) => (o[n] = toPlain(r[i])));
    return o;
  });
  return { columns: names.map((name, i) => ({ name, type: types[i] })), rows };
}

/** A DuckDB value as JSON-safe JS (see the header for the integer and decimal rules). */
export function toPlain(v: unknown): unknown {
  if (v === null || v === undefined) return null;
  if (typeof v === 'bigint') return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v.toString();
  if (v instanceof DuckDBDecimalValue) return v.toString();
  if (typeof v === 'object' && v !== null && 'toString' in v && !Array.isArray(v) && Object.getPrototypeOf(v) !== Object.prototype) return String(v);
  if (Array.isArray(v)) return v.map(toPlain);
  return v;
}

export { ident, literal } from './quote.js';
