// `plan --diff-data`: the changed SQL nodes of the plan run twice in a sandbox — as they were (the
// SQL recorded in the prior definition: the base spec or the applied state) and as the spec now says
// — over the warehouse's current snapshots, and their outputs are compared by key: rows added,
// removed and changed, per column the count of changed values with a few example keys, and for the
// feature views fed by a changed table each feature's mean and null share before and after, and for
// the models trained on such a view how the served model's scores move (`scoreModels`, given by the
// caller: scoring lives in src/ml/score-diff.ts, above this layer).
//
// The sandbox is an in-memory DuckDB database: the warehouse's snapshots are read through views
// over their Parquet files and every result lives in memory, so the warehouse, the state and the
// model registry are never written (test/engine/data-diff.test.ts checks the bytes).
//
// A node's key: its `unique_key`, else the column of a `check unique(…)`, else its GROUP BY columns
// when they are all output columns, else — for a query that neither groups, joins nor unions — the
// key of its single input carried through under the same names (a source's primary_key). Without a
// key, rows are compared whole: added and removed only.

import type { DuckDBConnection } from '@duckdb/node-api';
import type { CleanseNode, FeaturesNode, ModelNode, NodeId, PipelineIR, PipelineNode, SqlBody } from '../ir/types.js';
import type { DataDiff, Plan, ScoreChange } from '../planner/plan.js';
import type { PipelineState } from '../planner/state-store.js';
import { queryGrain } from '../sql/sql-diff.js';
import { renderSql } from '../sql/transpile.js';
import type { Warehouse } from '../warehouse/warehouse.js';
import { attachWarehouse, qualified } from './catalog.js';
import { ident, openDuck, queryAll } from './duckdb.js';
import { outputToken } from './commit.js';

export interface DataDiffInput {
  readonly plan: Plan;
  readonly ir: PipelineIR;
  readonly state: PipelineState;
  readonly warehouse: Warehouse;
  readonly logicalTime: Date;
  /** The SQL each node had before the change (the base spec's or the applied state's definition). */
  readonly priorSql: (id: NodeId) => string | undefined;
  /** The data fingerprint each node had before the change: when the warehouse holds exactly that output, it is not recomputed. */
  readonly priorFingerprint?: (id: NodeId) => string | undefined;
  /** Compare a deterministic sample of this many keys (by hash) instead of every row. */
  readonly sample?: number;
  /**
   * Score the models trained on `view` with the view's source table before and after (relations
   * on `conn`): the score change per train node id. Absent: no model scores in the diff.
   */
  readonly scoreModels?: (
    conn: DuckDBConnection,
    view: FeaturesNode,
    before: string,
    after: string,
    sample: number | undefined,
  ) => Promise<ReadonlyMap<NodeId, ScoreChange | { readonly error: string }>>;
}

const EXAMPLES = 3;

type SqlNode = CleanseNode | ModelNode;
const isSql = (n: PipelineNode | undefined): n is SqlNode => n?.kind === 'cleanse' || n?.kind === 'model';

/** Data diffs by node id, for the plan's changed SQL nodes and the feature views they feed. */
export async function diffData(input: DataDiffInput): Promise<Map<NodeId, DataDiff>> {
  const { plan, ir, state } = input;
  const byId = new Map(ir.nodes.map((n) => [n.id, n]));
  const changed = plan.actions
    .filter((a) => (a.action === 'update' || a.action === 'replace') && !a.metadataOnly && isSql(byId.get(a.node)))
    .map((a) => a.node);
  const out = new Map<NodeId, DataDiff>();
  if (!changed.length) return out;
  const conn = await openDuck();
  try {
    await attachWarehouse(conn, state, input.warehouse, { ir, logicalTime: input.logicalTime });
    await conn.run('CREATE SCHEMA sandbox_base');
    await conn.run('CREATE SCHEMA sandbox_head');
    const ran = new Set<NodeId>();
    // The "before" output of a node is its current table when the state says that table was made
    // by the prior definition from the inputs' current snapshots: no need to compute it again.
    const current = (id: NodeId): boolean => {
      const ns = state.nodes[id];
      const fp = input.priorFingerprint?.(id);
      if (!ns?.snapshot || !fp || ns.fingerprint !== fp) return false;
      return byId.get(id)!.inputs.every((i) => ns.inputSnapshots?.[i] !== undefined && ns.inputSnapshots[i] === outputToken(state.nodes[i]));
    };
    const reused = new Set<NodeId>();
    const baseTable = (id: NodeId) => (reused.has(id) ? qualified(id) : `sandbox_base.${ident(id)}`);
    const ref = (side: 'base' | 'head') => (id: NodeId) => (!ran.has(id) ? qualified(id) : side === 'base' ? baseTable(id) : `sandbox_head.${ident(id)}`);
    for (const id of changed) {
      const node = byId.get(id) as SqlNode;
      const prevSql = input.priorSql(id);
      if (prevSql === undefined) {
        out.set(id, { key: [], columns: [], error: 'no earlier SQL to compare with' });
        continue;
      }
      try {
        // Reusable only while everything it reads upstream is reused or unchanged too.
        if (current(id) && node.inputs.every((i) => !ran.has(i) || reused.has(i))) reused.add(id);
        else await materialise(conn, 'base', id, { ...node.sql, text: prevSql }, ref('base'), input.logicalTime);
        await materialise(conn, 'head', id, node.sql, ref('head'), input.logicalTime);
      } catch (e) {
        out.set(id, { key: [], columns: [], error: (e as Error).message.split('\n')[0] });
        continue;
      }
      ran.add(id);
      const key = await keyOf(conn, node, byId);
      out.set(id, await compare(conn, baseTable(id), `sandbox_head.${ident(id)}`, key, input.sample));
    }
    for (const n of ir.nodes) {
      if (n.kind !== 'features' || !ran.has(n.from)) continue;
      out.set(n.id, await distributions(conn, n, baseTable(n.from), `sandbox_head.${ident(n.from)}`, input.sample));
      const scores = await input.scoreModels?.(conn, n, baseTable(n.from), `sandbox_head.${ident(n.from)}`, input.sample);
      for (const [train, s] of scores ?? []) out.set(train, 'error' in s ? { key: [], columns: [], error: s.error } : { key: [], columns: [], scores: s });
    }
  } finally {
    conn.closeSync();
  }
  return out;
}

async function materialise(
  conn: DuckDBConnection,
  side: 'base' | 'head',
  id: NodeId,
  body: SqlBody,
  tableRef: (id: NodeId) => string,
  logicalTime: Date,
): Promise<void> {
  const r = renderSql(body, { dialect: 'duckdb', tableRef, logicalTime });
  if (r.diagnostics.length) throw new Error(`${id} (${side}): ${r.diagnostics[0].message}`);
  await conn.run(`CREATE TABLE sandbox_${side}.${ident(id)} AS ${r.sql}`);
}

async function columnsOf(conn: DuckDBConnection, table: string): Promise<string[]> {
  const r = await queryAll(conn, `DESCRIBE ${table}`);
  return r.rows.map((row) => String(row.column_name));
}

/** The key a node's rows are identified by (see the header), or [] when none is known. */
async function keyOf(conn: DuckDBConnection, node: SqlNode, byId: ReadonlyMap<NodeId, PipelineNode>): Promise<string[]> {
  const cols = new Set((await columnsOf(conn, `sandbox_head.${ident(node.id)}`)).map((c) => c.toLowerCase()));
  const all = (k: readonly string[]) => k.length > 0 && k.every((c) => cols.has(c.toLowerCase()));
  return inferKey(node, byId, all);
}

function inferKey(node: PipelineNode, byId: ReadonlyMap<NodeId, PipelineNode>, has: (k: readonly string[]) => boolean, depth = 0): string[] {
  if (depth > 32) return [];
  if (node.kind === 'source') return has(node.stream.primaryKey) ? [...node.stream.primaryKey] : [];
  if (!isSql(node)) return [];
  if (node.kind === 'model' && has(node.uniqueKey)) return [...node.uniqueKey];
  const unique = node.checks.find((c) => c.kind === 'unique' && c.column && has([c.column]));
  if (unique?.column) return [unique.column];
  const grain = queryGrain(node.sql.normalized);
  if (grain.groupBy && has(grain.groupBy)) return grain.groupBy;
  if (grain.rowPreserving && node.inputs.length === 1) {
    const input = byId.get(node.inputs[0]);
    if (input) return inferKey(input, byId, has, depth + 1);
  }
  return [];
}

const keyExpr = (key: readonly string[], alias?: string) => key.map((k) => (alias ? `${alias}.${ident(k)}` : ident(k)));
const keyText = (row: Record<string, unknown>, key: readonly string[]) => key.map((k) => String(row[k] ?? 'NULL')).join(' | ');

async function sampled(
  conn: DuckDBConnection,
  base: string,
  head: string,
  key: readonly string[],
  sample: number | undefined,
): Promise<{ b: string; h: string }> {
  if (!sample) return { b: base, h: head };
  // The same keys on both sides, chosen by hash: deterministic, and spread over the whole table.
  const cols = key.length ? keyExpr(key).join(', ') : '*';
  const order = key.length ? `hash(${cols}), ${cols}` : 'hash(s), s';
  await conn.run(
    `CREATE OR REPLACE TEMP TABLE sample_keys AS SELECT * FROM (SELECT ${cols} FROM ${base} UNION SELECT ${cols} FROM ${head}) s ORDER BY ${order} LIMIT ${Math.floor(sample)}`,
  );
  const using = (await columnsOf(conn, 'sample_keys')).map(ident).join(', ');
  return { b: `(SELECT * FROM ${base} SEMI JOIN sample_keys USING (${using}))`, h: `(SELECT * FROM ${head} SEMI JOIN sample_keys USING (${using}))` };
}

async function scalar(conn: DuckDBConnection, sql: string): Promise<number> {
  const r = await queryAll(conn, sql);
  return Number(Object.values(r.rows[0] ?? {})[0] ?? 0);
}

async function compare(conn: DuckDBConnection, base: string, head: string, key: string[], sample: number | undefined): Promise<DataDiff> {
  const { b, h } = await sampled(conn, base, head, key, sample);
  const before = await scalar(conn, `SELECT count(*) FROM ${b}`);
  const after = await scalar(conn, `SELECT count(*) FROM ${h}`);
  const baseCols = await columnsOf(conn, base);
  const headCols = new Set(await columnsOf(conn, head));
  const common = baseCols.filter((c) => headCols.has(c) && !key.includes(c));
  const examples = async (sql: string) => (await queryAll(conn, sql)).rows.map((r) => keyText(r, key.length ? key : Object.keys(r)));
  const sampleNote = sample ? { sample } : {};
  if (!key.length) {
    // Whole rows: a multiset difference over the columns both sides have.
    const cols = baseCols
      .filter((c) => headCols.has(c))
      .map(ident)
      .join(', ');
    const added = await scalar(conn, `SELECT count(*) FROM (SELECT ${cols} FROM ${h} EXCEPT ALL SELECT ${cols} FROM ${b})`);
    const removed = await scalar(conn, `SELECT count(*) FROM (SELECT ${cols} FROM ${b} EXCEPT ALL SELECT ${cols} FROM ${h})`);
    return {
      key: [],
      ...sampleNote,
      rows: { before, after, added, removed, changed: 0, unchanged: before - removed, addedKeys: [], removedKeys: [] },
      columns: [],
    };
  }
  const k = keyExpr(key).join(', ');
  // Each side's unmatched keys and the matched rows' per-column differences, computed once: the
  // counts and the example keys are then read from these small tables, not from more joins.
  await conn.run(`CREATE OR REPLACE TEMP TABLE diff_added AS SELECT ${k} FROM ${h} h ANTI JOIN ${b} b USING (${k})`);
  await conn.run(`CREATE OR REPLACE TEMP TABLE diff_removed AS SELECT ${k} FROM ${b} b ANTI JOIN ${h} h USING (${k})`);
  const flags = common.map((c, i) => `(b.${ident(c)} IS DISTINCT FROM h.${ident(c)}) AS "d${i}"`);
  await conn.run(
    `CREATE OR REPLACE TEMP TABLE diff_matched AS SELECT ${keyExpr(key, 'b')
      .map((x, i) => `${x} AS ${ident(key[i])}`)
      .join(', ')}${flags.length ? ', ' + flags.join(', ') : ''} FROM ${b} b JOIN ${h} h USING (${k})`,
  );
  const added = await scalar(conn, 'SELECT count(*) FROM diff_added');
  const removed = await scalar(conn, 'SELECT count(*) FROM diff_removed');
  const addedKeys = await examples(`SELECT ${k} FROM diff_added ORDER BY ${k} LIMIT ${EXAMPLES}`);
  const removedKeys = await examples(`SELECT ${k} FROM diff_removed ORDER BY ${k} LIMIT ${EXAMPLES}`);
  const any = common.length ? common.map((_, i) => `"d${i}"`).join(' OR ') : 'false';
  const counts = await queryAll(
    conn,
    `SELECT count(*) AS "__matched", count(*) FILTER (WHERE ${any}) AS "__rows"${common.map((_, i) => `, count(*) FILTER (WHERE "d${i}") AS "c${i}"`).join('')} FROM diff_matched`,
  );
  const row = counts.rows[0] ?? {};
  const changed = Number(row.__rows ?? 0);
  const columns: { column: string; changed: number; exampleKeys: string[] }[] = [];
  for (const [i, c] of common.entries()) {
    const n = Number(row[`c${i}`] ?? 0);
    if (n > 0)
      columns.push({ column: c, changed: n, exampleKeys: await examples(`SELECT ${k} FROM diff_matched WHERE "d${i}" ORDER BY ${k} LIMIT ${EXAMPLES}`) });
  }
  const matched = Number(row.__matched ?? 0);
  return { key, ...sampleNote, rows: { before, after, added, removed, changed, unchanged: matched - changed, addedKeys, removedKeys }, columns };
}

async function distributions(conn: DuckDBConnection, view: FeaturesNode, base: string, head: string, sample: number | undefined): Promise<DataDiff> {
  const key = [view.entity.joinKey, view.timestamp];
  const diff = await compare(conn, base, head, key, sample);
  const stats = async (table: string, col: string) => {
    const r = await queryAll(
      conn,
      `SELECT avg(TRY_CAST(${ident(col)} AS DOUBLE)) AS m, CASE WHEN count(*) = 0 THEN 0 ELSE count(*) FILTER (WHERE ${ident(col)} IS NULL) / count(*) END AS n FROM ${table}`,
    );
    const m = r.rows[0]?.m;
    return { mean: m === null || m === undefined ? null : round(Number(m)), nullShare: round(Number(r.rows[0]?.n ?? 0)) };
  };
  const feats = view.features.map((f) => f.name);
  const dists = [];
  for (const f of feats) dists.push({ column: f, before: await stats(base, f), after: await stats(head, f) });
  return { ...diff, columns: diff.columns.filter((c) => feats.includes(c.column)), distributions: dists };
}

const round = (x: number) => Math.round(x * 1e6) / 1e6;
