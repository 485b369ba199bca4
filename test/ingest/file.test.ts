// The file connector: CSV, Parquet and NDJSON on disk into bronze, declared types checked,
// incremental by cursor, a missing file named.

import { describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync, appendFileSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDuck, queryAll } from '../../src/engine/duckdb.js';
import { SourceHarness, lit, sourceNode } from '../helpers/services.js';
import { dataFilesOnDisk } from '../helpers/warehouse.js';

const dir = mkdtempSync(join(tmpdir(), 'asgard-file-src-'));

async function rows(h: SourceHarness, id: string, sql: string): Promise<Record<string, unknown>[]> {
  const c = await openDuck();
  try {
    await c.run(`CREATE VIEW t AS SELECT * FROM (${await h.warehouse.snapshotSelect(h.state().nodes[id]!.snapshot!)})`);
    return [...(await queryAll(c, sql)).rows];
  } finally {
    c.closeSync();
  }
}

/** A CSV stream `id, amount, at`, incremental by the cursor `at`, merged on `id`. */
const cursorCsv = (name: string, csv: string) =>
  sourceNode(
    name,
    { type: 'file', settings: { path: lit(csv) } },
    {
      primaryKey: ['id'],
      cursor: 'at',
      mode: 'incremental',
      columns: [
        { name: 'id', type: 'BIGINT' },
        { name: 'amount', type: 'DOUBLE' },
        { name: 'at', type: 'TIMESTAMP' },
      ],
    },
  );

describe('file connector', () => {
  it('CSV with declared columns, then incremental by cursor', async () => {
    const csv = join(dir, 'orders.csv');
    writeFileSync(csv, 'id,amount,at\n1,10.50,2025-01-01 10:00:00\n2,0.10,2025-01-02 10:00:00\n');
    const node = cursorCsv('orders', csv);
    const h = new SourceHarness();
    const first = await h.run(node, {});
    expect(first.result.rows).toBe(2);
    expect(first.result.cursor).toBe('2025-01-02 10:00:00.000000');
    appendFileSync(csv, '2,0.20,2025-01-03 10:00:00\n3,7.00,2025-01-03 11:00:00\n');
    const second = await h.run(node, {});
    expect(second.result.rows).toBe(2);
    expect(await rows(h, 'bronze.orders', 'SELECT id, amount FROM t ORDER BY id')).toEqual([
      { id: 1, amount: 10.5 },
      { id: 2, amount: 0.2 },
      { id: 3, amount: 7 },
    ]);
  });

  it("a sync writes Parquet 1 (no delta encodings), its full read and its merge alike, where the engine's tables are Parquet 2", async () => {
    const csv = join(dir, 'p1.csv');
    writeFileSync(
      csv,
      `id,amount,at\n${Array.from({ length: 2000 }, (_, i) => `${i},${i % 10}.25,2025-01-01 10:00:${String(i % 60).padStart(2, '0')}`).join('\n')}\n`,
    );
    const node = cursorCsv('p1', csv);
    const h = new SourceHarness();
    await h.run(node, {});
    appendFileSync(csv, '5,9.75,2025-01-02 10:00:00\n');
    await h.run(node, {});
    const files = await dataFilesOnDisk(h.warehouse, 'bronze.p1');
    expect(files.length).toBeGreaterThan(1);
    const c = await openDuck();
    try {
      const e = await queryAll(c, `SELECT DISTINCT encodings FROM parquet_metadata([${files.map((f) => `'${f}'`).join(', ')}]) ORDER BY 1`);
      expect(e.rows.map((r) => String(r.encodings)).filter((x) => /DELTA|BYTE_STREAM_SPLIT/.test(x))).toEqual([]);
    } finally {
      c.closeSync();
    }
  });

  it('an incremental sync merges only the rows that changed: the files of rows re-read unchanged at the cursor stay', async () => {
    const csv = join(dir, 'ties.csv');
    writeFileSync(csv, 'id,amount,at\n1,10.50,2025-01-01 10:00:00\n2,0.10,2025-01-02 10:00:00\n');
    const node = cursorCsv('ties', csv);
    const h = new SourceHarness();
    const first = await h.run(node, {});
    const paths = async (s: typeof first.result.snapshot) => (await h.warehouse.scan(s!)).map((f) => f.path).sort();
    const before = await paths(first.result.snapshot);
    // The next sync reads at >= the last cursor: row 2 again (unchanged) and the new row 3.
    appendFileSync(csv, '3,7.00,2025-01-03 11:00:00\n');
    const second = await h.run(node, {});
    expect(second.result.rows).toBe(1);
    const after = await paths(second.result.snapshot);
    // An append: every file of the previous snapshot is kept as it is, one file of the new row added.
    expect(after.filter((p) => before.includes(p))).toEqual(before);
    expect(after).toHaveLength(before.length + 1);
    expect(await rows(h, 'bronze.ties', 'SELECT id, amount FROM t ORDER BY id')).toEqual([
      { id: 1, amount: 10.5 },
      { id: 2, amount: 0.1 },
      { id: 3, amount: 7 },
    ]);
    // A changed row re-read at the cursor with a new one: its file is rewritten, the row replaced.
    appendFileSync(csv, '3,7.50,2025-01-03 11:00:00\n4,1.00,2025-01-04 09:00:00\n');
    const third = await h.run(node, {});
    expect(third.result.rows).toBe(2);
    expect(await rows(h, 'bronze.ties', 'SELECT id, amount FROM t ORDER BY id')).toEqual([
      { id: 1, amount: 10.5 },
      { id: 2, amount: 0.1 },
      { id: 3, amount: 7.5 },
      { id: 4, amount: 1 },
    ]);
    expect((await paths(third.result.snapshot)).filter((p) => before.includes(p))).toEqual(before);
  });

  it('unchanged files are not read again: same size and mtime keep the snapshot; a touch is checked by content hash; a real change is read', async () => {
    const folder = mkdtempSync(join(dir, 'glob-'));
    const a = join(folder, 'a.csv');
    const b = join(folder, 'b.csv');
    writeFileSync(a, 'id,amount\n1,10.5\n');
    writeFileSync(b, 'id,amount\n2,20.5\n');
    const when = new Date('2025-06-01T12:00:00Z');
    utimesSync(b, when, when);
    const node = sourceNode(
      'parts',
      { type: 'file', settings: { path: lit(join(folder, '*.csv')) } },
      {
        primaryKey: ['id'],
        columns: [
          { name: 'id', type: 'BIGINT' },
          { name: 'amount', type: 'DOUBLE' },
        ],
      },
    );
    const h = new SourceHarness();
    const first = await h.run(node, {});
    expect(first.result.rows).toBe(2);
    expect(first.result.files?.files.map((f) => f.path)).toEqual([a, b]);
    const snap = h.state().nodes['bronze.parts']!.snapshot!;
    // Same size, same mtime: not read at all — even bytes rewritten behind asgard's back (mtime put
    // back) stay unseen, which is what proves nothing was read.
    writeFileSync(b, 'id,amount\n2,99.5\n');
    utimesSync(b, when, when);
    const second = await h.run(node, {});
    expect(second.result.snapshot).toEqual(snap);
    expect(await rows(h, 'bronze.parts', 'SELECT amount FROM t WHERE id = 2')).toEqual([{ amount: 20.5 }]);
    // b's bytes did change: once its mtime moves it is hashed, the change is seen and the files are read.
    utimesSync(b, new Date(), new Date(Date.now() + 5000));
    const third = await h.run(node, {});
    expect(third.result.snapshot?.id).not.toBe(snap.id);
    expect(await rows(h, 'bronze.parts', 'SELECT amount FROM t WHERE id = 2')).toEqual([{ amount: 99.5 }]);
    // A touch of an unchanged file: hashed, equal, the snapshot stays.
    const snap3 = h.state().nodes['bronze.parts']!.snapshot!;
    utimesSync(a, new Date(), new Date(Date.now() + 10_000));
    expect((await h.run(node, {})).result.snapshot).toEqual(snap3);
    // Another declared type: the rows would differ, so the files are read again.
    const retyped = sourceNode(
      'parts',
      { type: 'file', settings: { path: lit(join(folder, '*.csv')) } },
      {
        primaryKey: ['id'],
        columns: [
          { name: 'id', type: 'BIGINT' },
          { name: 'amount', type: 'DECIMAL(10,2)' },
        ],
      },
    );
    const fourth = await h.run(retyped, {});
    expect(fourth.result.schema?.find((c) => c.name === 'amount')?.type).toBe('DECIMAL(10,2)');
  });

  it('Parquet and NDJSON keep their own types; a missing file is named', async () => {
    const pq = join(dir, 'x.parquet');
    const c = await openDuck();
    await c.run(`COPY (SELECT 9007199254740993::BIGINT AS big, 12.34::DECIMAL(10,2) AS money) TO '${pq}' (FORMAT parquet)`);
    c.closeSync();
    const h = new SourceHarness();
    const r = await h.run(sourceNode('x', { type: 'file', settings: { path: lit(pq) } }), {});
    expect(r.result.schema).toEqual([
      { name: 'big', type: 'BIGINT' },
      { name: 'money', type: 'DECIMAL(10,2)' },
    ]);
    expect(await rows(h, 'bronze.x', 'SELECT big::VARCHAR AS big, money::VARCHAR AS money FROM t')).toEqual([{ big: '9007199254740993', money: '12.34' }]);

    // Nothing changed: a second full read keeps the same snapshot (nothing downstream rebuilds).
    const again = await h.run(sourceNode('x', { type: 'file', settings: { path: lit(pq) } }), {});
    expect(again.result.snapshot!.id).toBe(r.result.snapshot!.id);
    // The pending files of the unchanged read were removed: only the kept snapshot's files are on disk.
    expect(await dataFilesOnDisk(h.warehouse, 'bronze.x')).toEqual(await h.warehouse.files(r.result.snapshot!));

    const nd = join(dir, 'events.ndjson');
    writeFileSync(nd, '{"id": 1, "kind": "a"}\n{"id": 2, "kind": null}\n');
    const r2 = await h.run(sourceNode('events', { type: 'file', settings: { path: lit(nd), format: lit('ndjson') } }), {});
    expect(r2.result.rows).toBe(2);

    await expect(h.run(sourceNode('gone', { type: 'file', settings: { path: lit(join(dir, 'gone.csv')) } }), {})).rejects.toThrow(
      /bronze\.gone: file .*gone\.csv: no such file/,
    );
  });
  it('CSV and JSON text is read as the declared types: a UTC offset is applied, a DECIMAL keeps every digit, a zero-led code stays text', async () => {
    // Sniffed first and cast after, an offset was dropped (JSON: `10:00+02:00` became 10:00, not
    // 08:00 UTC) and a DECIMAL went through a DOUBLE (…567.89 became …567.88).
    const csv = join(dir, 'payments.csv');
    writeFileSync(csv, 'id,code,paid_at,amount\n1,0042,2025-05-01T10:00:00+02:00,12345678901234567.89\n2,7,2025-05-01 10:00:00,0.10\n');
    const json = join(dir, 'payments.json');
    writeFileSync(
      json,
      JSON.stringify([
        { id: 1, code: '0042', paid_at: '2025-05-01T10:00:00+02:00', amount: '12345678901234567.89' },
        { id: 2, code: '7', paid_at: '2025-05-01 10:00:00', amount: '0.10' },
      ]),
    );
    const nd = join(dir, 'payments.ndjson');
    writeFileSync(
      nd,
      '{"id":1,"code":"0042","paid_at":"2025-05-01T03:00:00-05:00","amount":"12345678901234567.89"}\n{"id":2,"code":"7","paid_at":"2025-05-01T10:00:00Z","amount":"0.10"}\n',
    );
    // TIMESTAMP_MS and TIMESTAMP_S (coarser than TIMESTAMP) apply the offset too, and so does
    // TIMESTAMP_NS (read as itself: DuckDB's cast applies the offset).
    for (const [name, file, tsType] of [
      ['pay_csv', csv, 'TIMESTAMP'],
      ['pay_json', json, 'TIMESTAMP'],
      ['pay_ndjson', nd, 'TIMESTAMP'],
      ['pay_json_ms', json, 'TIMESTAMP_MS'],
      ['pay_csv_s', csv, 'TIMESTAMP_S'],
      ['pay_csv_ns', csv, 'TIMESTAMP_NS'],
      ['pay_json_ns', json, 'TIMESTAMP_NS'],
      ['pay_ndjson_ns', nd, 'TIMESTAMP_NS'],
    ]) {
      const columns = [
        { name: 'id', type: 'BIGINT' },
        { name: 'code', type: 'VARCHAR' },
        { name: 'paid_at', type: tsType },
        { name: 'amount', type: 'DECIMAL(38,2)' },
      ];
      const h = new SourceHarness();
      const r = await h.run(sourceNode(name, { type: 'file', settings: { path: lit(file) } }, { primaryKey: ['id'], columns }), {});
      expect(r.result.schema, name).toEqual(columns);
      expect(
        await rows(h, `bronze.${name}`, 'SELECT id, code, CAST(paid_at AS VARCHAR) AS paid_at, CAST(amount AS VARCHAR) AS amount FROM t ORDER BY id'),
        name,
      ).toEqual([
        { id: 1, code: '0042', paid_at: '2025-05-01 08:00:00', amount: '12345678901234567.89' },
        { id: 2, code: '7', paid_at: '2025-05-01 10:00:00', amount: '0.10' },
      ]);
    }
  });

  it('a TIMESTAMP_NS read from text applies a UTC offset and is stored to the microsecond, as docs/lakehouse.md says', async () => {
    // Iceberg v2 (the warehouse's format, and Spark's reader) has microsecond timestamps only.
    const nd = join(dir, 'ticks.ndjson');
    writeFileSync(nd, '{"id":1,"seen_at":"2025-05-01T10:00:00.123456789+02:00"}\n{"id":2,"seen_at":"2025-05-01T10:00:00.000000001"}\n');
    const columns = [
      { name: 'id', type: 'BIGINT' },
      { name: 'seen_at', type: 'TIMESTAMP_NS' },
    ];
    const h = new SourceHarness();
    const r = await h.run(sourceNode('ticks', { type: 'file', settings: { path: lit(nd) } }, { primaryKey: ['id'], columns }), {});
    expect(r.result.schema).toEqual(columns);
    expect(await rows(h, 'bronze.ticks', 'SELECT id, CAST(seen_at AS VARCHAR) AS seen_at FROM t ORDER BY id')).toEqual([
      { id: 1, seen_at: '2025-05-01 08:00:00.123456' },
      { id: 2, seen_at: '2025-05-01 10:00:00' },
    ]);
  });

  it('a DATE read from text takes the date as written: a time and a UTC offset after it are ignored, as PostgreSQL does', async () => {
    // docs/language.md: 23:30-05:00 on 1 May is 2 May in UTC, but a DATE column holds the calendar
    // day the text names; the offset is not applied (it would move the day for half the world).
    const csv = join(dir, 'days.csv');
    writeFileSync(csv, 'id,day\n1,2025-05-01T23:30:00-05:00\n2,2025-05-01\n3,2025-05-01T00:30:00+02:00\n');
    const nd = join(dir, 'days.ndjson');
    writeFileSync(nd, '{"id":1,"day":"2025-05-01T23:30:00-05:00"}\n{"id":2,"day":"2025-05-01"}\n{"id":3,"day":"2025-05-01T00:30:00+02:00"}\n');
    for (const [name, file] of [
      ['days_csv', csv],
      ['days_ndjson', nd],
    ]) {
      const columns = [
        { name: 'id', type: 'BIGINT' },
        { name: 'day', type: 'DATE' },
      ];
      const h = new SourceHarness();
      const r = await h.run(sourceNode(name, { type: 'file', settings: { path: lit(file) } }, { primaryKey: ['id'], columns }), {});
      expect(r.result.schema, name).toEqual(columns);
      expect(await rows(h, `bronze.${name}`, 'SELECT id, CAST(day AS VARCHAR) AS day FROM t ORDER BY id'), name).toEqual([
        { id: 1, day: '2025-05-01' },
        { id: 2, day: '2025-05-01' },
        { id: 3, day: '2025-05-01' },
      ]);
    }
  });

  it('a composite primary key holds on a full refresh: duplicates are dropped (newest cursor first) and counted', async () => {
    const csv = join(dir, 'readings.csv');
    writeFileSync(
      csv,
      'station,day,kwh,at\n' +
        'a,2025-01-01,1.0,2025-01-02 00:00:00\n' +
        'a,2025-01-01,2.0,2025-01-03 00:00:00\n' + // same key, newer cursor: kept
        'a,2025-01-02,3.0,2025-01-03 00:00:00\n' +
        'b,2025-01-01,4.0,2025-01-03 00:00:00\n' +
        'b,2025-01-01,5.0,2025-01-03 00:00:00\n' + // same key, same cursor: the one whose columns sort last is kept
        'a,2025-01-01,0.5,2025-01-01 00:00:00\n', // same key, older cursor: dropped
    );
    const node = sourceNode(
      'readings',
      { type: 'file', settings: { path: lit(csv) } },
      {
        primaryKey: ['station', 'day'],
        cursor: 'at',
        mode: 'full_refresh',
        columns: [
          { name: 'station', type: 'VARCHAR' },
          { name: 'day', type: 'DATE' },
          { name: 'kwh', type: 'DOUBLE' },
          { name: 'at', type: 'TIMESTAMP' },
        ],
      },
    );
    const h = new SourceHarness();
    const r = await h.run(node, {});
    expect(r.result.snapshot!.rows).toBe(3);
    expect(r.warnings.join('\n')).toMatch(/bronze\.readings: dropped 3 row\(s\) with a duplicate primary key \(station, day\)/);
    expect(await rows(h, 'bronze.readings', 'SELECT station, CAST(day AS VARCHAR) AS day, kwh FROM t ORDER BY station, day')).toEqual([
      { station: 'a', day: '2025-01-01', kwh: 2 },
      { station: 'a', day: '2025-01-02', kwh: 3 },
      { station: 'b', day: '2025-01-01', kwh: 5 },
    ]);
    // The same holds for the merge of an incremental sync.
    const incNode = { ...node, stream: { ...node.stream, mode: 'incremental' as const } };
    const hi = new SourceHarness();
    await hi.run(incNode, {});
    appendFileSync(csv, 'c,2025-01-01,6.0,2025-01-04 00:00:00\nc,2025-01-01,7.0,2025-01-04 00:00:00\n');
    const inc = await hi.run(incNode, {}); // re-reads from the cursor (>=): b's two rows and c's two
    expect(inc.warnings.join('\n')).toMatch(/dropped 2 row\(s\) with a duplicate primary key/);
    expect(await rows(hi, 'bronze.readings', "SELECT kwh FROM t WHERE station = 'c'")).toEqual([{ kwh: 7 }]);
  });
  it('source freshness: older than error_after fails the sync (the previous snapshot stays), older than warn_after warns', async () => {
    const csv = join(dir, 'meters.csv');
    writeFileSync(csv, 'id,at\n1,2025-11-09 00:00:00\n2,2025-11-10 00:00:00\n'); // logical time: 2025-11-11T00:00:00Z
    const fresh = (warn: number, error: number) => ({
      kind: 'freshness' as const,
      name: 'freshness(at)',
      column: 'at',
      warnAfterSeconds: warn,
      errorAfterSeconds: error,
      span: { file: '/spec.asg', line: 7, column: 7, endLine: 7, endColumn: 20 },
    });
    const node = (warn: number, error: number) =>
      sourceNode(
        'meters',
        { type: 'file', settings: { path: lit(csv) } },
        {
          primaryKey: ['id'],
          columns: [
            { name: 'id', type: 'BIGINT' },
            { name: 'at', type: 'TIMESTAMP' },
          ],
          checks: [fresh(warn, error)],
        },
      );
    const h = new SourceHarness();
    const ok = await h.run(node(12 * 3600, 2 * 86400), {});
    expect(ok.warnings).toEqual([
      expect.stringMatching(
        /^bronze\.meters: check freshness\(at\) warns: the newest at is 2025-11-10 00:00:00, 1d before the run's logical time .*, older than warn_after = 12h$/,
      ),
    ]);
    await expect(h.run(node(3600, 6 * 3600), {})).rejects.toThrow(
      /bronze\.meters: check freshness\(at\) failed: .* older than error_after = 6h; the previous snapshot stays current/,
    );
    expect(h.state().nodes['bronze.meters']!.snapshot!.id).toBe(ok.result.snapshot!.id);
  });
});
