// Looking at an embedded warehouse from the outside: which data files are on disk for a table, and
// a fake executor's way to commit a small real snapshot (Iceberg commits read Parquet footers).

import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { openDuck } from '../../src/engine/duckdb.js';
import type { SnapshotRef } from '../../src/planner/state-store.js';
import type { Warehouse } from '../../src/warehouse/warehouse.js';

/** Every Parquet file under the table's data/ folder (sorted). */
export async function dataFilesOnDisk(wh: Warehouse, table: string): Promise<string[]> {
  const dir = join(wh.tableDir(table), 'data');
  if (!existsSync(dir)) return [];
  return (readdirSync(dir, { recursive: true }) as string[])
    .filter((f) => f.endsWith('.parquet'))
    .map((f) => join(dir, f))
    .sort();
}

/** Commit `rows` rows of one BIGINT column `id` as a new snapshot of `table`. */
export async function commitRows(wh: Warehouse, table: string, rows: number): Promise<SnapshotRef> {
  // One DuckDB for every fake commit of a test file: opening one per commit dominates fake applies.
  shared ??= openDuck();
  const conn = await shared;
  const p = await wh.begin(table, [{ name: 'id', type: 'BIGINT' }]);
  await conn.run(wh.copySql(p, `SELECT CAST(i AS BIGINT) AS id FROM range(${rows}) r(i)`));
  return wh.commit(p, conn);
}

let shared: ReturnType<typeof openDuck> | undefined;
