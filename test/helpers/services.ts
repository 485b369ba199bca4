// Test access to the real services (PostgreSQL, MariaDB, the ticket API) that scripts/services.sh
// starts on loopback, plus per-test databases (`customers_t_<random>`, `orders_t_<random>`) so
// test files can run in parallel and never touch the demo's own databases.

import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import pg from 'pg';
import mysql from 'mysql2/promise';
import { loadDemo, pgConfig, mysqlConfig, type DbTarget } from '../../demo/load.js';
import type { DemoData } from '../../demo/generate.js';
import type { Connector, Resolvable, SourceNode, PipelineIR, Span } from '../../src/ir/types.js';
import { StateStore, type PipelineState } from '../../src/planner/state-store.js';
import { Warehouse } from '../../src/warehouse/warehouse.js';
import { resolver } from '../../src/engine/apply.js';
import type { NodeResult } from '../../src/engine/executor.js';
import { executor } from '../../src/ingest/source-executor.js';

const ROOT = resolve(import.meta.dirname, '..', '..');

export interface ServiceEnv {
  readonly CUSTOMER_DB_URL: string;
  readonly CUSTOMER_DB_PASSWORD: string;
  readonly TRANSACTIONS_DB_URL: string;
  readonly TRANSACTIONS_DB_PASSWORD: string;
  readonly SUPPORT_API_URL: string;
}

let cached: ServiceEnv | undefined;

/** The services' variables; starts the services through scripts/services.sh when they are not set. */
export function services(): ServiceEnv {
  if (cached) return cached;
  const e = process.env;
  if (e.CUSTOMER_DB_URL && e.TRANSACTIONS_DB_URL && e.SUPPORT_API_URL && e.CUSTOMER_DB_PASSWORD !== undefined && e.TRANSACTIONS_DB_PASSWORD !== undefined) {
    cached = {
      CUSTOMER_DB_URL: e.CUSTOMER_DB_URL,
      CUSTOMER_DB_PASSWORD: e.CUSTOMER_DB_PASSWORD,
      TRANSACTIONS_DB_URL: e.TRANSACTIONS_DB_URL,
      TRANSACTIONS_DB_PASSWORD: e.TRANSACTIONS_DB_PASSWORD,
      SUPPORT_API_URL: e.SUPPORT_API_URL,
    };
    return cached;
  }
  const out = execFileSync('bash', ['-c', 'source scripts/services.sh && services_up >&2 && env -0'], {
    cwd: ROOT,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    timeout: 600_000,
  });
  const vars: Record<string, string> = {};
  for (const kv of out.split('\0')) {
    const i = kv.indexOf('=');
    if (i > 0) vars[kv.slice(0, i)] = kv.slice(i + 1);
  }
  cached = {
    CUSTOMER_DB_URL: vars.CUSTOMER_DB_URL,
    CUSTOMER_DB_PASSWORD: vars.CUSTOMER_DB_PASSWORD,
    TRANSACTIONS_DB_URL: vars.TRANSACTIONS_DB_URL,
    TRANSACTIONS_DB_PASSWORD: vars.TRANSACTIONS_DB_PASSWORD,
    SUPPORT_API_URL: vars.SUPPORT_API_URL,
  };
  return cached;
}

export interface TestDatabases {
  readonly pg: DbTarget & { readonly database: string };
  readonly mysql: DbTarget & { readonly database: string };
  readonly data: DemoData;
  pgQuery(sql: string, params?: unknown[]): Promise<Record<string, unknown>[]>;
  myQuery(sql: string, params?: unknown[]): Promise<Record<string, unknown>[]>;
  drop(): Promise<void>;
}

/** Fresh databases holding `customers` generated customers (and their transactions). */
export async function testDatabases(customers: number, seed = 7): Promise<TestDatabases> {
  const env = services();
  const suffix = randomBytes(4).toString('hex');
  const pgT = { url: env.CUSTOMER_DB_URL, password: env.CUSTOMER_DB_PASSWORD, database: `customers_t_${suffix}` };
  const myT = { url: env.TRANSACTIONS_DB_URL, password: env.TRANSACTIONS_DB_PASSWORD, database: `orders_t_${suffix}` };
  const data = await loadDemo({ customers, seed, pg: pgT, mysql: myT });
  const pgQuery = async (sql: string, params: unknown[] = []) => {
    const c = new pg.Client(pgConfig(pgT));
    await c.connect();
    try {
      return (await c.query(sql, params)).rows as Record<string, unknown>[];
    } finally {
      await c.end();
    }
  };
  const myQuery = async (sql: string, params: unknown[] = []) => {
    const c = await mysql.createConnection({ ...mysqlConfig(myT), supportBigNumbers: true, bigNumberStrings: true, dateStrings: true });
    try {
      const [rows] = await c.query(sql, params);
      return rows as Record<string, unknown>[];
    } finally {
      await c.end();
    }
  };
  return {
    pg: pgT,
    mysql: myT,
    data,
    pgQuery,
    myQuery,
    async drop() {
      const admin = new pg.Client({ ...pgConfig(pgT), database: 'postgres' });
      await admin.connect();
      await admin.query(`DROP DATABASE IF EXISTS "${pgT.database}" WITH (FORCE)`).finally(() => admin.end());
      const c = await mysql.createConnection({ ...mysqlConfig(myT), database: undefined });
      await c.query(`DROP DATABASE IF EXISTS \`${myT.database}\``).finally(() => c.end());
    },
  };
}

/** A URL with another database (and no password). */
export function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.password = '';
  u.pathname = `/${database}`;
  return u.toString();
}

const span: Span = { file: '/tmp/test.asg', line: 1, column: 1, endLine: 1, endColumn: 2 };
export const lit = (value: string | number | boolean): Resolvable => ({ kind: 'literal', value });
export const secret = (name: string): Resolvable => ({ kind: 'secret', name });

export function sourceNode(
  name: string,
  connector: { type: Connector['type']; settings: Record<string, Resolvable> },
  stream: Partial<SourceNode['stream']> = {},
): SourceNode {
  return {
    id: `bronze.${name}`,
    kind: 'source',
    layer: 'bronze',
    name,
    span,
    inputs: [],
    connector: { name: `${name}_src`, type: connector.type, settings: connector.settings, span },
    stream: { primaryKey: [], mode: 'full_refresh', ...stream },
  };
}

/** A temp state folder with its store and warehouse, and a way to run one source node like apply does. */
export class SourceHarness {
  readonly dir: string;
  readonly store: StateStore;
  readonly warehouse: Warehouse;

  constructor() {
    this.dir = mkdtempSync(join(tmpdir(), 'asgard-ingest-'));
    this.store = new StateStore(this.dir, 'test');
    this.warehouse = new Warehouse(join(this.dir, 'warehouse'));
  }

  /** Run the executor; on success record snapshot, schema and cursor in state (as apply does). */
  async run(
    node: SourceNode,
    env: Record<string, string | undefined>,
    signal = new AbortController().signal,
    onProgress?: (p: { rows: number; message?: string }) => void,
  ): Promise<{ result: NodeResult; progress: number[]; warnings: string[] }> {
    const state = this.store.read();
    const progress: number[] = [];
    const warnings: string[] = [];
    const ir: PipelineIR = { schemaVersion: 1, name: 'test', file: span.file, warehouse: this.warehouse.root, nodes: [node], edges: [], profiles: {} };
    const result = await executor.run({
      ir,
      node,
      state,
      warehouse: this.warehouse,
      scratchDir: join(this.dir, 'cache', 'tmp'),
      logicalTime: new Date('2025-11-11T00:00:00Z'),
      resolve: resolver(env, new Set()),
      progress: (p) => {
        progress.push(p.rows);
        onProgress?.(p);
      },
      warn: (m) => warnings.push(m),
      signal,
    });
    const prev = state.nodes[node.id];
    this.store.commitNode(node.id, {
      kind: 'source',
      fingerprint: 'test',
      metaFingerprint: 'test',
      definition: {},
      schema: result.schema,
      snapshot: result.snapshot,
      ...(result.cursor !== undefined ? { cursor: result.cursor } : prev?.cursor !== undefined ? { cursor: prev.cursor } : {}),
      ...(result.files ? { files: result.files } : {}),
      ...(result.read ? { read: result.read } : {}),
      appliedAt: new Date().toISOString(),
    });
    return { result, progress, warnings };
  }

  state(): PipelineState {
    return this.store.read();
  }

  /** Every file under the state folder (state, warehouse, caches). */
  files(): string[] {
    return listFiles(this.dir);
  }
}

export function listFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir)) {
    const p = join(dir, e);
    if (statSync(p).isDirectory()) out.push(...listFiles(p));
    else out.push(p);
  }
  return out;
}

/** Files under `dir` whose bytes contain `needle`. */
export function filesContaining(dir: string, needle: string): string[] {
  return listFiles(dir).filter((f) => readFileSync(f).includes(Buffer.from(needle)));
}
