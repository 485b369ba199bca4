// Hand-made IR pieces for the engine's tests (the DSL's loader is tested on its own).
import { readFileSync } from 'node:fs';
import type { SqlBody, Span } from '../../src/ir/types.js';

export const span = (line = 1, column = 1, file = '/spec.asg'): Span => ({ file, line, column, endLine: line, endColumn: column + 1 });

export function body(text: string, line = 10, column = 11, file = '/spec.asg'): SqlBody {
  return { text, span: span(line, column, file), reads: [], normalized: text };
}

/** The SQL bodies of pipelines/churn.asg by block name, with their true spans (found by reading the file). */
export function churnBodies(): Map<string, SqlBody> {
  const file = new URL('../../pipelines/churn.asg', import.meta.url).pathname;
  const src = readFileSync(file, 'utf8');
  const out = new Map<string, SqlBody>();
  const re = /(cleanse|model)\s+(\w+)\s*\{[\s\S]*?sql """([\s\S]*?)"""/g;
  for (let m = re.exec(src); m; m = re.exec(src)) {
    const start = m.index + m[0].length - m[3].length - 3;
    const before = src.slice(0, start);
    const line = before.split('\n').length;
    const column = start - before.lastIndexOf('\n');
    out.set(m[2], { text: m[3], span: { file, line, column, endLine: line, endColumn: column + 1 }, reads: [], normalized: m[3] });
  }
  return out;
}

import type { Check, CleanseNode, FeaturesNode, ModelNode, PipelineIR, PipelineNode, SourceNode } from '../../src/ir/types.js';

export function source(name: string, columns: [string, string][], primaryKey: string[] = [columns[0][0]]): SourceNode {
  return {
    id: `bronze.${name}`,
    kind: 'source',
    layer: 'bronze',
    name,
    span: span(),
    inputs: [],
    connector: { name: 'db', type: 'file', settings: {}, span: span() },
    stream: { primaryKey, columns: columns.map(([n, type]) => ({ name: n, type })), mode: 'full_refresh' },
  };
}

export function cleanse(name: string, sql: SqlBody, inputs: string[], extra: Partial<CleanseNode> = {}): CleanseNode {
  return {
    id: `silver.${name}`,
    kind: 'cleanse',
    layer: 'silver',
    name,
    span: span(),
    inputs,
    sql: { ...sql, reads: inputs },
    partitionBy: [],
    mode: 'overwrite',
    checks: [],
    ...extra,
  };
}

export function model(name: string, sql: SqlBody, inputs: string[], extra: Partial<ModelNode> = {}): ModelNode {
  return {
    id: `gold.${name}`,
    kind: 'model',
    layer: 'gold',
    name,
    span: span(),
    inputs,
    sql: { ...sql, reads: inputs },
    materialized: 'table',
    uniqueKey: [],
    partitionBy: [],
    checks: [],
    ...extra,
  };
}

export const check = (kind: Check['kind'], extra: Partial<Check> = {}): Check => ({
  kind,
  name: `${kind}(${extra.column ?? ''})`,
  span: span(50, 5),
  ...extra,
});

export function ir(nodes: PipelineNode[], file = '/spec.asg'): PipelineIR {
  const edges = nodes.flatMap((n) => n.inputs.map((from) => ({ from, to: n.id }))).sort((a, b) => (a.from + a.to).localeCompare(b.from + b.to));
  return { schemaVersion: 1, name: 'test', file, warehouse: './wh', nodes, edges, profiles: {} };
}

/** pipelines/churn.asg's nodes up to the feature view, built by hand with the real SQL bodies and spans. */
export function churnIR(): PipelineIR {
  const b = churnBodies();
  const customers = source('customers', [
    ['customer_id', 'BIGINT'],
    ['email', 'VARCHAR'],
    ['first_name', 'VARCHAR'],
    ['last_name', 'VARCHAR'],
    ['registration_date', 'DATE'],
    ['status', 'VARCHAR'],
    ['country', 'VARCHAR'],
    ['city', 'VARCHAR'],
    ['created_at', 'TIMESTAMP'],
    ['updated_at', 'TIMESTAMP'],
  ]);
  const transactions = source('transactions', [
    ['transaction_id', 'BIGINT'],
    ['customer_id', 'BIGINT'],
    ['order_id', 'BIGINT'],
    ['amount', 'DECIMAL(10,2)'],
    ['transaction_date', 'DATE'],
    ['payment_method', 'VARCHAR'],
    ['status', 'VARCHAR'],
    ['created_at', 'TIMESTAMP'],
  ]);
  const tickets = source('support_tickets', [
    ['ticket_id', 'BIGINT'],
    ['customer_id', 'BIGINT'],
    ['created_at', 'TIMESTAMPTZ'],
    ['resolution_time_hours', 'DOUBLE'],
    ['satisfaction_score', 'INTEGER'],
  ]);
  const cc = cleanse('customers_cleaned', b.get('customers_cleaned')!, ['bronze.customers'], {
    partitionBy: ['country'],
    checks: [
      check('not_null', { column: 'customer_id' }),
      check('unique', { column: 'customer_id' }),
      check('accepted_values', { column: 'status', values: ['active', 'premium', 'inactive'] }),
    ],
  });
  const tc = cleanse('transactions_cleaned', b.get('transactions_cleaned')!, ['bronze.transactions'], {
    partitionBy: ['transaction_month'],
    checks: [check('not_null', { column: 'transaction_id' }), check('unique', { column: 'transaction_id' })],
  });
  const sc = cleanse('support_tickets_cleaned', b.get('support_tickets_cleaned')!, ['bronze.support_tickets'], {
    checks: [check('unique', { column: 'ticket_id' })],
  });
  const cm = model(
    'customer_metrics',
    b.get('customer_metrics')!,
    ['silver.customers_cleaned', 'silver.support_tickets_cleaned', 'silver.transactions_cleaned'],
    {
      checks: [check('not_null', { column: 'customer_id' }), check('row_count', { min: 1 })],
    },
  );
  const cl = model('churn_labels', b.get('churn_labels')!, ['silver.customers_cleaned', 'silver.transactions_cleaned'], {
    checks: [check('unique', { column: 'customer_id' }), check('accepted_values', { column: 'churned', values: [0, 1] })],
  });
  const fv = featureView('customer_churn_features', 'gold.customer_metrics', 'customer_id', 'updated_at', 86400, [
    ['total_purchases', 'int64'],
    ['customer_lifetime_value', 'float64'],
    ['avg_purchase_value', 'float64'],
    ['days_since_last_purchase', 'int64'],
    ['purchase_frequency', 'float64'],
    ['account_age_days', 'int64'],
    ['support_tickets', 'int64'],
    ['avg_support_resolution_hours', 'float64'],
  ]);
  return ir([customers, tickets, transactions, cc, sc, tc, cl, cm, fv], b.get('customers_cleaned')!.span.file);
}

export function featureView(
  name: string,
  from: string,
  joinKey: string,
  timestamp: string,
  ttlSeconds: number,
  features: [string, FeaturesNode['features'][number]['dtype']][],
): FeaturesNode {
  return {
    id: `features.${name}`,
    kind: 'features',
    name,
    span: span(200, 3),
    inputs: [from],
    entity: { name: 'customer', joinKey },
    from,
    timestamp,
    ttlSeconds,
    features: features.map(([n, dtype], i) => ({ name: n, dtype, span: span(210 + i, 5) })),
  };
}

import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NodeExecutor, NodeResult, RunContext } from '../../src/engine/executor.js';
import { planMerge } from '../../src/engine/merge-write.js';
import { NodeError } from '../../src/engine/executor.js';
import type { NodeState, PipelineState } from '../../src/planner/state-store.js';
import { Warehouse } from '../../src/warehouse/warehouse.js';
import { literal, openDuck } from '../../src/engine/duckdb.js';

export const tempDir = (prefix = 'asg-engine-'): string => mkdtempSync(join(tmpdir(), prefix));

/** An in-memory stand-in for apply: runs executors and records their results as a state would. */
export class MiniApply {
  state: PipelineState = { schemaVersion: 2, pipeline: 'test', lineage: 'x', serial: 0, nodes: {} };
  readonly warehouse: Warehouse;
  constructor(
    readonly dir: string,
    public logicalTime = new Date('2025-11-11T00:00:00Z'),
  ) {
    this.warehouse = new Warehouse(join(dir, 'warehouse'));
  }

  ctx<N extends PipelineNode>(pipeline: PipelineIR, node: N): RunContext<N> {
    return {
      ir: pipeline,
      node,
      state: this.state,
      warehouse: this.warehouse,
      scratchDir: join(this.dir, 'cache', 'tmp'),
      logicalTime: this.logicalTime,
      resolve: (v) => {
        if (v.kind === 'literal') return v.value;
        throw new NodeError(`unresolved ${v.name}`);
      },
      progress: () => undefined,
      warn: () => undefined,
      signal: new AbortController().signal,
    };
  }

  record(id: string, kind: PipelineNode['kind'], r: NodeResult): void {
    const prev = this.state.nodes[id];
    const ns: NodeState = {
      kind,
      fingerprint: '',
      metaFingerprint: '',
      definition: null,
      appliedAt: new Date().toISOString(),
      schema: r.schema ?? prev?.schema,
      snapshot: r.snapshot ?? prev?.snapshot,
    };
    this.state = { ...this.state, serial: this.state.serial + 1, nodes: { ...this.state.nodes, [id]: ns } };
  }

  /** Write a bronze (or any layer) table from a SELECT, as ingestion would, and record it. */
  async seed(table: string, select: string): Promise<void> {
    const conn = await openDuck();
    const d = await conn.runAndReadAll(`DESCRIBE ${select}`);
    const schema = d.getRowObjects().map((o) => ({ name: String(o.column_name), type: String(o.column_type) }));
    const p = await this.warehouse.begin(table, schema);
    const r = await conn.runAndReadAll(this.warehouse.copySql(p, select));
    const rows = Number(r.getRows()[0][0]);
    const snapshot = await this.warehouse.commit(p, conn);
    conn.closeSync();
    this.record(table, 'source', { rows, snapshot, schema });
  }

  async run<N extends PipelineNode>(pipeline: PipelineIR, node: N, exec: { run(ctx: RunContext<N>): Promise<NodeResult> }): Promise<NodeResult> {
    const r = await exec.run(this.ctx(pipeline, node));
    this.record(node.id, node.kind, r);
    return r;
  }
}

/** A row of a test's source table (column name to value). */
export type Row = Record<string, number | string | null>;

const sqlValue = (v: number | string | null): string => (v === null ? 'NULL' : typeof v === 'number' ? String(v) : literal(v));

/** A SELECT of `rows` with `cols`' names and types (a typed empty relation when there are none). */
export function rowsSelect(rows: readonly Row[], cols: readonly [string, string][]): string {
  if (rows.length === 0) return `SELECT ${cols.map(([c, t]) => `CAST(NULL AS ${t}) AS ${c}`).join(', ')} WHERE false`;
  return rows.map((r) => `SELECT ${cols.map(([c, t]) => `CAST(${sqlValue(r[c])} AS ${t}) AS ${c}`).join(', ')}`).join(' UNION ALL ');
}

/** A small deterministic PRNG (mulberry32): a failing seed reproduces. */
export function prng(seed: number): () => number {
  let t = seed >>> 0;
  return () => {
    t = (t + 0x6d2b79f5) >>> 0;
    let x = Math.imul(t ^ (t >>> 15), 1 | t);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * The sources' stand-in: writes the rows the test holds for each stream as a new snapshot — whole,
 * or (when `merge.on`) as ingestion's merge does: only the files holding a changed key are rewritten.
 */
export function tableSource(data: Record<string, Row[]>, merge = { on: false }): NodeExecutor<SourceNode> {
  return {
    kind: 'source',
    async run(ctx) {
      const cols = ctx.node.stream.columns!.map((c) => [c.name, c.type] as [string, string]);
      const conn = await openDuck();
      try {
        const schema = cols.map(([name, type]) => ({ name, type }));
        const prev = ctx.state.nodes[ctx.node.id]?.snapshot;
        const p = await ctx.warehouse.begin(ctx.node.id, schema);
        if (!merge.on || !prev) {
          const r = await conn.runAndReadAll(ctx.warehouse.copySql(p, rowsSelect(data[ctx.node.id], cols)));
          return { rows: Number(r.getRows()[0][0]), snapshot: await ctx.warehouse.commit(p, conn), schema };
        }
        const key = ctx.node.stream.primaryKey[0];
        await conn.run(`CREATE TABLE want AS ${rowsSelect(data[ctx.node.id], cols)}`);
        await conn.run(`CREATE TABLE old AS ${await ctx.warehouse.snapshotSelect(prev, schema)}`);
        await conn.run(
          `CREATE TABLE changed AS SELECT DISTINCT ${key} FROM ((SELECT * FROM want EXCEPT ALL SELECT * FROM old) UNION ALL (SELECT * FROM old EXCEPT ALL SELECT * FROM want))`,
        );
        const plan = await planMerge(conn, await ctx.warehouse.scan(prev), schema, [[key, key]], 'changed');
        const r = await conn.runAndReadAll(
          ctx.warehouse.copySql(p, `${plan.kept} UNION ALL BY NAME SELECT w.* FROM want AS w SEMI JOIN changed USING (${key})`),
        );
        return { rows: Number(r.getRows()[0][0]), snapshot: await ctx.warehouse.commit(p, conn, { base: prev, remove: plan.hit }), schema };
      } finally {
        conn.closeSync();
      }
    },
  };
}
