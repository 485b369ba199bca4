// Materialises a feature view: checks its source table against the declared features (names and
// dtypes, with the location of the feature in the spec), then writes the online table — the latest
// row per entity — as an Iceberg table `features.<view>` whose snapshot is recorded in state like any table. Offline
// retrieval reads the source table's snapshot directly (src/engine/features.ts), so the two can
// never disagree about which data they saw.
//
// After the first run the online table follows its source's changes when the plan says so
// (src/planner/maintenance.ts `featuresMaintenance`: the source is kept by the entity key):
//  1. The changed entities: the keys of the rows that differ between the source snapshot the view
//     last read and the current one (./merge-write.ts `changedRows`, `asg_keys`).
//  2. Their rows now: those of the files the source's runs wrote since. Every row of a changed
//     entity is there when the source is kept by that key: each of its runs either rewrote every
//     row or merged by that key, replacing every row of a key it recomputed (./derived.ts
//     `mergeFresh`); and a file a run rewrote without changing its rows (compaction) leaves no key
//     changed (`changedRows` compares the rows when files were removed).
//  3. Their latest rows (`asg_fresh`, the online SQL over those rows only) merged into the online
//     table by entity (./derived.ts `mergeFresh`: position deletes of their previous rows).
// Anything else — a first run, another definition, a source snapshot no longer kept, a source
// mostly rewritten, most entities changed — rebuilds the table from the whole source.

import type { DuckDBConnection } from '@duckdb/node-api';
import type { FeaturesNode } from '../ir/types.js';
import type { ColumnSchema } from '../planner/state-store.js';
import { NodeError, type NodeExecutor, type NodeResult, type RunContext } from './executor.js';
import { attachWarehouse, qualified } from './catalog.js';
import { join } from 'node:path';
import { ident, openScratchDuck } from './duckdb.js';
import { onlineFeaturesSql } from './features.js';
import { checkFeatures } from './schemas.js';
import { mark } from './profile.js';
import { featuresMaintenance, maintenanceKept, rebuildsTable } from '../planner/maintenance.js';
import { toolkitUnless } from './render.js';
import { nodeDefinition } from '../planner/fingerprint.js';
import { canonicalJson } from '../util/canonical-json.js';
import { changedRows, withKeys } from './merge-write.js';
import { selectScan, type ScanFile, type Warehouse } from '../warehouse/warehouse.js';
import { mergeFresh, writeMergeFiles, type DerivedOutcome } from './derived.js';

export const executor: NodeExecutor<FeaturesNode> = {
  kind: 'features',
  async run(ctx: RunContext<FeaturesNode>): Promise<NodeResult> {
    const view = ctx.node;
    mark('start');
    const conn = await openScratchDuck(join(ctx.scratchDir, 'duckdb'));
    mark('open');
    try {
      // A first run has nothing to follow.
      const d = ctx.state.nodes[view.id]?.snapshot
        ? await fromChanges(ctx, conn).catch((e: unknown): DerivedOutcome => {
            if (ctx.signal.aborted || e instanceof NodeError) throw e;
            return { kind: 'full', reason: `derived run failed (${String((e as Error).message ?? e).split('\n')[0]})` };
          })
        : undefined;
      if (d && d.kind !== 'full') return await writeDerived(ctx, conn, d);
      return await rebuild(ctx, conn, d?.reason);
    } finally {
      conn.closeSync();
    }
  },
};
export default executor;

/** The whole online table from the whole source. `reason`: why not from its changes (none on a first run). */
async function rebuild(ctx: RunContext<FeaturesNode>, conn: DuckDBConnection, reason?: string): Promise<NodeResult> {
  const view = ctx.node;
  await attachWarehouse(conn, ctx.state, ctx.warehouse, { ir: ctx.ir, logicalTime: ctx.logicalTime, only: new Set([view.from]) });
  mark('attach');
  let fromSchema;
  try {
    const d = await conn.runAndReadAll(`DESCRIBE SELECT * FROM ${qualified(view.from)}`);
    fromSchema = d.getRowObjects().map((r) => ({ name: String(r.column_name), type: String(r.column_type) }));
  } catch {
    throw new NodeError(`${view.id}: its source ${view.from} has no snapshot yet`, view.span);
  }
  checkSource(view, fromSchema);
  mark('describe its source');
  const schema = await describe(conn, `(${onlineFeaturesSql(view)})`);
  const pending = await ctx.warehouse.begin(view.id, schema);
  mark('describe and begin');
  try {
    const rows = await ctx.warehouse.write(conn, pending, onlineFeaturesSql(view));
    mark('compute and write');
    ctx.progress({ rows });
    const snapshot = await ctx.warehouse.commit(pending, conn);
    mark('commit');
    return { rows, snapshot, schema, ...(reason ? { maintenance: `full: ${reason}` } : {}) };
  } catch (e) {
    await ctx.warehouse.abort(pending);
    throw e instanceof NodeError ? e : new NodeError(`${view.id}: ${(e as Error).message.split('\n')[0]}`, view.span);
  }
}

/** A source that lacks a declared feature, or holds it as another type, is the user's error, at the feature. */
function checkSource(view: FeaturesNode, fromSchema: readonly ColumnSchema[]): void {
  const problems = checkFeatures(view, fromSchema);
  if (problems.length) throw new NodeError(`${view.id}: ${problems.map((p) => p.message).join('; ')}`, problems[0].span ?? view.span);
}

/**
 * Steps 1-3 above: the merge that brings the online table up to date with its source's changes,
 * `unchanged` when no entity's latest row changed, or why the table is rebuilt instead.
 */
async function fromChanges(ctx: RunContext<FeaturesNode>, conn: DuckDBConnection): Promise<DerivedOutcome> {
  const { node: view, state, warehouse } = ctx;
  const full = (reason: string): DerivedOutcome => ({ kind: 'full', reason });
  const prev = state.nodes[view.id];
  if (!prev?.snapshot || !prev.schema) return full('no previous snapshot');
  // Its source's analysis: the toolkit only when no earlier process kept it.
  const from = ctx.ir.nodes.find((n) => n.id === view.from);
  await toolkitUnless(!from || !rebuildsTable(from) || maintenanceKept(from, ctx.ir, ctx.maintenanceCache));
  const m = featuresMaintenance(view, ctx.ir, ctx.maintenanceCache);
  if (m.mode === 'full') return full(m.reason);
  const def = (prev.definition as { data?: unknown } | undefined)?.data;
  if (canonicalJson(def) !== canonicalJson(nodeDefinition(view, ctx.ir).data)) return full('the definition changed');
  const src = state.nodes[view.from];
  const seen = prev.inputSnapshots?.[view.from];
  if (!src?.snapshot || !src.schema || !seen) return full(`${view.from} has no snapshot to compare`);
  if (src.snapshot.id === seen) return { kind: 'unchanged', keys: 0 };
  const old = [...(src.history ?? [])].find((s) => s.id === seen);
  if (!old) return full(`the snapshot of ${view.from} it last read is no longer kept`);
  checkSource(view, src.schema);

  // The files the source's runs wrote since the view last read it; a source mostly rewritten
  // (rebuilt) is cheaper read whole than compared.
  const oldFiles = await warehouse.scan(old);
  const before = new Set(oldFiles.map((f) => f.path));
  const files = await warehouse.scan(src.snapshot);
  const written = files.filter((f) => !before.has(f.path));
  const share = written.reduce((n, f) => n + f.rows, 0) / Math.max(1, src.snapshot.rows);
  if (share > viewChoice.maxShare) return full(`${view.from} was rewritten (${Math.round(share * 100)}% of its rows in new files)`);

  const key = view.entity.joinKey;
  let changed = await changedKeys(conn, warehouse, oldFiles, files, src.schema, key);
  if (changed === undefined) {
    const ch = await changedRows(conn, warehouse, old, src.snapshot, src.schema);
    if (ch.kind === 'incomparable') return full(`the columns of ${view.from} changed`);
    changed = ch.kind === 'none' ? 'none' : ch.sql;
  }
  if (changed === 'none') return { kind: 'unchanged', keys: 0 };
  // An entity without a key has no online row: NULL is never a changed entity.
  await conn.run(`CREATE OR REPLACE TEMP TABLE asg_keys AS SELECT DISTINCT ${ident(key)} AS k FROM (${changed}) WHERE ${ident(key)} IS NOT NULL`);
  const keys = Number((await conn.runAndReadAll('SELECT count(*) FROM asg_keys')).getRows()[0][0]);
  mark(`derived: ${keys} entities changed`);
  if (keys === 0) return { kind: 'unchanged', keys };
  if (keys > viewChoice.maxShare * Math.max(1, prev.snapshot.rows))
    return full(`${keys} entities changed, ${Math.round((keys / Math.max(1, prev.snapshot.rows)) * 100)}% of the table: a rebuild is cheaper`);

  // Their rows: all in the files written since (the source is kept by the entity key).
  const rows = withKeys(`(${selectScan(written, src.schema)})`, [[key, 'k']], 'asg_keys', false);
  await conn.run(`CREATE OR REPLACE TEMP TABLE asg_fresh AS ${onlineFeaturesSql(view, `(${rows})`)}`);
  mark('derived: latest rows of the changed entities');
  const fresh = await describe(conn, 'asg_fresh');
  if (canonicalJson(fresh) !== canonicalJson(prev.schema.map((c) => ({ name: c.name, type: c.type })))) return full('the online columns changed');
  // Not compared with the previous rows: the source's rows of these entities changed, so their latest mostly did too.
  return mergeFresh(conn, warehouse, prev.snapshot, prev.schema, key, keys, false, false);
}

/**
 * Step 1 without reading the source's old data files: SELECT of the `key` of every row that may
 * differ between the snapshots whose files are `before` and `after` (a superset of the changed
 * keys), or 'none' when they have the same files. When no file was removed and no delete file
 * dropped (an append, or a merge by position deletes: ./derived.ts `mergeFresh`), those rows are the
 * added files' and the rows the new delete files name, whose keys the delete files keep (Iceberg's
 * `row` column, Warehouse.deleteCopySql). Undefined otherwise, or when a new delete file lacks the
 * key: then `changedRows` reads the rows from the data files.
 */
async function changedKeys(
  conn: DuckDBConnection,
  warehouse: Warehouse,
  before: readonly ScanFile[],
  after: readonly ScanFile[],
  schema: readonly ColumnSchema[],
  key: string,
): Promise<string | 'none' | undefined> {
  const old = new Map(before.map((f) => [f.path, f]));
  const now = new Set(after.map((f) => f.path));
  if (before.some((f) => !now.has(f.path))) return undefined;
  const added = after.filter((f) => !old.has(f.path));
  const deletes = new Set<string>();
  for (const f of after) {
    const o = old.get(f.path);
    if (!o) continue;
    if (o.deletes.some((d) => !f.deletes.includes(d))) return undefined;
    for (const d of f.deletes) if (!o.deletes.includes(d)) deletes.add(d);
  }
  if (!added.length && !deletes.size) return 'none';
  const deleted = await warehouse.deletedKeys(conn, [...deletes], [key]);
  const type = schema.find((c) => c.name === key)?.type;
  if (deleted === undefined || type === undefined) return undefined;
  // The delete files keep the key as its Iceberg storage type: read back as the source's.
  const keys = `SELECT CAST(${ident(key)} AS ${type}) AS ${ident(key)} FROM (${deleted})`;
  return `${added.length ? `SELECT ${ident(key)} FROM (${selectScan(added, schema)}) UNION ALL ` : ''}${keys}`;
}

/** Past `maxShare` (of the source's rows in new files, or of the online rows' entities changed) the table is rebuilt. */
export const viewChoice = { maxShare: 0.5 };

async function writeDerived(ctx: RunContext<FeaturesNode>, conn: DuckDBConnection, d: Exclude<DerivedOutcome, { kind: 'full' }>): Promise<NodeResult> {
  const view = ctx.node;
  const prev = ctx.state.nodes[view.id]!;
  if (d.kind === 'unchanged') {
    const maintenance = `incremental: unchanged (${d.keys} entities recomputed)`;
    ctx.progress({ rows: prev.snapshot!.rows, message: maintenance });
    return { rows: prev.snapshot!.rows, snapshot: prev.snapshot, schema: prev.schema, maintenance };
  }
  const maintenance = `incremental: ${d.keys} entities recomputed`;
  ctx.progress({ rows: 0, message: maintenance });
  const pending = await ctx.warehouse.begin(view.id, prev.schema!);
  try {
    const deletes = await writeMergeFiles(conn, ctx.warehouse, pending, d);
    mark('write');
    const snapshot = await ctx.warehouse.commit(pending, conn, { base: prev.snapshot, remove: d.remove, deletes });
    mark('commit');
    ctx.progress({ rows: snapshot.rows });
    return { rows: snapshot.rows, snapshot, schema: prev.schema, maintenance };
  } catch (e) {
    await ctx.warehouse.abort(pending);
    throw e instanceof NodeError ? e : new NodeError(`${view.id}: ${(e as Error).message.split('\n')[0]}`, view.span);
  }
}

async function describe(conn: DuckDBConnection, relation: string): Promise<ColumnSchema[]> {
  const r = await conn.runAndReadAll(`DESCRIBE SELECT * FROM ${relation}`);
  return r.getRowObjects().map((o) => ({ name: String(o.column_name), type: String(o.column_type) }));
}
