// Read-only SQL over the warehouse, for `asgard query` and the server's `/data-products/query`.
//
// Read-only by construction, twice over:
//  1. The statement is parsed (polyglot, Spark SQL — the users' dialect) and refused unless it is
//     exactly one SELECT (or WITH … SELECT, or a set operation of SELECTs) whose tables are all
//     warehouse tables (`bronze.x`, `silver.x`, `gold.x`, `features.x`, or `iceberg.<layer>.x`) or
//     its own CTEs, and which calls no function that reads files, URLs or settings.
//  2. It runs on a connection that, once the warehouse views are attached, allows file access only
//     under the warehouse folder, has external access off and its configuration locked: COPY,
//     ATTACH, INSTALL, LOAD or SET would fail there even if the parser let one through.
// A row limit (one extra row is read to report truncation) and a time limit (DuckDB interrupt); rows
// are fetched chunk by chunk (streamReadOnlyQuery), never as one materialised result.

import type { DuckDBConnection } from '@duckdb/node-api';
import { parse } from '@polyglot-sql/sdk';
import type { PipelineIR } from '../ir/types.js';
import type { PipelineState } from '../planner/state-store.js';
import type { Warehouse } from '../warehouse/warehouse.js';
import { renderSql, mapTree } from '../sql/transpile.js';
import { attachWarehouse, qualified } from './catalog.js';
import { literal, openDuck, toPlain, type QueryResult, type Row } from './duckdb.js';

export type QueryErrorCode = 'refused' | 'invalid' | 'timeout' | 'failed';

/** A query that was refused, did not parse, timed out or failed. `code` maps to HTTP 400/400/408/422-ish. */
export class QueryError extends Error {
  constructor(
    readonly code: QueryErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export interface ReadOnlyQueryResult extends QueryResult {
  /** More rows existed than the limit allowed. */
  readonly truncated: boolean;
}

export interface QueryOptions {
  readonly limit?: number;
  readonly timeoutMs?: number;
}

const ALLOWED_TOP = new Set(['select', 'union', 'intersect', 'except', 'subquery']);
const TABLE_SCHEMAS = new Set(['bronze', 'silver', 'gold', 'features']);
/** Functions that read files, URLs, the environment or the catalogue of the engine itself. */
const FORBIDDEN_FUNCTION =
  /^(read_\w+|\w+_scan|scan_\w+|glob|sniff_csv|parquet_\w+|getenv|query|query_table|current_setting|duckdb_\w+|pragma_\w+|sqlite_\w+|postgres_\w+|mysql_\w+|iceberg_\w+|delta_\w+|load_\w+|export_\w+|install_\w+|httpfs\w*|icu_\w+|json_execute_serialized_sql|which_secret|enable_\w+|disable_\w+)$/i;

/** Check `sql` and return it transpiled to DuckDB, or throw QueryError('refused' | 'invalid'). */
export function readOnlySql(sql: string): string {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const r = parse(sql, 'spark' as never) as any;
  if (!r.success) throw new QueryError('invalid', `the query does not parse: ${String(r.error).split('\n')[0]}`);
  if (r.ast.length !== 1) throw new QueryError('refused', `exactly one statement is allowed; found ${r.ast.length}`);
  const top = Object.keys(r.ast[0])[0];
  if (!ALLOWED_TOP.has(top)) throw new QueryError('refused', `only a SELECT is allowed, not ${top.replace(/_statement$/, '').toUpperCase()}`);

  const ctes = new Set<string>();
  mapTree(r.ast, (n) => {
    if (Array.isArray(n.ctes)) for (const c of n.ctes) if (c?.alias?.name) ctes.add(String(c.alias.name).toLowerCase());
    return undefined;
  });
  mapTree(r.ast, (n) => {
    const keys = Object.keys(n);
    if (
      keys.length === 1 &&
      /^(insert|update|delete|merge|copy|attach|detach|install|load|pragma|set_statement|create\w*|drop\w*|alter\w*|command|export\w*|use)$/.test(keys[0])
    ) {
      throw new QueryError('refused', `only a SELECT is allowed, not ${keys[0].toUpperCase()}`);
    }
    if (n.into) throw new QueryError('refused', 'SELECT … INTO is not allowed');
    // By the statement's structure, not by names: a function qualified with a schema
    // (`main.glob(…)`) or called method-style escapes any list of names, and a function in FROM is a
    // table function (files, settings, catalogues), never a warehouse table.
    if (n.method_call)
      throw new QueryError(
        'refused',
        `${String(n.method_call.method?.name ?? 'a')}(…) called on a qualifier is not allowed: queries call plain functions only`,
      );
    if (n.function && String(n.function.name).includes('.')) {
      throw new QueryError('refused', `function ${n.function.name} is not allowed: a schema-qualified function is not a plain SQL function`);
    }
    const fromItems = [
      ...(Array.isArray(n.from?.expressions) ? n.from.expressions : []),
      ...(Array.isArray(n.joins) ? n.joins.map((j: { this?: unknown }) => j?.this) : []),
    ];
    for (const item of fromItems) {
      if (item && typeof item === 'object' && 'function' in item) {
        throw new QueryError(
          'refused',
          `function ${String((item as { function: { name: unknown } }).function.name)} is not allowed: FROM takes warehouse tables only, never a table function`,
        );
      }
    }
    if (n.function && FORBIDDEN_FUNCTION.test(String(n.function.name))) {
      throw new QueryError('refused', `function ${n.function.name} is not allowed: queries read warehouse tables only`);
    }
    if ('table' in n && n.table && typeof n.table === 'object' && n.table.name && typeof n.table.name.name === 'string' && 'schema' in n.table) {
      const t = n.table;
      const name = String(t.name.name);
      const schema = t.schema?.name ? String(t.schema.name).toLowerCase() : undefined;
      const catalog = t.catalog?.name ? String(t.catalog.name).toLowerCase() : undefined;
      const ok = schema ? TABLE_SCHEMAS.has(schema) && (!catalog || catalog === 'iceberg') : ctes.has(name.toLowerCase());
      if (!ok || (t.name.quoted && /[./\\]/.test(name))) {
        throw new QueryError(
          'refused',
          `${[catalog, schema, name].filter(Boolean).join('.')} is not a warehouse table; use bronze.<table>, silver.<table>, gold.<table> or features.<view>`,
        );
      }
    }
    return undefined;
  });

  const body = { text: sql, span: { file: '<query>', line: 1, column: 1, endLine: 1, endColumn: 1 }, reads: [], normalized: sql };
  const out = renderSql(body, { dialect: 'duckdb', tableRef: qualified });
  if (out.diagnostics.length) throw new QueryError('invalid', out.diagnostics[0].message);
  return out.sql;
}

/**
 * A connection with the warehouse attached and nothing else reachable: file access only under the
 * warehouse root, external access off, configuration locked.
 */
export async function openReadOnlyWarehouse(
  state: PipelineState,
  warehouse: Warehouse,
  ir?: PipelineIR,
  settings?: Readonly<Record<string, string>>,
): Promise<DuckDBConnection> {
  const conn = await openDuck(':memory:', settings);
  await attachWarehouse(conn, state, warehouse, { ir });
  await conn.run(`SET allowed_directories = [${literal(warehouse.root + '/')}]`);
  await conn.run(`SET enable_external_access = false`);
  await conn.run(`SET lock_configuration = true`);
  return conn;
}

const SINK_ROWS = 128;

/** Where a streamed query's result goes: its columns once, then its rows chunk by chunk. */
export interface QuerySink {
  columns(columns: QueryResult['columns']): void | Promise<void>;
  /** Return false to stop reading (the rest of the result is never fetched). */
  rows(rows: readonly Row[]): boolean | Promise<boolean>;
}

/**
 * The query's rows fetched from DuckDB chunk by chunk (about 2,048 rows each) into `sink`: the
 * result is never held whole, in DuckDB or here. At most `limit` rows (one more is read to report
 * truncation); the time limit covers the whole run, the sink's waits included.
 */
export async function streamReadOnlyQuery(
  conn: DuckDBConnection,
  sql: string,
  opts: QueryOptions,
  sink: QuerySink,
): Promise<{ rows: number; truncated: boolean }> {
  const limit = Math.max(0, Math.floor(opts.limit ?? 1000));
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const duck = readOnlySql(sql);
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    conn.interrupt();
  }, timeoutMs);
  let sinkFailed = false;
  const toSink = async <T>(f: () => T | Promise<T>): Promise<T> => {
    try {
      return await f();
    } catch (e) {
      sinkFailed = true;
      throw e;
    }
  };
  try {
    const result = await conn.stream(`SELECT * FROM (${duck}) AS asg_query LIMIT ${limit + 1}`);
    const names = result.columnNames();
    const types = result.columnTypes().map(String);
    await toSink(() => sink.columns(names.map((name, i) => ({ name, type: types[i] }))));
    let rows = 0;
    for (;;) {
      const chunk = await result.fetchChunk();
      // An interrupted stream ends like a finished one: never answer its rows as the whole result.
      if (timedOut) throw new Error('interrupted');
      if (!chunk || chunk.rowCount === 0) return { rows, truncated: false };
      const take = Math.min(chunk.rowCount, limit - rows);
      const vectors = names.map((_, c) => chunk.getColumnVector(c));
      // Converted and handed over SINK_ROWS at a time, so a sink that stops early (a JSON answer
      // over its byte limit) stops the conversion too.
      for (let from = 0; from < take; from += SINK_ROWS) {
        const out: Row[] = [];
        for (let r = from; r < Math.min(take, from + SINK_ROWS); r++) {
          const o: Row = {};
          for (let c = 0; c < names.length; c++) o[names[c]] = toPlain(vectors[c].getItem(r));
          out.push(o);
        }
        rows += out.length;
        if (!(await toSink(() => sink.rows(out)))) return { rows, truncated: true };
      }
      if (take < chunk.rowCount) return { rows, truncated: true };
    }
  } catch (e) {
    if (sinkFailed) throw e;
    if (timedOut) throw new QueryError('timeout', `the query ran longer than ${timeoutMs} ms and was stopped`);
    throw new QueryError('failed', (e as Error).message.split('\n')[0]);
  } finally {
    clearTimeout(timer);
  }
}

/** The whole (limited) result in memory: `asgard query`. */
export async function runReadOnlyQuery(conn: DuckDBConnection, sql: string, opts: QueryOptions = {}): Promise<ReadOnlyQueryResult> {
  let columns: QueryResult['columns'] = [];
  const rows: Row[] = [];
  const { truncated } = await streamReadOnlyQuery(conn, sql, opts, {
    columns: (c) => void (columns = c),
    rows: (r) => (rows.push(...r), true),
  });
  return { columns, rows, truncated };
}
