// Iceberg v2 position deletes (merge-on-read, src/warehouse/iceberg/table.ts): a merge that names
// the replaced rows in delete files instead of rewriting their data files. asgard's read of every
// snapshot equals pyiceberg's (which applies v2 deletes itself) and the expected rows; a key changed
// twice is deleted once per version; a rewritten file takes its delete files with it; expiry deletes
// the delete files no kept snapshot needs; changedRows reads the change from the delete files.

import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DuckDBConnection } from '@duckdb/node-api';
import { openDuck, queryAll } from '../../src/engine/duckdb.js';
import { changedRows, planMerge } from '../../src/engine/merge-write.js';
import type { ColumnSchema, SnapshotRef } from '../../src/planner/state-store.js';
import { Warehouse } from '../../src/warehouse/warehouse.js';
import { asgardRows, canonical, catalogFile, pyiceberg } from '../helpers/pyiceberg.js';

let conn: DuckDBConnection;
const dirs: string[] = [];
beforeAll(async () => {
  conn = await openDuck();
});
afterAll(() => {
  conn.closeSync();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const TABLE = 'gold.m';
const SCHEMA: ColumnSchema[] = [
  { name: 'id', type: 'BIGINT' },
  { name: 'country', type: 'VARCHAR' },
  { name: 'v', type: 'INTEGER' },
  { name: 'ts', type: 'TIMESTAMP' },
];
/** Rows `from`..`to`-1; `version` changes v. */
const rows = (from: number, to: number, version = 0) =>
  `SELECT CAST(i AS BIGINT) AS id, ['DE', 'FR', 'US'][1 + i % 3] AS country, CAST(i * 10 + ${version} AS INTEGER) AS v, TIMESTAMP '2024-01-01' + INTERVAL (i) HOUR AS ts FROM range(${from}, ${to}) r(i)`;

/**
 * Merge new versions of the ids `from`..`to`-1 into `base` by position deletes, or rewriting the files
 * listed in `rewrite` (by partition). `keepKeys`: the delete files keep the deleted rows' id (`row`).
 */
async function mergeByDeletes(
  wh: Warehouse,
  base: SnapshotRef,
  from: number,
  to: number,
  version: number,
  rewrite: string[] = [],
  keepKeys = true,
): Promise<SnapshotRef> {
  await conn.run(`CREATE OR REPLACE TEMP TABLE keys AS SELECT id FROM (${rows(from, to, version)})`);
  const plan = await planMerge(conn, await wh.scan(base), SCHEMA, [['id', 'id']], 'keys');
  const p = await wh.begin(TABLE, SCHEMA, ['country']);
  const rewritten = plan.hitFiles.filter((f) => rewrite.some((c) => f.path.includes(`country=${c}`)));
  const marked = plan.hitFiles.filter((f) => !rewritten.includes(f));
  await conn.run(wh.copySql(p, `${plan.keptOf(rewritten)} UNION ALL ${rows(from, to, version)}`));
  const deletes = [];
  for (const f of marked) {
    const c = keepKeys ? wh.deleteCopySql(p, f, plan.deletedKeys(f), plan.keyColumns) : wh.deleteCopySql(p, f, plan.positions(f));
    await conn.run(c.sql);
    deletes.push({ file: c.file, target: f.path });
  }
  return wh.commit(p, conn, { base, remove: rewritten.map((f) => f.path), deletes });
}

async function expected(sql: string): Promise<Record<string, unknown>[]> {
  const r = await queryAll(conn, `SELECT id, country, v, strftime(ts, '%Y-%m-%d %H:%M:%S.%f') AS ts FROM (${sql})`);
  return [...r.rows].map((x) => ({ ...x, id: Number(x.id) }));
}
const normal = (rs: readonly Record<string, unknown>[]) => canonical(rs.map((r) => ({ ...r, id: Number(r.id) })));

describe('iceberg position deletes', () => {
  it('asgard and pyiceberg read the same rows; rewrites and expiry drop the delete files no longer needed', async () => {
    const root = mkdtempSync(join(tmpdir(), 'asgard-deletes-'));
    dirs.push(root);
    const wh = new Warehouse(join(root, 'wh'));
    const p = await wh.begin(TABLE, SCHEMA, ['country']);
    await conn.run(wh.copySql(p, rows(0, 300)));
    const s1 = await wh.commit(p, conn);
    // 20 ids change: one delete file per partition file, one new data file per partition (delete
    // files without the deleted rows' keys, as another writer's or an older asgard's).
    const s2 = await mergeByDeletes(wh, s1, 0, 20, 1, [], false);
    // Ids 10..39 change again: ids 10..19 now live in s2's new files, so those get deletes too.
    const s3 = await mergeByDeletes(wh, s2, 10, 40, 2);
    const want3 = `SELECT * FROM (${rows(0, 300)}) WHERE id >= 40 UNION ALL ${rows(0, 10, 1)} UNION ALL ${rows(10, 40, 2)}`;
    expect(s2.rows).toBe(300);
    expect(s3.rows).toBe(300);
    const scan3 = await wh.scan(s3);
    expect(scan3.filter((f) => f.deletes.length).length).toBeGreaterThan(3);
    // The original files were kept (marked, not rewritten).
    const files1 = await wh.files(s1);
    expect(files1.every((f) => scan3.some((x) => x.path === f))).toBe(true);

    // The FR file of s1 is rewritten: its two delete files leave the snapshot with it.
    const s4 = await mergeByDeletes(wh, s3, 100, 103, 3, ['FR']);
    const scan4 = await wh.scan(s4);
    const frOld = files1.find((f) => f.includes('country=FR'))!;
    expect(scan4.some((f) => f.path === frOld)).toBe(false);
    const frDeletes = scan3.find((f) => f.path === frOld)!.deletes;
    expect(frDeletes.length).toBe(2);
    const live4 = new Set(scan4.flatMap((f) => f.deletes));
    expect(frDeletes.some((d) => live4.has(d))).toBe(false);
    const want4 = `SELECT * FROM (${want3}) WHERE id NOT BETWEEN 100 AND 102 UNION ALL ${rows(100, 103, 3)}`;

    // asgard's reads.
    expect(normal(await asgardRows(wh, s3, SCHEMA))).toEqual(normal(await expected(want3)));
    expect(normal(await asgardRows(wh, s4, SCHEMA))).toEqual(normal(await expected(want4)));
    // What changed from s1 to s3, read from the new files and delete files only.
    const ch = await changedRows(conn, wh, s1, s3, SCHEMA);
    expect(ch.kind).toBe('rows');
    const changed = await queryAll(
      conn,
      `SELECT count(*) AS n, count(DISTINCT id) AS k, min(id) AS lo, max(id) AS hi FROM (${ch.kind === 'rows' ? ch.sql : ''})`,
    );
    expect(changed.rows[0]).toEqual({ n: 80, k: 40, lo: 0, hi: 39 });

    // The delete files s3 added keep the id of each row they delete under the table's field id for
    // `id`: the deleted rows' keys without reading the data files. s2's keep none.
    const scan2 = await wh.scan(s2);
    const fresh3 = [...new Set(scan3.flatMap((f) => f.deletes))].filter((d) => !scan2.some((f) => f.deletes.includes(d)));
    const fresh2 = [...new Set(scan2.flatMap((f) => f.deletes))];
    expect(fresh3.length).toBeGreaterThan(3);
    const ids = await queryAll(conn, `SELECT DISTINCT file_name, field_id FROM parquet_schema([${fresh3.map((d) => `'${d}'`).join(', ')}]) WHERE name = 'id'`);
    const dataId = await queryAll(conn, `SELECT field_id FROM parquet_schema('${scan3[0].path}') WHERE name = 'id'`);
    expect(ids.rows.map((r) => Number(r.field_id))).toEqual(fresh3.map(() => Number(dataId.rows[0].field_id)));
    const keysSql = await wh.deletedKeys(conn, fresh3, ['id']);
    expect(keysSql).toBeDefined();
    const deletedIds = await queryAll(conn, `SELECT count(*) AS n, count(DISTINCT id) AS k, min(id) AS lo, max(id) AS hi FROM (${keysSql})`);
    expect(deletedIds.rows[0]).toEqual({ n: 30, k: 30, lo: 10, hi: 39 });
    expect(await wh.deletedKeys(conn, fresh2, ['id'])).toBeUndefined();
    expect(await wh.deletedKeys(conn, fresh3, ['id', 'v'])).toBeUndefined();

    // The fingerprint of the rows a merge replaces, taken in the pass that finds them (files with
    // deletes included), is theirs read again (derived.ts compares it with the recomputed rows').
    await conn.run('CREATE OR REPLACE TEMP TABLE keys AS SELECT CAST(i AS BIGINT) AS id FROM range(5, 60) r(i)');
    const hashed = await planMerge(conn, scan3, SCHEMA, [['id', 'id']], 'keys', { hashRows: true });
    const fp = await queryAll(conn, hashed.fingerprint!);
    const again = await queryAll(conn, `SELECT count(*) AS n, sum(hash(id, country, v, ts)::HUGEINT) AS h FROM (${hashed.replaced})`);
    expect(fp.rows[0]).toEqual(again.rows[0]);
    expect(Number(fp.rows[0].n)).toBe(55);

    // pyiceberg applies the same deletes.
    const py = pyiceberg(catalogFile(wh), TABLE, `${TABLE}@${s3.id}`, `${TABLE}@${s2.id}`);
    expect(normal(py.reads[0].rows)).toEqual(normal(await expected(want4)));
    expect(normal(py.reads[1].rows)).toEqual(normal(await expected(want3)));
    expect(normal(py.reads[2].rows)).toEqual(normal(await expected(`SELECT * FROM (${rows(0, 300)}) WHERE id >= 20 UNION ALL ${rows(0, 20, 1)}`)));

    // Expiry keeps what s4 needs and deletes the FR delete files (only s2 and s3 named them).
    await wh.expire(TABLE, [s4]);
    expect(frDeletes.some(existsSync)).toBe(false);
    expect([...live4].every(existsSync)).toBe(true);
    expect(normal(await asgardRows(wh, s4, SCHEMA))).toEqual(normal(await expected(want4)));
  }, 600_000);
});
