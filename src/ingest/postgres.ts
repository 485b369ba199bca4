// PostgreSQL: schema from information_schema, rows through `COPY (SELECT …) TO STDOUT` in CSV
// (PostgreSQL's own bulk export: no row ever becomes a JS object, memory stays flat). A full read
// streams the CSV through a named pipe that DuckDB reads while PostgreSQL is still writing, so the
// export and the Parquet write overlap (the executor's onChunk); an incremental read, which the
// executor merges after reading, goes to a staging file. The session runs in UTC with ISO dates,
// so timestamptz values arrive as UTC instants and numeric/int8 as their exact text.

import { spawnSync } from 'node:child_process';
import { closeSync, constants, createWriteStream, openSync } from 'node:fs';
import { join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import { to as copyTo } from 'pg-copy-streams';
import { connectTimeoutMs, dbConnection, describeDbError } from './connection.js';
import type { ConnectorInput, Extracted, ExtractRequest, SourceConnector } from './source.js';
import { postgresToDuck } from './types.js';
import { SourceError, csvRelation, stagingDigest } from './staging.js';

const pgIdent = (s: string): string => `"${s.replace(/"/g, '""')}"`;

export function postgresConnector(input: ConnectorInput): SourceConnector {
  const conn = dbConnection('postgres', input.settings);
  const qualified = input.node.stream.table ?? input.node.name;
  const [schema, table] = qualified.includes('.') ? (qualified.split('.', 2) as [string, string]) : [conn.schema ?? 'public', qualified];
  let client: pg.Client | undefined;

  const connect = async (): Promise<pg.Client> => {
    if (client) return client;
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
    client = c;
    return c;
  };

  return {
    where: `${conn.where} table ${schema}.${table}`,
    async discover() {
      const c = await connect();
      const r = await c
        .query(
          `SELECT column_name, data_type, udt_name, numeric_precision, numeric_scale
             FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2 ORDER BY ordinal_position`,
          [schema, table],
        )
        .catch((e: unknown) => {
          throw new SourceError(describeDbError(e, conn));
        });
      if (!r.rowCount) throw new SourceError(`table ${schema}.${table} not found in ${conn.where} (or user ${conn.user} may not read it)`);
      return r.rows.map(
        (row: { column_name: string; data_type: string; udt_name: string; numeric_precision: number | null; numeric_scale: number | null }) => ({
          name: row.column_name,
          sourceType: row.data_type === 'USER-DEFINED' ? row.udt_name : row.data_type,
          duckType: postgresToDuck(row.data_type, row.udt_name, row.numeric_precision, row.numeric_scale),
        }),
      );
    },
    async extract(req: ExtractRequest): Promise<Extracted> {
      const c = await connect();
      if (req.signal.aborted) throw new SourceError(`${conn.where}: aborted before reading`);
      const file = join(req.stagingDir, 'rows.csv');
      const where = req.cursor ? ` WHERE ${pgIdent(req.cursor.column)} >= ${c.escapeLiteral(req.cursor.from)}` : '';
      const select = `SELECT ${req.columns.map((col) => pgIdent(col.name)).join(', ')} FROM ${pgIdent(schema)}.${pgIdent(table)}${where}`;
      const copy = c.query(copyTo(`COPY (${select}) TO STDOUT WITH (FORMAT csv)`));
      let rows = 0;
      let lastReport = 0;
      const digest = stagingDigest();
      // Count lines as they pass (a newline inside a quoted value is rare; the count is only progress).
      const counter = new Transform({
        transform(chunk: Buffer, _enc, cb) {
          digest.update(chunk);
          for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) rows++;
          if (rows - lastReport >= 50_000) {
            lastReport = rows;
            req.onRows(rows);
          }
          cb(null, chunk);
        },
      });
      const abort = () => copy.destroy(new Error('aborted'));
      req.signal.addEventListener('abort', abort, { once: true });
      const pipe = req.onChunk ? makeFifo(join(req.stagingDir, 'rows.pipe')) : undefined;
      try {
        if (pipe && req.onChunk) {
          // DuckDB reads the pipe while PostgreSQL writes it. If DuckDB stops (a value its type
          // cannot hold), the export is stopped and a writer still waiting for a reader is released.
          const load = req.onChunk(csvRelation(pipe, req.columns));
          let released = false;
          const release = () => {
            released = true;
            copy.destroy(new Error('the load into DuckDB stopped'));
            try {
              closeSync(openSync(pipe, constants.O_RDONLY | constants.O_NONBLOCK));
            } catch {
              // already gone
            }
          };
          load.catch(release);
          // The export failing on its own (the server or the connection died) is the cause; DuckDB
          // then sees the pipe end early, which is only a consequence.
          let exportError: unknown;
          const exported = pipeline(copy, counter, createWriteStream(pipe, { highWaterMark: 1 << 20 })).catch((e: unknown) => {
            if (!released) exportError = e;
            throw e;
          });
          const [, loaded] = await Promise.allSettled([exported, load]);
          if (exportError !== undefined) throw new SourceError(`${describeDbError(exportError, conn)} (reading ${schema}.${table})`);
          if (loaded.status === 'rejected') throw loaded.reason;
        } else {
          await pipeline(copy, counter, createWriteStream(file, { highWaterMark: 1 << 20 })).catch((e: unknown) => {
            throw new SourceError(`${describeDbError(e, conn)} (reading ${schema}.${table})`);
          });
        }
      } finally {
        req.signal.removeEventListener('abort', abort);
      }
      const exact = Number((copy as unknown as { rowCount?: number }).rowCount ?? rows);
      req.onRows(exact);
      const staged = { rows: exact, digest: digest.digest('hex') };
      return pipe ? { ...staged, relation: csvRelation(pipe, req.columns), chunks: 1 } : { ...staged, relation: csvRelation(file, req.columns) };
    },
    async close() {
      const c = client;
      client = undefined;
      if (c) await c.end().catch(() => undefined);
    },
  };
}

/** A named pipe at `path` (mkfifo), or undefined where none can be made (the staging file is used then). */
function makeFifo(path: string): string | undefined {
  const r = spawnSync('mkfifo', ['-m', '600', path]);
  return r.status === 0 ? path : undefined;
}
