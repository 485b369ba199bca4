// The server's read-only window on the warehouse, for GET /features/{view}/{key} and
// POST /data-products/query. Read-only by construction: a DuckDB instance whose views point at the
// committed snapshots, then `allowed_directories` = the warehouse root, `enable_external_access`
// off and the configuration locked, so no statement can read or write any other file, ATTACH,
// INSTALL, LOAD or change a setting. On top, only a single SELECT is accepted, rows are capped and
// a statement past the time limit is interrupted. When the state file changes (an apply committed),
// a fresh instance is opened over the new snapshots. The seed's `iceberg.<layer>.<table>` names work too.

import { statSync } from 'node:fs';
import type { DuckDBConnection } from '@duckdb/node-api';
import { StatementType } from '@duckdb/node-api';
import type { FeaturesNode, PipelineIR } from '../ir/types.js';
import { StateStore } from '../planner/state-store.js';
import type { Warehouse } from '../warehouse/warehouse.js';
import { ident, literal, openDuck, toPlain } from '../engine/duckdb.js';
import { attachWarehouse, LAYERS, qualified } from '../engine/catalog.js';
import { HttpError } from './http.js';

export const DEFAULT_QUERY_LIMIT = 1000;
export const MAX_QUERY_LIMIT = 10_000;
export const QUERY_TIMEOUT_MS = 10_000;

interface Open {
  readonly mtimeMs: number;
  readonly conn: DuckDBConnection;
  readonly tables: readonly string[];
}

export interface QueryJson {
  readonly columns: readonly { readonly name: string; readonly type: string }[];
  readonly rows: readonly Record<string, unknown>[];
  readonly truncated: boolean;
}

export class WarehouseAccess {
  private open?: Promise<Open>;
  private queue: Promise<unknown> = Promise.resolve();
  private readonly store: StateStore;

  constructor(
    private readonly ir: PipelineIR,
    stateDir: string,
    private readonly warehouse: Warehouse,
  ) {
    this.store = new StateStore(stateDir, ir.name);
  }

  private stateMtime(): number {
    try {
      return statSync(this.store.file).mtimeMs;
    } catch {
      return -1;
    }
  }

  private async connection(): Promise<Open> {
    const mtimeMs = this.stateMtime();
    const cur = this.open ? await this.open.catch(() => undefined) : undefined;
    if (cur && cur.mtimeMs === mtimeMs) return cur;
    if (cur) cur.conn.closeSync();
    this.open = (async () => {
      const conn = await openDuck();
      const attached = await attachWarehouse(conn, this.store.read(), this.warehouse, { ir: this.ir });
      await conn.run(`ATTACH ':memory:' AS iceberg`);
      for (const l of LAYERS) await conn.run(`CREATE SCHEMA IF NOT EXISTS iceberg.${l}`);
      for (const t of attached) await conn.run(`CREATE OR REPLACE VIEW iceberg.${qualified(t.table)} AS SELECT * FROM memory.${qualified(t.table)}`);
      await conn.run(`SET allowed_directories = [${literal(this.warehouse.root + '/')}]`);
      await conn.run('SET enable_external_access = false');
      await conn.run('SET lock_configuration = true');
      return { mtimeMs, conn, tables: attached.map((t) => t.table) };
    })();
    return this.open;
  }

  /** Run `fn` alone on the connection (one statement at a time; interrupt only hits its own). */
  private exclusive<T>(fn: (o: Open) => Promise<T>): Promise<T> {
    const run = this.queue.then(async () => fn(await this.connection()));
    this.queue = run.catch(() => undefined);
    return run;
  }

  async tables(): Promise<readonly string[]> {
    return this.exclusive(async (o) => o.tables);
  }

  /** A single read-only SELECT, at most `limit` rows. */
  query(sql: string, limit = DEFAULT_QUERY_LIMIT, timeoutMs = QUERY_TIMEOUT_MS): Promise<QueryJson> {
    return this.exclusive(async ({ conn }) => {
      let extracted;
      try {
        extracted = await conn.extractStatements(sql);
      } catch (e) {
        throw new HttpError(400, 'invalid_sql', `sql does not parse: ${firstLine(e)}`, { field: 'sql' });
      }
      if (extracted.count !== 1) throw new HttpError(400, 'invalid_sql', `sql must be exactly one statement; found ${extracted.count}`, { field: 'sql' });
      let prepared;
      try {
        prepared = await extracted.prepare(0);
      } catch (e) {
        // Statements DuckDB refuses to even bind in the sandbox (COPY TO a file, ATTACH, SET of a
        // locked option) are writes or settings: say so rather than "invalid".
        const kw = leadingKeyword(sql);
        if (kw && !READ_KEYWORDS.has(kw)) throw new HttpError(400, 'read_only', `only a single SELECT is allowed on /data-products/query; ${kw} is refused`, { field: 'sql' });
        throw new HttpError(400, 'invalid_sql', `sql cannot run: ${firstLine(e)}`, { field: 'sql' });
      }
      if (prepared.statementType !== StatementType.SELECT) {
        throw new HttpError(400, 'read_only', `only a single SELECT is allowed on /data-products/query; this is a ${StatementType[prepared.statementType] ?? 'non-SELECT'} statement`, {
          field: 'sql',
        });
      }
      const timer = setTimeout(() => conn.interrupt(), timeoutMs);
      try {
        const reader = await prepared.runAndReadUntil(limit + 1);
        const names = reader.columnNames();
        const types = reader.columnTypes().map(String);
        const all = reader.getRows();
        const rows = all.slice(0, limit).map((r) => {
          const o: Record<string, unknown> = {};
          for (let i = 0; i < names.length; i++) o[names[i]] = toPlain(r[i]);
          return o;
        });
        return { columns: names.map((name, i) => ({ name, type: types[i] })), rows, truncated: all.length > limit };
      } catch (e) {
        const msg = firstLine(e);
        if (/interrupt/i.test(msg)) throw new HttpError(400, 'query_timeout', `the query ran longer than ${timeoutMs} ms and was stopped`, { field: 'sql' });
        throw new HttpError(400, 'invalid_sql', `sql failed: ${msg}`, { field: 'sql' });
      } finally {
        clearTimeout(timer);
      }
    });
  }

  /** The latest feature row of one entity (online semantics), or undefined. */
  features(view: FeaturesNode, key: string): Promise<{ timestamp: unknown; values: Record<string, unknown> } | undefined> {
    return this.exclusive(async ({ conn, tables }) => {
      if (!tables.includes(view.from)) throw new HttpError(404, 'not_materialized', `${view.from} (the source of ${view.id}) has no committed snapshot yet`);
      const cols = view.features.map((f) => ident(f.name)).join(', ');
      const stmt = await conn.prepare(
        `SELECT ${ident(view.timestamp)} AS __ts, ${cols} FROM ${qualified(view.from)} WHERE CAST(${ident(view.entity.joinKey)} AS VARCHAR) = $1 ORDER BY ${ident(view.timestamp)} DESC LIMIT 1`,
      );
      stmt.bindVarchar(1, key);
      const reader = await stmt.runAndReadAll();
      const rows = reader.getRows();
      if (rows.length === 0) return undefined;
      const values: Record<string, unknown> = {};
      view.features.forEach((f, i) => (values[f.name] = toPlain(rows[0][i + 1])));
      return { timestamp: toPlain(rows[0][0]), values };
    });
  }

  async close(): Promise<void> {
    const cur = this.open ? await this.open.catch(() => undefined) : undefined;
    this.open = undefined;
    cur?.conn.closeSync();
  }
}

const READ_KEYWORDS = new Set(['SELECT', 'WITH', 'FROM', 'VALUES', 'TABLE', '(']);

/** The statement's first keyword, after comments and whitespace (only to word an error). */
function leadingKeyword(sql: string): string | undefined {
  const s = sql.replace(/^(\s+|--[^\n]*\n?|\/\*[\s\S]*?\*\/)+/, '');
  const m = /^(\(|[A-Za-z_]+)/.exec(s);
  return m?.[1].toUpperCase();
}

function firstLine(e: unknown): string {
  return String((e as Error)?.message ?? e).split('\n')[0].slice(0, 300);
}
