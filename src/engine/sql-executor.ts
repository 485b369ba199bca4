// Runs cleanse (silver) and model (gold) nodes on DuckDB: the node's Spark SQL, transpiled, over the
// warehouse's current snapshots, written as Parquet into a pending Iceberg snapshot, checked (over
// the pending files, or for merges over the rows written), and only then committed. A failure (SQL error or failing check) removes the pending files: the
// previous snapshot stays current, and apply stops the node's downstream.
//
// Materializations:
//  - table (and cleanse `overwrite`): a complete new snapshot each run (an Iceberg overwrite).
//  - incremental (and cleanse `append`): the new snapshot holds the previous one's rows plus the
//    SQL's rows. With `incremental_by = col`, only the rows from the target's `max(col)` on (minus
//    `lookback`; strictly newer without a unique_key) are taken: incrementalFilter below. With
//    `unique_key`, rows whose key reappears are replaced (merge; the new snapshot is
//    rewritten). Without it they are appended: the new snapshot keeps the previous one's files and
//    adds one file of the new rows (an Iceberg append), so an append costs the new rows only.
//    Either way the previous snapshot is never modified, so a crash at any point leaves it intact.
//  - view: no snapshot. The SQL is bound and checked now; readers (src/engine/catalog.ts) see it
//    rendered over the current snapshots of its inputs when they attach the warehouse.
//
// `partition_by` becomes the table's Iceberg partition spec (identity transforms): one file per
// partition value, in hive-style folders.

import type { DuckDBConnection } from '@duckdb/node-api';
import { join } from 'node:path';
import type { CleanseNode, ModelNode, NodeId } from '../ir/types.js';
import type { ColumnSchema, SnapshotRef } from '../planner/state-store.js';
import { SMALL_WRITE_ROWS, type WrittenFacts } from '../warehouse/warehouse.js';
import { locateSqlError } from '../sql/error-location.js';
import { NodeError, type NodeExecutor, type NodeResult, type RunContext } from './executor.js';
import { attachWarehouse, qualified } from './catalog.js';
import { readsWholeTable, runChecks, type CheckDelta } from './checks.js';
import { ident, literal, openScratchDuck } from './duckdb.js';
import { derivedCosts, runDerived, sameDefinition, writeMergeFiles, type DerivedOutcome } from './derived.js';
import { mergedDigest, sameAsPrevious } from './same-rows.js';
import { mark } from './profile.js';
import { renderBody, tablesReadBy } from './render.js';

type SqlNode = CleanseNode | ModelNode;

export const executor: NodeExecutor<SqlNode> = {
  kind: 'model',
  async run(ctx: RunContext<SqlNode>): Promise<NodeResult> {
    const node = ctx.node;
    const started = performance.now();
    mark('start');
    // Spill under the state folder, never into the working directory.
    const conn = await openScratchDuck(join(ctx.scratchDir, 'duckdb'));
    mark('open');
    const onAbort = (): void => conn.interrupt();
    ctx.signal.addEventListener('abort', onAbort);
    try {
      // Its inputs and what custom checks read. Not its own table: each way of running the node
      // makes the view its checks read (the new rows, or the merge's), and a derived run reads the
      // previous snapshot's files directly (binding a view of them opened every file).
      const only = new Set([...node.inputs, ...(await checksRead(node))].filter((t) => t !== node.id));
      await attachWarehouse(conn, ctx.state, ctx.warehouse, { ir: ctx.ir, logicalTime: ctx.logicalTime, only });
      mark('attach');
      const rendered = await renderBody(node.sql, { tableRef: qualified, logicalTime: ctx.logicalTime }, ctx.renderCache);
      if (rendered.diagnostics.length) {
        const d = rendered.diagnostics[0];
        throw new NodeError(`${node.id}: ${d.message}`, d.span);
      }
      const sql = rendered.sql;
      mark('render');
      if (node.kind === 'model' && node.materialized === 'view') return await runView(ctx, conn, sql);
      return await runTable(ctx, conn, sql, started);
    } finally {
      ctx.signal.removeEventListener('abort', onAbort);
      conn.closeSync();
    }
  },
};
export default executor;

/** The tables the node's custom SQL checks read: as the checker's analysis found them, else parsed. */
async function checksRead(node: SqlNode): Promise<NodeId[]> {
  const out: NodeId[] = [];
  for (const c of node.checks) if (c.sql) out.push(...(c.sql.reads.length ? c.sql.reads : await tablesReadBy(c.sql)));
  return out;
}

async function runView(ctx: RunContext<SqlNode>, conn: DuckDBConnection, sql: string): Promise<NodeResult> {
  const node = ctx.node;
  await guard(ctx, sql, () => conn.run(`CREATE OR REPLACE VIEW ${qualified(node.id)} AS ${sql}`));
  const schema = await describe(conn, qualified(node.id));
  await check(ctx, conn, qualified(node.id));
  return { schema };
}

async function runTable(ctx: RunContext<SqlNode>, conn: DuckDBConnection, sql: string, started: number): Promise<NodeResult> {
  const node = ctx.node;
  const prev = ctx.state.nodes[node.id]?.snapshot;
  const prevSchema = ctx.state.nodes[node.id]?.schema;
  const incremental = node.kind === 'model' ? node.materialized === 'incremental' : node.mode === 'append';
  const uniqueKey = node.kind === 'model' ? node.uniqueKey : [];
  const incrementalBy = node.kind === 'model' ? node.incrementalBy : undefined;

  // An incremental run's result is computed once into a table of this (in-memory) database: its
  // schema, the checks and the Parquet write all read it there.
  let rows: number;
  let appendOnly = false;
  // Runs at the logical time recorded here; derived maintenance compares it with the next run's.
  const logicalTime = ctx.logicalTime.toISOString();
  if (!incremental) {
    // Anything the derived run cannot do (an old snapshot that does not read, a key that does not
    // compare) is a full rebuild; the full run reports the SQL's own errors.
    const costs = ctx.state.nodes[node.id]?.costs;
    const setUp = performance.now();
    const d = prev
      ? await runDerived(ctx, conn, (f) => guard(ctx, sql, f)).catch((e: unknown) => {
          if (ctx.signal.aborted) throw e;
          return { kind: 'full' as const, reason: `derived run failed (${String((e as Error).message ?? e).split('\n')[0]})` };
        })
      : undefined;
    if (d?.kind === 'unchanged') {
      // No row changes: the previous snapshot stays current (checks that read other tables still run).
      if (node.checks.some((c) => c.kind === 'relationships') || (await checksRead(node)).some((t) => t !== node.id)) {
        await conn.run(`CREATE OR REPLACE VIEW ${qualified(node.id)} AS ${await ctx.warehouse.snapshotSelect(prev!, prevSchema)}`);
        await check(ctx, conn, qualified(node.id));
      }
      const maintenance = `incremental: unchanged (${d.keys} keys recomputed)`;
      ctx.progress({ rows: prev!.rows, message: maintenance });
      return { rows: prev!.rows, snapshot: prev, schema: prevSchema, logicalTime, maintenance };
    }
    if (d?.kind === 'derived') {
      const maintenance = `incremental: ${d.keys} keys ${d.merged ? `(${d.merged} merged from their inserted rows, ${d.keys - d.merged} recomputed)` : 'recomputed'}`;
      ctx.progress({ rows: 0, message: maintenance });
      mark('compute');
      const r = await writeMerge(ctx, conn, d, prev!, prevSchema!, logicalTime, maintenance);
      return { ...r, costs: derivedCosts(costs, d.keys / Math.max(1, prev!.rows), (performance.now() - started) / 1000) };
    }
    const rebuilding = performance.now();
    // Rows equal to the previous snapshot's keep it, unless the definition changed (partitioning,
    // a column's type: the table is rebuilt as the spec now says).
    const kept = prev && prevSchema && sameDefinition(ctx) ? { snapshot: prev, schema: prevSchema } : undefined;
    const r = await writeFull(ctx, conn, sql, logicalTime, d ? `full: ${d.reason}` : undefined, kept);
    // The rebuild's own time: the set-up it shares with a derived run, not the derived attempt.
    return { ...r, costs: { ...costs, rebuild: (setUp - started + performance.now() - rebuilding) / 1000 } };
  } else if (!prev) {
    return await writeFull(ctx, conn, sql, logicalTime);
  } else {
    await conn.run(`CREATE OR REPLACE VIEW asg_prev AS ${await ctx.warehouse.snapshotSelect(prev, prevSchema)}`);
    const newer = incrementalBy ? ` WHERE ${incrementalFilter(node as ModelNode, incrementalBy)}` : '';
    await guard(ctx, sql, () => conn.run(`CREATE TABLE asg_new AS SELECT * FROM (${sql}) AS q${newer}`));
    if (uniqueKey.length) {
      const match = uniqueKey
        .map(ident)
        .map((k) => `n.${k} IS NOT DISTINCT FROM p.${k}`)
        .join(' AND ');
      await conn.run(
        `CREATE TABLE asg_out AS SELECT * FROM asg_prev AS p WHERE NOT EXISTS (SELECT 1 FROM asg_new AS n WHERE ${match}) UNION ALL BY NAME SELECT * FROM asg_new`,
      );
    } else {
      appendOnly = true;
      await conn.run(`CREATE VIEW asg_out AS SELECT * FROM asg_prev UNION ALL BY NAME SELECT * FROM asg_new`);
    }
  }
  const schema = await describe(conn, 'asg_out');
  await conn.run(`CREATE OR REPLACE VIEW ${qualified(node.id)} AS SELECT * FROM asg_out`);
  await check(ctx, conn, qualified(node.id));
  mark('checks');

  const pending = await ctx.warehouse.begin(node.id, schema, node.partitionBy);
  try {
    const written = await ctx.warehouse.write(conn, pending, appendOnly ? 'SELECT * FROM asg_new' : 'SELECT * FROM asg_out');
    rows = appendOnly && prev ? prev.rows + written : written;
    mark('write');
    ctx.progress({ rows });
    const snapshot: SnapshotRef = await ctx.warehouse.commit(pending, conn, appendOnly && prev ? { base: prev } : {});
    mark('commit');
    return { rows: snapshot.rows, snapshot, schema, logicalTime };
  } catch (e) {
    await ctx.warehouse.abort(pending);
    throw e;
  }
}

/**
 * A complete new snapshot, in one pass as bare DuckDB would write it: the SQL's rows go straight
 * into the pending Parquet files (no table in between), and the checks then read those files —
 * only the columns they name (row counts come from the Parquet footers). A failing check removes
 * the files before anything is committed. With `prev` (the table's snapshot, its definition
 * unchanged), rows equal to that snapshot's drop the files and keep it (./same-rows.ts).
 */
async function writeFull(
  ctx: RunContext<SqlNode>,
  conn: DuckDBConnection,
  sql: string,
  logicalTime: string,
  maintenance?: string,
  prev?: { readonly snapshot: SnapshotRef; readonly schema: readonly ColumnSchema[] },
): Promise<NodeResult> {
  const node = ctx.node;
  const schema = await guard(ctx, sql, () => describe(conn, `(${sql})`));
  mark('describe');
  const pending = await ctx.warehouse.begin(node.id, schema, node.partitionBy);
  mark('begin');
  try {
    const rows = await guard(ctx, sql, () => ctx.warehouse.write(conn, pending, sql));
    mark('compute and write');
    ctx.progress({ rows });
    await conn.run(`CREATE OR REPLACE VIEW ${qualified(node.id)} AS ${ctx.warehouse.pendingSelect(pending, schema)}`);
    await check(ctx, conn, qualified(node.id), undefined, ctx.warehouse.writtenFacts(pending));
    mark('checks');
    const same = prev
      ? await sameAsPrevious(conn, ctx.warehouse, ctx.warehouse.pendingSelect(pending, schema), rows, schema, prev.snapshot, prev.schema)
      : undefined;
    mark('compared with the previous snapshot');
    if (same?.same) {
      // The same rows: the previous snapshot stays current, and nothing downstream runs again.
      await ctx.warehouse.abort(pending);
      const kept = { ...prev!.snapshot, digest: same.digest };
      const text = `${maintenance ?? 'full'}; unchanged (the rebuilt rows equal the previous snapshot's)`;
      ctx.progress({ rows: kept.rows, message: text });
      return { rows: kept.rows, snapshot: kept, schema: [...prev!.schema], logicalTime, maintenance: text };
    }
    const committed: SnapshotRef = await ctx.warehouse.commit(pending, conn);
    mark('commit');
    const snapshot = same?.digest ? { ...committed, digest: same.digest } : committed;
    return { rows: snapshot.rows, snapshot, schema, logicalTime, ...(maintenance ? { maintenance } : {}) };
  } catch (e) {
    await ctx.warehouse.abort(pending);
    throw e;
  }
}

/**
 * Commit a derived run as a merge: the previous snapshot less the files it rewrites and the rows
 * its position delete files name, plus the rows it writes. Row-wise checks read the written rows
 * only — as the merge's query selects them, not back from the files it wrote: a partitioned table's
 * few new rows make one small file per partition, whose opening cost more than checking the rows —
 * (not_null not even those: the write reported their NULLs), row_count takes the merge's count,
 * the others read the untouched files and the written ones.
 */
async function writeMerge(
  ctx: RunContext<SqlNode>,
  conn: DuckDBConnection,
  d: Extract<DerivedOutcome, { kind: 'derived' }>,
  prev: SnapshotRef,
  schema: readonly ColumnSchema[],
  logicalTime: string,
  maintenance: string,
): Promise<NodeResult> {
  const node = ctx.node;
  // A merge of a few rows is Parquet 1: reading back the footers of its (per partition) files costs more than Parquet 2 saves.
  const small = d.written < SMALL_WRITE_ROWS;
  const pending = await ctx.warehouse.begin(node.id, schema, node.partitionBy, undefined, { parquet1: small });
  try {
    const deletes = await writeMergeFiles(conn, ctx.warehouse, pending, d);
    mark('write');
    const delta: CheckDelta = { added: `(${d.rows})`, key: d.key, rows: d.count };
    // The whole table only for the checks that read it (binding it opens every one of its files).
    if (node.checks.some((c) => readsWholeTable(c, delta)))
      await conn.run(`CREATE OR REPLACE VIEW ${qualified(node.id)} AS ${d.untouched} UNION ALL ${ctx.warehouse.pendingSelect(pending, schema)}`);
    await check(ctx, conn, qualified(node.id), delta, ctx.warehouse.writtenFacts(pending));
    mark('checks');
    const committed = await ctx.warehouse.commit(pending, conn, { base: prev, remove: d.remove, deletes });
    mark('commit');
    const digest = d.digest && mergedDigest(prev.digest, d.digest.replaced, d.digest.fresh);
    const snapshot = digest ? { ...committed, digest } : committed;
    ctx.progress({ rows: snapshot.rows });
    return { rows: snapshot.rows, snapshot, schema: [...schema], logicalTime, maintenance };
  } catch (e) {
    await ctx.warehouse.abort(pending);
    throw e;
  }
}

/**
 * The rows of an incremental run (docs/language.md, "Incremental models"). With a `unique_key`, the
 * SQL's rows from the target's newest `incremental_by` value on (minus `lookback`) are taken and
 * merged: a late row for the newest value, or within the lookback window, replaces the old one.
 * Without a key nothing can be merged, so only strictly newer rows are appended.
 */
function incrementalFilter(node: ModelNode, col: string): string {
  const newest = `(SELECT max(${ident(col)}) FROM asg_prev)`;
  if (!node.uniqueKey.length) return `${ident(col)} > ${newest}`;
  return node.lookbackSeconds ? `${ident(col)} >= ${newest} - INTERVAL ${literal(`${node.lookbackSeconds} seconds`)}` : `${ident(col)} >= ${newest}`;
}

async function check(ctx: RunContext<SqlNode>, conn: DuckDBConnection, relation: string, delta?: CheckDelta, known?: WrittenFacts): Promise<void> {
  const node = ctx.node;
  const failures = await runChecks(conn, relation, node.checks, {
    tableRef: qualified,
    logicalTime: ctx.logicalTime,
    delta,
    known,
    renderCache: ctx.renderCache,
  });
  if (failures.length) {
    const f = failures[0];
    const more =
      failures.length > 1
        ? ` (and ${failures.length - 1} more: ${failures
            .slice(1)
            .map((x) => x.name)
            .join(', ')})`
        : '';
    throw new NodeError(`${node.id}: check ${f.name} failed: ${f.message}${more}; the previous snapshot stays current`, f.span);
  }
}

async function describe(conn: DuckDBConnection, relation: string): Promise<ColumnSchema[]> {
  const r = await conn.runAndReadAll(`DESCRIBE SELECT * FROM ${relation}`);
  return r.getRowObjects().map((row) => ({ name: String(row.column_name), type: String(row.column_type) }));
}

/** Run a statement of the node's SQL; a DuckDB error becomes a NodeError at the line of the spec's SQL. */
async function guard<T>(ctx: RunContext<SqlNode>, sql: string, f: () => Promise<T>): Promise<T> {
  try {
    return await f();
  } catch (e) {
    if (e instanceof NodeError) throw e;
    if (ctx.signal.aborted) throw new NodeError(`${ctx.node.id}: interrupted`);
    const message = (e as Error).message ?? String(e);
    const span = locateSqlError(ctx.node.sql, sql, message);
    const sqlLine = span.line - ctx.node.sql.span.line + 1;
    throw new NodeError(`${ctx.node.id}: SQL error at line ${sqlLine} of its SQL (${span.file}:${span.line}:${span.column}): ${message.split('\n')[0]}`, span);
  }
}
