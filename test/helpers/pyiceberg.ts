// Another engine's view of asgard's warehouse: pyiceberg (from the pinned .venv) loads tables through
// the same SQL catalog and scans them; asgardRows reads the same snapshot the way asgard does, with
// values in the same JSON forms, so the two can be compared row for row.

import { spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { ensureToolchain } from '../conformance/lib/toolchain.js';
import { openDuck, queryAll } from '../../src/engine/duckdb.js';
import type { ColumnSchema, SnapshotRef } from '../../src/planner/state-store.js';
import type { Warehouse } from '../../src/warehouse/warehouse.js';

const READER = resolve(import.meta.dirname, '..', 'warehouse', 'py', 'read_iceberg.py');

export interface PyRead {
  readonly table: string;
  readonly schema: { id: number; name: string; type: string }[];
  readonly spec: { name: string; source: number; transform: string }[];
  readonly snapshots: string[];
  readonly current: string | null;
  readonly rows: Record<string, unknown>[];
}

/** Scan each `namespace.table[@snapshot][?row_filter]` with pyiceberg's SqlCatalog over a SQLite catalog file. */
export function pyiceberg(catalogFile: string, ...reads: string[]): { tables: string[]; reads: PyRead[] } {
  return pyicebergWith({}, catalogFile, ...reads);
}

/** The same, with catalog properties (`s3.endpoint`, `s3.path-style-access`: tables on the S3 server). */
export function pyicebergWith(props: Readonly<Record<string, string>>, catalogFile: string, ...reads: string[]): { tables: string[]; reads: PyRead[] } {
  return pyicebergAt(`sqlite:///${catalogFile}`, props, ...reads);
}

/** The same through the SqlCatalog at a SQLAlchemy URL (`postgresql+psycopg2://…`: the shared catalog). */
export function pyicebergAt(uri: string, props: Readonly<Record<string, string>>, ...reads: string[]): { tables: string[]; reads: PyRead[] } {
  const tc = ensureToolchain();
  if (!tc.ok) throw new Error(tc.reason);
  const r = spawnSync(tc.tools.python, [READER, uri, 'iceberg', ...reads], {
    encoding: 'utf8',
    maxBuffer: 512 << 20,
    env: { ...tc.tools.env, ASGARD_PYICEBERG_PROPS: JSON.stringify(props) },
  });
  if (r.status !== 0) throw new Error(`pyiceberg failed: ${r.stderr.slice(-2000)}`);
  return JSON.parse(r.stdout);
}

/** The catalog file of a local warehouse. */
export const catalogFile = (wh: Warehouse): string => join(wh.root, 'catalog.db');

/**
 * asgard's read of a snapshot (its data files through DuckDB), values in read_iceberg.py's forms:
 * dates ISO, timestamps `YYYY-MM-DD HH:MM:SS.ffffff` in UTC, decimals as their text.
 */
export async function asgardRows(wh: Warehouse, s: SnapshotRef, schema: readonly ColumnSchema[]): Promise<Record<string, unknown>[]> {
  const conn = await openDuck();
  try {
    return [...(await queryAll(conn, `SELECT ${jsonFormSelect(schema)} FROM (${await wh.snapshotSelect(s, schema)})`)).rows];
  } finally {
    conn.closeSync();
  }
}

/** The SELECT list that puts `schema`'s columns in read_iceberg.py's value forms. */
export function jsonFormSelect(schema: readonly ColumnSchema[]): string {
  return schema
    .map((c) => {
      const n = `"${c.name.replace(/"/g, '""')}"`;
      const t = c.type.toUpperCase();
      if (t.startsWith('TIMESTAMP')) return `strftime(CAST(${n} AS TIMESTAMP), '%Y-%m-%d %H:%M:%S.%f') AS ${n}`;
      if (t === 'DATE' || t.startsWith('DECIMAL') || t.startsWith('NUMERIC')) return `CAST(${n} AS VARCHAR) AS ${n}`;
      return n;
    })
    .join(', ');
}

/** Rows in a canonical order (by their JSON), for comparing two reads of the same table. */
export const canonical = (rows: readonly Record<string, unknown>[]): string[] =>
  rows
    .map((r) =>
      JSON.stringify(
        Object.keys(r)
          .sort()
          .map((k) => [k, r[k]]),
      ),
    )
    .sort();
