// Per-node, per-phase breakdown of the engine's full run against bare DuckDB running the same SQL
// (bench/apply.bench.ts's engine.overhead figures): `ASGARD_PROFILE=1 node --import tsx bench/prof-full.ts`.
// Prints each node's wall and CPU milliseconds for the engine (ASGARD_PROFILE adds the executors'
// phases, src/engine/profile.ts) and for bare DuckDB, over the same synthetic bronze tables.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EngineHarness, SEED, bronzeSql } from './engine-harness.js';
import { loadPipeline } from '../src/dsl/load.js';
import { executor as sqlExecutor } from '../src/engine/sql-executor.js';
import { executor as featuresExecutor } from '../src/engine/features-executor.js';
import { renderSql } from '../src/sql/transpile.js';
import { qualified } from '../src/engine/catalog.js';
import { onlineFeaturesSql } from '../src/engine/features.js';
import { ident, literal, openDuck } from '../src/engine/duckdb.js';
import type { CleanseNode, FeaturesNode, ModelNode } from '../src/ir/types.js';

type EngineNode = CleanseNode | ModelNode | FeaturesNode;
const SPEC = fileURLToPath(new URL('../pipelines/churn.asg', import.meta.url));
const RUNS = Number(process.env.ASGARD_BENCH_RUNS ?? 2);
const { ir } = await loadPipeline(SPEC);
if (!ir) throw new Error('pipelines/churn.asg does not load');
const nodes = ir.nodes.filter((n): n is EngineNode => n.kind === 'cleanse' || n.kind === 'model' || n.kind === 'features');
const h = new EngineHarness();
await h.write('bronze.customers', bronzeSql('customers', SEED.customers));
await h.write('bronze.transactions', bronzeSql('transactions', SEED.transactions));
await h.write('bronze.support_tickets', bronzeSql('support_tickets', SEED.tickets));
for (const n of nodes) if (n.kind !== 'features') renderSql(n.sql, { dialect: 'duckdb', tableRef: qualified, logicalTime: h.logicalTime });

const ms = (t: number, c: NodeJS.CpuUsage): [number, number] => {
  const u = process.cpuUsage(c);
  return [performance.now() - t, (u.user + u.system) / 1000];
};
const line = (label: string, id: string, [w, c]: [number, number]): void => void process.stderr.write(`${label} ${id}: ${w.toFixed(0)} ms wall, ${c.toFixed(0)} ms cpu\n`);

for (let run = 0; run < RUNS; run++) {
  h.state = { ...h.state, nodes: Object.fromEntries(Object.entries(h.state.nodes).filter(([id]) => id.startsWith('bronze.'))) };
  let tw = 0, tc = 0;
  for (const n of nodes) {
    const t = performance.now(), c = process.cpuUsage();
    if (n.kind === 'features') await h.run(ir, n, featuresExecutor);
    else await h.run(ir, n, sqlExecutor);
    const r = ms(t, c);
    tw += r[0]; tc += r[1];
    line(`engine${run}`, n.id, r);
  }
  line(`engine${run}`, 'total', [tw, tc]);
  const conn = await openDuck();
  const out = join(h.dir, 'bare');
  mkdirSync(out, { recursive: true });
  for (const l of ['bronze', 'silver', 'gold', 'features']) await conn.run(`CREATE SCHEMA IF NOT EXISTS ${l}`);
  for (const id of ['bronze.customers', 'bronze.transactions', 'bronze.support_tickets']) {
    await conn.run(`CREATE VIEW ${qualified(id)} AS SELECT * FROM read_parquet([${(await h.warehouse.files(h.state.nodes[id].snapshot!)).map(literal).join(', ')}])`);
  }
  tw = 0; tc = 0;
  for (const n of nodes) {
    const t = performance.now(), c = process.cpuUsage();
    const sql = n.kind === 'features' ? onlineFeaturesSql(n) : renderSql(n.sql, { dialect: 'duckdb', tableRef: qualified, logicalTime: h.logicalTime }).sql;
    const dir = join(out, `${n.id}-${run}`);
    const part = n.kind !== 'features' && n.partitionBy.length ? `, PARTITION_BY (${n.partitionBy.map(ident).join(', ')})` : '';
    const target = part ? dir : `${dir}.parquet`;
    await conn.run(`COPY (${sql}) TO ${literal(target)} (FORMAT parquet${part})`);
    const glob = part ? join(dir, '**', '*.parquet') : target;
    await conn.run(`CREATE OR REPLACE VIEW ${qualified(n.id)} AS SELECT * FROM read_parquet(${literal(glob)}${part ? ', hive_partitioning = true' : ''})`);
    const r = ms(t, c);
    tw += r[0]; tc += r[1];
    line(`bare${run}`, n.id, r);
  }
  line(`bare${run}`, 'total', [tw, tc]);
  conn.closeSync();
}
