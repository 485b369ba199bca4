// Runs one source node: discover the source's columns, check them against the declared ones,
// extract (everything, or rows with cursor >= the last committed cursor), and write a new bronze
// snapshot of Parquet through DuckDB. Incremental syncs write previous snapshot ⊕ new rows, the
// new row winning per primary key, so an updated row stays one row. The snapshot is committed
// (an Iceberg catalog commit) before returning; apply records it and the new cursor in state in one
// atomic write afterwards, so a failed or killed sync leaves the previous snapshot and cursor.
//
// Result: `rows` = rows read from the source by this sync; `snapshot.rows` = rows in the table.
// Late commits: a row committed later with a cursor value older than the last cursor is missed by
// any cursor sync; `lookback` re-reads a window before the cursor, a full refresh (replace) fixes all.

import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import type { SourceNode } from '../ir/types.js';
import { ident, literal } from '../engine/quote.js';
import { NodeError, type NodeExecutor, type NodeResult, type RunContext } from '../engine/executor.js';
import type { ColumnSchema, SnapshotRef, SourceRead } from '../planner/state-store.js';
import { canonicalJson, sha256 } from '../util/canonical-json.js';
import type { PendingSnapshot } from '../warehouse/warehouse.js';
import { ConnectionSettingError, redactUrls } from './connection.js';
import type { ConnectorInput, Extracted, SourceColumn, SourceConnector } from './source.js';
import { fileManifest, sameFiles, type FileManifest } from './file-manifest.js';
import { SourceError } from './staging.js';
import { declaredAccepts, normalizeType } from './types.js';
import { mark } from '../engine/profile.js';

/** DuckDB threads of a sync (and its connections: one per stream a connector may read at once). */
const THREADS = 2;

/** Settings that may be left unset when something else covers them (the URL's password; no token). */
const OPTIONAL_SECRETS = new Set(['password', 'token']);

// A sync writes Parquet 1 (src/warehouse/iceberg/table.ts `keepReadable`): the write is most of a
// sync, and Parquet 2 cost the ingestion bench's syncs 10-20% (bench/apply.md, session 14 engine),
// where the tables downstream read the source once per change.
const SYNC_WRITE = { parquet1: true } as const;

/**
 * The connector of a source. Each connector's module (and its driver: pg, mysql2, DuckDB) is
 * imported only when a source of its type runs, so a no-op apply of file sources loads no database
 * driver.
 */
export async function createConnector(input: ConnectorInput): Promise<SourceConnector> {
  switch (input.node.connector.type) {
    case 'postgres':
      return (await import('./postgres.js')).postgresConnector(input);
    case 'mysql':
      return (await import('./mysql.js')).mysqlConnector(input);
    case 'http':
      return (await import('./http.js')).httpConnector(input);
    case 'file':
      return (await import('./file.js')).fileConnector(input);
  }
}

function resolveSettings(ctx: RunContext<SourceNode>): Record<string, string | number | boolean | undefined> {
  const out: Record<string, string | number | boolean | undefined> = {};
  for (const [k, v] of Object.entries(ctx.node.connector.settings)) {
    try {
      out[k] = ctx.resolve(v);
    } catch (e) {
      // An unset password secret is fine when the URL carries one (and a token is optional);
      // the connector fails with a clear message if the server wants it.
      if (v.kind === 'secret' && OPTIONAL_SECRETS.has(k)) {
        ctx.warn(
          `${ctx.node.id}: \`${k}\` is secret("${v.name}"), but ${v.name} is not set: ${k === 'token' ? 'calling the API without credentials' : 'connecting without it'}`,
        );
        continue;
      }
      throw e;
    }
  }
  return out;
}

interface PlannedColumn extends SourceColumn {
  /** The type written to the bronze table. */
  readonly outType: string;
}

/** Declared columns are checked against the discovered ones; undeclared streams take all of them. */
function planColumns(node: SourceNode, discovered: readonly SourceColumn[], where: string): PlannedColumn[] {
  const byName = new Map(discovered.map((c) => [c.name, c]));
  const declared = node.stream.columns;
  if (!declared) return discovered.map((c) => ({ ...c, outType: c.duckType ?? 'VARCHAR' }));
  const httpEmpty = node.connector.type === 'http' && discovered.length === 0;
  return declared.map((d) => {
    const src = byName.get(d.name) ?? [...byName.values()].find((c) => c.name.toLowerCase() === d.name.toLowerCase());
    if (!src) {
      if (httpEmpty) return { name: d.name, sourceType: 'json', duckType: d.type, outType: d.type };
      const known = discovered.map((c) => c.name).join(', ');
      throw new NodeError(`${node.id}: declared column \`${d.name}\` is missing in ${where} (it has: ${known})`, node.span);
    }
    if (src.duckType === undefined) return { ...src, duckType: d.type, outType: d.type }; // JSON APIs: the declaration is the schema
    if (!declaredAccepts(d.type, src.duckType)) {
      throw new NodeError(
        `${node.id}: column \`${d.name}\` is declared ${d.type} but ${where} has ${src.sourceType} (${src.duckType}), which ${d.type} cannot hold exactly`,
        node.span,
      );
    }
    return { ...src, outType: d.type };
  });
}

/** The cursor value as text the source compares against (timestamps in UTC, microseconds). */
function cursorExpr(col: string, type: string): string {
  const t = normalizeType(type);
  if (t === 'TIMESTAMP' || t === 'TIMESTAMPTZ') return `strftime(max(${ident(col)}), '%Y-%m-%d %H:%M:%S.%f')`;
  return `CAST(max(${ident(col)}) AS VARCHAR)`;
}

/** Move a cursor back by the lookback window (timestamps, dates and integers only). */
export function lookBack(cursor: string, seconds: number | undefined, type: string): string {
  if (!seconds) return cursor;
  const t = normalizeType(type);
  if (t === 'TIMESTAMP' || t === 'TIMESTAMPTZ' || t === 'DATE') {
    const m = /^(\d{4}-\d{2}-\d{2})(?:[ T](\d{2}):(\d{2}):(\d{2})(\.\d+)?)?/.exec(cursor);
    if (!m) return cursor;
    const ms = Date.parse(`${m[1]}T${m[2] ?? '00'}:${m[3] ?? '00'}:${m[4] ?? '00'}Z`) - seconds * 1000;
    const iso = new Date(ms).toISOString();
    return t === 'DATE' ? iso.slice(0, 10) : `${iso.slice(0, 10)} ${iso.slice(11, 19)}${m[5] ?? ''}`;
  }
  if (/^-?\d+$/.test(cursor)) return String(BigInt(cursor) - BigInt(Math.floor(seconds)));
  return cursor;
}

function sameSchema(a: readonly ColumnSchema[] | undefined, b: readonly ColumnSchema[]): boolean {
  return !!a && a.length === b.length && a.every((c, i) => c.name === b[i].name && normalizeType(c.type) === normalizeType(b[i].type));
}

async function run(ctx: RunContext<SourceNode>): Promise<NodeResult> {
  const node = ctx.node;
  mark('start');
  const stream = node.stream;
  let connector: SourceConnector;
  try {
    connector = await createConnector({ node, settings: resolveSettings(ctx), baseDir: dirname(ctx.ir.file), warn: ctx.warn });
  } catch (e) {
    throw asNodeError(e, node);
  }
  // Files that did not change since the snapshot was read from them: keep it, read nothing.
  const prevState = ctx.state.nodes[node.id];
  let files: FileManifest | undefined;
  if (connector.filePattern !== undefined) {
    const { checks: _checks, ...shape } = stream;
    try {
      files = await fileManifest(
        connector.filePattern,
        { settings: ctx.node.connector.settings, stream: { ...shape, columns: shape.columns ?? null } },
        prevState?.files,
      );
    } catch (e) {
      throw asNodeError(e, node);
    }
    // A stream with checks (freshness) is re-checked against the run's logical time: it syncs.
    if (prevState?.snapshot && prevState.schema && !stream.checks?.length && sameFiles(prevState.files, files)) {
      await connector.close().catch(() => undefined);
      ctx.progress({ rows: prevState.snapshot.rows, message: 'files unchanged since the last sync (size, mtime, SHA-256)' });
      return {
        rows: prevState.snapshot.rows,
        snapshot: prevState.snapshot,
        schema: prevState.schema,
        ...(prevState.cursor !== undefined ? { cursor: prevState.cursor } : {}),
        files,
      };
    }
  }
  const stagingRoot = join(ctx.scratchDir, 'ingest');
  mkdirSync(stagingRoot, { recursive: true });
  const staging = mkdtempSync(join(stagingRoot, `${node.name}-`));
  let pending: PendingSnapshot | undefined;
  // DuckDB (its native module too) loads when rows are to be written: a sync that reads what it
  // read last time (`NodeState.read`) never loads it. 1 GB: 512 MB ran out during a seed-scale
  // incremental merge (DuckDB cannot spill every operator). One connection per thread: a connector
  // that reads in several streams (ExtractRequest.parallel) has each loaded on a connection of its own.
  let opening: Promise<DuckDBConnection[]> | undefined;
  let duck: DuckDBConnection | undefined;
  // While a connector's pipes load (SourceConnector.pipesChunks): one thread, THREADS again after.
  let loadThreads = THREADS;
  const openPool = (): Promise<DuckDBConnection[]> =>
    (opening ??= import('../engine/duckdb.js').then(({ openDuckPool }) =>
      openDuckPool(THREADS, ':memory:', {
        threads: String(loadThreads),
        memory_limit: '1GB',
        temp_directory: join(staging, 'duck.tmp'),
        preserve_insertion_order: 'false',
      }),
    ));
  const openDuckDb = async (): Promise<DuckDBConnection> => (await openPool())[0];
  let idle: DuckDBConnection[] | undefined;
  /** `f` on a connection no other chunk is using (the connector runs at most THREADS at once). */
  const onIdle = async <T>(f: (c: DuckDBConnection) => Promise<T>): Promise<T> => {
    const all = await openPool();
    idle ??= [...all];
    const c = idle.pop() ?? all[0];
    try {
      return await f(c);
    } finally {
      idle.push(c);
    }
  };
  try {
    // A full read of a connector that streams opens DuckDB at its first rows anyway: it opens now,
    // beside the connection and the catalog queries, instead of holding the first rows up (the
    // source's export waits on a full pipe meanwhile), and what the write and commit load (catalog
    // driver, Avro) loads while the source answers. An incremental sync may find nothing new and
    // load none of it (#13).
    const mayMerge = stream.mode === 'incremental' && !!stream.cursor && !!prevState?.snapshot && prevState.cursor !== undefined;
    const writes = !!connector.streamsChunks && !mayMerge;
    if (writes && connector.pipesChunks) loadThreads = 1;
    if (writes) openPool().catch(() => undefined);
    if (writes) connector.prepareFullRead?.(THREADS);
    ctx.progress({ rows: 0, message: `discovering ${connector.where}` });
    const discovering = connector.discover();
    if (writes) ctx.warehouse.warmUp();
    const discovered = await discovering;
    mark('connect and discover');
    const columns = planColumns(node, discovered, connector.where);
    for (const k of stream.primaryKey) {
      if (!columns.some((c) => c.name === k))
        throw new NodeError(`${node.id}: primary key column \`${k}\` is not among the stream's columns (${columns.map((c) => c.name).join(', ')})`, node.span);
    }
    const incremental = stream.mode === 'incremental' && !!stream.cursor;
    const cursorCol = incremental ? columns.find((c) => c.name === stream.cursor) : undefined;
    if (incremental && !cursorCol) {
      throw new NodeError(
        `${node.id}: cursor column \`${stream.cursor}\` is missing in ${connector.where} (it has: ${discovered.map((c) => c.name).join(', ')})`,
        node.span,
      );
    }
    const schema: ColumnSchema[] = columns.map((c) => ({ name: c.name, type: c.outType }));
    const prev = ctx.state.nodes[node.id];
    const merge = incremental && !!prev?.snapshot && prev.cursor !== undefined && sameSchema(prev.schema, schema);
    if (incremental && prev?.snapshot && !merge) ctx.warn(`${node.id}: the stream's columns changed since the last sync; reading everything again`);
    const from = merge ? lookBack(prev!.cursor!, stream.lookbackSeconds, cursorCol!.duckType ?? cursorCol!.outType) : undefined;

    const select = columns.map((c) => `CAST(${ident(c.name)} AS ${c.outType}) AS ${ident(c.name)}`).join(', ');
    const fail = (e: unknown): never => {
      throw dataError(e, node, connector.where);
    };
    // The cursor's new value and the row count (and, with `keys`, the distinct keys) in one pass.
    const cursorOf = async (rel: string, keys?: string): Promise<{ cursor?: string; rows: number; keys?: number }> => {
      const r = await queryAll(
        await openDuckDb(),
        `SELECT ${cursorCol ? cursorExpr(cursorCol.name, cursorCol.outType) : 'NULL'} AS c, count(*) AS n${keys ? `, count(DISTINCT (${keys})) AS k` : ''} FROM ${rel}`,
      ).catch(fail);
      return {
        cursor: r.rows[0].c === null || r.rows[0].c === undefined ? undefined : String(r.rows[0].c),
        rows: Number(r.rows[0].n),
        ...(keys ? { keys: Number(r.rows[0].k) } : {}),
      };
    };
    // Every Parquet file carries the columns' Iceberg field ids (the pending snapshot's COPY options).
    const copyWith = (c: DuckDBConnection, p: PendingSnapshot, body: string, file: string): Promise<number> =>
      ctx.warehouse.write(c, p, body, { file, options: 'COMPRESSION snappy, ROW_GROUP_SIZE 122880' });
    // After the read, on the connection that holds the sync's temporary tables.
    const copyTo = async (p: PendingSnapshot, body: string, file: string): Promise<number> => copyWith(await openDuckDb(), p, body, file);
    // A full read writes Parquet part files while the connector is still reading (when it can cut
    // its staging output into chunks); an incremental one merges after reading.
    let parts = 0;
    if (!merge) pending = await ctx.warehouse.begin(node.id, schema, [], new Date(), SYNC_WRITE);
    const onChunk = merge
      ? undefined
      : async (relation: string): Promise<void> => {
          const file = `part-${String(parts++).padStart(5, '0')}.parquet`;
          await onIdle((c) => copyWith(c, pending!, `SELECT ${select} FROM ${relation}`, file)).catch(fail);
        };

    // What a read returned, with the columns it was read as (and its cursor bound).
    const readOf = (bound: string | undefined, x: Extracted): SourceRead | undefined =>
      x.digest === undefined
        ? undefined
        : {
            ...(bound !== undefined ? { from: bound } : {}),
            digest: sha256(canonicalJson({ columns, rows: x.digest })),
            ...(x.answers !== undefined ? { answers: sha256(canonicalJson({ columns, answers: x.answers })) } : {}),
          };
    // The same read as last time means nothing new (a stream with checks is re-checked against the
    // run's logical time, so it goes on): the same rows staged, or the same answers received, which
    // a connector that hashes them knows before staging anything (ExtractRequest.lastRead).
    const last = prev?.snapshot && sameSchema(prev.schema, schema) && !stream.checks?.length && prev.read?.from === from ? prev.read : undefined;
    ctx.progress({ rows: 0, message: from ? `reading ${connector.where} where ${stream.cursor} >= ${from}` : `reading ${connector.where}` });
    const extracted = await connector.extract({
      columns,
      cursor: from !== undefined ? { column: stream.cursor!, from } : undefined,
      stagingDir: staging,
      signal: ctx.signal,
      onRows: (rows) => ctx.progress({ rows }),
      onChunk,
      chunkRows: Number(process.env.ASGARD_INGEST_CHUNK_ROWS) || undefined,
      parallel: THREADS,
      ...(last?.answers !== undefined ? { lastRead: (answers: string) => sha256(canonicalJson({ columns, answers })) === last.answers } : {}),
    });
    if (ctx.signal.aborted) throw new NodeError(`${node.id}: interrupted`);
    mark('extract');
    const sourceRead: SourceRead | undefined = extracted.unchanged ? last : readOf(from, extracted);
    if (last && sourceRead && (extracted.unchanged || last.digest === sourceRead.digest)) {
      if (pending) await ctx.warehouse.abort(pending);
      pending = undefined;
      ctx.progress({ rows: 0, message: 'the same rows as the last sync read' });
      return {
        rows: merge ? 0 : prev!.snapshot!.rows,
        snapshot: prev!.snapshot,
        schema,
        ...(prev!.cursor !== undefined ? { cursor: prev!.cursor } : {}),
        read: sourceRead,
      };
    }
    const { queryAll } = await import('../engine/duckdb.js');
    const { checkFreshness } = await import('./freshness.js');
    /** The source's rows of the next sync's window (cursor >= `cursor` less the lookback), for readForNext; undefined when there is none to record or its read failed. */
    const nextWindow = async (cursor: string | undefined): Promise<{ from: string; window: Extracted } | undefined> => {
      if (!cursorCol || cursor === undefined || !sourceRead || stream.checks?.length || files || ctx.signal.aborted) return undefined;
      const next = lookBack(cursor, stream.lookbackSeconds, cursorCol.duckType ?? cursorCol.outType);
      if (next === from) return undefined; // this very read: all of it was merged
      try {
        const window = await connector.extract({
          columns,
          cursor: { column: cursorCol.name, from: next },
          stagingDir: mkdtempSync(join(staging, 'next-')),
          signal: ctx.signal,
          onRows: () => undefined,
          parallel: THREADS,
        });
        return { from: next, window };
      } catch {
        return undefined;
      }
    };
    /**
     * The read to record for a sync that leaves `snapshot` with cursor value `cursor`: the next sync
     * reads rows with the cursor >= `cursor` (less the lookback), so that window is read now and
     * recorded when every row of it is already in the snapshot. The next apply then finds the same
     * read and keeps the snapshot without opening DuckDB or writing state (#13: the first no-op after
     * an apply costs what the later ones do). Best effort: anything else (a row
     * committed meanwhile, a failed read) records what this sync read, and the next sync merges.
     * `window`: the source's rows of that window, read by nextWindow (started while the commit syncs).
     * `rows`: a relation of the snapshot's rows (its files as committed, or as written before the
     * commit: the same rows), read on `conn`.
     */
    const readForNext = async (
      rows: string,
      cursor: string | undefined,
      window = nextWindow(cursor),
      conn: DuckDBConnection = duck!,
    ): Promise<SourceRead | undefined> => {
      const w = await window;
      if (!w || w.window.digest === undefined || !cursorCol) return sourceRead;
      try {
        // The filter only prunes (row groups by their statistics): a row it wrongly left out counts as missing.
        const kept = `SELECT ${select} FROM ${rows} WHERE ${ident(cursorCol.name)} >= CAST(${literal(w.from)} AS ${cursorCol.outType})`;
        const missing = await queryAll(conn, `SELECT count(*) AS n FROM (SELECT ${select} FROM ${w.window.relation} EXCEPT ${kept})`);
        return Number(missing.rows[0].n) === 0 ? readOf(w.from, w.window) : sourceRead;
      } catch {
        return sourceRead;
      }
    };
    duck = await openDuckDb();
    if (loadThreads < THREADS) await duck.run(`SET threads = ${THREADS}`);
    mark('open DuckDB');
    ctx.progress({ rows: Math.max(0, extracted.rows), message: `writing ${node.id}` });

    const typed = `SELECT ${select} FROM ${extracted.relation}`;
    let newRows: number;
    let cursorValue: string | undefined;
    let total: number;
    // A merge commits the previous snapshot less these files, plus what it wrote.
    let mergeBase: { remove: readonly string[] } | undefined;
    // A full read's rows as written (the files the commit will list).
    let writtenRows: string | undefined;
    if (merge) {
      // New rows are few: materialise them once, then merge with the previous snapshot.
      await duck.run(`CREATE TEMP TABLE incoming AS ${typed}`).catch(fail);
      ({ cursor: cursorValue } = await cursorOf('incoming'));
      mark('merge: the rows read');
      const names = columns.map((c) => ident(c.name)).join(', ');
      const key = stream.primaryKey.length ? stream.primaryKey.map(ident).join(', ') : names;
      const keyCols = stream.primaryKey.length ? stream.primaryKey : columns.map((c) => c.name);
      // The newest incoming row per key (a file source may hold several versions of a row).
      await duck
        .run(
          `CREATE TEMP TABLE fresh AS SELECT ${names} FROM incoming QUALIFY row_number() OVER (PARTITION BY ${key} ORDER BY ${keepOrder(columns, cursorCol)}) = 1`,
        )
        .catch(fail);
      if (stream.primaryKey.length) {
        const counts = await queryAll(duck, `SELECT (SELECT count(*) FROM incoming) - (SELECT count(*) FROM fresh) AS n`).catch(fail);
        reportDropped(ctx, Number(counts.rows[0].n));
      }
      // A merge (src/engine/merge-write.ts): only the previous files holding a changed key are read
      // and rewritten; the others stay in the new snapshot as they are.
      const { planMerge } = await import('../engine/merge-write.js');
      const { selectScan } = await import('../warehouse/warehouse.js');
      const on = keyCols.map((k) => [k, k] as const);
      const plan = await planMerge(duck, await ctx.warehouse.scan(prev!.snapshot!), prev!.schema!, on, 'fresh').catch(fail);
      mark('merge: the previous rows of their keys');
      // Rows re-read at the cursor value (>=, for ties) that did not change are not news, and their
      // keys are not merged: their files stay as they are. (Every sync re-reads the newest rows of
      // the last one, so merging every key read rewrote the file holding those rows each time.)
      await duck
        .run(`CREATE TEMP TABLE changed AS SELECT ${names} FROM fresh EXCEPT SELECT ${names} FROM (SELECT ${select} FROM (${plan.replaced}))`)
        .catch(fail);
      const counts = await queryAll(duck, `SELECT (SELECT count(*) FROM changed) AS n, (SELECT count(*) FROM fresh) AS f`).catch(fail);
      newRows = Number(counts.rows[0].n);
      mark('merge: rows that changed');
      if (newRows === 0) {
        await checkFreshness(ctx, duck, `(${await ctx.warehouse.snapshotSelect(prev!.snapshot!, prev!.schema)})`);
        ctx.progress({ rows: 0, message: 'no new rows' });
        return { rows: 0, snapshot: prev!.snapshot, schema, cursor: prev!.cursor, ...(files ? { files } : {}), ...(sourceRead ? { read: sourceRead } : {}) };
      }
      // The previous rows of the changed keys can only be in the files the keys read were found in.
      const some = newRows < Number(counts.rows[0].f) && plan.hitFiles.length > 0;
      const rewrite = some ? await planMerge(duck, plan.hitFiles, prev!.schema!, on, 'changed').catch(fail) : plan;
      const untouched = some ? [...plan.untouched, ...rewrite.untouched] : plan.untouched;
      pending = await ctx.warehouse.begin(node.id, schema, [], new Date(), SYNC_WRITE);
      mark('merge: begin');
      const out = join(pending.dir, 'data.parquet');
      const rows = `SELECT ${names} FROM (SELECT ${select} FROM (${rewrite.kept})) UNION ALL SELECT ${names} FROM changed`;
      await copyTo(pending, rows, 'data.parquet').catch(fail);
      mergeBase = { remove: rewrite.hit };
      mark('merge: write');
      await checkFreshness(ctx, duck, `(${selectScan(untouched, schema)} UNION ALL BY NAME SELECT * FROM read_parquet(${literal(out)}))`);
      if (cursorValue !== undefined && cursorCol) {
        // Never move the cursor backwards (a lookback window re-reads older rows).
        const r = await queryAll(
          duck,
          `SELECT CAST(${literal(cursorValue)} AS ${cursorCol.outType}) < CAST(${literal(prev!.cursor!)} AS ${cursorCol.outType}) AS older`,
        ).catch(() => undefined);
        if (r?.rows[0].older === true) cursorValue = prev!.cursor;
      }
    } else {
      // One pass: the staging file(s) straight into Parquet; cursor and count come from the Parquet.
      if (!extracted.chunks) await copyTo(pending!, typed, 'part-00000.parquet').catch(fail);
      let written = `read_parquet(${literal(join(pending!.dir, '*.parquet'))})`;
      // The keys are counted unless the source guarantees them unique.
      const key = connector.keyIsUnique?.() ? '' : stream.primaryKey.map(ident).join(', ');
      let read = await cursorOf(written, key || undefined);
      // A declared primary key holds in every sync mode: rows repeating a key are rewritten, one per key.
      if (read.keys !== undefined && read.keys < read.rows) {
        written = await dedupeSnapshot(ctx, duck, written, pending!, columns, cursorCol, copyTo, read.rows - read.keys).catch(fail);
        read = await cursorOf(written);
      }
      ({ cursor: cursorValue, rows: total } = read);
      writtenRows = written;
      mark('primary key and cursor');
      await checkFreshness(ctx, duck, written);
      mark('freshness');
      newRows = total;
      // A full read that found exactly the rows of the previous snapshot keeps that snapshot, so
      // nothing downstream rebuilds for a source that did not change.
      const old = prev?.snapshot;
      if (old && old.rows === total && sameSchema(prev!.schema, schema)) {
        const previous = `(SELECT ${select} FROM (${await ctx.warehouse.snapshotSelect(old, prev!.schema)}))`;
        const diff = await queryAll(duck, `SELECT count(*) AS n FROM (SELECT * FROM ${written} EXCEPT ALL SELECT * FROM ${previous})`).catch(() => undefined);
        if (diff && Number(diff.rows[0].n) === 0) {
          await ctx.warehouse.abort(pending!);
          pending = undefined;
          ctx.progress({ rows: total, message: 'unchanged since the last sync' });
          const cursor = cursorValue ?? prev!.cursor;
          const read = await readForNext(`(${await ctx.warehouse.snapshotSelect(old, schema)})`, cursor);
          return {
            rows: total,
            snapshot: old,
            schema,
            ...(cursor !== undefined ? { cursor } : {}),
            ...(files ? { files } : {}),
            ...(read ? { read } : {}),
          };
        }
      }
    }
    if (ctx.signal.aborted) throw new NodeError(`${node.id}: interrupted`);
    // The next sync's window is read from the source while the commit syncs its files.
    const window = nextWindow(cursorValue);
    // A full read's window is compared with the rows as written, on another connection, while the
    // commit writes the metadata and syncs the files (a merge's rows are the committed snapshot's).
    const early = writtenRows !== undefined ? readForNext(writtenRows, cursorValue, window, (await openPool())[1] ?? duck) : undefined;
    let snapshot: SnapshotRef;
    try {
      snapshot = await ctx.warehouse.commit(pending!, duck, mergeBase ? { base: prev!.snapshot, remove: mergeBase.remove } : {});
    } catch (e) {
      await early; // never rejects: its connection is closed after this
      throw e;
    }
    pending = undefined;
    mark('commit');
    ctx.progress({ rows: newRows, message: `${snapshot.rows} rows in ${node.id}` });
    const read = early ? await early : await readForNext(`(${await ctx.warehouse.snapshotSelect(snapshot, schema)})`, cursorValue, window);
    mark('read for the next sync');
    return {
      rows: newRows,
      snapshot,
      schema,
      ...(cursorValue !== undefined ? { cursor: cursorValue } : {}),
      ...(files ? { files } : {}),
      ...(read ? { read } : {}),
    };
  } catch (e) {
    if (pending) await ctx.warehouse.abort(pending);
    throw asNodeError(e, node);
  } finally {
    for (const c of (await opening?.catch(() => undefined)) ?? []) c.closeSync();
    await connector.close().catch(() => undefined);
    rmSync(staging, { recursive: true, force: true });
  }
}

/**
 * Which row of a primary key survives (docs/language.md, "primary_key"): the one with the greatest
 * cursor value; among equal cursors (or without a cursor), the one whose columns, in order, sort
 * last. Deterministic, so two syncs of the same data keep the same rows.
 */
function keepOrder(columns: readonly PlannedColumn[], cursorCol: PlannedColumn | undefined): string {
  const cols = cursorCol ? [cursorCol, ...columns.filter((c) => c !== cursorCol)] : columns;
  return cols.map((c) => `${ident(c.name)} DESC NULLS LAST`).join(', ');
}

function reportDropped(ctx: RunContext<SourceNode>, dropped: number): void {
  if (dropped <= 0) return;
  const key = ctx.node.stream.primaryKey.join(', ');
  ctx.warn(`${ctx.node.id}: dropped ${dropped} row(s) with a duplicate primary key (${key}); kept the newest of each key`);
}

/**
 * Rewrite the rows just written (which repeat a primary key `dropped` times) with one row per key.
 * Returns the relation to read the snapshot's rows from.
 */
async function dedupeSnapshot(
  ctx: RunContext<SourceNode>,
  duck: DuckDBConnection,
  written: string,
  pending: PendingSnapshot,
  columns: readonly PlannedColumn[],
  cursorCol: PlannedColumn | undefined,
  copyTo: (p: PendingSnapshot, body: string, file: string) => Promise<number>,
  dropped: number,
): Promise<string> {
  const dir = pending.dir;
  const key = ctx.node.stream.primaryKey.map(ident).join(', ');
  const names = columns.map((c) => ident(c.name)).join(', ');
  await duck.run(
    `CREATE TEMP TABLE deduped AS SELECT ${names} FROM ${written} QUALIFY row_number() OVER (PARTITION BY ${key} ORDER BY ${keepOrder(columns, cursorCol)}) = 1`,
  );
  for (const f of readdirSync(dir)) if (f.endsWith('.parquet')) rmSync(join(dir, f));
  const out = join(dir, 'part-00000.parquet');
  await copyTo(pending, 'SELECT * FROM deduped', 'part-00000.parquet');
  reportDropped(ctx, dropped);
  return `read_parquet(${literal(out)})`;
}

function dataError(e: unknown, node: SourceNode, where: string): NodeError {
  const first = String((e as Error).message ?? e).split('\n')[0];
  return new NodeError(`${node.id}: the data read from ${where} does not fit the stream's columns: ${redactUrls(first)}`, node.span);
}

function asNodeError(e: unknown, node: SourceNode): NodeError {
  if (e instanceof NodeError) return new NodeError(redactUrls(e.message), e.span);
  if (e instanceof SourceError || e instanceof ConnectionSettingError) return new NodeError(`${node.id}: ${redactUrls(e.message)}`, node.connector.span);
  const msg = redactUrls(String((e as Error)?.message ?? e).split('\n')[0]);
  return new NodeError(`${node.id}: ${msg}`, node.connector.span);
}

export const executor: NodeExecutor<SourceNode> = { kind: 'source', run };
export default executor;
