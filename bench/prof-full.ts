// Per-node, per-phase breakdown of the engine's full run against bare DuckDB running the same SQL
// (bench/apply.bench.ts's engine.overhead figures): `ASGARD_PROFILE=1 node --import tsx bench/prof-full.ts`.
// One untimed round of each, then ASGARD_BENCH_RUNS rounds (default 2) alternating an engine full run
// and a bare one over the same synthetic bronze tables; prints the median wall and CPU ms of each
// node, of each engine phase (ASGARD_PROFILE: the executors' marks, src/engine/profile.ts) and of
// the totals. On a shared machine compare CPU, or phases whose wall is mostly off-CPU (commit).
import { bareDuck, churnHarness, type EngineNode } from './engine-harness.js';
import { median } from './stats.js';
import { executor as sqlExecutor } from '../src/engine/sql-executor.js';
import { executor as featuresExecutor } from '../src/engine/features-executor.js';

const RUNS = Number(process.env.ASGARD_BENCH_RUNS ?? 2);
const { ir, nodes, h } = await churnHarness();

/** Per label (`engine <node>`, `engine <node> ~<phase>`, `bare total`…): wall and CPU ms of each round. */
const seen = new Map<string, { wall: number[]; cpu: number[] }>();
const record = (label: string, wall: number, cpu: number): void => {
  const m = seen.get(label) ?? { wall: [], cpu: [] };
  m.wall.push(wall);
  m.cpu.push(cpu);
  seen.set(label, m);
};

// The executors' phase marks go to stderr: recorded under the node that is running, not printed.
let running: string | undefined;
const write = process.stderr.write.bind(process.stderr);
process.stderr.write = ((s: string | Uint8Array, ...rest: never[]) => {
  const m = /\[profile\] (.*): (\d+) ms wall, (\d+) ms cpu/.exec(String(s));
  if (!m) return write(s, ...rest);
  if (running) record(`${running} ~${m[1]}`, Number(m[2]), Number(m[3]));
  return true;
}) as typeof process.stderr.write;

async function timed(label: string | undefined, f: () => Promise<unknown>): Promise<void> {
  const t = performance.now();
  const c = process.cpuUsage();
  await f();
  const u = process.cpuUsage(c);
  if (label) record(label, performance.now() - t, (u.user + u.system) / 1000);
}

const run = (n: EngineNode) => (n.kind === 'features' ? h.run(ir, n, featuresExecutor) : h.run(ir, n, sqlExecutor));
for (let round = -1; round < RUNS; round++) {
  const tag = (s: string): string | undefined => (round < 0 ? undefined : s);
  // Each full run starts from the bronze tables alone, as a first apply does.
  h.state = { ...h.state, nodes: Object.fromEntries(Object.entries(h.state.nodes).filter(([id]) => id.startsWith('bronze.'))) };
  await timed(tag('engine total'), async () => {
    for (const n of nodes) {
      running = tag(`engine ${n.id}`);
      await timed(running, () => run(n));
    }
    running = undefined;
  });
  await timed(tag('bare total'), async () => {
    const bare = await bareDuck(h);
    for (const n of nodes) await timed(tag(`bare ${n.id}`), () => bare.run(n));
    bare.close();
  });
}
for (const [label, m] of [...seen].sort(([a], [b]) => a.localeCompare(b)))
  write(`${label.padEnd(62)} ${median(m.wall).toFixed(1).padStart(8)} ms wall ${median(m.cpu).toFixed(1).padStart(8)} ms cpu (${m.wall.length} runs)\n`);
