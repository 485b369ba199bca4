// Materialises a feature view: checks its source table against the declared features (names and
// dtypes, with the location of the feature in the spec), then writes the online table — the latest
// row per entity — as an Iceberg table `features.<view>` whose snapshot is recorded in state like any table. Offline
// retrieval reads the source table's snapshot directly (src/engine/features.ts), so the two can
// never disagree about which data they saw.
//
// The online table is partitioned by the entity key: after its source changed, only the entities
// whose source rows changed are recomputed and merged (derived maintenance, ./derived.ts); anything
// that makes the previous table incomparable (another definition, other columns) rebuilds it.

import type { FeaturesNode } from '../ir/types.js';
import { NodeError, type NodeExecutor, type NodeResult, type RunContext } from './executor.js';
import { attachWarehouse, qualified } from './catalog.js';
import { join } from 'node:path';
import { openScratchDuck } from './duckdb.js';
import { deriveTable, writeDerived, type DerivedOutcome } from './derived.js';
import { onlineFeaturesSql } from './features.js';
import { checkFeatures } from './schemas.js';

export const executor: NodeExecutor<FeaturesNode> = {
  kind: 'features',
  async run(ctx: RunContext<FeaturesNode>): Promise<NodeResult> {
    const view = ctx.node;
    const conn = await openScratchDuck(join(ctx.scratchDir, 'duckdb'));
    const fail = (e: unknown): never => {
      throw e instanceof NodeError ? e : new NodeError(`${view.id}: ${(e as Error).message.split('\n')[0]}`, view.span);
    };
    try {
      await attachWarehouse(conn, ctx.state, ctx.warehouse, { ir: ctx.ir, logicalTime: ctx.logicalTime, only: new Set([view.from]) });
      let fromSchema;
      try {
        const d = await conn.runAndReadAll(`DESCRIBE SELECT * FROM ${qualified(view.from)}`);
        fromSchema = d.getRowObjects().map((r) => ({ name: String(r.column_name), type: String(r.column_type) }));
      } catch {
        throw new NodeError(`${view.id}: its source ${view.from} has no snapshot yet`, view.span);
      }
      const problems = checkFeatures(view, fromSchema);
      if (problems.length) throw new NodeError(`${view.id}: ${problems.map((p) => p.message).join('; ')}`, problems[0].span ?? view.span);

      const d = await conn.runAndReadAll(`DESCRIBE ${onlineFeaturesSql(view)}`);
      const schema = d.getRowObjects().map((o) => ({ name: String(o.column_name), type: String(o.column_type) }));
      const prev = ctx.state.nodes[view.id];
      const derived: DerivedOutcome | undefined = prev?.snapshot
        ? await deriveTable(ctx, conn, (f) => f(), {
            inputs: { [view.from]: view.entity.joinKey },
            key: view.entity.joinKey,
            usesLogicalTime: false,
            render: (tableRef) => ({ sql: onlineFeaturesSql(view, tableRef(view.from)) }),
          }).catch((e: unknown) => ({ kind: 'full' as const, reason: `derived run failed (${String((e as Error).message ?? e).split('\n')[0]})` }))
        : undefined;
      if (derived?.kind === 'unchanged') {
        const maintenance = `incremental: unchanged (${derived.keys} keys recomputed)`;
        ctx.progress({ rows: prev.snapshot!.rows, message: maintenance });
        return { rows: prev.snapshot!.rows, snapshot: prev.snapshot, schema: prev.schema, maintenance };
      }
      if (derived?.kind === 'derived') {
        const snapshot = await writeDerived(ctx, conn, derived, prev.snapshot!, prev.schema!, []).catch(fail);
        return { rows: snapshot.rows, snapshot, schema, maintenance: `incremental: ${derived.keys} keys recomputed` };
      }
      const pending = await ctx.warehouse.begin(view.id, schema);
      try {
        const rows = await ctx.warehouse.write(conn, pending, onlineFeaturesSql(view));
        ctx.progress({ rows });
        return { rows, snapshot: await ctx.warehouse.commit(pending, conn), schema, ...(derived ? { maintenance: `full: ${derived.reason}` } : {}) };
      } catch (e) {
        await ctx.warehouse.abort(pending);
        return fail(e);
      }
    } finally {
      conn.closeSync();
    }
  },
};
export default executor;
