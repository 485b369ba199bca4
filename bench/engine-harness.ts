// The embedded engine without ingestion or the planner, for bench/apply.bench.ts: synthetic bronze
// tables at seed scale written by DuckDB, and the churn nodes run through the real executors in
// topological order, with state kept in memory the way apply records it.

import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { NodeExecutor, NodeResult, RunContext } from '../src/engine/executor.js';
import { NodeError } from '../src/engine/executor.js';
import { ident, literal, openDuck } from '../src/engine/duckdb.js';
import { qualified } from '../src/engine/catalog.js';
import { onlineFeaturesSql } from '../src/engine/features.js';
import { loadPipeline } from '../src/dsl/load.js';
import { renderSql } from '../src/sql/transpile.js';
import { planMerge } from '../src/engine/merge-write.js';
import type { CleanseNode, FeaturesNode, ModelNode, PipelineIR, PipelineNode } from '../src/ir/types.js';
import type { NodeState, PipelineState } from '../src/planner/state-store.js';
import { Warehouse } from '../src/warehouse/warehouse.js';
import { inputTokens, SNAPSHOTS_KEPT } from '../src/engine/commit.js';
import { nodeDefinition } from '../src/planner/fingerprint.js';

export const SEED = { customers: 100_000, transactions: 1_200_000, tickets: 45_000 };

/** Deterministic pseudo-random bronze rows with the demo's columns (hash of the row number). */
export function bronzeSql(table: 'customers' | 'transactions' | 'support_tickets', n: number, offset = 0): string {
  const h = (salt: number) => `(hash(i * 7919 + ${salt}) % 1000000)::BIGINT`;
  switch (table) {
    case 'customers':
      return `SELECT i::BIGINT AS customer_id,
        CASE WHEN ${h(1)} < 15000 THEN NULL ELSE 'user' || i || '@example.com' END AS email,
        'First' || i AS first_name, 'Last' || i AS last_name,
        (DATE '2019-06-01' + INTERVAL (${h(2)} % 2300) DAY)::DATE AS registration_date,
        ['active', 'premium', 'inactive', 'suspended'][1 + ${h(3)} % 4] AS status,
        ['us', 'de', 'fr', 'gb', 'es', 'it', 'nl', 'se'][1 + ${h(4)} % 8] AS country, 'city' AS city,
        TIMESTAMP '2019-06-01' + INTERVAL (${h(5)} % 100000) MINUTE AS created_at,
        TIMESTAMP '2025-01-01' + INTERVAL (${h(6)} % 100000) MINUTE AS updated_at
      FROM range(${offset + 1}, ${offset + n + 1}) t(i)`;
    case 'transactions':
      return `SELECT i::BIGINT AS transaction_id, (1 + ${h(1)} % ${SEED.customers})::BIGINT AS customer_id, (i * 3)::BIGINT AS order_id,
        ((${h(2)} % 50000) / 100.0 - 5)::DECIMAL(10,2) AS amount,
        (DATE '2023-11-11' + INTERVAL (${h(3)} % 730) DAY)::DATE AS transaction_date,
        ['credit_card', 'paypal', 'debit_card', 'bank_transfer'][1 + ${h(4)} % 4] AS payment_method,
        ['completed', 'completed', 'completed', 'pending', 'failed'][1 + ${h(5)} % 5] AS status,
        TIMESTAMP '2023-11-11' + INTERVAL (i) SECOND * 50 AS created_at
      FROM range(${offset + 1}, ${offset + n + 1}) t(i)`;
    case 'support_tickets':
      return `SELECT i::BIGINT AS ticket_id, (1 + ${h(1)} % ${SEED.customers})::BIGINT AS customer_id,
        (TIMESTAMP '2023-11-11' + INTERVAL (${h(2)} % 1000000) MINUTE)::TIMESTAMPTZ AS created_at,
        (${h(3)} % 2000) / 10.0 AS resolution_time_hours, (1 + ${h(4)} % 5)::INTEGER AS satisfaction_score
      FROM range(${offset + 1}, ${offset + n + 1}) t(i)`;
  }
}

// A harness's folder (bronze tables, warehouse, bare DuckDB's output: 60-300 MB) goes when the
// process exits; left behind, every bench and profile run kept its own under the temp folder.
const folders = new Set<string>();
function removedAtExit(dir: string): string {
  if (!folders.size)
    process.once('exit', () => {
      for (const d of folders) rmSync(d, { recursive: true, force: true });
    });
  folders.add(dir);
  return dir;
}

export class EngineHarness {
  state: PipelineState = { schemaVersion: 2, pipeline: 'bench', lineage: 'bench', serial: 0, nodes: {} };
  readonly dir = removedAtExit(mkdtempSync(join(tmpdir(), 'asg-bench-')));
  readonly warehouse = new Warehouse(join(this.dir, 'warehouse'));
  constructor(readonly logicalTime = new Date('2025-11-11T00:00:00Z')) {}

  ctx<N extends PipelineNode>(ir: PipelineIR, node: N): RunContext<N> {
    return {
      ir,
      node,
      state: this.state,
      warehouse: this.warehouse,
      scratchDir: join(this.dir, 'cache', 'tmp'),
      logicalTime: this.logicalTime,
      resolve: (v) => {
        if (v.kind === 'literal') return v.value;
        throw new NodeError('no env in the bench');
      },
      progress: () => undefined,
      warn: () => undefined,
      signal: new AbortController().signal,
    };
  }

  /** Record a run as apply does (src/engine/commit.ts): definition, input snapshots, history, logical time. */
  record(id: string, kind: PipelineNode['kind'], r: NodeResult, node?: PipelineNode, ir?: PipelineIR): void {
    const prev = this.state.nodes[id];
    const snapshot = r.snapshot ?? prev?.snapshot;
    const history =
      snapshot && prev?.snapshot && snapshot.id !== prev.snapshot.id ? [prev.snapshot, ...(prev.history ?? [])].slice(0, SNAPSHOTS_KEPT - 1) : prev?.history;
    const ns: NodeState = {
      kind,
      fingerprint: '',
      metaFingerprint: '',
      definition: node && ir ? nodeDefinition(node, ir) : null,
      appliedAt: new Date().toISOString(),
      schema: r.schema ?? prev?.schema,
      snapshot,
      history,
      logicalTime: r.logicalTime ?? prev?.logicalTime,
      costs: r.costs ?? prev?.costs,
      inputSnapshots: node ? inputTokens(node, this.state) : undefined,
    };
    this.state = { ...this.state, serial: this.state.serial + 1, nodes: { ...this.state.nodes, [id]: ns } };
  }

  /** Write a table from a SELECT as ingestion would (one Parquet file per snapshot). */
  async write(table: string, select: string): Promise<void> {
    const conn = await openDuck();
    const d = await conn.runAndReadAll(`DESCRIBE ${select}`);
    const schema = d.getRowObjects().map((o) => ({ name: String(o.column_name), type: String(o.column_type) }));
    // Parquet 1, as a sync writes (src/ingest/source-executor.ts).
    const p = await this.warehouse.begin(table, schema, [], new Date(), { parquet1: true });
    const rows = await this.warehouse.write(conn, p, select);
    const snapshot = await this.warehouse.commit(p, conn);
    conn.closeSync();
    this.record(table, 'source', { rows, snapshot, schema });
  }

  /**
   * Merge rows into a table on `key` as ingestion's incremental sync does (src/ingest/source-executor.ts):
   * only the files holding one of the rows' keys are rewritten (src/engine/merge-write.ts).
   */
  async merge(table: string, select: string, key: string): Promise<void> {
    const prev = this.state.nodes[table];
    const conn = await openDuck();
    await conn.run(`CREATE TEMP TABLE fresh AS ${select}`);
    const plan = await planMerge(conn, await this.warehouse.scan(prev.snapshot!), prev.schema!, [[key, key]], 'fresh');
    const p = await this.warehouse.begin(table, prev.schema!, [], new Date(), { parquet1: true });
    const rows = await this.warehouse.write(conn, p, `SELECT * FROM (${plan.kept}) UNION ALL BY NAME SELECT * FROM fresh`);
    const snapshot = await this.warehouse.commit(p, conn, { base: prev.snapshot, remove: plan.hit });
    conn.closeSync();
    this.record(table, 'source', { rows, snapshot, schema: prev.schema });
  }

  async run<N extends PipelineNode>(ir: PipelineIR, node: N, exec: NodeExecutor<N>): Promise<NodeResult> {
    const r = await exec.run(this.ctx(ir, node));
    this.record(node.id, node.kind, r, node, ir);
    return r;
  }
}

export type EngineNode = CleanseNode | ModelNode | FeaturesNode;

/**
 * pipelines/churn.asg's engine nodes (silver, gold, the feature view) over seed-scale synthetic
 * bronze tables, with what a long-lived process has warm (polyglot's WASM, the transpile cache)
 * warmed, so the first timed run does not pay it and bare DuckDB does not get it for free.
 */
export async function churnHarness(): Promise<{ ir: PipelineIR; nodes: EngineNode[]; h: EngineHarness }> {
  const { ir } = await loadPipeline(fileURLToPath(new URL('../pipelines/churn.asg', import.meta.url)));
  if (!ir) throw new Error('pipelines/churn.asg does not load');
  const nodes = ir.nodes.filter((n): n is EngineNode => n.kind === 'cleanse' || n.kind === 'model' || n.kind === 'features');
  const h = new EngineHarness();
  await h.write('bronze.customers', bronzeSql('customers', SEED.customers));
  await h.write('bronze.transactions', bronzeSql('transactions', SEED.transactions));
  await h.write('bronze.support_tickets', bronzeSql('support_tickets', SEED.tickets));
  for (const n of nodes) if (n.kind !== 'features') renderSql(n.sql, { dialect: 'duckdb', tableRef: qualified, logicalTime: h.logicalTime });
  return { ir, nodes, h };
}

/**
 * Bare DuckDB over the harness's bronze tables: one in-memory database, each node's SQL (the feature
 * view's online-table SQL included, src/engine/features.ts) written by COPY … TO Parquet and read back
 * by the next as a view; no checks, no snapshots. What the engine's overhead is measured against.
 */
export async function bareDuck(h: EngineHarness): Promise<{ run(n: EngineNode): Promise<void>; close(): void }> {
  const conn = await openDuck();
  const out = join(h.dir, 'bare');
  mkdirSync(out, { recursive: true });
  for (const l of ['bronze', 'silver', 'gold', 'features']) await conn.run(`CREATE SCHEMA IF NOT EXISTS ${l}`);
  for (const id of ['bronze.customers', 'bronze.transactions', 'bronze.support_tickets']) {
    await conn.run(
      `CREATE VIEW ${qualified(id)} AS SELECT * FROM read_parquet([${(await h.warehouse.files(h.state.nodes[id].snapshot!)).map(literal).join(', ')}])`,
    );
  }
  return {
    async run(n) {
      const sql = n.kind === 'features' ? onlineFeaturesSql(n) : renderSql(n.sql, { dialect: 'duckdb', tableRef: qualified, logicalTime: h.logicalTime }).sql;
      const dir = join(out, n.id + '-' + Math.random().toString(36).slice(2));
      const part = n.kind !== 'features' && n.partitionBy.length ? `, PARTITION_BY (${n.partitionBy.map(ident).join(', ')})` : '';
      const target = part ? dir : `${dir}.parquet`;
      await conn.run(`COPY (${sql}) TO ${literal(target)} (FORMAT parquet${part})`);
      const glob = part ? join(dir, '**', '*.parquet') : target;
      await conn.run(`CREATE OR REPLACE VIEW ${qualified(n.id)} AS SELECT * FROM read_parquet(${literal(glob)}${part ? ', hive_partitioning = true' : ''})`);
    },
    close: () => conn.closeSync(),
  };
}
