// A catalog entry changed underneath an apply: between the moment asgard starts a table's new
// snapshot and its compare-and-swap in the catalog, another writer (a second asgard warehouse on
// the same catalog file, as another engine or person would) commits a snapshot of the same table.
// asgard's commit must lose: the node fails with a message naming the table (exit 1, no stack
// trace), the state keeps the previous snapshot (asgard's readers see the old rows), the other
// writer's commit is not overwritten, no file of the refused write is left, and the next apply
// resumes and succeeds.

import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { engineExecutors, executorResolver, type ExecutorResolver } from '../../src/engine/executors.js';
import type { NodeExecutor, RunContext } from '../../src/engine/executor.js';
import { openDuck } from '../../src/engine/duckdb.js';
import { StateStore } from '../../src/planner/state-store.js';
import { Warehouse, type PendingSnapshot } from '../../src/warehouse/warehouse.js';
import { cli } from '../cli/helpers.js';

const spec = (having: string) => `pipeline conflicts {
  source shop file {
    path = "./orders.csv"
    stream orders {
      primary_key = order_id
      columns     = { order_id = "BIGINT"  country = "VARCHAR"  amount = "DOUBLE" }
    }
  }

  model revenue {
    materialized = table
    sql """ SELECT country, SUM(amount) AS revenue FROM bronze.orders GROUP BY country ${having} """
  }
}
`;

/** The model's executor, with a warehouse whose commit first lets another writer commit the same table. */
function racedBy(other: Warehouse, table: string): ExecutorResolver {
  return executorResolver({
    source: async () => (await import('../../src/ingest/source-executor.js')).executor,
    model: async (): Promise<NodeExecutor> => {
      const inner = await engineExecutors.model();
      return {
        kind: 'model',
        run(ctx: RunContext) {
          const wh = ctx.warehouse;
          const raced = Object.create(wh) as Warehouse;
          raced.commit = async (p: PendingSnapshot, conn, opts) => {
            if (p.table === table) await otherWriterCommits(other, table);
            return wh.commit(p, conn, opts);
          };
          return inner.run({ ...ctx, warehouse: raced } as RunContext<never>);
        },
      };
    },
  });
}

async function otherWriterCommits(other: Warehouse, table: string): Promise<void> {
  const conn = await openDuck();
  try {
    const p = await other.begin(table, [
      { name: 'country', type: 'VARCHAR' },
      { name: 'revenue', type: 'DOUBLE' },
    ]);
    await conn.run(other.copySql(p, "SELECT 'XX' AS country, 1.0::DOUBLE AS revenue"));
    await other.commit(p, conn);
  } finally {
    conn.closeSync();
  }
}

describe('a catalog entry changed underneath an apply', () => {
  it('the commit loses with the table named (exit 1), the previous snapshot stays current, nothing is left behind, and the next apply resumes', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'asgard-conflict-'));
    writeFileSync(join(dir, 'orders.csv'), 'order_id,country,amount\n1,NL,10\n2,DE,5\n3,NL,2.5\n');
    writeFileSync(join(dir, 'p.asg'), spec(''));
    const first = await cli(['apply', 'p.asg', '--yes'], { cwd: dir });
    expect(first.code, first.stderr).toBe(0);
    const state = () => new StateStore(join(dir, '.asgard'), 'conflicts').read();
    const before = state().nodes['gold.revenue'];
    const root = join(dir, '.asgard', 'warehouse');
    const query = async () => {
      const r = await cli(['query', 'p.asg', 'SELECT country, revenue FROM gold.revenue ORDER BY country', '--format', 'json'], { cwd: dir });
      expect(r.code, r.stderr).toBe(0);
      return JSON.parse(r.stdout).rows as unknown[];
    };
    const dataFiles = () => readdirSync(join(root, 'gold', 'revenue', 'data')).sort();
    const filesBefore = dataFiles();

    // The SQL changes, so the model runs again; another writer commits while it does.
    writeFileSync(join(dir, 'p.asg'), spec('HAVING SUM(amount) > 6'));
    const other = new Warehouse(root);
    const r = await cli(['apply', 'p.asg', '--yes'], { cwd: dir, services: { executors: racedBy(other, 'gold.revenue') } });
    expect(r.code).toBe(1);
    expect(r.stdout + r.stderr).toMatch(
      /gold\.revenue failed: iceberg table gold\.revenue was changed by another writer in the catalog .*catalog\.db; the commit was refused/,
    );
    expect(r.stderr).not.toMatch(/\n\s+at /);
    // asgard's state and readers keep the previous snapshot; the other writer's commit stands.
    expect(state().nodes['gold.revenue']).toEqual(before);
    expect(await query()).toEqual([
      { country: 'DE', revenue: 5 },
      { country: 'NL', revenue: 12.5 },
    ]);
    const current = await other.tables.current(other.ident('gold.revenue'));
    expect(current!.metadata['current-snapshot-id']).not.toBe(before.snapshot!.id);
    expect(current!.metadata.snapshots.map((s) => s['snapshot-id'])).toContain(before.snapshot!.id);
    // The refused write left no data file: only the previous snapshot's and the other writer's.
    expect(dataFiles().filter((f) => !filesBefore.includes(f))).toHaveLength(1);
    await other.tables.catalog.close();

    // Nothing races any more: the next apply runs the model again and commits.
    const next = await cli(['apply', 'p.asg', '--yes', '--format', 'json'], { cwd: dir });
    expect(next.code, next.stderr).toBe(0);
    expect((JSON.parse(next.stdout).nodes as { node: string; status: string }[]).find((n) => n.node === 'gold.revenue')!.status).toBe('succeeded');
    expect(await query()).toEqual([{ country: 'NL', revenue: 12.5 }]);
    const after = state().nodes['gold.revenue'];
    expect(after.snapshot!.id).not.toBe(before.snapshot!.id);
    const catalogNow = await new Warehouse(root).tables.current(other.ident('gold.revenue'));
    // (Expiry after the commit writes one more metadata file: the snapshot is what must agree.)
    expect(catalogNow!.metadata['current-snapshot-id']).toBe(after.snapshot!.id);
  }, 300_000);
});
