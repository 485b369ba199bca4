// Iceberg v2 tables written by asgard (src/warehouse/iceberg/), read back by asgard and by pyiceberg
// through the same SQL catalog: identical rows, field ids that survive schema changes, identity
// partitions pyiceberg prunes on, snapshot expiry that deletes exactly the unreferenced files, and
// a catalog commit that only one of several concurrent writers wins.

import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DuckDBConnection } from '@duckdb/node-api';
import pg from 'pg';
import { openDuck, queryAll } from '../../src/engine/duckdb.js';
import { LocalTableStore } from '../../src/warehouse/iceberg/table-store.js';
import { CommitConflict, PostgresCatalog, SqliteCatalog, type IcebergCatalog } from '../../src/warehouse/iceberg/catalog.js';
import { IcebergTables, writtenPartitionValue, type CommittedSnapshot } from '../../src/warehouse/iceberg/table.js';
import type { DuckColumn } from '../../src/warehouse/iceberg/schema.js';
import { readAvro, type ManifestEntry, type ManifestFile } from '../../src/warehouse/iceberg/avro.js';
import { Warehouse } from '../../src/warehouse/warehouse.js';
import { jsonFormSelect, pyiceberg } from '../helpers/pyiceberg.js';
import { services } from '../helpers/services.js';

const ROOT = resolve(import.meta.dirname, '..', '..');

let conn: DuckDBConnection;
const dirs: string[] = [];
beforeAll(async () => {
  conn = await openDuck();
});
afterAll(() => {
  conn.closeSync();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function lake(name = 'asgard-iceberg-'): { root: string; tables: IcebergTables; catalog: SqliteCatalog } {
  const root = mkdtempSync(join(tmpdir(), name));
  dirs.push(root);
  const catalog = new SqliteCatalog(join(root, 'catalog.db'));
  return { root, tables: new IcebergTables(new LocalTableStore(join(root, 'warehouse')), catalog), catalog };
}

async function columnsOf(sql: string): Promise<DuckColumn[]> {
  const d = await queryAll(conn, `DESCRIBE ${sql}`);
  return d.rows.map((r) => ({ name: String(r.column_name), type: String(r.column_type) }));
}

/** Write `sql`'s rows as a new snapshot of `table` (append onto `base` when given). */
async function write(
  tables: IcebergTables,
  table: string,
  sql: string,
  opts: { partitionBy?: string[]; base?: CommittedSnapshot; remove?: string[] } = {},
): Promise<CommittedSnapshot> {
  const [namespace, name] = table.split('.');
  const p = await tables.prepare({ namespace, name }, `${namespace}/${name}`, await columnsOf(sql), opts.partitionBy ?? []);
  await conn.run(`COPY (SELECT ${p.selectList} FROM (${sql})) TO '${tables.fileTarget(p)}' (${p.copyOptions})`);
  return tables.commit(p, conn, { base: opts.base?.manifestList, remove: opts.remove });
}

/** asgard's own read of a snapshot: its data files through DuckDB, values in pyiceberg's JSON forms. */
async function asgardRows(tables: IcebergTables, s: CommittedSnapshot, columns: readonly DuckColumn[]): Promise<Record<string, unknown>[]> {
  const files = await tables.dataFiles(s.manifestList);
  if (!files.length) return [];
  const list = files.map((f) => `'${f}'`).join(', ');
  const r = await queryAll(conn, `SELECT ${jsonFormSelect(columns)} FROM read_parquet([${list}], union_by_name = true)`);
  return [...r.rows];
}

/** Rows of data files through DuckDB, values in pyiceberg's JSON forms. */
async function rowsOf(files: readonly string[], columns: readonly DuckColumn[]): Promise<Record<string, unknown>[]> {
  const r = await queryAll(conn, `SELECT ${jsonFormSelect(columns)} FROM read_parquet([${files.map((f) => `'${f}'`).join(', ')}], union_by_name = true)`);
  return [...r.rows];
}

const byId = (a: Record<string, unknown>, b: Record<string, unknown>) => Number(a.id) - Number(b.id);

const ROWS = (from: number, to: number, extra = '') => `
  SELECT i AS id, ['DE', 'FR', 'US'][1 + i % 3] AS country, DATE '2024-01-01' + CAST(i AS INTEGER) AS d,
         TIMESTAMP '2024-01-01 00:00:00' + INTERVAL (i) HOUR AS ts,
         CAST(TIMESTAMP '2024-01-01 00:00:00' + INTERVAL (i) MINUTE AS TIMESTAMPTZ) AS tstz,
         CAST(i % 100 AS SMALLINT) AS small, CAST(i / 8 AS DECIMAL(10, 2)) AS amount, i % 2 = 0 AS even, i / 4 AS ratio${extra}
  FROM range(${from}, ${to}) r(i)`;

describe('iceberg tables', () => {
  it('a partitioned table pyiceberg reads row for row, with field ids kept across an added column', async () => {
    const { root, tables } = lake();
    const s1 = await write(tables, 'silver.events', ROWS(0, 300), { partitionBy: ['country'] });
    const s2 = await write(tables, 'silver.events', ROWS(300, 330, `, 'v' || i AS note`), { partitionBy: ['country'], base: s1 });
    expect(s1.rows).toBe(300);
    expect(s2.rows).toBe(330);

    const py = pyiceberg(join(root, 'catalog.db'), 'silver.events', `silver.events@${s1.snapshotId}`, "silver.events?country == 'FR'");
    expect(py.tables).toEqual(['silver.events']);
    const [cur, old, fr] = py.reads;
    // Old columns keep ids 1..9; the added column takes the next one.
    expect(cur.schema.map((f) => `${f.id}:${f.name}:${f.type}`)).toEqual([
      '1:id:long',
      '2:country:string',
      '3:d:date',
      '4:ts:timestamp',
      '5:tstz:timestamptz',
      '6:small:int',
      '7:amount:decimal(10, 2)',
      '8:even:boolean',
      '9:ratio:double',
      '10:note:string',
    ]);
    expect(cur.spec).toEqual([{ name: 'country', source: 2, transform: 'identity' }]);
    expect(cur.snapshots).toEqual([s1.snapshotId, s2.snapshotId]);
    expect(cur.current).toBe(s2.snapshotId);

    const cols = await columnsOf(ROWS(0, 1, `, 'v' AS note`));
    const mine = (await asgardRows(tables, s2, cols)).sort(byId);
    const theirs = [...cur.rows].sort(byId);
    expect(theirs).toHaveLength(330);
    expect(theirs).toEqual(mine);
    expect(theirs.filter((r) => r.note === null)).toHaveLength(300);
    // The first snapshot is still readable as it was (time travel), without the later column.
    expect(old.rows).toHaveLength(300);
    expect(old.rows.every((r) => !('note' in r) || r.note === null)).toBe(true);
    // pyiceberg prunes on the identity partition and reads the right rows.
    expect(fr.rows.map((r) => r.id).sort((a, b) => Number(a) - Number(b))).toEqual(mine.filter((r) => r.country === 'FR').map((r) => r.id));
  });

  it('Parquet 2: ids and timestamps delta-encoded, a table of ascending keys under half the bytes of Parquet 1; a string or double column out of its dictionary (which Spark cannot read so) is written again as Parquet 1, and so is the table from then on; pyiceberg reads both', async () => {
    const root = mkdtempSync(join(tmpdir(), 'asgard-parquet2-'));
    dirs.push(root);
    const wh = new Warehouse(join(root, 'wh'));
    const encodings = async (files: readonly string[]) =>
      (
        await queryAll(
          conn,
          `SELECT path_in_schema AS col, string_agg(DISTINCT encodings, ',' ORDER BY encodings) AS e FROM parquet_metadata([${files.map((f) => `'${f}'`).join(', ')}]) GROUP BY 1 ORDER BY 1`,
        )
      ).rows.map((r) => `${String(r.col)}:${String(r.e)}`);
    const put = async (table: string, sql: string, partitionBy: string[] = []) => {
      const p = await wh.begin(table, await columnsOf(sql), partitionBy);
      await wh.write(conn, p, sql);
      return wh.commit(p, conn);
    };
    // Ascending ids and timestamps, strings of a few values (a dictionary each).
    const keys = `SELECT i AS id, 1000000 + 3 * i AS order_id, TIMESTAMP '2024-01-01' + INTERVAL (i) SECOND AS ts, ['new', 'paid', 'sent'][1 + i % 3] AS status, ['DE', 'FR'][1 + i % 2] AS country FROM range(0, 50000) r(i)`;
    const k = await put('silver.keys', keys, ['country']);
    const kFiles = await wh.files(k);
    expect(await encodings(kFiles)).toEqual([
      'country:RLE_DICTIONARY',
      'id:DELTA_BINARY_PACKED',
      'order_id:DELTA_BINARY_PACKED',
      'status:RLE_DICTIONARY',
      'ts:DELTA_BINARY_PACKED',
    ]);
    const plain = join(root, 'plain.parquet');
    await conn.run(`COPY (${keys}) TO '${plain}' (FORMAT parquet)`);
    expect(kFiles.reduce((n, f) => n + statSync(f).size, 0)).toBeLessThan(statSync(plain).size / 2);
    // Every value distinct: the strings and doubles leave their dictionaries.
    const wide = (from: number) => `SELECT i AS id, 'user' || i || '@example.com' AS email, i / 7.0 AS ratio FROM range(${from}, ${from} + 30000) r(i)`;
    const w1 = await put('silver.wide', wide(0));
    const w1Files = await wh.files(w1);
    expect((await encodings(w1Files)).join(' ')).not.toMatch(/DELTA_LENGTH_BYTE_ARRAY|DELTA_BYTE_ARRAY|BYTE_STREAM_SPLIT/);
    // The next write is Parquet 1 from the start (no delta encoding at all).
    const w2 = await put('silver.wide', wide(30000));
    const w2Files = await wh.files(w2);
    expect(await encodings(w2Files)).toEqual(['email:PLAIN', 'id:PLAIN', 'ratio:PLAIN']);
    const py = pyiceberg(join(root, 'wh', 'catalog.db'), 'silver.keys', `silver.wide@${w1.id}`, 'silver.wide');
    const [pk, pw1, pw2] = py.reads;
    expect([...pk.rows].sort(byId)).toEqual((await rowsOf(kFiles, await columnsOf(keys))).sort(byId));
    expect([...pw1.rows].sort(byId)).toEqual((await rowsOf(w1Files, await columnsOf(wide(0)))).sort(byId));
    expect(pw1.rows).toHaveLength(30000);
    // The second write replaced the first (an overwrite).
    expect([...pw2.rows].sort(byId)).toEqual((await rowsOf(w2Files, await columnsOf(wide(30000)))).sort(byId));
    expect(pw2.rows).toHaveLength(30000);
    expect(Number(pw1.rows.find((r) => Number(r.id) === 29999)?.ratio)).toBeCloseTo(29999 / 7, 6);
  });

  it('a merge drops only the files it rewrites: the others stay, and pyiceberg reads the merged rows', async () => {
    const { root, tables } = lake();
    const s1 = await write(tables, 'silver.events', ROWS(0, 300), { partitionBy: ['country'] });
    const s2 = await write(tables, 'silver.events', ROWS(300, 330), { partitionBy: ['country'], base: s1 });
    const files2 = await tables.dataFiles(s2.manifestList);
    expect(files2).toHaveLength(6);
    // Rewrite the FR files of s1: its rows less ids 1..10 (every third id is FR: 1, 4, 7, 10), plus new versions of them.
    const s1Files = await tables.dataFiles(s1.manifestList);
    const hit = s1Files.filter((f) => f.includes('country=FR'));
    expect(hit).toHaveLength(1);
    const list = hit.map((f) => `'${f}'`).join(', ');
    const merged = `SELECT * REPLACE (CASE WHEN id <= 10 THEN -id ELSE small END AS small) FROM (${ROWS(0, 300)}) WHERE id IN (SELECT id FROM read_parquet([${list}]))`;
    const s3 = await write(tables, 'silver.events', merged, { partitionBy: ['country'], base: s2, remove: hit });
    const files3 = await tables.dataFiles(s3.manifestList);
    // Five files untouched, one rewritten.
    expect(files3.filter((f) => files2.includes(f))).toHaveLength(5);
    expect(files3).toHaveLength(6);
    expect(s3.rows).toBe(330);

    const py = pyiceberg(join(root, 'catalog.db'), 'silver.events', `silver.events@${s2.snapshotId}`);
    const [cur, old] = py.reads;
    const cols = await columnsOf(ROWS(0, 1));
    const mine = (await asgardRows(tables, s3, cols)).sort(byId);
    expect([...cur.rows].sort(byId)).toEqual(mine);
    expect(mine.filter((r) => Number(r.small) < 0).map((r) => Number(r.id))).toEqual([1, 4, 7, 10]);
    expect(old.rows).toHaveLength(330);
    // Files to drop must be the base's.
    await expect(write(tables, 'silver.events', ROWS(0, 1), { base: s3, remove: ['/nowhere.parquet'] })).rejects.toThrow(/not in the base snapshot/);
    // pyiceberg's start took 103-129 s at load 40-44.
  }, 300_000);

  it("a commit takes each file's rows, size and partition values from what DuckDB reported writing it, equal to what reading the files gives", async () => {
    const { tables } = lake();
    // Every partition type, NULL, and strings a hive folder name escapes.
    const sql = `SELECT *, CASE WHEN id % 7 = 0 THEN NULL WHEN id % 7 = 1 THEN 'a/b c=d%' ELSE country END AS label FROM (${ROWS(0, 60)})`;
    const partitionBy = ['id', 'label', 'd', 'ts', 'small', 'even'];
    const columns = await columnsOf(sql);
    const entriesOf = async (s: CommittedSnapshot) => {
      const manifests = await readAvro<ManifestFile>(readFileSync(fileURLToPath(s.manifestList)));
      const entries = (await Promise.all(manifests.map(async (m) => readAvro<ManifestEntry>(readFileSync(fileURLToPath(m.manifest_path)))))).flat();
      return entries
        .map((e) => ({
          rows: e.data_file.record_count,
          size: e.data_file.file_size_in_bytes,
          onDisk: BigInt(statSync(e.data_file.file_path.replace(/^file:\/\//, '')).size),
          partition: e.data_file.partition,
        }))
        .sort((a, b) => (String(a.partition.id) < String(b.partition.id) ? -1 : 1));
    };
    // Read back from the files (a COPY without RETURN_STATS records nothing).
    const a = await tables.prepare({ namespace: 'silver', name: 'read' }, 'silver/read', columns, partitionBy);
    await conn.run(`COPY (SELECT ${a.selectList} FROM (${sql})) TO '${tables.fileTarget(a)}' (${a.copyOptions})`);
    expect(a.written.size).toBe(0);
    const read = await entriesOf(await tables.commit(a, conn));
    // Taken from the COPY's report.
    const b = await tables.prepare({ namespace: 'silver', name: 'reported' }, 'silver/reported', columns, partitionBy);
    const r = await conn.runAndReadAll(`COPY (SELECT ${b.selectList} FROM (${sql})) TO '${tables.fileTarget(b)}' (${b.copyOptions}, RETURN_STATS true)`);
    expect(tables.recordWritten(b, r.getRowObjectsJson() as Record<string, unknown>[])).toBe(60);
    expect(b.written.size).toBe(60);
    // Every value is known from the report: the commit reads no file.
    const types = { id: 'long', label: 'string', d: 'date', ts: 'timestamp', small: 'int', even: 'boolean' } as const;
    const unknown = [...b.written.values()].flatMap((w) =>
      Object.entries(types)
        .filter(([name, type]) => writtenPartitionValue({ name, fieldId: 0, type }, w) === undefined)
        .map(([name]) => [name, w.partition.get(name), w.columns.get(name)]),
    );
    expect(unknown).toEqual([]);
    const reported = await entriesOf(await tables.commit(b, conn));
    expect(reported).toHaveLength(60);
    expect(reported.every((e) => e.size === e.onDisk)).toBe(true);
    expect(reported).toEqual(read);
    expect(reported.filter((e) => e.partition.label === null)).toHaveLength(9);
    expect(reported.filter((e) => e.partition.label === 'a/b c=d%')).toHaveLength(9);
  });

  it('partition values a hive folder escapes (`/`, space, `=`, `%`): asgard reads and expires the table, pyiceberg reads it', async () => {
    const { root, tables } = lake();
    const table = { namespace: 'silver', name: 'labels' };
    const sql = (n: number) => `SELECT i AS id, ['a/b', 'c d=e%', 'plain', '%2F'][1 + i % 4] AS label FROM range(0, ${n}) r(i)`;
    const s1 = await write(tables, 'silver.labels', sql(40), { partitionBy: ['label'] });
    const s2 = await write(tables, 'silver.labels', sql(48), { partitionBy: ['label'] });
    const cols = await columnsOf(sql(1));
    const mine = (await asgardRows(tables, s2, cols)).sort(byId);
    expect(mine).toHaveLength(48);
    expect(mine.filter((r) => r.label === 'a/b')).toHaveLength(12);
    const old = await tables.dataFiles(s1.manifestList);
    await tables.expire(table, 'silver/labels', new Set([s2.snapshotId]));
    expect(old.some(existsSync)).toBe(false);
    expect((await tables.dataFiles(s2.manifestList)).every(existsSync)).toBe(true);

    const py = pyiceberg(join(root, 'catalog.db'), 'silver.labels', "silver.labels?label == 'a/b'");
    expect([...py.reads[0].rows].sort(byId)).toEqual(mine);
    expect(py.reads[1].rows.map((r) => r.id).sort((a, b) => Number(a) - Number(b))).toEqual(mine.filter((r) => r.label === 'a/b').map((r) => r.id));
  });

  it('a warehouse in a folder whose name a URL escapes (space, `%`): pyiceberg reads its tables, asgard reads and expires them', async () => {
    const { root, tables } = lake('asgard iceberg %20 ');
    const table = { namespace: 'gold', name: 'spaced' };
    const s1 = await write(tables, 'gold.spaced', ROWS(0, 20));
    const s2 = await write(tables, 'gold.spaced', ROWS(0, 30));
    const old = await tables.dataFiles(s1.manifestList);
    await tables.expire(table, 'gold/spaced', new Set([s2.snapshotId]));
    expect(old.some(existsSync)).toBe(false);
    expect(await asgardRows(tables, s2, await columnsOf(ROWS(0, 1)))).toHaveLength(30);
    const py = pyiceberg(join(root, 'catalog.db'), 'gold.spaced');
    expect(py.reads[0].rows).toHaveLength(30);
    // A location recorded under the percent-encoded root (as before) still names its key.
    const store = new LocalTableStore(join(root, 'warehouse'));
    expect(store.uri('gold/spaced/x.parquet')).toBe(`file://${root}/warehouse/gold/spaced/x.parquet`);
    expect(store.keyOf(`${pathToFileURL(join(root, 'warehouse')).href}/gold/spaced/x.parquet`)).toBe('gold/spaced/x.parquet');
  });

  it('an overwrite replaces the files; expiry deletes exactly what no kept snapshot references', async () => {
    const { root, tables } = lake();
    const table = { namespace: 'gold', name: 'totals' };
    const s1 = await write(tables, 'gold.totals', ROWS(0, 50));
    const s2 = await write(tables, 'gold.totals', ROWS(0, 60));
    const s3 = await write(tables, 'gold.totals', ROWS(0, 70));
    const files1 = await tables.dataFiles(s1.manifestList);
    const files2 = await tables.dataFiles(s2.manifestList);
    const files3 = await tables.dataFiles(s3.manifestList);
    expect(files1.every(existsSync)).toBe(true);
    // A crash leftover: a data file no snapshot references.
    const stray = join(root, 'warehouse/gold/totals/data/crashed/part-0.parquet');
    mkdirSync(join(stray, '..'), { recursive: true });
    writeFileSync(stray, 'x');

    await tables.expire(table, 'gold/totals', new Set([s2.snapshotId]));
    expect(files1.some(existsSync)).toBe(false);
    expect(existsSync(stray)).toBe(false);
    expect([...files2, ...files3].every(existsSync)).toBe(true);
    const meta = (await tables.current(table))!.metadata;
    expect(meta.snapshots!.map((s) => s['snapshot-id'])).toEqual([s2.snapshotId, s3.snapshotId]);
    expect(meta.snapshots!.find((s) => s['snapshot-id'] === s3.snapshotId)!.summary.operation).toBe('overwrite');

    const py = pyiceberg(join(root, 'catalog.db'), 'gold.totals', `gold.totals@${s2.snapshotId}`);
    expect(py.reads[0].snapshots).toEqual([s2.snapshotId, s3.snapshotId]);
    expect(py.reads[0].rows).toHaveLength(70);
    expect(py.reads[1].rows).toHaveLength(60);
  });

  it('a rollback makes the previous snapshot current again and deletes the undone one', async () => {
    const { root, tables, catalog } = lake();
    const table = { namespace: 'bronze', name: 'r' };
    const s1 = await write(tables, 'bronze.r', ROWS(0, 40));
    const s2 = await write(tables, 'bronze.r', ROWS(0, 5));
    const undone = await tables.dataFiles(s2.manifestList);
    await tables.expire(table, 'bronze/r', new Set([s1.snapshotId]), new Date(), { makeCurrent: s1.snapshotId });
    const meta = (await tables.current(table))!.metadata;
    expect(meta['current-snapshot-id']).toBe(s1.snapshotId);
    expect(meta.snapshots!.map((s) => s['snapshot-id'])).toEqual([s1.snapshotId]);
    expect(undone.some(existsSync)).toBe(false);
    expect(await catalog.load(table)).not.toBe(s2.metadataLocation);
    const py = pyiceberg(join(root, 'catalog.db'), 'bronze.r');
    expect(py.reads[0].current).toBe(s1.snapshotId);
    expect(py.reads[0].rows).toHaveLength(40);
  });

  it('two writers from the same base: the first commit wins, the second is refused and leaves nothing', async () => {
    const { root, tables, catalog } = lake();
    const table = { namespace: 'silver', name: 't' };
    await write(tables, 'silver.t', ROWS(0, 10));
    const other = new IcebergTables(new LocalTableStore(join(root, 'warehouse')), new SqliteCatalog(join(root, 'catalog.db')));
    const cols = await columnsOf(ROWS(0, 1));
    const a = await tables.prepare(table, 'silver/t', cols, []);
    const b = await other.prepare(table, 'silver/t', cols, []);
    await conn.run(`COPY (SELECT ${a.selectList} FROM (${ROWS(0, 20)})) TO '${tables.fileTarget(a)}' (${a.copyOptions})`);
    await conn.run(`COPY (SELECT ${b.selectList} FROM (${ROWS(0, 30)})) TO '${other.fileTarget(b)}' (${b.copyOptions})`);
    const won = await tables.commit(a, conn);
    const lost = await other.commit(b, conn).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(lost).toBeInstanceOf(CommitConflict);
    expect((lost as Error).message).toContain('silver.t');
    expect(await catalog.load(table)).toBe(won.metadataLocation);
    expect(existsSync(b.dir)).toBe(false);
    const py = pyiceberg(join(root, 'catalog.db'), 'silver.t');
    expect(py.reads[0].rows).toHaveLength(20);
  });

  it('sqlite catalog: of six processes swapping the same metadata location at once, exactly one wins', async () => {
    const { root, catalog } = lake();
    const file = join(root, 'catalog.db');
    const table = { namespace: 'silver', name: 'race' };
    await catalog.create(table, 'file:///m/v0.metadata.json');
    await catalog.close();
    const script = `
      import { SqliteCatalog } from ${JSON.stringify(join(ROOT, 'src/warehouse/iceberg/catalog.ts'))};
      const c = new SqliteCatalog(${JSON.stringify(file)});
      const t = { namespace: 'silver', name: 'race' };
      await c.load(t);
      process.stdout.write('ready\\n');
      process.stdin.once('data', async () => {
        try { await c.commit(t, 'file:///m/v0.metadata.json', 'file:///m/' + process.argv[2] + '.metadata.json'); process.stdout.write('won\\n'); }
        catch (e) { process.stdout.write((e?.constructor?.name ?? 'error') + '\\n'); }
        process.exit(0);
      });`;
    const scriptFile = join(root, 'race.mts');
    writeFileSync(scriptFile, script);
    const outcomes = await race(6, (i) => spawn(process.execPath, ['--import', 'tsx', scriptFile, `w${i}`], { cwd: ROOT, stdio: ['pipe', 'pipe', 'inherit'] }));
    expect(outcomes.filter((o) => o === 'won')).toHaveLength(1);
    expect(outcomes.filter((o) => o === 'CommitConflict')).toHaveLength(5);
    const winner = outcomes.indexOf('won');
    expect(await new SqliteCatalog(file).load(table)).toBe(`file:///m/w${winner}.metadata.json`);
  });

  it('postgres catalog: of six concurrent swaps from the same location, exactly one wins', async () => {
    const env = services();
    const db = `iceberg_cat_${Math.random().toString(16).slice(2, 10)}`;
    const base = new URL(env.CUSTOMER_DB_URL);
    const cfg = { host: base.hostname, port: Number(base.port), user: decodeURIComponent(base.username), password: env.CUSTOMER_DB_PASSWORD };
    const admin = new pg.Client({ ...cfg, database: 'postgres' });
    await admin.connect();
    await admin.query(`CREATE DATABASE "${db}"`);
    const catalogs: IcebergCatalog[] = [];
    try {
      const table = { namespace: 'gold', name: 'race' };
      const first = new PostgresCatalog({ ...cfg, database: db });
      catalogs.push(first);
      await first.create(table, 's3://b/m/v0.metadata.json');
      await expect(first.create(table, 's3://b/m/other.metadata.json')).rejects.toBeInstanceOf(CommitConflict);
      for (let i = 0; i < 6; i++) catalogs.push(new PostgresCatalog({ ...cfg, database: db }));
      const writers = catalogs.slice(1);
      await Promise.all(writers.map((c) => c.load(table)));
      const results = await Promise.allSettled(writers.map((c, i) => c.commit(table, 's3://b/m/v0.metadata.json', `s3://b/m/w${i}.metadata.json`)));
      const won = results.flatMap((r, i) => (r.status === 'fulfilled' ? [i] : []));
      expect(won).toHaveLength(1);
      expect(results.filter((r) => r.status === 'rejected' && r.reason instanceof CommitConflict)).toHaveLength(5);
      expect(await first.load(table)).toBe(`s3://b/m/w${won[0]}.metadata.json`);
      const check = new pg.Client({ ...cfg, database: db });
      await check.connect();
      const rows = (
        await check.query('SELECT catalog_name, table_namespace, table_name, previous_metadata_location FROM iceberg_tables').finally(() => check.end())
      ).rows;
      expect(rows).toEqual([{ catalog_name: 'iceberg', table_namespace: 'gold', table_name: 'race', previous_metadata_location: 's3://b/m/v0.metadata.json' }]);
    } finally {
      for (const c of catalogs) await c.close();
      await admin.query(`DROP DATABASE IF EXISTS "${db}" WITH (FORCE)`);
      await admin.end();
    }
  });
});

/** Start `n` processes, wait until each is ready, release them together, collect their last line. */
async function race(n: number, start: (i: number) => ReturnType<typeof spawn>): Promise<string[]> {
  const procs = Array.from({ length: n }, (_, i) => start(i));
  const outputs = procs.map(() => '');
  const ready = procs.map(
    (p, i) =>
      new Promise<void>((res) =>
        p.stdout!.on('data', (d: Buffer) => {
          outputs[i] += d.toString();
          if (outputs[i].includes('ready')) res();
        }),
      ),
  );
  await Promise.all(ready);
  const ends = procs.map((p) => new Promise<void>((res) => p.on('exit', () => res())));
  for (const p of procs) p.stdin!.write('go\n');
  await Promise.all(ends);
  return outputs.map((o) => o.trim().split('\n').pop()!);
}
