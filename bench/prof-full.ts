// Per-node, per-phase breakdown of the engine's full run against bare DuckDB running the same SQL
// (bench/apply.bench.ts's engine.overhead figures): `ASGARD_PROFILE=1 node --import tsx bench/prof-full.ts`.
// Prints each node's wall and CPU milliseconds for the engine (ASGARD_PROFILE adds the executors'
// phases, src/engine/profile.ts) and for bare DuckDB, over the same synthetic bronze tables.
import { bareDuck, churnHarness, type EngineNode } from './engine-harness.js';
import { executor as sqlExecutor } from '../src/engine/sql-executor.js';
import { executor as featuresExecutor } from '../src/engine/features-executor.js';

const RUNS = Number(process.env.ASGARD_BENCH_RUNS ?? 2);
const { ir, nodes, h } = await churnHarness();

/** Runs `f` for each node, printing its wall and CPU ms and then the totals. */
async function timed(label: string, f: (n: EngineNode) => Promise<unknown>): Promise<void> {
  let tw = 0;
  let tc = 0;
  for (const n of nodes) {
    const t = performance.now();
    const c = process.cpuUsage();
    await f(n);
    const u = process.cpuUsage(c);
    const w = performance.now() - t;
    const cpu = (u.user + u.system) / 1000;
    tw += w;
    tc += cpu;
    process.stderr.write(`${label} ${n.id}: ${w.toFixed(0)} ms wall, ${cpu.toFixed(0)} ms cpu\n`);
  }
  process.stderr.write(`${label} total: ${tw.toFixed(0)} ms wall, ${tc.toFixed(0)} ms cpu\n`);
}

for (let run = 0; run < RUNS; run++) {
  // Each full run starts from the bronze tables alone, as a first apply does.
  h.state = { ...h.state, nodes: Object.fromEntries(Object.entries(h.state.nodes).filter(([id]) => id.startsWith('bronze.'))) };
  await timed(`engine${run}`, (n) => (n.kind === 'features' ? h.run(ir, n, featuresExecutor) : h.run(ir, n, sqlExecutor)));
  const bare = await bareDuck(h);
  await timed(`bare${run}`, (n) => bare.run(n));
  bare.close();
}
