// Apply at seed scale (100,000 customers, 1,200,000 transactions, 45,000 tickets).
//
// engine.*: the embedded engine alone — silver, gold and the feature view of pipelines/churn.asg run
// through the real executors over synthetic bronze snapshots (bench/engine-harness.ts): a full run,
// a run after 1% new transactions (the transactions cleanse, both gold models and the view), and the
// same SQL run by bare DuckDB (one in-memory database, COPY … TO Parquet, no checks, no snapshots;
// every node's SQL, the feature view's online table included) to measure the engine's overhead. Each is reported as wall time and as the process's CPU time
// (every thread): on a shared machine the CPU figures are the ones that do not measure the neighbours.
//
// apply.*: the whole `asgard apply` (ingestion included) over the demo services (started through
// scripts/services.sh when CUSTOMER_DB_URL, TRANSACTIONS_DB_URL and SUPPORT_API_URL are not set):
// full apply from an empty state (wall time and the process's peak RSS), a no-op apply, and an
// apply after 1% new transactions. See bench/apply-cli.ts.

import type { Figure } from './run.js';
import { median } from './stats.js';
import { EngineHarness, SEED, bareDuck, bronzeSql, churnHarness, type EngineNode } from './engine-harness.js';
import { executor as sqlExecutor } from '../src/engine/sql-executor.js';
import { executor as featuresExecutor } from '../src/engine/features-executor.js';
import type { PipelineIR } from '../src/ir/types.js';
import { runCliBench } from './apply-cli.js';
import { differingTables } from './same-tables.js';

const RUNS = Number(process.env.ASGARD_BENCH_RUNS ?? 3);

/** Seconds of CPU time (user + system, every thread of the process: DuckDB's too) since `from`. */
const cpuSeconds = (from: NodeJS.CpuUsage): number => {
  const u = process.cpuUsage(from);
  return (u.user + u.system) / 1e6;
};

/** Per node id: the wall and CPU milliseconds of each run. */
type PerNode = Map<string, { wall: number[]; cpu: number[] }>;

/** Runs the nodes; returns wall seconds and, in `cpu`, the CPU seconds they took (in `perNode`, each node's). */
export async function engineRun(h: EngineHarness, ir: PipelineIR, nodes: readonly EngineNode[], cpu: number[] = [], perNode?: PerNode): Promise<number> {
  const t = performance.now();
  const c = process.cpuUsage();
  for (const n of nodes) {
    const nt = performance.now();
    const nc = process.cpuUsage();
    if (n.kind === 'features') await h.run(ir, n, featuresExecutor);
    else await h.run(ir, n, sqlExecutor);
    const m = perNode?.get(n.id) ?? { wall: [], cpu: [] };
    m.wall.push(performance.now() - nt);
    m.cpu.push(cpuSeconds(nc) * 1000);
    perNode?.set(n.id, m);
  }
  cpu.push(cpuSeconds(c));
  return (performance.now() - t) / 1000;
}

/** Each node's median wall and CPU milliseconds, as figures `<prefix>.<node id>.wall_ms` / `.cpu_ms`. */
const perNodeFigures = (prefix: string, perNode: PerNode): Figure[] =>
  [...perNode].flatMap(([id, m]) => [
    { name: `${prefix}.${id}.wall_ms`, value: Math.round(median(m.wall)), unit: 'ms', runs: m.wall.length },
    { name: `${prefix}.${id}.cpu_ms`, value: Math.round(median(m.cpu)), unit: 'ms', runs: m.cpu.length },
  ]);

/**
 * Bare DuckDB's run, its start included (a new database, views over the bronze files), as the
 * engine's timed run includes opening its DuckDB and attaching its inputs.
 */
async function bareRun(h: EngineHarness, nodes: readonly EngineNode[], cpu: number[]): Promise<number> {
  const t = performance.now();
  const c = process.cpuUsage();
  const bare = await bareDuck(h);
  for (const n of nodes) await bare.run(n);
  const s = (performance.now() - t) / 1000;
  cpu.push(cpuSeconds(c));
  bare.close();
  return s;
}

export async function run(): Promise<Figure[]> {
  // ASGARD_BENCH_APPLY=cli runs only the CLI figures, =engine only the engine's.
  const part = process.env.ASGARD_BENCH_APPLY ?? 'all';
  if (part === 'cli') return runCliBench();
  const { ir, nodes, h } = await churnHarness();
  // CPU time beside wall time: on a shared machine wall time mostly measures the other processes.
  const full: number[] = [];
  const bare: number[] = [];
  const fullCpu: number[] = [];
  const bareCpu: number[] = [];
  const fullNodes: PerNode = new Map();
  // Each full run starts from the bronze tables alone, as a first apply does: run over the previous
  // run's state, every node would find its inputs unchanged and do nothing.
  const bronzeOnly = (): void => {
    h.state = { ...h.state, nodes: Object.fromEntries(Object.entries(h.state.nodes).filter(([id]) => id.startsWith('bronze.'))) };
  };
  // One untimed round of each first: the process's first queries grow its memory (page faults,
  // charged as CPU) and run cold code, which whoever runs first would pay alone — with 2 runs the
  // median is the mean of a cold and a warm run (bench/apply.md, 2026-12-02 evening).
  bronzeOnly();
  await engineRun(h, ir, nodes);
  await bareRun(h, nodes, []);
  for (let i = 0; i < RUNS; i++) {
    bronzeOnly();
    full.push(await engineRun(h, ir, nodes, fullCpu, fullNodes));
    bare.push(await bareRun(h, nodes, bareCpu));
  }
  const rssMiB = process.resourceUsage().maxRSS / 1024;

  // 1% new transactions: 12,000 more rows merged into bronze as ingestion's cursor sync merges them
  // (a new file; the table's other files stay); what it feeds runs again.
  const onePct: number[] = [];
  const onePctCpu: number[] = [];
  const onePctNodes: PerNode = new Map();
  const affected = nodes.filter((n) => n.id !== 'silver.customers_cleaned' && n.id !== 'silver.support_tickets_cleaned');
  for (let i = 0; i < RUNS; i++) {
    const extra = SEED.transactions / 100;
    await h.merge('bronze.transactions', bronzeSql('transactions', extra, SEED.transactions + extra * i), 'transaction_id');
    onePct.push(await engineRun(h, ir, affected, onePctCpu, onePctNodes));
  }
  // The equality check: the incrementally maintained tables against the same nodes run from scratch
  // over the same bronze snapshots.
  const maintained = h.state;
  bronzeOnly();
  await engineRun(h, ir, nodes);
  const differ = await differingTables(
    { state: maintained, warehouse: h.warehouse },
    { state: h.state, warehouse: h.warehouse },
    nodes.map((n) => n.id),
  );
  if (differ.length) process.stderr.write(`apply.bench: after the 1% runs these tables differ from a full rebuild: ${differ.join(', ')}\n`);
  const fullMedian = median(full);
  const figures: Figure[] = [
    { name: 'engine.full.seconds', value: fullMedian, unit: 's', runs: RUNS },
    { name: 'engine.bare_duckdb.seconds', value: median(bare), unit: 's', runs: RUNS },
    { name: 'engine.overhead.ratio', value: fullMedian / median(bare), unit: 'x', goal: '< 1.3', runs: RUNS },
    { name: 'engine.one_percent.seconds', value: median(onePct), unit: 's', runs: RUNS },
    { name: 'engine.one_percent.ratio', value: median(onePct) / fullMedian, unit: 'x', goal: '< 0.15', runs: RUNS },
    { name: 'engine.full.cpu_seconds', value: median(fullCpu), unit: 's', runs: RUNS },
    { name: 'engine.bare_duckdb.cpu_seconds', value: median(bareCpu), unit: 's', runs: RUNS },
    { name: 'engine.overhead.cpu_ratio', value: median(fullCpu) / median(bareCpu), unit: 'x', goal: '< 1.3', runs: RUNS },
    { name: 'engine.one_percent.cpu_seconds', value: median(onePctCpu), unit: 's', runs: RUNS },
    { name: 'engine.one_percent.cpu_ratio', value: median(onePctCpu) / median(fullCpu), unit: 'x', goal: '< 0.15', runs: RUNS },
    { name: 'engine.one_percent.equals_full', value: differ.length === 0 ? 1 : 0, unit: 'bool', goal: '1', runs: 1 },
    { name: 'engine.peak_rss.mib', value: Math.round(rssMiB), unit: 'MiB', goal: '< 2048', runs: 1 },
    // Where the time goes, node by node: the full run's and the 1% run's.
    ...perNodeFigures('engine.full.node', fullNodes),
    ...perNodeFigures('engine.one_percent.node', onePctNodes),
  ];
  for (const f of figures) process.stderr.write(`apply.bench: ${f.name} = ${f.value.toFixed(3)} ${f.unit}\n`);
  if (part === 'engine') return figures;
  // A failure here fails the bench (bench/run.ts): no figure is left out silently.
  figures.push(...(await runCliBench()));
  return figures;
}
