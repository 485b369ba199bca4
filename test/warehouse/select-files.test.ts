// How asgard reads a snapshot's Parquet files (src/warehouse/warehouse.ts selectFiles): the files of
// one write share its columns, so DuckDB binds them from the first file; files of several writes may
// differ (a column added since), so DuckDB unifies them by name.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { DuckDBConnection } from '@duckdb/node-api';
import { openDuck, queryAll } from '../../src/engine/duckdb.js';
import { selectFiles, Warehouse } from '../../src/warehouse/warehouse.js';
import type { ColumnSchema, SnapshotRef } from '../../src/planner/state-store.js';

let conn: DuckDBConnection;
let root: string;
beforeAll(async () => {
  conn = await openDuck();
  root = mkdtempSync(join(tmpdir(), 'asgard-select-files-'));
});
afterAll(() => {
  conn.closeSync();
  rmSync(root, { recursive: true, force: true });
});

async function schemaOf(sql: string): Promise<ColumnSchema[]> {
  return (await queryAll(conn, `DESCRIBE ${sql}`)).rows.map((r) => ({ name: String(r.column_name), type: String(r.column_type) }));
}

async function write(w: Warehouse, table: string, sql: string, partitionBy: string[], base?: SnapshotRef): Promise<SnapshotRef> {
  const p = await w.begin(table, await schemaOf(sql), partitionBy);
  await w.write(conn, p, sql);
  return w.commit(p, conn, base ? { base } : {});
}

it("a snapshot of one write is read without unifying its files' columns; one of several writes, a column added since, is", async () => {
  const w = new Warehouse(join(root, 'warehouse'));
  const first = `SELECT i AS id, ['DE', 'FR', 'US'][1 + i % 3] AS country FROM range(0, 30) r(i)`;
  const s1 = await write(w, 'silver.events', first, ['country']);
  const one = await w.snapshotSelect(s1, await schemaOf(first));
  expect(one).not.toContain('union_by_name');
  expect((await queryAll(conn, `SELECT count(*) AS n, sum(id)::BIGINT AS s FROM (${one})`)).rows).toEqual([{ n: 30, s: 435 }]);

  // An append of rows with one more column: the first write's files lack it.
  const second = `SELECT i AS id, ['DE', 'FR', 'US'][1 + i % 3] AS country, i * 2 AS score FROM range(30, 40) r(i)`;
  const s2 = await write(w, 'silver.events', second, ['country'], s1);
  const both = await w.snapshotSelect(s2, await schemaOf(second));
  expect(both).toContain('union_by_name = true');
  const r = await queryAll(conn, `SELECT count(*) AS n, count(score) AS scored, sum(score)::BIGINT AS s FROM (${both})`);
  expect(r.rows).toEqual([{ n: 40, scored: 10, s: 2 * (30 + 39) * 5 }]);
});

it('files another engine wrote (no asgard write folder) are unified by name', () => {
  expect(selectFiles(['/w/silver/t/data/country=DE/00000-1-a.parquet'])).toContain('union_by_name = true');
  expect(selectFiles(['/w/silver/t/data/20261203T124341932Z-c54053e0/a.parquet', '/w/silver/t/data/20261203T124341932Z-c54053e0/b.parquet'])).not.toContain(
    'union_by_name',
  );
  expect(selectFiles(['/w/silver/t/data/20261203T124341932Z-c54053e0/a.parquet', '/w/silver/t/data/20261203T124342000Z-0000beef/b.parquet'])).toContain(
    'union_by_name = true',
  );
});

it('a snapshot of several writes of a table that never had another schema is read without unifying; once a column is added, it is', async () => {
  const w = new Warehouse(join(root, 'warehouse'));
  const rows = (from: number, to: number) => `SELECT i AS id, ['DE', 'FR', 'US'][1 + i % 3] AS country FROM range(${from}, ${to}) r(i)`;
  const s1 = await write(w, 'silver.orders', rows(0, 30), ['country']);
  const s2 = await write(w, 'silver.orders', rows(30, 40), ['country'], s1);
  const s3 = await write(w, 'silver.orders', rows(40, 45), [], s2);
  const schema = await schemaOf(rows(0, 1));
  const same = await w.snapshotSelect(s3, schema);
  expect(same).not.toContain('union_by_name');
  expect((await queryAll(conn, `SELECT count(*) AS n, sum(id)::BIGINT AS s, count(DISTINCT country) AS c FROM (${same})`)).rows).toEqual([
    { n: 45, s: 990, c: 3 },
  ]);
  expect(await w.sameColumns(s3)).toBe(true);
  // Files not of an asgard write are unified all the same.
  expect(selectFiles(['/w/silver/t/data/20261203T124341932Z-c54053e0/a.parquet', '/w/silver/t/data/country=DE/00000-1-a.parquet'], schema, true)).toContain(
    'union_by_name = true',
  );

  // A column added: the earlier files lack it, read as NULL.
  const more = `SELECT i AS id, ['DE', 'FR', 'US'][1 + i % 3] AS country, i * 2 AS score FROM range(45, 50) r(i)`;
  const s4 = await write(w, 'silver.orders', more, ['country'], s3);
  expect(await w.sameColumns(s4)).toBe(false);
  const evolved = await w.snapshotSelect(s4, await schemaOf(more));
  expect(evolved).toContain('union_by_name = true');
  expect((await queryAll(conn, `SELECT count(*) AS n, count(score) AS scored FROM (${evolved})`)).rows).toEqual([{ n: 50, scored: 5 }]);
  // The same columns again later: the table had another schema, so its files may differ.
  const s5 = await write(w, 'silver.orders', rows(50, 52), ['country'], s4);
  expect(await w.sameColumns(s5)).toBe(false);
});
