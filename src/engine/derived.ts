// Derived incremental maintenance of a table node (docs/language.md, "Derived incremental
// maintenance"; the analysis is src/sql/derive.ts): when the node's SQL is key-partitioned, only the
// key values whose input rows changed are recomputed.
//
//  1. The change set of each input that moved since the node last ran: the rows that differ
//     between the snapshot the node last read and the current one, read from the data files that
//     differ only (./merge-write.ts `changedRows`: inserted, deleted and updated rows alike, and
//     possibly rows rewritten unchanged); their key values are the affected keys (`asg_keys`).
//  2. The node's SQL runs over its inputs restricted to the affected keys (`asg_fresh`).
//  3. The new snapshot is the previous one less its rows of the affected keys, plus `asg_fresh`
//     (a merge, ./merge-write.ts): the previous rows are named by position delete files; a file
//     with many deleted rows, and a partition's small files, are rewritten instead, their other
//     rows written along with `asg_fresh` (./compaction.ts).
// When the recomputed rows equal the previous ones, the table is unchanged: the previous snapshot
// stays current and nothing downstream runs again (a rebuild of the same rows too: ./same-rows.ts).
//
// Anything that makes the previous run incomparable (another definition, another logical time for
// SQL that reads it, an input's previous snapshot gone, a schema change) is a full rebuild, and so is
// every SQL the analysis does not derive.

import type { DuckDBConnection } from '@duckdb/node-api';
import type { CleanseNode, ModelNode, NodeId } from '../ir/types.js';
import { nodeDefinition } from '../planner/fingerprint.js';
import { maintenanceKept, maintenanceOf } from '../planner/maintenance.js';
import type { ColumnSchema, MaintenanceCosts, PipelineState, SnapshotRef } from '../planner/state-store.js';
import { selectScan, type PendingSnapshot, type ScanFile, type Warehouse } from '../warehouse/warehouse.js';
import { changedRows, planMerge, columnNames, withKeys, SIGN } from './merge-write.js';
import { fingerprintSql, noDifference } from './same-rows.js';
import { canonicalJson } from '../util/canonical-json.js';
import { renderBody, toolkitUnless } from './render.js';
import type { RunContext } from './executor.js';
import { qualified } from './catalog.js';
import { ident } from './duckdb.js';
import { mark } from './profile.js';
import { filesToRewrite } from './compaction.js';

type SqlNode = CleanseNode | ModelNode;

export type DerivedOutcome =
  /**
   * `rows` selects the rows to write: the new snapshot is the previous one less the files
   * `remove`, less the rows `deletes` names (`positions`: a SELECT of row numbers of `target`),
   * plus them. `untouched` selects the previous rows kept in place; `key` is the table's key.
   */
  | {
      readonly kind: 'derived';
      readonly keys: number;
      /** Of `keys`, those whose groups merged the inserted rows' aggregates (the rest were recomputed). */
      readonly merged?: number;
      readonly key: string;
      /** The new snapshot's row count: the previous one's less the affected keys' rows plus the recomputed rows. */
      readonly count: number;
      /** How many rows `rows` selects: the recomputed rows and the other rows of the files it rewrites. */
      readonly written: number;
      readonly remove: readonly string[];
      /** `positions` also selects the deleted rows' columns `row` (their key), which the delete file keeps (Warehouse.deleteCopySql). */
      readonly deletes: readonly { readonly target: ScanFile; readonly positions: string; readonly row?: readonly string[] }[];
      readonly untouched: string;
      readonly rows: string;
      /** The digests (./same-rows.ts) of the previous rows the merge replaces and of the rows it writes in their place, when taken. */
      readonly digest?: { readonly replaced: string; readonly fresh: string };
    }
  /** No row of the table changes: the previous snapshot stays. */
  | { readonly kind: 'unchanged'; readonly keys: number }
  | { readonly kind: 'full'; readonly reason: string };

/**
 * Try to maintain the node's table from its inputs' changes. `guard` runs a statement of the node's
 * SQL (its errors are the user's). Creates `asg_out` when derived.
 */
export async function runDerived(ctx: RunContext<SqlNode>, conn: DuckDBConnection, guard: <T>(f: () => Promise<T>) => Promise<T>): Promise<DerivedOutcome> {
  const { node, state } = ctx;
  const full = (reason: string): DerivedOutcome => ({ kind: 'full', reason });
  await toolkitUnless(maintenanceKept(node, ctx.ir, ctx.maintenanceCache));
  const m = maintenanceOf(node, ctx.ir, ctx.maintenanceCache);
  if (m.mode === 'full') return full(m.reason);
  const prev = state.nodes[node.id];
  if (!prev?.snapshot || !prev.schema) return full('no previous snapshot');
  if (!sameDefinition(ctx)) return full('the definition changed');
  if (m.usesLogicalTime && prev.logicalTime !== ctx.logicalTime.toISOString()) return full('the logical time moved (the SQL reads it)');
  const costs = withFixedPrior(prev.costs, state, node.id);
  const dear = costChoice.byCost ? derivedDearer(costs, 0) : undefined;

  // The inputs that moved, with the snapshot the node last read.
  const moved: { id: NodeId; old: SnapshotRef; schema?: readonly ColumnSchema[] }[] = [];
  // The tables the SQL reads (a check's parent table is an input too, but not of the rows).
  const reads = Object.keys(m.inputs);
  for (const id of reads) {
    const cur = state.nodes[id];
    const seen = prev.inputSnapshots?.[id];
    if (!cur?.snapshot || !seen) return full(`${id} has no snapshot to compare`);
    if (cur.snapshot.id === seen) continue;
    const old = [...(cur.history ?? [])].find((s) => s.id === seen);
    if (!old) return full(`the snapshot of ${id} it last read is no longer kept`);
    moved.push({ id, old, schema: cur.schema });
  }
  if (moved.length === 0) return { kind: 'unchanged', keys: 0 };
  // Its fixed part alone costs more than a rebuild: no need to read the changes, unless they are few.
  // Then they are read first: a change that reaches no key leaves the table as it is, for the price
  // of reading it (rows appended outside a SQL's window of dates: else rebuilt, then compared).
  if (dear && !(await fewChanges(ctx.warehouse, state, moved, reads))) return full(dear);

  const view = (id: NodeId, what: string) => ident(`asg_${what}_${id.replace(/\W/g, '_')}`);
  // Aggregates merge (src/sql/derive.ts `mergeableAggregates`) unless a SUM is floating: adding to a
  // previous floating sum rounds differently from summing the rows again, so those groups are recomputed.
  const agg =
    !dear && m.aggregates && !m.aggregates.merged.some((c) => c.fn === 'sum' && FLOATING.test(prev.schema!.find((p) => p.name === c.name)?.type ?? ''))
      ? m.aggregates
      : undefined;
  const parts: string[] = [];
  for (const [i, { id, old, schema }] of moved.entries()) {
    const ch = await changedRows(conn, ctx.warehouse, old, state.nodes[id].snapshot!, schema, { signed: !!agg });
    if (ch.kind === 'incomparable') return full(`the columns of ${id} changed`);
    if (ch.kind !== 'rows') continue;
    if (!agg) {
      parts.push(`SELECT ${ident(m.inputs[id])} AS k FROM (${await reaching(ctx, m.filters[id], ch.sql)})`);
      continue;
    }
    // A key is recomputed (f) when one of its rows was deleted, its input's inserted rows do not
    // merge, or two inputs changed it; else its groups merge the inserted rows (`src`: their input).
    await conn.run(`CREATE OR REPLACE TEMP TABLE ${view(id, 'changes')} AS ${await reaching(ctx, m.filters[id], ch.sql)}`);
    const merges = agg.deltaInputs.includes(id);
    parts.push(`SELECT ${ident(m.inputs[id])} AS k, ${merges ? `${ident(SIGN)} < 0` : 'true'} AS f, ${i} AS src FROM ${view(id, 'changes')}`);
  }
  if (parts.length === 0) return { kind: 'unchanged', keys: 0 };
  // Rebuilt as the costs say unless no changed row reaches a key: the first one found decides.
  if (dear) {
    const any = await conn.runAndReadAll(`SELECT 1 FROM (${parts.join(' UNION ALL ')}) LIMIT 1`);
    mark(`derived: ${any.getRows().length ? 'a' : 'no'} reaching key`);
    return any.getRows().length ? full(dear) : { kind: 'unchanged', keys: 0 };
  }
  await conn.run(
    agg
      ? `CREATE OR REPLACE TEMP TABLE asg_keys AS SELECT k, bool_or(f) OR count(DISTINCT src) > 1 AS f, min(src) AS src FROM (${parts.join(' UNION ALL ')}) GROUP BY k`
      : `CREATE OR REPLACE TEMP TABLE asg_keys AS SELECT DISTINCT k FROM (${parts.join(' UNION ALL ')})`,
  );
  // How many keys, whether NULL is one of them (NULL is a key value like any other), how many recomputed.
  const kr = (
    await conn.runAndReadAll(`SELECT count(*), coalesce(bool_or(k IS NULL), false), ${agg ? 'count(*) FILTER (WHERE f)' : 'count(*)'} FROM asg_keys`)
  ).getRows()[0];
  const keys = Number(kr[0]);
  const nulls = kr[1] === true;
  const recomputed = Number(kr[2]);
  mark(`derived: ${keys} keys`);
  if (keys === 0) return { kind: 'unchanged', keys };
  const share = keys / Math.max(1, prev.snapshot.rows);
  if (share > costChoice.maxShare) return full(`${keys} keys changed, ${Math.round(share * 100)}% of the table's rows: a rebuild is cheaper`);
  const dearer = costChoice.byCost ? derivedDearer(costs, share) : undefined;
  if (dearer) return full(dearer);

  // Every input restricted to the recomputed keys, as a view: the node's SQL then reads only the
  // columns it needs, and the keys' join filter reaches the scan (materialising every column of a
  // large input cost 4x the node's whole SQL over it).
  const recomputedKeys = agg ? '(SELECT k FROM asg_keys WHERE f)' : 'asg_keys';
  for (const id of reads) {
    const rows = recomputed ? withKeys(qualified(id), [[m.inputs[id], 'k']], recomputedKeys, nulls) : `SELECT * FROM ${qualified(id)} WHERE false`;
    await conn.run(`CREATE OR REPLACE TEMP VIEW ${view(id, 'delta')} AS ${rows}`);
    mark(`derived: ${id} restricted to the keys`);
  }
  const render = (tableRef: (id: NodeId) => string) => renderBody(node.sql, { tableRef, logicalTime: ctx.logicalTime }, ctx.renderCache);
  const rendered = await render((id) => (reads.includes(id) ? view(id, 'delta') : qualified(id)));
  if (rendered.diagnostics.length) return full(rendered.diagnostics[0].message);
  await guard(() => conn.run(`CREATE OR REPLACE TEMP TABLE asg_fresh AS ${rendered.sql}`));
  mark('derived: SQL over the restricted inputs');
  const fresh = await describe(conn, 'asg_fresh');
  if (canonicalJson(fresh) !== canonicalJson(prev.schema.map((c) => ({ name: c.name, type: c.type })))) return full('the output columns changed');
  mark('derived: output columns');
  if (!agg || recomputed === keys) return mergeFresh(conn, ctx.warehouse, prev.snapshot, prev.schema, m.key, keys, nulls);

  // The merged keys' groups: for each input that inserted rows, the node's SQL over those rows
  // (the other inputs restricted to that input's keys) gives their aggregates per group, merged
  // with the group's previous row (a group new or untouched has one side only). asg_fresh then
  // holds every row of those keys, as the merge needs.
  const deltas: string[] = [];
  for (const [i, { id }] of moved.entries()) {
    if (!agg.deltaInputs.includes(id)) continue;
    const mine = `(SELECT k FROM asg_keys WHERE NOT f AND src = ${i})`;
    const r = await render((t) => {
      if (!reads.includes(t)) return qualified(t);
      if (t !== id) return `(${withKeys(qualified(t), [[m.inputs[t], 'k']], mine, nulls)})`;
      // A row inserted n times, n times.
      const inserted = withKeys(view(id, 'changes'), [[m.inputs[id], 'k']], mine, nulls);
      return `(SELECT * EXCLUDE (${ident(SIGN)}, asg_n) FROM (SELECT *, unnest(range(CAST(${ident(SIGN)} AS BIGINT))) AS asg_n FROM (${inserted})))`;
    });
    if (r.diagnostics.length) return full(r.diagnostics[0].message);
    deltas.push(`SELECT * FROM (${r.sql})`);
  }
  await guard(() => conn.run(`CREATE OR REPLACE TEMP TABLE asg_inserted AS ${deltas.join(' UNION ALL ')}`));
  mark('derived: SQL over the inserted rows');
  const c = (side: string, name: string) => `${side}.${ident(name)}`;
  const value = (name: string): string => {
    const [p, d] = [c('p', name), c('d', name)];
    const fn = agg.merged.find((x) => x.name === name)?.fn;
    if (fn === 'count') return `coalesce(${p}, 0) + coalesce(${d}, 0)`;
    if (fn === 'sum') return `coalesce(${p} + ${d}, ${p}, ${d})`;
    if (fn === 'min' || fn === 'max')
      return `CASE WHEN ${p} IS NULL THEN ${d} WHEN ${d} IS NULL THEN ${p} ELSE ${fn === 'min' ? 'least' : 'greatest'}(${p}, ${d}) END`;
    return `coalesce(${p}, ${d})`;
  };
  const on = agg.groups.map((g) => `${c('p', g)} IS NOT DISTINCT FROM ${c('d', g)}`).join(' AND ');
  const schema = prev.schema;
  const out = await mergeFresh(conn, ctx.warehouse, prev.snapshot, schema, m.key, keys, nulls, true, async (replaced) => {
    const previous = withKeys(`(${replaced})`, [[m.key, 'k']], '(SELECT k FROM asg_keys WHERE NOT f)', nulls);
    await conn.run(
      `INSERT INTO asg_fresh SELECT ${schema.map((col) => value(col.name)).join(', ')} FROM (${previous}) AS p FULL OUTER JOIN asg_inserted AS d ON ${on || 'true'}`,
    );
    mark('derived: merged with the previous groups');
  });
  return out.kind === 'derived' ? { ...out, merged: keys - recomputed } : out;
}

/** Whether the node's definition is the one its table was last built by. */
export function sameDefinition(ctx: RunContext<SqlNode>): boolean {
  const def = (ctx.state.nodes[ctx.node.id]?.definition as { data?: unknown } | undefined)?.data;
  return canonicalJson(def) === canonicalJson(nodeDefinition(ctx.node, ctx.ir).data);
}

/**
 * Step 3 of a derived run, for any table kept by key (a SQL node's, or a feature view's online
 * table: src/engine/features-executor.ts): the merge of `asg_fresh` — every new row of the keys in
 * `asg_keys` (column `k`; `nulls`: one of them is NULL), none of another key — into the table whose
 * previous snapshot is `prev` (columns `schema`, key column `key`). Every previous row of those keys
 * is replaced, so every row of a key the merge changed is in the files it writes: a feature view
 * over the table reads only those (src/planner/maintenance.ts `featuresMaintenance`; its test fails
 * when a merge keeps a row of such a key in place). With `compare`, unchanged when
 * `asg_fresh` holds exactly the previous rows of those keys (the merge then reads every column of
 * those rows, not only the key). `beforeCompare` completes `asg_fresh` from `replaced`, the SELECT
 * of those previous rows (a GROUP BY's merged groups).
 */
export async function mergeFresh(
  conn: DuckDBConnection,
  warehouse: Warehouse,
  prev: SnapshotRef,
  schema: readonly ColumnSchema[],
  key: string,
  keys: number,
  nulls: boolean,
  compare = true,
  beforeCompare?: (replaced: string) => Promise<void>,
): Promise<Exclude<DerivedOutcome, { kind: 'full' }>> {
  // Only the previous files holding an affected key are read and rewritten; the same pass
  // fingerprints their rows of the affected keys, and keeps them when `beforeCompare` reads them all.
  const cols = columnNames(schema);
  const sameColumns = await warehouse.sameColumns(prev);
  const merge = await planMerge(conn, await warehouse.scan(prev), schema, [[key, 'k']], 'asg_keys', {
    hashRows: compare,
    keepRows: compare && !!beforeCompare,
    nulls,
    sameColumns,
  });
  mark(`derived: ${merge.hit.length} of ${merge.hit.length + merge.untouched.length} files hit`);
  let digest: { replaced: string; fresh: string } | undefined;
  await beforeCompare?.(merge.replaced);
  if (compare) {
    await conn.run(`CREATE OR REPLACE TEMP VIEW asg_prev_hit AS ${merge.replaced}`);
    const c = await sameRows(conn, 'asg_fresh', 'asg_prev_hit', cols, merge.fingerprint);
    mark('derived: compared with the previous rows');
    if (c.same) return { kind: 'unchanged', keys };
    digest = { replaced: c.b, fresh: c.a };
  }
  const rewrite = filesToRewrite([...merge.untouched, ...merge.hitFiles], merge.hitFiles, merge.hitRows);
  const marked = merge.hitFiles.filter((f) => !rewrite.includes(f));
  const replaced = [...merge.hitRows.values()].reduce((a, b) => a + b, 0);
  const fresh = await count(conn, 'SELECT count(*) FROM asg_fresh');
  const rewritten = rewrite.reduce((n, f) => n + f.rows - f.deletedRows - (merge.hitRows.get(f.path) ?? 0), 0);
  return {
    kind: 'derived',
    keys,
    key,
    count: prev.rows - replaced + fresh,
    written: rewritten + fresh,
    remove: rewrite.map((f) => f.path),
    deletes: marked.map((target) => ({ target, positions: merge.deletedKeys(target), row: merge.keyColumns })),
    untouched: `${selectScan(
      merge.untouched.filter((f) => !rewrite.includes(f)),
      schema,
      sameColumns,
    )} UNION ALL ${merge.keptOf(marked)}`,
    rows: `SELECT ${cols} FROM (${merge.keptOf(rewrite)}) UNION ALL SELECT ${cols} FROM asg_fresh`,
    ...(digest ? { digest } : {}),
  };
}

/** Floating column types: a SUM of them is recomputed, not merged. */
const FLOATING = /^(FLOAT|DOUBLE|REAL|FLOAT4|FLOAT8)\b/i;

/**
 * Write a merge into `pending`: its rows, and a position delete file per data file it marks.
 * Returns the delete files for Warehouse.commit's `deletes` (with `base` and `remove: d.remove`).
 */
export async function writeMergeFiles(
  conn: DuckDBConnection,
  warehouse: Warehouse,
  pending: PendingSnapshot,
  d: Extract<DerivedOutcome, { kind: 'derived' }>,
): Promise<{ file: string; target: string }[]> {
  await warehouse.write(conn, pending, d.rows);
  const deletes: { file: string; target: string }[] = [];
  for (const { target, positions, row } of d.deletes) {
    const c = warehouse.deleteCopySql(pending, target, positions, row);
    await conn.run(c.sql);
    deletes.push({ file: c.file, target: target.path });
  }
  return deletes;
}

/**
 * The changed rows of an input (`rows`) that can reach the output: those passing the conditions the
 * SQL reads every row of it under (`filter`, src/sql/derive.ts `filters`), rendered as the node's SQL
 * is (its logical time included) over them. A row failing them contributes to no output row in
 * either snapshot, so its key need not be recomputed. Without a filter (or one that does not
 * render), every changed row.
 */
async function reaching(ctx: RunContext<SqlNode>, filter: string | undefined, rows: string): Promise<string> {
  if (!filter) return rows;
  const r = await renderBody(
    { ...ctx.node.sql, text: filter, normalized: filter },
    { tableRef: () => `(${rows})`, logicalTime: ctx.logicalTime },
    ctx.renderCache,
  );
  return r.diagnostics.length ? rows : r.sql;
}

/**
 * Whether the files that differ between the inputs' snapshots (`moved`: each with the snapshot the
 * node last read) hold at most `costChoice.fewChanges` of the rows of the tables the SQL reads.
 */
async function fewChanges(
  warehouse: Warehouse,
  state: PipelineState,
  moved: readonly { id: NodeId; old: SnapshotRef }[],
  reads: readonly NodeId[],
): Promise<boolean> {
  let changed = 0;
  for (const { id, old } of moved) {
    const before = new Map((await warehouse.scan(old)).map((f) => [f.path, f]));
    const after = await warehouse.scan(state.nodes[id].snapshot!);
    for (const f of after) {
      const o = before.get(f.path);
      if (!o || o.deletes.join('\n') !== f.deletes.join('\n')) changed += f.rows;
      before.delete(f.path);
    }
    for (const f of before.values()) changed += f.rows;
  }
  const rows = reads.reduce((n, id) => n + (state.nodes[id]?.snapshot?.rows ?? 0), 0);
  return changed <= costChoice.fewChanges * rows;
}

/**
 * The cost choice (docs/language.md, "Derived incremental maintenance"): a derived run reads what a
 * rebuild reads (each input, restricted to the affected keys by a join over its key column) and
 * the table's key column (the merge), then computes and writes the affected keys' rows only; a
 * rebuild computes and writes every row. So a derived run pays while the share of the table it
 * recomputes is small; past this share of the table's rows (affected keys / rows: a lower bound of
 * the share when a key has several rows) the table is rebuilt. When the measured costs say rebuild
 * (`derivedDearer`), the changes are still read first while their files hold at most `fewChanges` of
 * the rows the SQL reads: none of them reaching a key, the table stays as it is.
 */
export const costChoice = { maxShare: 0.5, byCost: true, fewChanges: 0.05 };

/**
 * The measured part of the cost choice: a derived run costs a fixed part F (reading the changes,
 * restricting the inputs, finding and replacing the previous rows — whatever the node's SQL and
 * tables make it) plus the share of a rebuild its keys are; F is the node's own, from its last
 * derived run (that run's seconds less its share of the last rebuild's seconds R), or before its
 * first one the least any other table measured (`withFixedPrior`: `fixedFrom` names it). When
 * F + share x R is at least R, the reason to rebuild instead; undefined when derived is cheaper, or
 * not yet measured.
 */
export function derivedDearer(costs: (MaintenanceCosts & { readonly fixedFrom?: NodeId }) | undefined, share: number): string | undefined {
  const r = costs?.rebuild;
  const f = costs?.derivedFixed;
  if (r === undefined || f === undefined || f + share * r < r) return undefined;
  const est = Math.round((f + share * r) * 1000);
  return `a rebuild is cheaper (its last took ${Math.round(r * 1000)} ms, a derived run ~${est} ms${costs?.fixedFrom ? `, as ${costs.fixedFrom}'s fixed part` : ''})`;
}

/**
 * The node's costs for the choice. A node that has not run derived yet takes for F the least fixed
 * part any other table of the pipeline measured: every derived run pays the same kind of fixed work
 * (the change sets, a statement per input, the table's key column, the delete files, a commit), so
 * a node whose whole rebuild costs less than the cheapest derived run measured is rebuilt from its
 * first run on — not derived once to learn that (a cheap rebuild of a SQL that reads a few
 * partitions). With no fixed part measured anywhere, its first run is derived (and measures it).
 * A node rebuilt this way never measures its own F; it costs it at most its rebuild's time, which is
 * less than that least F.
 */
export function withFixedPrior(
  costs: MaintenanceCosts | undefined,
  state: PipelineState,
  id: NodeId,
): (MaintenanceCosts & { readonly fixedFrom?: NodeId }) | undefined {
  if (costs?.rebuild === undefined || costs.derivedFixed !== undefined) return costs;
  let least: { id: NodeId; f: number } | undefined;
  for (const [other, ns] of Object.entries(state.nodes)) {
    const f = ns.costs?.derivedFixed;
    if (other !== id && f !== undefined && (!least || f < least.f)) least = { id: other, f };
  }
  return least ? { ...costs, derivedFixed: least.f, fixedFrom: least.id } : costs;
}

/** The costs to record after a derived run of `seconds` that recomputed `share` of the table. */
export function derivedCosts(costs: MaintenanceCosts | undefined, share: number, seconds: number): MaintenanceCosts {
  return { ...costs, derivedFixed: Math.max(0, seconds - share * (costs?.rebuild ?? 0)) };
}

/**
 * Whether two relations hold the same rows (as multisets of `cols`), with each side's digest
 * (./same-rows.ts; `bFingerprint`: b's, when known). The fingerprints first, one pass over each
 * side: a difference is final (the usual case when keys were recomputed); equal fingerprints are
 * confirmed row by row, so the answer is exact.
 */
async function sameRows(conn: DuckDBConnection, a: string, b: string, cols: string, bFingerprint?: string): Promise<{ same: boolean; a: string; b: string }> {
  const r = await conn.runAndReadAll(
    `SELECT x.n = y.n AND x.h = y.h, x.h::VARCHAR, y.h::VARCHAR FROM (${fingerprintSql(a, cols)}) AS x, (${bFingerprint ?? fingerprintSql(b, cols)}) AS y`,
  );
  const [equal, ha, hb] = r.getRows()[0];
  const same = equal === true && (await noDifference(conn, `SELECT ${cols} FROM ${a}`, `SELECT ${cols} FROM ${b}`));
  return { same, a: String(ha), b: String(hb) };
}

async function describe(conn: DuckDBConnection, relation: string): Promise<ColumnSchema[]> {
  const r = await conn.runAndReadAll(`DESCRIBE SELECT * FROM ${relation}`);
  return r.getRowObjects().map((row) => ({ name: String(row.column_name), type: String(row.column_type) }));
}

async function count(conn: DuckDBConnection, sql: string): Promise<number> {
  const r = await conn.runAndReadAll(sql);
  return Number(r.getRows()[0]?.[0] ?? 0);
}
