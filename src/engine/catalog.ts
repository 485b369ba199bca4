// The warehouse as DuckDB sees it: every committed snapshot of the state becomes a view
// `<layer>.<table>` over the data files of that Iceberg snapshot (read from its manifests; no
// DuckDB Iceberg extension is involved). Readers follow only the state's pointers, so files being
// written, or left by a crash, are never visible.
//
// `view` models have no snapshot: readers see the model's SQL, rendered at attach time over the
// current snapshots of its inputs (like a database view). They are attached in the IR's
// topological order, so a view over a view works.

import type { DuckDBConnection } from '@duckdb/node-api';
import type { ModelNode, NodeId, PipelineIR } from '../ir/types.js';
import { outputTable } from '../ir/types.js';
import type { ColumnSchema, PipelineState } from '../planner/state-store.js';
import { selectFiles, type Warehouse } from '../warehouse/warehouse.js';
import { ident } from './duckdb.js';
import { renderBody } from './render.js';
import { isLayerTable, LAYERS, nodeAddress, parseNodeId } from '../ir/address.js';

export { LAYERS, isLayerTable } from '../ir/address.js';

export interface AttachOptions {
  /** With the IR, `view` models are attached too and serve batch outputs are found by table name. */
  readonly ir?: PipelineIR;
  readonly logicalTime?: Date;
  /** Override snapshots (an executor attaches its own pending output, e.g. for checks). */
  readonly overrides?: ReadonlyMap<string, { readonly files: readonly string[]; readonly schema?: readonly ColumnSchema[] }>;
  /**
   * Attach only these tables (node ids or table names) and what the view models among them read.
   * An executor passes its inputs: each attached view costs a Parquet metadata read.
   */
  readonly only?: ReadonlySet<string>;
}

export interface AttachedTable {
  readonly table: string;
  readonly schema?: readonly ColumnSchema[];
}

/** Create schemas bronze/silver/gold and one view per table the state holds. Returns what was attached. */
export async function attachWarehouse(conn: DuckDBConnection, state: PipelineState, warehouse: Warehouse, opts: AttachOptions = {}): Promise<AttachedTable[]> {
  await conn.run([...LAYERS, 'features'].map((l) => `CREATE SCHEMA IF NOT EXISTS ${l}`).join('; '));
  const attached: AttachedTable[] = [];
  const tableOf = new Map<NodeId, string>();
  if (opts.ir)
    for (const n of opts.ir.nodes) {
      const t = outputTable(n);
      if (t) tableOf.set(n.id, t);
    }
  const wanted = opts.only ? closure(opts.only, opts.ir) : undefined;
  for (const [id, ns] of Object.entries(state.nodes)) {
    // Feature views attach their online table (latest row per entity) as `features.<view>`.
    const table = tableOf.get(id) ?? (isLayerTable(id) || parseNodeId(id)?.prefix === 'features' ? id : undefined);
    if (!table || !ns.snapshot) continue;
    if (opts.overrides?.has(table)) continue;
    if (wanted && !wanted.has(table) && !wanted.has(id)) continue;
    // Never read a missing snapshot as an empty table: that would silently zero everything downstream.
    const missing = await warehouse.missingSnapshot(ns.snapshot);
    if (missing)
      throw new MissingSnapshotError(`the snapshot of ${table} is missing: ${missing} does not exist (removed outside asgard?); \`asgard apply\` rebuilds it`);
    await conn.run(viewSql(table, await warehouse.snapshotSelect(ns.snapshot, ns.schema)));
    attached.push({ table, schema: ns.schema });
  }
  for (const [table, o] of opts.overrides ?? []) {
    await conn.run(viewSql(table, selectFiles(o.files, o.schema)));
    attached.push({ table, schema: o.schema });
  }
  if (opts.ir) {
    for (const n of opts.ir.nodes) {
      if (n.kind !== 'model' || n.materialized !== 'view') continue;
      if (wanted && !wanted.has(n.id)) continue;
      const sql = await viewModelSql(n, opts.logicalTime ?? new Date());
      if (!sql) continue;
      try {
        await conn.run(`CREATE OR REPLACE VIEW ${qualified(n.id)} AS ${sql}`);
        attached.push({ table: n.id });
      } catch {
        // An input not materialised yet: the view appears once it is.
      }
    }
  }
  return attached;
}

/** `only` plus, transitively, the inputs of the view models in it. */
function closure(only: ReadonlySet<string>, ir?: PipelineIR): Set<string> {
  const out = new Set(only);
  const byId = new Map(ir?.nodes.map((n) => [n.id, n]) ?? []);
  const stack = [...only];
  while (stack.length) {
    const n = byId.get(stack.pop()!);
    if (n?.kind !== 'model' || n.materialized !== 'view') continue;
    for (const i of n.inputs) if (!out.has(i)) stack.push(i), out.add(i);
  }
  return out;
}

export async function viewModelSql(n: ModelNode, logicalTime: Date): Promise<string | undefined> {
  const r = await renderBody(n.sql, { tableRef: qualified, logicalTime });
  return r.diagnostics.length ? undefined : r.sql;
}

/** `silver.customers_cleaned` → `"silver"."customers_cleaned"`. */
export function qualified(table: string): string {
  const a = nodeAddress(table);
  return `${ident(a.prefix)}.${ident(a.name)}`;
}

function viewSql(table: string, select: string): string {
  return `CREATE OR REPLACE VIEW ${qualified(table)} AS ${select}`;
}

/** The state points to a snapshot whose files are not there (deleted outside asgard). */
export class MissingSnapshotError extends Error {}
