// Per-node, per-phase breakdown of the engine's 1% run (bench/apply.bench.ts's engine part):
// `ASGARD_PROFILE=1 node --import tsx bench/prof-one-percent.ts`. Prints, for one full run and then
// one run after 1% new transactions, each node's wall and CPU milliseconds (ASGARD_PROFILE adds the
// executors' phases, src/engine/profile.ts).
import { SEED, bronzeSql, churnHarness, type EngineNode } from './engine-harness.js';
import { executor as sqlExecutor } from '../src/engine/sql-executor.js';
import { executor as featuresExecutor } from '../src/engine/features-executor.js';

const { ir, nodes, h } = await churnHarness();

async function pass(label: string, list: readonly EngineNode[]): Promise<void> {
  let tw = 0,
    tc = 0;
  for (const n of list) {
    process.stderr.write(`${label} ${n.id}\n`);
    const t = performance.now();
    const c = process.cpuUsage();
    const r = n.kind === 'features' ? await h.run(ir, n, featuresExecutor) : await h.run(ir, n, sqlExecutor);
    const u = process.cpuUsage(c);
    const w = performance.now() - t,
      cpu = (u.user + u.system) / 1000;
    tw += w;
    tc += cpu;
    process.stderr.write(`${label} ${n.id}: ${w.toFixed(0)} ms wall, ${cpu.toFixed(0)} ms cpu, ${r.rows} rows ${r.maintenance ?? ''}\n`);
  }
  process.stderr.write(`${label} total: ${tw.toFixed(0)} ms wall, ${tc.toFixed(0)} ms cpu\n`);
}
const bronzeOnly = (): void => {
  h.state = { ...h.state, nodes: Object.fromEntries(Object.entries(h.state.nodes).filter(([id]) => id.startsWith('bronze.'))) };
};
// Two full runs (the first pays what a process pays once), then a run with nothing new.
await pass('full', nodes);
bronzeOnly();
await pass('full2', nodes);
await pass('noop', nodes);
const affected = nodes.filter((n) => n.id !== 'silver.customers_cleaned' && n.id !== 'silver.support_tickets_cleaned');
for (let i = 0; i < 2; i++) {
  const extra = SEED.transactions / 100;
  const t = performance.now();
  const c = process.cpuUsage();
  await h.merge('bronze.transactions', bronzeSql('transactions', extra, SEED.transactions + extra * i), 'transaction_id');
  const u = process.cpuUsage(c);
  process.stderr.write(`merge bronze: ${(performance.now() - t).toFixed(0)} ms wall, ${((u.user + u.system) / 1000).toFixed(0)} ms cpu\n`);
  await pass(`1pct${i}`, affected);
}
