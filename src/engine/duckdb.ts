// One place that opens DuckDB and turns its values into plain JS. 64-bit integers stay exact:
// they become numbers only when safe, strings otherwise; decimals are always strings.

import { DuckDBInstance, type DuckDBConnection, DuckDBDecimalValue } from '@duckdb/node-api';

export type Row = Record<string, unknown>;

export interface QueryResult {
  readonly columns: readonly { readonly name: string; readonly type: string }[];
  readonly rows: readonly Row[];
}

export async function openDuck(path = ':memory:', options: Record<string, string> = {}): Promise<DuckDBConnection> {
  // TimeZone cannot go in the creation options: DuckDB applies them before the (statically linked)
  // ICU extension is loaded and refuses the setting. Every session runs in UTC.
  const instance = await DuckDBInstance.create(path, options);
  const conn = await instance.connect();
  await conn.run(`SET TimeZone = 'UTC'`);
  return conn;
}

/** `count` connections to one new instance, each as openDuck's: queries on different connections run at the same time. */
export async function openDuckPool(count: number, path = ':memory:', options: Record<string, string> = {}): Promise<DuckDBConnection[]> {
  const instance = await DuckDBInstance.create(path, options);
  return Promise.all(
    Array.from({ length: count }, async () => {
      const conn = await instance.connect();
      await conn.run(`SET TimeZone = 'UTC'`);
      return conn;
    }),
  );
}

// Starting a DuckDB instance costs tens of milliseconds (hundreds on a loaded machine); a
// connection and an attached in-memory database cost about one. Executors that run one node each
// (src/engine/sql-executor.ts, features-executor.ts) share one instance per spill folder and work in
// a database of their own, so a node's tables, views and schemas are invisible to any other node.
const instances = new Map<string, Promise<{ instance: DuckDBInstance; detach: (db: string) => void }>>();
let databases = 0;

/**
 * A connection to a fresh in-memory database (the connection's default), on the process's DuckDB
 * instance that spills into `tempDirectory`. `closeSync()` closes it and drops the database.
 */
export async function openScratchDuck(tempDirectory: string): Promise<DuckDBConnection> {
  let shared = instances.get(tempDirectory);
  if (!shared) {
    shared = (async () => {
      const instance = await DuckDBInstance.create(':memory:', { temp_directory: tempDirectory });
      // Databases of closed connections are dropped by one connection of the instance's own, in turn.
      const janitor = await instance.connect();
      await janitor.run(`SET GLOBAL TimeZone = 'UTC'`);
      // Every node binds its inputs' Parquet files again (attach, DESCRIBE, the write, the checks):
      // their footers are read once per process. asgard never rewrites a data file in place (each
      // write has a folder of its own), and DuckDB checks a file's modification time anyway.
      await janitor.run('SET GLOBAL parquet_metadata_cache = true');
      let queue = Promise.resolve();
      const detach = (db: string): void => {
        queue = queue
          .then(() => janitor.run(`DETACH DATABASE IF EXISTS ${db}`))
          .then(
            () => undefined,
            () => undefined,
          );
      };
      return { instance, detach };
    })();
    shared.catch(() => instances.delete(tempDirectory));
    instances.set(tempDirectory, shared);
    // A long-lived process (serve, tests) meets many spill folders: keep the newest few instances
    // (one still in use lives on through its connections).
    if (instances.size > 4) instances.delete(instances.keys().next().value!);
  }
  const { instance, detach } = await shared;
  const conn = await instance.connect();
  const db = `asg_scratch_${++databases}`;
  // One call for the three statements: each call costs a round trip through DuckDB's client.
  await conn.run(`ATTACH ':memory:' AS ${db}; USE ${db}; SET TimeZone = 'UTC'`);
  const close = conn.closeSync.bind(conn);
  conn.closeSync = () => {
    close();
    detach(db);
  };
  return conn;
}

export async function queryAll(conn: DuckDBConnection, sql: string): Promise<QueryResult> {
  const reader = await conn.runAndReadAll(sql);
  const names = reader.columnNames();
  const types = reader.columnTypes().map(String);
  const rows = reader.getRows().map((r) => {
    const o: Row = {};
    names.forEach((n, i) => {
      o[n] = toPlain(r[i]);
    });
    return o;
  });
  return { columns: names.map((name, i) => ({ name, type: types[i] })), rows };
}

/** A DuckDB value as JSON-safe JS (see the header for the integer and decimal rules). */
export function toPlain(v: unknown): unknown {
  if (v === null || v === undefined) return null;
  if (typeof v === 'bigint') return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v.toString();
  if (v instanceof DuckDBDecimalValue) return v.toString();
  if (typeof v === 'object' && v !== null && 'toString' in v && !Array.isArray(v) && Object.getPrototypeOf(v) !== Object.prototype) return String(v);
  if (Array.isArray(v)) return v.map(toPlain);
  return v;
}

export { ident, literal } from './quote.js';
