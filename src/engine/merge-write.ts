// Changing some keys of a table without rewriting the table: a merge that rewrites only the data
// files holding those keys. The previous snapshot's files with a row of a changed key are dropped
// (Warehouse.commit's `remove`), their other rows are written again along with the new rows, and
// every other file is kept as it is. Ingestion's merge on the primary key
// (src/ingest/source-executor.ts) and derived maintenance (./derived.ts) write this way, so two
// snapshots differ only in a few files, and those files are what a downstream node reads to find
// its input's changes (`changedRows`).

import type { DuckDBConnection } from '@duckdb/node-api';
import type { ColumnSchema, SnapshotRef } from '../planner/state-store.js';
import { selectFiles, type Warehouse } from '../warehouse/warehouse.js';
import { ident, literal } from './quote.js';

export interface MergePlan {
  /** The previous snapshot's files holding a row of a changed key: the new snapshot drops them. */
  readonly hit: readonly string[];
  /** The previous snapshot's other files: the new snapshot keeps them. */
  readonly untouched: readonly string[];
  /** SELECT of the rows of `hit` files whose key did not change: written again. */
  readonly kept: string;
  /** SELECT of the previous rows of the changed keys. */
  readonly replaced: string;
}

/**
 * Plan a merge into a table whose current files are `files` (columns `schema`): `on` pairs a
 * table column with a column of `keysRel`, the relation of changed keys (NULL matches NULL).
 */
export async function planMerge(
  conn: DuckDBConnection,
  files: readonly string[],
  schema: readonly ColumnSchema[],
  on: readonly (readonly [string, string])[],
  keysRel: string,
): Promise<MergePlan> {
  const cond = on.map(([t, k]) => `t.${ident(t)} IS NOT DISTINCT FROM a.${ident(k)}`).join(' AND ');
  const nulls = await keysWithNull(conn, keysRel, on.map(([, k]) => k));
  let hit: string[] = [];
  if (files.length) {
    // Only the key columns are read (and the file each row is in).
    const src = `read_parquet([${files.map(literal).join(', ')}], union_by_name = true, filename = '__asg_file')`;
    const r = await conn.runAndReadAll(`SELECT DISTINCT __asg_file FROM (${withKeys(src, on, keysRel, nulls)})`);
    const found = new Set(r.getRows().map((row) => String(row[0])));
    hit = files.filter((f) => found.has(f));
  }
  const hitSet = new Set(hit);
  const rows = `(${selectFiles(hit, schema)})`;
  return {
    hit,
    untouched: files.filter((f) => !hitSet.has(f)),
    kept: `SELECT t.* FROM ${rows} AS t ANTI JOIN ${keysRel} AS a ON ${cond}`,
    replaced: withKeys(rows, on, keysRel, nulls),
  };
}

/** Whether a row of `keysRel` has NULL in one of `cols` (NULL is a key value like any other). */
export async function keysWithNull(conn: DuckDBConnection, keysRel: string, cols: readonly string[]): Promise<boolean> {
  const r = await conn.runAndReadAll(`SELECT EXISTS (SELECT 1 FROM ${keysRel} WHERE ${cols.map((c) => `${ident(c)} IS NULL`).join(' OR ')})`);
  return r.getRows()[0]?.[0] === true;
}

/**
 * SELECT of the rows of `relation` whose key (`on`: relation column, `keysRel` column) is in
 * `keysRel`, NULL matching NULL. The keys without NULL match on `=`, which DuckDB pushes into the
 * scan as a min/max filter of the join (Parquet row groups outside the keys' range are skipped);
 * `IS NOT DISTINCT FROM` is not pushed, so it only matches the keys with a NULL (`nulls`: there are some).
 */
export function withKeys(relation: string, on: readonly (readonly [string, string])[], keysRel: string, nulls: boolean): string {
  const eq = on.map(([t, k]) => `t.${ident(t)} = a.${ident(k)}`).join(' AND ');
  const rows = `SELECT t.* FROM ${relation} AS t SEMI JOIN ${keysRel} AS a ON ${eq}`;
  if (!nulls) return rows;
  const nullKeys = `(SELECT * FROM ${keysRel} WHERE ${on.map(([, k]) => `${ident(k)} IS NULL`).join(' OR ')})`;
  const distinct = on.map(([t, k]) => `t.${ident(t)} IS NOT DISTINCT FROM a.${ident(k)}`).join(' AND ');
  return `${rows} UNION ALL SELECT t.* FROM ${relation} AS t SEMI JOIN ${nullKeys} AS a ON ${distinct} WHERE ${on.map(([t]) => `t.${ident(t)} IS NULL`).join(' OR ')}`;
}

export type Changes =
  /** The same files: no row changed. */
  | { readonly kind: 'none' }
  /** SELECT of the rows that differ: inserted and deleted rows, both versions of an updated one. */
  | { readonly kind: 'rows'; readonly sql: string }
  /** The files that differ do not have the same columns: the rows cannot be compared. */
  | { readonly kind: 'incomparable' };

/**
 * The rows that differ between two snapshots of one table, read from the data files that differ
 * only (files are immutable: a file in both snapshots holds the same rows in both). A merge write
 * (above) or an append leaves most files in place, so this reads a few files; a full rewrite
 * differs in every file, and the result is the rows that differ between the whole tables.
 */
export async function changedRows(conn: DuckDBConnection, warehouse: Warehouse, old: SnapshotRef, cur: SnapshotRef, schema?: readonly ColumnSchema[]): Promise<Changes> {
  const before = await warehouse.files(old);
  const after = await warehouse.files(cur);
  const a = new Set(before);
  const b = new Set(after);
  const removed = before.filter((f) => !b.has(f));
  const added = after.filter((f) => !a.has(f));
  if (!removed.length && !added.length) return { kind: 'none' };
  // The new files must have the columns the old ones had (one old file stands for them).
  const sample = removed[0] ?? before[0];
  if (added.length && sample && (await columnsOf(conn, added)) !== (await columnsOf(conn, [sample]))) return { kind: 'incomparable' };
  const x = selectFiles(added, schema);
  const y = selectFiles(removed, schema);
  if (!removed.length) return { kind: 'rows', sql: x };
  if (!added.length) return { kind: 'rows', sql: y };
  return { kind: 'rows', sql: `((${x}) EXCEPT ALL (${y})) UNION ALL ((${y}) EXCEPT ALL (${x}))` };
}

async function columnsOf(conn: DuckDBConnection, files: readonly string[]): Promise<string> {
  const r = await conn.runAndReadAll(`DESCRIBE SELECT * FROM read_parquet([${files.map(literal).join(', ')}], union_by_name = true)`);
  return JSON.stringify(r.getRows().map((row) => [String(row[0]), String(row[1])]));
}
