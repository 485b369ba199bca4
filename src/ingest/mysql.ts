// MySQL / MariaDB (mysql2): schema from information_schema, rows streamed from one query (the
// driver pauses the socket when the staging file cannot keep up, so memory stays flat) and written
// as CSV. Exactness: BIGINT and DECIMAL arrive as strings (supportBigNumbers + bigNumberStrings,
// decimalNumbers off), dates and times as the server's text (dateStrings) in a UTC session, so
// TIMESTAMP columns are UTC instants and DATETIME stays naive. No value passes through a JS float
// except FLOAT/DOUBLE columns, whose shortest round-trip text is exact.

import { rmSync } from 'node:fs';
import { join } from 'node:path';
import mysql from 'mysql2';
import { connectTimeoutMs, dbConnection, describeDbError } from './connection.js';
import type { ConnectorInput, Extracted, ExtractRequest, SourceColumn, SourceConnector } from './source.js';
import { mysqlToDuck } from './types.js';
import { StagingWriter, SourceError, csvField, csvRelation, ident, stagingDigest } from './staging.js';

const myIdent = (s: string): string => `\`${s.replace(/`/g, '``')}\``;

type Encoder = (v: unknown) => string;

function genericEncoder(duckType: string): Encoder {
  if (duckType === 'BLOB') return (v) => (v === null || v === undefined ? '' : csvField((Buffer.isBuffer(v) ? v : Buffer.from(String(v))).toString('hex')));
  return (v) => {
    if (v === null || v === undefined) return '';
    if (typeof v === 'number') return String(v);
    if (typeof v === 'string') return csvField(v);
    if (Buffer.isBuffer(v)) return csvField(v.toString('utf8'));
    if (typeof v === 'bigint') return v.toString();
    return csvField(JSON.stringify(v)); // MySQL JSON columns arrive parsed
  };
}

const PLAIN = /^(U?(TINYINT|SMALLINT|INTEGER|BIGINT)|DECIMAL\(\d+,\d+\)|FLOAT|DOUBLE)$/;

/**
 * One CSV line per row array, generated per column list: numbers, decimals and dates go out as they
 * come (they never need quoting), text is quoted when needed, anything else takes the generic path.
 * This loop is the hot path of a MySQL sync, hence no per-value closure calls for common types.
 */
function lineEncoder(columns: readonly SourceColumn[]): (row: unknown[]) => string {
  const generic = columns.map((c) => genericEncoder(c.duckType ?? 'VARCHAR'));
  const parts = columns.map((c, i) => {
    const t = c.duckType ?? 'VARCHAR';
    const v = `r[${i}]`;
    if (PLAIN.test(t)) return `(${v} === null ? '' : ${v})`;
    if (t === 'DATE' || t === 'TIMESTAMP' || t === 'TIMESTAMPTZ')
      return `(${v} === null || ${v}.charCodeAt(0) === 48 && ${v}.startsWith('0000-00-00') ? '' : ${v})`;
    if (t === 'VARCHAR') return `(typeof ${v} === 'string' ? (${v} === '' ? '""' : Q.test(${v}) ? '"' + ${v}.replace(DQ, '""') + '"' : ${v}) : g[${i}](${v}))`;
    return `g[${i}](${v})`;
  });
  // eslint-disable-next-line @typescript-eslint/no-implied-eval
  const make = new Function('g', 'Q', 'DQ', `return (r) => ${parts.join(" + ',' + ")} + '\\n';`) as (
    g: Encoder[],
    q: RegExp,
    dq: RegExp,
  ) => (row: unknown[]) => string;
  return make(generic, /[",\n\r]/, /"/g);
}

export function mysqlConnector(input: ConnectorInput): SourceConnector {
  const conn = dbConnection('mysql', input.settings);
  const table = input.node.stream.table ?? input.node.name;
  let client: mysql.Connection | undefined;

  const connect = async (): Promise<mysql.Connection> => {
    if (client) return client;
    const c = mysql.createConnection({
      host: conn.host,
      port: conn.port,
      database: conn.database,
      user: conn.user,
      password: conn.password,
      connectTimeout: connectTimeoutMs(),
      supportBigNumbers: true,
      bigNumberStrings: true,
      decimalNumbers: false,
      dateStrings: true,
      timezone: 'Z',
      charset: 'utf8mb4',
    });
    c.on('error', () => undefined);
    try {
      await new Promise<void>((resolve, reject) => c.connect((err) => (err ? reject(err) : resolve())));
      await query(c, "SET time_zone = '+00:00'");
    } catch (e) {
      c.destroy();
      throw new SourceError(describeDbError(e, conn));
    }
    client = c;
    return c;
  };

  return {
    where: `${conn.where} table ${table}`,
    streamsChunks: true,
    async discover() {
      const c = await connect();
      const rows = (await query(
        c,
        `SELECT COLUMN_NAME AS name, DATA_TYPE AS dataType, COLUMN_TYPE AS columnType, NUMERIC_PRECISION AS \`precision\`, NUMERIC_SCALE AS scale
           FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION`,
        [conn.database, table],
      ).catch((e: unknown) => {
        throw new SourceError(describeDbError(e, conn));
      })) as { name: string; dataType: string; columnType: string; precision: string | number | null; scale: string | number | null }[];
      if (!rows.length) throw new SourceError(`table ${table} not found in ${conn.where} (or user ${conn.user} may not read it)`);
      // MariaDB's JSON is LONGTEXT with a json_valid() check; MySQL has no TABLE_NAME there (ignored).
      const jsonCols = new Set<string>();
      try {
        const checks = (await query(
          c,
          'SELECT CHECK_CLAUSE AS clause FROM information_schema.CHECK_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = ? AND TABLE_NAME = ?',
          [conn.database, table],
        )) as { clause: string }[];
        for (const ch of checks) {
          const m = /^json_valid\(`([^`]+)`\)$/i.exec(ch.clause.trim());
          if (m) jsonCols.add(m[1]);
        }
      } catch {
        /* MySQL: JSON columns are typed json already */
      }
      const num = (v: string | number | null): number | null => (v === null ? null : Number(v));
      return rows.map((r) => ({
        name: r.name,
        sourceType: r.columnType,
        duckType: mysqlToDuck(r.dataType, r.columnType, num(r.precision), num(r.scale), jsonCols.has(r.name)),
      }));
    },
    async extract(req: ExtractRequest): Promise<Extracted> {
      const c = await connect();
      if (req.signal.aborted) throw new SourceError(`${conn.where}: aborted before reading`);
      const blobs = req.columns.filter((col) => col.duckType === 'BLOB');
      const stageTypes = Object.fromEntries(blobs.map((b) => [b.name, 'VARCHAR']));
      const relationOf = (files: string | string[]): string => {
        const base = csvRelation(files, req.columns, stageTypes);
        return blobs.length
          ? `(SELECT ${req.columns.map((col) => (col.duckType === 'BLOB' ? `unhex(${ident(col.name)}) AS ${ident(col.name)}` : ident(col.name))).join(', ')} FROM ${base})`
          : base;
      };
      // With onChunk, the staging file is cut every chunkRows rows and each finished chunk is handed
      // over (DuckDB turns it into Parquet on its own threads while the rows keep streaming in).
      const chunkRows = req.onChunk ? (req.chunkRows ?? 250_000) : Infinity;
      const files: string[] = [];
      const digest = stagingDigest();
      const nextFile = () => {
        const f = join(req.stagingDir, `rows-${String(files.length).padStart(4, '0')}.csv`);
        files.push(f);
        return new StagingWriter(f, digest);
      };
      let out = nextFile();
      let inChunk = 0;
      let total = 0;
      let chunks = 0;
      let converting: Promise<void> = Promise.resolve();
      let conversionError: unknown;
      const handOver = (w: StagingWriter, file: string) => {
        chunks++;
        converting = converting
          .then(() => w.close())
          .then(() => req.onChunk!(relationOf(file)))
          .then(() => rmSync(file, { force: true }))
          .catch((e: unknown) => {
            conversionError ??= e;
          });
      };
      const encode = lineEncoder(req.columns);
      const sql = `SELECT ${req.columns.map((col) => myIdent(col.name)).join(', ')} FROM ${myIdent(table)}${req.cursor ? ` WHERE ${myIdent(req.cursor.column)} >= ?` : ''}`;
      let lastReport = 0;
      try {
        await new Promise<void>((resolve, reject) => {
          const q = c.query({ sql, values: req.cursor ? [req.cursor.from] : [], rowsAsArray: true });
          let failed = false;
          const stop = () => {
            req.signal.removeEventListener('abort', onAbort);
            c.off('error', onLost);
            c.off('end', onLost);
          };
          const onAbort = () => {
            failed = true;
            stop();
            c.destroy();
            reject(new SourceError('aborted'));
          };
          // A server that dies mid-read (killed, restarted, network cut) fails the connection, not
          // always the query: mysql2 then never ends the query, so the connection's own error or end
          // must settle it, or the read would wait forever.
          const onLost = (e?: unknown) => {
            if (failed) return;
            failed = true;
            stop();
            c.destroy();
            reject(e ?? Object.assign(new Error('the server closed the connection'), { code: 'PROTOCOL_CONNECTION_LOST' }));
          };
          req.signal.addEventListener('abort', onAbort, { once: true });
          c.on('error', onLost);
          c.on('end', onLost);
          q.on('error', (e: unknown) => {
            if (failed) return;
            failed = true;
            stop();
            reject(e);
          });
          q.on('result', (row: unknown) => {
            if (!out.line(encode(row as unknown[]))) {
              c.pause();
              void out.drained().then(() => c.resume());
            }
            total++;
            if (++inChunk >= chunkRows) {
              handOver(out, files[files.length - 1]);
              out = nextFile();
              inChunk = 0;
            }
            if (total - lastReport >= 50_000) {
              lastReport = total;
              req.onRows(total);
            }
          });
          q.on('end', () => {
            if (failed) return;
            stop();
            resolve();
          });
        });
        if (req.onChunk && (inChunk > 0 || chunks === 0)) handOver(out, files[files.length - 1]);
        else await out.close();
        await converting;
      } catch (e) {
        out.destroy();
        if (e instanceof SourceError) throw e;
        throw new SourceError(`${describeDbError(e, conn)} (reading ${table})`);
      }
      if (conversionError) throw conversionError;
      req.onRows(total);
      return { rows: total, relation: relationOf(files), chunks, digest: digest.digest('hex') };
    },
    async close() {
      const c = client;
      client = undefined;
      // A connection the server dropped never answers the QUIT of end(): destroy it instead.
      if (c)
        await new Promise<void>((resolve) => {
          const t = setTimeout(() => {
            c.destroy();
            resolve();
          }, 1000);
          c.end(() => {
            clearTimeout(t);
            resolve();
          });
        });
    },
  };
}

function query(c: mysql.Connection, sql: string, values: unknown[] = []): Promise<unknown[]> {
  return new Promise((resolve, reject) => c.query(sql, values, (err, rows) => (err ? reject(err) : resolve(rows as unknown[]))));
}

export type { SourceColumn };
