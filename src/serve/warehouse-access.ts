// The server's read-only window on the warehouse for GET /features/{view}/{key}, inference by entity
// and /health, on the engine's read-only connection (src/engine/query.ts: views over the committed
// snapshots, file access only under the warehouse root, external access off, configuration locked)
// and its online feature lookup (src/engine/features.ts). When the state file changes (an apply
// committed), a fresh connection is opened over the new snapshots.
//
// POST /data-products/query does not run here: its engines run in processes of their own at the
// lowest priority (src/serve/query-door.ts), so heavy queries never make these endpoints wait.

import { statSync } from 'node:fs';
import type { DuckDBConnection } from '@duckdb/node-api';
import type { FeaturesNode, PipelineIR } from '../ir/types.js';
import { nodeAddress } from '../ir/address.js';
import type { StateStore } from '../planner/state-store.js';
import type { Warehouse } from '../warehouse/warehouse.js';
import { openReadOnlyWarehouse } from '../engine/query.js';
import { onlineFeatures } from '../engine/features.js';
import { literal, queryAll } from '../engine/duckdb.js';
import { HttpError } from './http.js';
import { readServedState } from './state.js';

interface Open {
  readonly mtimeMs: number;
  readonly conn: DuckDBConnection;
  readonly tables: readonly string[];
  /** The DuckDB type of each feature view's join key in its source table, once looked up. */
  readonly keyTypes: Map<string, string>;
}

const INTEGER_TYPE = /^U?(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT)$/;

async function joinKeyType(conn: DuckDBConnection, view: FeaturesNode): Promise<string> {
  const { prefix: schema, name: table } = nodeAddress(view.from);
  const r = await queryAll(
    conn,
    `SELECT data_type FROM duckdb_columns() WHERE schema_name = ${literal(schema)} AND table_name = ${literal(table)} AND column_name = ${literal(view.entity.joinKey)}`,
  );
  return String(r.rows[0]?.data_type ?? 'VARCHAR');
}

async function cachedKeyType(conn: DuckDBConnection, view: FeaturesNode, keyTypes: Map<string, string>): Promise<string> {
  let type = keyTypes.get(view.id);
  if (type === undefined) {
    type = await joinKeyType(conn, view);
    keyTypes.set(view.id, type);
  }
  return type;
}

/**
 * A key the join key's type cannot hold (`abc` or a 26-digit number for a BIGINT, a control
 * character anywhere) is 400 naming the key and its type, before any lookup.
 */
async function checkKey(conn: DuckDBConnection, view: FeaturesNode, type: string, key: string): Promise<void> {
  const field = view.entity.joinKey;
  const bad = (why: string) =>
    new HttpError(400, 'invalid_key', `${field} must be ${why}, got ${JSON.stringify(key.length > 40 ? key.slice(0, 40) + '…' : key)}`, {
      field,
      expected: type,
    });
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it looks for
  if (/[\u0000-\u001f\u007f]/.test(key)) throw bad(`a ${type} without control characters`);
  if (type === 'VARCHAR') return;
  if (INTEGER_TYPE.test(type) && !/^-?[0-9]+$/.test(key)) throw bad(`an integer (${type})`);
  if (key.trim() !== key || key === '') throw bad(`a ${type}`);
  const r = await queryAll(conn, `SELECT TRY_CAST(${literal(key)} AS ${type}) IS NOT NULL AS ok`);
  if (!r.rows[0]?.ok) throw bad(INTEGER_TYPE.test(type) ? `an integer within the range of ${type}` : `a ${type}`);
}

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

  private openEngine(mtimeMs: number): Promise<Open> {
    return (async () => {
      const state = readServedState(this.store);
      const conn = await openReadOnlyWarehouse(state, this.warehouse, this.ir);
      const reader = await conn.runAndReadAll(
        `SELECT schema_name || '.' || view_name FROM duckdb_views() WHERE NOT internal AND schema_name IN ('bronze', 'silver', 'gold')`,
      );
      return { mtimeMs, conn, tables: reader.getRows().map((r) => String(r[0])), keyTypes: new Map() };
    })();
  }

  private async connection(): Promise<Open> {
    const mtimeMs = this.stateMtime();
    const cur = this.open ? await this.open.catch(() => undefined) : undefined;
    if (cur && cur.mtimeMs === mtimeMs) return cur;
    if (cur) cur.conn.closeSync();
    this.open = this.openEngine(mtimeMs);
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

  /** The latest feature row of one entity (online semantics), or undefined. */
  features(view: FeaturesNode, key: string): Promise<{ timestamp: unknown; values: Record<string, unknown> } | undefined> {
    return this.exclusive(async ({ conn, tables, keyTypes }) => {
      if (!tables.includes(view.from)) throw new HttpError(404, 'not_materialized', `${view.from} (the source of ${view.id}) has no committed snapshot yet`);
      const type = await cachedKeyType(conn, view, keyTypes);
      await checkKey(conn, view, type, key);
      const row = (await onlineFeatures(conn, view, [key])).get(key);
      if (!row) return undefined;
      const values: Record<string, unknown> = {};
      for (const f of view.features) values[f.name] = row[f.name] ?? null;
      return { timestamp: row[view.timestamp] ?? null, values };
    });
  }

  /**
   * The latest feature rows of several entities, in their order, for inference by entity: each
   * entity's join key is checked as for GET /features (400 naming `entities[i].<key>`), an entity
   * without a row is 404 naming it.
   */
  entityFeatures(view: FeaturesNode, entities: readonly Record<string, unknown>[]): Promise<Record<string, unknown>[]> {
    return this.exclusive(async ({ conn, tables, keyTypes }) => {
      if (!tables.includes(view.from)) throw new HttpError(404, 'not_materialized', `${view.from} (the source of ${view.id}) has no committed snapshot yet`);
      const joinKey = view.entity.joinKey;
      const type = await cachedKeyType(conn, view, keyTypes);
      const keys: string[] = [];
      for (let i = 0; i < entities.length; i++) {
        const k = entities[i][joinKey];
        const field = `entities[${i}].${joinKey}`;
        if (k === undefined || k === null) throw new HttpError(400, 'invalid_body', `${field} is missing: an entity names its ${joinKey}`, { field });
        if (typeof k !== 'string' && typeof k !== 'number')
          throw new HttpError(400, 'invalid_key', `${field} must be a string or number, got ${Array.isArray(k) ? 'an array' : typeof k}`, {
            field,
            expected: type,
          });
        try {
          await checkKey(conn, view, type, String(k));
        } catch (e) {
          if (e instanceof HttpError) throw new HttpError(e.status, e.code, `${field}: ${e.message}`, { field, expected: type });
          throw e;
        }
        keys.push(String(k));
      }
      const rows = await onlineFeatures(conn, view, [...new Set(keys)]);
      return keys.map((k, i) => {
        const row = rows.get(k);
        if (!row)
          throw new HttpError(
            404,
            'unknown_entity',
            `${view.entity.name} ${JSON.stringify(entities[i][joinKey])} (entities[${i}]) has no features in ${view.name}`,
            { field: `entities[${i}].${joinKey}`, view: view.name },
          );
        return row;
      });
    });
  }

  async close(): Promise<void> {
    const cur = this.open ? await this.open.catch(() => undefined) : undefined;
    this.open = undefined;
    cur?.conn.closeSync();
  }
}
