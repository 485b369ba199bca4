// PostgreSQL: schema from information_schema, rows through `COPY (SELECT …) TO STDOUT` in CSV
// (PostgreSQL's own bulk export: no row ever becomes a JS object, memory stays flat). A full read
// streams the CSV through a named pipe that DuckDB reads while PostgreSQL is still writing, so the
// export and the Parquet write overlap (the executor's onChunk); an incremental read, which the
// executor merges after reading, goes to a staging file. The session runs in UTC with ISO dates,
// so timestamptz values arrive as UTC instants and numeric/int8 as their exact text.
//
// A full read of a plain table big enough is cut into ranges of its pages (ctid; PostgreSQL 14+
// scans a TID range without reading the rest), one COPY and one pipe per range on sessions that share
// one snapshot (the first exports it, the others import it, as `pg_dump -j` does): PostgreSQL formats
// CSV on several cores while DuckDB loads each pipe on a connection of its own (ExtractRequest.parallel).

import { execFile } from 'node:child_process';
import { close, closeSync, constants, open, openSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { type CopyOut, copyOut } from './pg-copy-out.js';
import { connectTimeoutMs, dbConnection, describeDbError } from './connection.js';
import type { ConnectorInput, Extracted, ExtractRequest, SourceConnector } from './source.js';
import { postgresToDuck } from './types.js';
import { SourceError, csvRelation, stagingDigest } from './staging.js';

const pgIdent = (s: string): string => `"${s.replace(/"/g, '""')}"`;
const openFile = promisify(open);
const closeFile = promisify(close);

/**
 * SQL (a boolean) for discover's query, over $1 schema, $2 table and $3 the stream's primary key
 * columns: see discover.
 */
const UNIQUE_KEY = `(
  SELECT (cl.relkind = 'p' OR (cl.relkind IN ('r', 'm') AND NOT EXISTS (SELECT 1 FROM pg_inherits h WHERE h.inhparent = cl.oid)))
     AND (SELECT count(*) FROM pg_attribute a WHERE a.attrelid = cl.oid AND a.attnum > 0 AND NOT a.attisdropped AND a.attnotnull AND a.attname = ANY($3::text[]))
         = cardinality($3::text[])
     AND EXISTS (
       SELECT 1 FROM pg_index i
        WHERE i.indrelid = cl.oid AND i.indisunique AND i.indisvalid AND i.indpred IS NULL AND i.indexprs IS NULL
          AND NOT EXISTS (
            SELECT 1 FROM unnest((i.indkey::int2[])[0:i.indnkeyatts - 1]) AS k(attnum)
             WHERE k.attnum = 0
                OR NOT EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = cl.oid AND a.attnum = k.attnum AND a.attname = ANY($3::text[]))))
    FROM pg_class cl JOIN pg_namespace n ON n.oid = cl.relnamespace
   WHERE n.nspname = $1 AND cl.relname = $2)`;

export function postgresConnector(input: ConnectorInput): SourceConnector {
  const conn = dbConnection('postgres', input.settings);
  const qualified = input.node.stream.table ?? input.node.name;
  const [schema, table] = qualified.includes('.') ? (qualified.split('.', 2) as [string, string]) : [conn.schema ?? 'public', qualified];
  let client: Promise<pg.Client> | undefined;
  let closed = false;
  // A full read announced (prepareFullRead): its page ranges, sized as soon as the first session is up.
  let sized: { readonly parallel: number; readonly ranges: Promise<string[]> } | undefined;
  // Sessions started ahead for a full read's other streams, until extract takes them.
  let early: Promise<pg.Client>[] = [];
  let ending: Promise<unknown> = Promise.resolve();
  let keyUnique = false;
  const endSessions = (sessions: Promise<pg.Client>[]): Promise<unknown> => Promise.all(sessions.map((o) => o.then((x) => x.end()).catch(() => undefined)));

  const connect = (): Promise<pg.Client> => (client ??= session());

  /** A new session in UTC with ISO dates. */
  const session = async (): Promise<pg.Client> => {
    const c = new pg.Client({
      host: conn.host,
      port: conn.port,
      database: conn.database,
      user: conn.user,
      password: conn.password,
      connectionTimeoutMillis: connectTimeoutMs(),
      application_name: 'asgard',
    });
    c.on('error', () => undefined); // a dropped connection surfaces through the running query
    try {
      await c.connect();
      await c.query("SET TIME ZONE 'UTC'; SET DateStyle = 'ISO, YMD'; SET IntervalStyle = 'iso_8601'; SET extra_float_digits = 1");
    } catch (e) {
      await c.end().catch(() => undefined);
      throw new SourceError(describeDbError(e, conn));
    }
    return c;
  };

  /**
   * The WHERE conditions of a full read's streams: ranges of the table's pages (at least MIN_PAGES
   * each, at most `parallel`), or one stream of everything where the table is small, not a plain
   * table (a view has no pages) or cannot be sized. The last range is open: pages added meanwhile
   * are read too (the snapshot decides which rows).
   */
  const pageRanges = async (c: pg.Client, parallel: number): Promise<string[]> => {
    if (parallel < 2) return [''];
    const r = await c
      .query(
        `SELECT c.relkind, pg_relation_size(c.oid) / current_setting('block_size')::int AS pages
           FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = $2`,
        [schema, table],
      )
      .catch(() => undefined);
    const row = r?.rows[0] as { relkind: string; pages: string } | undefined;
    const pages = Number(row?.pages ?? 0);
    const n = row && (row.relkind === 'r' || row.relkind === 'm') ? Math.min(parallel, Math.floor(pages / MIN_PAGES)) : 1;
    if (n < 2) return [''];
    const bound = (i: number) => `'(${Math.floor((pages * i) / n)},0)'::tid`;
    return Array.from({ length: n }, (_, i) => [i > 0 ? `ctid >= ${bound(i)}` : '', i < n - 1 ? `ctid < ${bound(i + 1)}` : ''].filter(Boolean).join(' AND '));
  };

  /**
   * `c` and n - 1 new sessions in REPEATABLE READ transactions on `c`'s snapshot; undefined where that
   * cannot be had. The new sessions start (TCP, SCRAM: most of the wait) while `c` exports its snapshot.
   */
  const sharedSnapshot = async (c: pg.Client, n: number): Promise<pg.Client[] | undefined> => {
    const opening = [...early.splice(0, n - 1)];
    while (opening.length < n - 1) opening.push(session());
    const others: pg.Client[] = [];
    try {
      const [id] = await Promise.all([
        c.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY').then(async () => String((await c.query('SELECT pg_export_snapshot() AS s')).rows[0].s)),
        Promise.allSettled(opening).then((rs) => {
          for (const r of rs) if (r.status === 'fulfilled') others.push(r.value);
          const failed = rs.find((r) => r.status === 'rejected');
          if (failed) throw (failed as PromiseRejectedResult).reason;
        }),
      ]);
      await Promise.all(others.map((o) => o.query(`BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY; SET TRANSACTION SNAPSHOT ${o.escapeLiteral(id)}`)));
      return [c, ...others];
    } catch {
      await c.query('ROLLBACK').catch(() => undefined);
      // Sessions still starting are ended once started.
      await endSessions(opening);
      return undefined;
    }
  };

  return {
    where: `${conn.where} table ${schema}.${table}`,
    streamsChunks: true,
    pipesChunks: true,
    prepareFullRead(parallel: number) {
      // The table is sized first thing on the first session, and a session's start (TCP, SCRAM,
      // the SETs), most of what the other streams wait for, then happens beside the catalog query.
      if (sized || closed) return;
      const ranges = connect().then((c) => pageRanges(c, parallel));
      sized = { parallel, ranges };
      ranges.then(
        (r) => {
          if (closed || early.length || r.length < 2) return;
          early = Array.from({ length: r.length - 1 }, () => session());
          for (const e of early) e.catch(() => undefined);
        },
        () => undefined, // the connection's failure is reported by discover
      );
    },
    async discover() {
      const c = await connect();
      const key = input.node.stream.primaryKey;
      // With the columns, in the same round trip: whether the stream's primary key is unique and
      // never NULL in the table (keyIsUnique): a valid, non-partial unique index on plain key
      // columns, all of them in the primary key, every primary key column NOT NULL, on a table (or
      // materialized view) without inheritance children, or a partitioned table (its unique
      // indexes hold across its partitions).
      const r = await c
        .query(
          `SELECT column_name, data_type, udt_name, numeric_precision, numeric_scale,
                  ${key.length ? UNIQUE_KEY : 'false'} AS key_unique
             FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2 ORDER BY ordinal_position`,
          key.length ? [schema, table, key] : [schema, table],
        )
        .catch((e: unknown) => {
          throw new SourceError(describeDbError(e, conn));
        });
      if (!r.rowCount) throw new SourceError(`table ${schema}.${table} not found in ${conn.where} (or user ${conn.user} may not read it)`);
      keyUnique = r.rows[0].key_unique === true;
      return r.rows.map(
        (row: { column_name: string; data_type: string; udt_name: string; numeric_precision: number | null; numeric_scale: number | null }) => ({
          name: row.column_name,
          sourceType: row.data_type === 'USER-DEFINED' ? row.udt_name : row.data_type,
          duckType: postgresToDuck(row.data_type, row.udt_name, row.numeric_precision, row.numeric_scale),
        }),
      );
    },
    keyIsUnique: () => keyUnique,
    async extract(req: ExtractRequest): Promise<Extracted> {
      const c = await connect();
      if (req.signal.aborted) throw new SourceError(`${conn.where}: aborted before reading`);
      const where = req.cursor ? ` WHERE ${pgIdent(req.cursor.column)} >= ${c.escapeLiteral(req.cursor.from)}` : '';
      const select = `SELECT ${req.columns.map((col) => pgIdent(col.name)).join(', ')} FROM ${pgIdent(schema)}.${pgIdent(table)}${where}`;
      const onChunk = req.onChunk;
      // The pipes are made (one process, forked once the sizing query has left) while the table is
      // sized and the snapshot shared.
      const sizing = !onChunk ? Promise.resolve(['']) : sized?.parallel === (req.parallel ?? 1) ? sized.ranges : pageRanges(c, req.parallel ?? 1);
      sized = undefined;
      const fifos = onChunk ? makeFifos(req.stagingDir, req.parallel ?? 1) : Promise.resolve([]);
      let ranges = await sizing;
      const sessions = (ranges.length > 1 && (await sharedSnapshot(c, ranges.length))) || [c];
      ending = endSessions(early.splice(0)); // not waited for: the rows need none of them
      if (sessions.length < ranges.length) ranges = [''];
      const pipes = await fifos;
      // No named pipe (mkfifo failed): one stream into a staging file, read after.
      const piped = onChunk && pipes.length ? pipes.slice(0, ranges.length) : undefined;
      if (!piped) ranges = [''];
      const targets = piped ?? [join(req.stagingDir, 'rows.csv')];
      const digests = ranges.map(() => stagingDigest());
      const received = ranges.map(() => 0);
      let lastReport = 0;
      const progress = (i: number, n: number): void => {
        received[i] = n;
        const rows = received.reduce((a, b) => a + b, 0);
        if (rows - lastReport >= 50_000) {
          lastReport = rows;
          req.onRows(rows);
        }
      };
      const copies: CopyOut[] = [];
      const abort = () => {
        for (const copy of copies) copy.cancel(new Error('aborted'));
      };
      req.signal.addEventListener('abort', abort, { once: true });
      const failed = (e: unknown) => new SourceError(`${describeDbError(e, conn)} (reading ${schema}.${table})`);
      let rows: number;
      try {
        // One stream failing stops the others; the first failure is the one reported.
        const streams = ranges.map((w, i) =>
          exportTo(
            targets[i],
            (fd) => {
              const copy = copyOut(sessions[i], `COPY (${select}${w ? ` WHERE ${w}` : ''}) TO STDOUT WITH (FORMAT csv)`, fd, digests[i], (n) => progress(i, n));
              copies.push(copy);
              return copy;
            },
            piped && onChunk!(csvRelation(piped[i], req.columns)),
            failed,
          ).catch((e: unknown) => {
            abort();
            throw e;
          }),
        );
        const settled = await Promise.allSettled(streams);
        const bad = settled.find((r) => r.status === 'rejected');
        if (bad) throw (bad as PromiseRejectedResult).reason;
        rows = settled.reduce((n, r) => n + (r as PromiseFulfilledResult<number>).value, 0);
        if (sessions.length > 1) await Promise.all(sessions.map((s) => s.query('COMMIT')));
      } finally {
        req.signal.removeEventListener('abort', abort);
        await Promise.all(sessions.slice(1).map((s) => s.end().catch(() => undefined)));
      }
      req.onRows(rows);
      // One stream: the digest of its rows; several: of their digests in range order (a table of
      // the same size is cut the same way, so the same rows give the same digest).
      const hex = digests.map((d) => d.digest('hex'));
      const digest = hex.length === 1 ? hex[0] : stagingDigest().update(hex.join('\n')).digest('hex');
      return piped
        ? { rows, digest, relation: csvRelation(piped, req.columns), chunks: piped.length }
        : { rows, digest, relation: csvRelation(targets[0], req.columns) };
    },
    async close() {
      closed = true;
      const c = client;
      client = undefined;
      await Promise.all([endSessions(c ? [c] : []), endSessions(early.splice(0)), ending]);
    },
  };
}

/** A full read's streams each cover at least this many pages (4 MiB of 8 KiB pages): fewer are not worth a session. */
const MIN_PAGES = 512;

/**
 * One COPY (`start`, given the descriptor it writes to) into `target`: a named pipe that DuckDB
 * reads (`load`) while PostgreSQL is still writing, or a staging file (no `load`). Opening a pipe
 * waits for its reader. If DuckDB stops (a value its type cannot hold), the export is stopped and a
 * writer still waiting for a reader is released; the export failing on its own (the server or the
 * connection died) is the cause, and DuckDB seeing the pipe end early only a consequence. Returns
 * the rows exported.
 */
async function exportTo(
  target: string,
  start: (fd: Promise<number>) => CopyOut,
  load: Promise<void> | undefined,
  failed: (e: unknown) => Error,
): Promise<number> {
  const fd = openFile(target, 'w');
  const copy = start(fd);
  let released = false;
  load?.catch(() => {
    released = true;
    copy.cancel(new Error('the load into DuckDB stopped'));
    try {
      closeSync(openSync(target, constants.O_RDONLY | constants.O_NONBLOCK));
    } catch {
      // already gone
    }
  });
  let exportError: unknown;
  const exported = copy.done
    .catch((e: unknown) => {
      if (!released) exportError = e;
      throw e;
    })
    .finally(() =>
      fd.then(
        (d) => closeFile(d),
        () => undefined,
      ),
    );
  const [done, loaded] = await Promise.allSettled([exported, load]);
  if (exportError !== undefined) throw failed(exportError);
  if (loaded.status === 'rejected') throw loaded.reason;
  if (done.status === 'rejected') throw failed(done.reason);
  return done.value;
}

/** `n` named pipes in `dir` (one mkfifo process, not waited for on the event loop), or none where they cannot be made. */
function makeFifos(dir: string, n: number): Promise<string[]> {
  const paths = Array.from({ length: n }, (_, i) => join(dir, `rows-${i}.pipe`));
  return new Promise((resolve) => {
    execFile('mkfifo', ['-m', '600', ...paths], (err) => resolve(err ? [] : paths));
  });
}
