// Whether a table's new rows are the rows it held: a rebuild whose rows equal the previous
// snapshot's keeps that snapshot (./sql-executor.ts writeFull), as a derived run that recomputes the
// same rows does (./derived.ts), so nothing downstream of the table runs again.
//
// A snapshot's digest (SnapshotRef.digest) is the sum of its rows' hashes: DuckDB's hash() of the
// row's columns in the table's order, summed exactly (HUGEINT, no wrap-around), so it does not
// depend on the rows' order and a multiset's digest moves by the hashes of the rows added and
// removed. With the row count it is a fingerprint: different fingerprints mean different rows, for
// certain; equal ones are confirmed row by row (`noDifference`) before two tables are taken for
// equal, so a hash collision costs that confirmation, never a lost change.

import type { DuckDBConnection } from '@duckdb/node-api';
import type { ColumnSchema, SnapshotRef } from '../planner/state-store.js';
import type { Warehouse } from '../warehouse/warehouse.js';
import { columnNames, differingRows } from './merge-write.js';

/** SELECT of the fingerprint of `rel`'s rows (columns `cols`): `n`, their count, and `h`, their digest (0 of no rows). */
export function fingerprintSql(rel: string, cols: string): string {
  return `SELECT count(*) AS n, coalesce(sum(hash(${cols})::HUGEINT), 0) AS h FROM ${rel}`;
}

/** Whether two SELECTs of the same columns hold the same rows as multisets (NULL equal to NULL): exact. */
export async function noDifference(conn: DuckDBConnection, a: string, b: string): Promise<boolean> {
  const r = await conn.runAndReadAll(`SELECT count(*) FROM (${differingRows(a, b)})`);
  return Number(r.getRows()[0]?.[0] ?? 0) === 0;
}

/**
 * A rebuild's rows against the previous snapshot's. `rows` selects the new rows (`count` of them,
 * columns `schema`); `prev` is the snapshot the table holds, `prevSchema` its columns. `same` when
 * they are the same rows (the same columns too); `digest` is the new rows' digest, when taken.
 *
 * Only rows of the same count and columns can be the same: other rows are not read at all (a
 * table whose count moves keeps no digest).
 * Of equal counts the new rows are hashed: a digest that differs from the previous snapshot's is a
 * change; an equal one is confirmed row by row against the previous snapshot's files. A previous
 * snapshot without a digest (built from scratch, or merged from one without) has it taken from its
 * files first.
 */
export async function sameAsPrevious(
  conn: DuckDBConnection,
  warehouse: Warehouse,
  rows: string,
  count: number,
  schema: readonly ColumnSchema[],
  prev: SnapshotRef,
  prevSchema: readonly ColumnSchema[],
): Promise<{ readonly same: boolean; readonly digest?: string }> {
  if (count !== prev.rows || !sameColumns(schema, prevSchema)) return { same: false };
  const cols = columnNames(schema);
  const digestOf = async (rel: string) => String((await conn.runAndReadAll(`SELECT h::VARCHAR FROM (${fingerprintSql(`(${rel})`, cols)})`)).getRows()[0][0]);
  const digest = await digestOf(rows);
  if (prev.digest !== undefined && prev.digest !== digest) return { same: false, digest };
  const before = await warehouse.snapshotSelect(prev, prevSchema);
  // A snapshot without a digest (built from scratch): its own first, one pass over its files.
  if (prev.digest === undefined && (await digestOf(before)) !== digest) return { same: false, digest };
  return { same: await noDifference(conn, `SELECT ${cols} FROM (${rows})`, `SELECT ${cols} FROM (${before})`), digest };
}

/** The digest of a merge's new snapshot: the previous one's, less the hashes of the rows it replaced (`replaced`), plus those of the rows it wrote (`fresh`). */
export function mergedDigest(prev: string | undefined, replaced: string, fresh: string): string | undefined {
  return prev === undefined ? undefined : (BigInt(prev) - BigInt(replaced) + BigInt(fresh)).toString();
}

function sameColumns(a: readonly ColumnSchema[], b: readonly ColumnSchema[]): boolean {
  return a.length === b.length && a.every((c, i) => c.name === b[i].name && c.type === b[i].type);
}
