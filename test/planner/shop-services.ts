// The shop pipeline (test/planner/cases/sql-edit-cascades) on the embedded engine: the real SQL
// executor for cleanses and models, and a stand-in source executor that writes real Parquet with
// DuckDB (order i has amount i; customer i lives in 'de' when i is even, else 'fr').
import { join } from 'node:path';
import { openDuck, queryAll } from '../../src/engine/duckdb.js';
import type { NodeExecutor } from '../../src/engine/executor.js';
import { engineExecutors, executorResolver } from '../../src/engine/executors.js';
import type { NodeKind, SourceNode } from '../../src/ir/types.js';
import { StateStore } from '../../src/planner/state-store.js';
import { Warehouse } from '../../src/warehouse/warehouse.js';

export const shop = join(__dirname, 'cases', 'sql-edit-cascades');

/** Sources: `rows` rows per stream; a new snapshot only when `rows` changed since the last sync. */
export function services(rows: { n: number }, ran: string[]) {
  const real = executorResolver(engineExecutors);
  const source: NodeExecutor<SourceNode> = {
    kind: 'source',
    async run(ctx) {
      ran.push(ctx.node.id);
      const prev = ctx.state.nodes[ctx.node.id];
      if (prev?.cursor === String(rows.n)) return { rows: 0 };
      const p = await ctx.warehouse.begin(ctx.node.id, ctx.node.stream.columns!);
      const conn = await openDuck();
      try {
        const cols = ctx.node.stream.columns!.map((c) => {
          const v =
            c.type.startsWith('DECIMAL') || c.type === 'BIGINT'
              ? 'i'
              : c.type === 'TIMESTAMP'
                ? "TIMESTAMP '2025-01-01' + i * INTERVAL 1 HOUR"
                : "CASE WHEN i % 2 = 0 THEN 'de' ELSE 'fr' END";
          return `CAST(${v} AS ${c.type}) AS ${c.name}`;
        });
        await conn.run(ctx.warehouse.copySql(p, `SELECT ${cols.join(', ')} FROM range(${rows.n}) t(i)`));
        return { rows: rows.n, snapshot: await ctx.warehouse.commit(p, conn), cursor: String(rows.n), schema: ctx.node.stream.columns };
      } finally {
        conn.closeSync();
      }
    },
  };
  return {
    executors: async (kind: NodeKind) => {
      if (kind === 'source') return source as NodeExecutor;
      const ex = await real(kind);
      return {
        kind,
        run: (ctx) => {
          ran.push(ctx.node.id);
          return ex.run(ctx);
        },
      } as NodeExecutor;
    },
  };
}

export async function count(dir: string, table: string): Promise<number> {
  const state = new StateStore(join(dir, '.asgard'), 'shop').read();
  const wh = new Warehouse('./.asgard/warehouse', dir);
  const conn = await openDuck();
  try {
    const r = await queryAll(conn, `SELECT COUNT(*) AS n FROM (${await wh.snapshotSelect(state.nodes[table].snapshot!)})`);
    return Number(r.rows[0].n);
  } finally {
    conn.closeSync();
  }
}
