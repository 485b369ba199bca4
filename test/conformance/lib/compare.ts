// Row-for-row comparison of two tables read from Parquet (both sides through the same DuckDB
// reader, so only the data can differ): values normalised (timestamps to UTC ISO-8601, dates to
// ISO, decimals and integers to canonical decimal strings, floating point compared to 1e-9
// relative), rows matched on their key, and the first differing rows quoted in the message.

import { openDuck, queryAll, ident, literal } from '../../../src/engine/duckdb.js';

export interface Table {
  readonly columns: readonly { readonly name: string; readonly type: string }[];
  readonly rows: readonly Record<string, unknown>[];
}

export interface Comparison {
  readonly ok: boolean;
  /** Rows of the expected (embedded) side that were compared. */
  readonly rows: number;
  readonly message: string;
}

const HIVE_NULL = '__HIVE_DEFAULT_PARTITION__';

/** Read Parquet files (globs; hive-partitioned folders too) with every value normalised. */
export async function readParquet(globs: readonly string[], opts: { readonly hive?: boolean } = {}): Promise<Table> {
  const conn = await openDuck();
  try {
    const list = `[${globs.map(literal).join(', ')}]`;
    const src = `read_parquet(${list}, hive_partitioning = ${opts.hive === false ? 'false' : 'true'}, hive_types_autocast = false, union_by_name = true)`;
    const described = await queryAll(conn, `DESCRIBE SELECT * FROM ${src}`);
    const cols = described.rows.map((r) => ({ name: String(r.column_name), type: String(r.column_type) }));
    const select = cols.map((c) => `${normaliser(c.name, c.type)} AS ${ident(c.name)}`).join(', ');
    const res = await queryAll(conn, `SELECT ${select} FROM ${src}`);
    return { columns: cols, rows: res.rows.map((r) => fixRow(r, cols)) };
  } finally {
    conn.closeSync();
  }
}

/** Run a query over Parquet (or anything DuckDB reads) and normalise its result the same way. */
export async function readQuery(sql: string): Promise<Table> {
  const conn = await openDuck();
  try {
    const described = await queryAll(conn, `DESCRIBE ${sql}`);
    const cols = described.rows.map((r) => ({ name: String(r.column_name), type: String(r.column_type) }));
    const select = cols.map((c) => `${normaliser(c.name, c.type)} AS ${ident(c.name)}`).join(', ');
    const res = await queryAll(conn, `SELECT ${select} FROM (${sql})`);
    return { columns: cols, rows: res.rows.map((r) => fixRow(r, cols)) };
  } finally {
    conn.closeSync();
  }
}

function normaliser(name: string, type: string): string {
  const c = ident(name);
  const t = type.toUpperCase();
  if (t.startsWith('TIMESTAMP')) return `strftime(CAST(${c} AS TIMESTAMP), '%Y-%m-%dT%H:%M:%S.%fZ')`;
  if (t === 'DATE') return `strftime(${c}, '%Y-%m-%d')`;
  if (t.startsWith('DECIMAL') || /INT/.test(t)) return `CAST(${c} AS VARCHAR)`;
  return c;
}

const isFloatType = (t: string) => /^(DOUBLE|FLOAT|REAL)/i.test(t);

function fixRow(r: Record<string, unknown>, cols: readonly { name: string; type: string }[]): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  for (const c of cols) {
    let v = r[c.name];
    if (v === HIVE_NULL) v = null;
    if (typeof v === 'string' && (c.type.toUpperCase().startsWith('DECIMAL') || /INT/i.test(c.type))) v = canonicalDecimal(v);
    if (typeof v === 'bigint') v = v.toString();
    o[c.name] = v;
  }
  return o;
}

/** "12.50" → "12.5", "-0.00" → "0", "7.000" → "7". */
export function canonicalDecimal(s: string): string {
  if (!/^-?\d+(\.\d+)?$/.test(s)) return s;
  let [int, frac = ''] = s.replace(/^-/, '').split('.');
  frac = frac.replace(/0+$/, '');
  int = int.replace(/^0+(?=\d)/, '');
  const neg = s.startsWith('-') && !(int === '0' && frac === '');
  return `${neg ? '-' : ''}${int}${frac ? '.' + frac : ''}`;
}

/** Compares one value; floating point (either side a float type) within 1e-9 relative. */
function sameValue(a: unknown, b: unknown, float: boolean): boolean {
  if (a === null || a === undefined || b === null || b === undefined) return (a ?? null) === (b ?? null);
  if (float || typeof a === 'number' || typeof b === 'number') {
    const x = Number(a);
    const y = Number(b);
    if (Number.isNaN(x) || Number.isNaN(y)) return String(a) === String(b);
    if (x === y) return true;
    return Math.abs(x - y) <= 1e-9 * Math.max(1, Math.abs(x), Math.abs(y));
  }
  return String(a) === String(b);
}

const show = (v: unknown) => (v === null || v === undefined ? 'NULL' : typeof v === 'string' ? JSON.stringify(v) : String(v));

export interface CompareOptions {
  /** Columns that identify a row (must be unique on both sides); empty: the whole row. */
  readonly keys: readonly string[];
  /** Columns left out of the comparison on both sides (say why at the call site). */
  readonly ignore?: readonly string[];
  /** How many differing rows the message quotes. */
  readonly show?: number;
}

/** expected: asgard's embedded result; actual: the real tool's. */
export function compareTables(label: string, expected: Table, actual: Table, opts: CompareOptions): Comparison {
  const ignore = new Set(opts.ignore ?? []);
  const eCols = expected.columns.map((c) => c.name).filter((n) => !ignore.has(n));
  const aCols = actual.columns.map((c) => c.name).filter((n) => !ignore.has(n));
  const missing = eCols.filter((c) => !aCols.includes(c));
  const extra = aCols.filter((c) => !eCols.includes(c));
  if (missing.length || extra.length) {
    return {
      ok: false,
      rows: expected.rows.length,
      message: `${label}: columns differ${missing.length ? `; missing from the tool's output: ${missing.join(', ')}` : ''}${extra.length ? `; only in the tool's output: ${extra.join(', ')}` : ''}`,
    };
  }
  const floatCols = new Set([...expected.columns, ...actual.columns].filter((c) => isFloatType(c.type)).map((c) => c.name));
  const cols = [...eCols].sort();
  const keys = opts.keys.length ? [...opts.keys] : cols;
  const keyOf = (r: Record<string, unknown>) => JSON.stringify(keys.map((k) => r[k] ?? null));
  const index = (rows: readonly Record<string, unknown>[], side: string): Map<string, Record<string, unknown>> | string => {
    const m = new Map<string, Record<string, unknown>>();
    for (const r of rows) {
      const k = keyOf(r);
      if (m.has(k) && opts.keys.length) return `${label}: key (${keys.join(', ')}) = ${k} repeats in the ${side} rows`;
      m.set(k, r);
    }
    return m;
  };
  const e = index(expected.rows, 'embedded');
  if (typeof e === 'string') return { ok: false, rows: expected.rows.length, message: e };
  const a = index(actual.rows, "tool's");
  if (typeof a === 'string') return { ok: false, rows: expected.rows.length, message: a };

  const diffs: string[] = [];
  let nDiff = 0;
  const sortedKeys = [...new Set([...e.keys(), ...a.keys()])].sort();
  for (const k of sortedKeys) {
    const er = e.get(k);
    const ar = a.get(k);
    if (!ar) {
      nDiff++;
      if (diffs.length < (opts.show ?? 5)) diffs.push(`  only in asgard's embedded output: ${rowText(er!, cols)}`);
      continue;
    }
    if (!er) {
      nDiff++;
      if (diffs.length < (opts.show ?? 5)) diffs.push(`  only in the tool's output:        ${rowText(ar, cols)}`);
      continue;
    }
    const bad = cols.filter((c) => !sameValue(er[c], ar[c], floatCols.has(c)));
    if (bad.length) {
      nDiff++;
      if (diffs.length < (opts.show ?? 5)) {
        diffs.push(
          `  row ${keys.map((c) => `${c}=${show(er[c])}`).join(', ')}: ${bad.map((c) => `${c}: asgard ${show(er[c])} vs tool ${show(ar[c])}`).join('; ')}`,
        );
      }
    }
  }
  if (nDiff === 0 && expected.rows.length === actual.rows.length) {
    return { ok: true, rows: expected.rows.length, message: `${label}: ${expected.rows.length} rows equal` };
  }
  return {
    ok: false,
    rows: expected.rows.length,
    message: `${label}: ${nDiff} of ${sortedKeys.length} rows differ (asgard ${expected.rows.length} rows, tool ${actual.rows.length} rows); first differences (sorted by ${keys.join(', ')}):\n${diffs.join('\n')}`,
  };
}

function rowText(r: Record<string, unknown>, cols: readonly string[]): string {
  return cols.map((c) => `${c}=${show(r[c])}`).join(', ');
}
