// The server's read-only window on the warehouse, for GET /features/{view}/{key} and
// POST /data-products/query, on the engine's read-only connection (src/engine/query.ts: views over
// the committed snapshots, file access only under the warehouse root, external access off,
// configuration locked) and its guards (one SELECT, no file-reading functions, row and time
// limits) and online feature lookup (src/engine/features.ts). Statements run one at a time on the
// connection; when the state file changes (an apply committed), a fresh connection is opened over
// the new snapshots.

import { statSync } from 'node:fs';
import type { DuckDBConnection } from '@duckdb/node-api';
import type { FeaturesNode, PipelineIR } from '../ir/types.js';
import type { StateStore } from '../planner/state-store.js';
import type { Warehouse } from '../warehouse/warehouse.js';
import { openReadOnlyWarehouse, QueryError, runReadOnlyQuery } from '../engine/query.js';
import { onlineFeatures } from '../engine/features.js';
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

const QUERY_STATUS: Record<QueryError['code'], [number, string]> = {
  refused: [400, 'read_only'],
  invalid: [400, 'invalid_sql'],
  timeout: [400, 'query_timeout'],
  failed: [400, 'query_failed'],
};

export class WarehouseAccess {
  private open?: Promise<Open>;
  private queue: Promise<unknown> = Promise.resolve();
  constructor(
    private readonly ir: PipelineIR,
    private readonly store: StateStore,
    private readonly warehouse: Warehouse,
  ) {}

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
      const state = this.store.read();
      const conn = await openReadOnlyWarehouse(state, this.warehouse, this.ir);
      const reader = await conn.runAndReadAll(`SELECT schema_name || '.' || view_name FROM duckdb_views() WHERE NOT internal AND schema_name IN ('bronze', 'silver', 'gold')`);
      return { mtimeMs, conn, tables: reader.getRows().map((r) => String(r[0])) };
    })();
    return this.open;
  }

  /** Run `fn` alone on the connection (one statement at a time; an interrupt only hits its own). */
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
      try {
        const r = await runReadOnlyQuery(conn, sql, { limit, timeoutMs });
        return { columns: r.columns, rows: r.rows as Record<string, unknown>[], truncated: r.truncated };
      } catch (e) {
        if (e instanceof QueryError) {
          const [status, code] = QUERY_STATUS[e.code] ?? [400, 'invalid_sql'];
          throw new HttpError(status, code, e.message, { field: 'sql' });
        }
        throw e;
      }
    });
  }

  /** The latest feature row of one entity (online semantics), or undefined. */
  features(view: FeaturesNode, key: string): Promise<{ timestamp: unknown; values: Record<string, unknown> } | undefined> {
    return this.exclusive(async ({ conn, tables }) => {
      if (!tables.includes(view.from)) throw new HttpError(404, 'not_materialized', `${view.from} (the source of ${view.id}) has no committed snapshot yet`);
      const row = (await onlineFeatures(conn, view, [key])).get(key);
      if (!row) return undefined;
      const values: Record<string, unknown> = {};
      for (const f of view.features) values[f.name] = row[f.name] ?? null;
      return { timestamp: row[view.timestamp] ?? null, values };
    });
  }

  async close(): Promise<void> {
    const cur = this.open ? await this.open.catch(() => undefined) : undefined;
    this.open = undefined;
    cur?.conn.closeSync();
  }
}
