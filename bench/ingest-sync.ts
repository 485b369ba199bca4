// One source sync in its own process (so its peak RSS is its own): used by bench/ingest.bench.ts.
//   node --import tsx bench/ingest-sync.ts bronze.transactions
// Prints {"rows", "seconds", "cpuSeconds" (the process's, every thread), "peakRssMB"} as JSON on stdout.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { loadPipeline } from '../src/dsl/load.js';
import { StateStore } from '../src/planner/state-store.js';
import { Warehouse } from '../src/warehouse/warehouse.js';
import { resolver } from '../src/engine/apply.js';
import type { SourceNode } from '../src/ir/types.js';
import { executor } from '../src/ingest/source-executor.js';

const id = process.argv[2] ?? 'bronze.transactions';
const spec = loadPipeline(resolve(import.meta.dirname, '..', 'pipelines', 'churn.asg'));
if (!spec.ir) throw new Error('pipelines/churn.asg does not load');
const node = spec.ir.nodes.find((n) => n.id === id) as SourceNode | undefined;
if (!node || node.kind !== 'source') throw new Error(`no source ${id}`);
// The modules a sync imports when it runs (each connector and DuckDB are loaded lazily, so a no-op
// apply does not load them) are loaded before the clock starts: the figure is the sync, not module
// loading (through tsx here).
await Promise.all(['../src/ingest/postgres.js', '../src/ingest/mysql.js', '../src/ingest/freshness.js', '../src/engine/duckdb.js'].map((m) => import(m)));
const dir = mkdtempSync(join(tmpdir(), 'asgard-ingest-bench-'));
try {
  const store = new StateStore(dir, 'bench');
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  const res = await executor.run({
    ir: spec.ir,
    node,
    state: store.read(),
    warehouse: new Warehouse(join(dir, 'warehouse')),
    scratchDir: join(dir, 'cache', 'tmp'),
    logicalTime: new Date(),
    resolve: resolver(process.env, new Set()),
    progress: () => undefined,
    warn: () => undefined,
    signal: new AbortController().signal,
  });
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(c0);
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  process.stdout.write(JSON.stringify({ rows: res.rows, seconds, cpuSeconds, peakRssMB: process.resourceUsage().maxRSS / 1024 }) + '\n');
} finally {
  rmSync(dir, { recursive: true, force: true });
}
