// One source sync in its own process (so its peak RSS is its own), on the built code (dist/, as
// `asgard apply` runs it: the TypeScript sources through tsx cost ~200 MB more RSS, the transpiler's),
// used by bench/ingest.bench.ts, which builds dist/ first:
//   node bench/ingest-sync.mjs bronze.transactions
// The spec is loaded in a child process and its IR handed over as JSON, as a warm `asgard apply`
// reads it from the spec cache (src/cli/spec-cache.ts): loaded here, the SQL toolkit's WebAssembly
// went on being compiled by V8 (TurboFan tier-up on its 4 worker threads) through the sync, ~70% of
// the sync's CPU under load (perf, bench/ingest.md) — the spec loader's cost, not the sync's.
// Prints {"rows", "seconds", "cpuSeconds" (the process's, every thread), "peakRssMB", "startRssMB" (the
// process's RSS before the sync: the spec and the modules loaded)} as JSON on stdout.

import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { StateStore } from '../dist/planner/state-store.js';
import { Warehouse } from '../dist/warehouse/warehouse.js';
import { resolver } from '../dist/engine/apply.js';
import { executor } from '../dist/ingest/source-executor.js';

const id = process.argv[2] ?? 'bronze.transactions';
const specFile = resolve(import.meta.dirname, '..', 'pipelines', 'churn.asg');
const load = `const { loadPipeline } = await import(${JSON.stringify(new URL('../dist/dsl/load.js', import.meta.url).href)});
  process.stdout.write(JSON.stringify(loadPipeline(${JSON.stringify(specFile)}).ir ?? null));`;
const ir = JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', load], { encoding: 'utf8', maxBuffer: 1 << 28 }));
if (!ir) throw new Error('pipelines/churn.asg does not load');
const spec = { ir };
const node = spec.ir.nodes.find((n) => n.id === id);
if (!node || node.kind !== 'source') throw new Error(`no source ${id}`);
// The modules a sync imports when it runs (each connector and DuckDB are loaded lazily, so a no-op
// apply does not load them) are loaded before the clock starts: the figure is the sync, not module loading.
await Promise.all(['../dist/ingest/postgres.js', '../dist/ingest/mysql.js', '../dist/ingest/freshness.js', '../dist/engine/duckdb.js'].map((m) => import(m)));
const dir = mkdtempSync(join(tmpdir(), 'asgard-ingest-bench-'));
try {
  const store = new StateStore(dir, 'bench');
  const startRssMB = process.memoryUsage().rss / 2 ** 20;
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
  process.stdout.write(`${JSON.stringify({ rows: res.rows, seconds, cpuSeconds, peakRssMB: process.resourceUsage().maxRSS / 1024, startRssMB })}\n`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
