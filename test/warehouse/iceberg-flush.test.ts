// A local table store syncs nothing as it writes (src/warehouse/iceberg/table-store.ts): a commit's
// durability rests on `flush` naming every object the new metadata references — data files, the
// manifests, the manifest list and the metadata JSON — before the catalog names that metadata.

import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { DuckDBConnection } from '@duckdb/node-api';
import { openDuck, queryAll } from '../../src/engine/duckdb.js';
import { LocalTableStore } from '../../src/warehouse/iceberg/table-store.js';
import { SqliteCatalog, type TableIdent } from '../../src/warehouse/iceberg/catalog.js';
import { IcebergTables, type CommittedSnapshot } from '../../src/warehouse/iceberg/table.js';
import { readAvro, type ManifestFile } from '../../src/warehouse/iceberg/avro.js';

let conn: DuckDBConnection;
const dirs: string[] = [];
beforeAll(async () => {
  conn = await openDuck();
});
afterAll(() => {
  conn.closeSync();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** Records every object flushed so far. */
class RecordingStore extends LocalTableStore {
  readonly flushed = new Set<string>();
  override async flush(keys: readonly string[]): Promise<void> {
    await super.flush(keys);
    for (const k of keys) this.flushed.add(k);
  }
}

/** Records, at each swap of a table's metadata location, the objects flushed by then. */
class RecordingCatalog extends SqliteCatalog {
  readonly swaps: { location: string; flushed: Set<string> }[] = [];
  constructor(
    file: string,
    private readonly store: RecordingStore,
  ) {
    super(file);
  }
  override async create(t: TableIdent, location: string): Promise<void> {
    this.swaps.push({ location, flushed: new Set(this.store.flushed) });
    await super.create(t, location);
  }
  override async commit(t: TableIdent, expected: string, next: string): Promise<void> {
    this.swaps.push({ location: next, flushed: new Set(this.store.flushed) });
    await super.commit(t, expected, next);
  }
}

it('a commit flushes every object its metadata references before the catalog names it', async () => {
  const root = mkdtempSync(join(tmpdir(), 'asgard-iceberg-flush-'));
  dirs.push(root);
  const store = new RecordingStore(join(root, 'warehouse'));
  const catalog = new RecordingCatalog(join(root, 'catalog.db'), store);
  const tables = new IcebergTables(store, catalog);
  const sql = (from: number, to: number) => `SELECT i AS id, ['DE', 'FR', 'US'][1 + i % 3] AS country FROM range(${from}, ${to}) r(i)`;
  const write = async (from: number, to: number, base?: CommittedSnapshot): Promise<CommittedSnapshot> => {
    const cols = (await queryAll(conn, `DESCRIBE ${sql(from, to)}`)).rows.map((r) => ({ name: String(r.column_name), type: String(r.column_type) }));
    const p = await tables.prepare({ namespace: 'silver', name: 'events' }, 'silver/events', cols, ['country']);
    await conn.run(`COPY (SELECT ${p.selectList} FROM (${sql(from, to)})) TO '${tables.fileTarget(p)}' (${p.copyOptions})`);
    return tables.commit(p, conn, { base: base?.manifestList });
  };
  const s1 = await write(0, 30);
  await write(30, 60, s1);
  expect(catalog.swaps).toHaveLength(2);
  for (const [i, { location, flushed }] of catalog.swaps.entries()) {
    // The current snapshot is the last one; its id is too large for JSON.parse to keep exactly.
    const m = JSON.parse(readFileSync(fileURLToPath(location), 'utf8'));
    const list = m.snapshots.at(-1)['manifest-list'];
    const manifests = await readAvro<ManifestFile>(readFileSync(fileURLToPath(list)));
    const entries = (
      await Promise.all(manifests.map((mf) => readAvro<{ data_file: { file_path: string } }>(readFileSync(fileURLToPath(mf.manifest_path)))))
    ).flat();
    expect(entries).toHaveLength(3 * (i + 1));
    const keys = [location, list, ...manifests.map((mf) => mf.manifest_path), ...entries.map((e) => e.data_file.file_path)].map((u) => store.keyOf(u));
    expect(keys.filter((k) => !k || !flushed.has(k))).toEqual([]);
  }
});
