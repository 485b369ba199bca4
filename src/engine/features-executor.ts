// Materialises a feature view: checks its source table against the declared features (names and
// dtypes, with the location of the feature in the spec), then writes the online table — the latest
// row per entity — as an Iceberg table `features.<view>` whose snapshot is recorded in state like any table. Offline
// retrieval reads the source table's snapshot directly (src/engine/features.ts), so the two can
// never disagree about which data they saw.

import type { FeaturesNode } from '../ir/types.js';
import { NodeError, type NodeExecutor, type NodeResult, type RunContext } from './executor.js';
import { attachWarehouse, qualified } from './catalog.js';
import { join } from 'node:path';
import { openScratchDuck } from './duckdb.js';
import { onlineFeaturesSql } from './features.js';
import { checkFeatures } from './schemas.js';
import { mark } from './profile.js';

export const executor: NodeExecutor<FeaturesNode> = {
  kind: 'features',
  async run(ctx: RunContext<FeaturesNode>): Promise<NodeResult> {
    const view = ctx.node;
    mark('start');
    const conn = await openScratchDuck(join(ctx.scratchDir, 'duckdb'));
    mark('open');
    try {
      await attachWarehouse(conn, ctx.state, ctx.warehouse, { ir: ctx.ir, logicalTime: ctx.logicalTime, only: new Set([view.from]) });
      mark('attach');
      let fromSchema;
      try {
        const d = await conn.runAndReadAll(`DESCRIBE SELECT * FROM ${qualified(view.from)}`);
        fromSchema = d.getRowObjects().map((r) => ({ name: String(r.column_name), type: String(r.column_type) }));
      } catch {
        throw new NodeError(`${view.id}: its source ${view.from} has no snapshot yet`, view.span);
      }
      const problems = checkFeatures(view, fromSchema);
      if (problems.length) throw new NodeError(`${view.id}: ${problems.map((p) => p.message).join('; ')}`, problems[0].span ?? view.span);

      mark('describe its source');
      const d = await conn.runAndReadAll(`DESCRIBE ${onlineFeaturesSql(view)}`);
      const schema = d.getRowObjects().map((o) => ({ name: String(o.column_name), type: String(o.column_type) }));
      const pending = await ctx.warehouse.begin(view.id, schema);
      mark('describe and begin');
      try {
        const rows = await ctx.warehouse.write(conn, pending, onlineFeaturesSql(view));
        mark('compute and write');
        ctx.progress({ rows });
        const snapshot = await ctx.warehouse.commit(pending, conn);
        mark('commit');
        return { rows, snapshot, schema };
      } catch (e) {
        await ctx.warehouse.abort(pending);
        throw e instanceof NodeError ? e : new NodeError(`${view.id}: ${(e as Error).message.split('\n')[0]}`, view.span);
      }
    } finally {
      conn.closeSync();
    }
  },
};
export default executor;
