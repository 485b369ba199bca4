// `asgard apply pipelines/churn.asg` end to end (ingestion included) over the demo services, which it
// starts when they are not running (bench/services.ts).
// Each apply is a child process; its peak RSS is read from /proc/<pid>/status (VmHWM) while it runs.
// The process is the user's command, bin/asgard.js over the built CLI (dist/, compiled and bundled
// first, as bench/startup.bench.ts does), not the sources through tsx: tsx's module loading cost each
// apply ~0.8 s more CPU than the built CLI (bench/apply.md, session 13), which no user pays.

import { spawn } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Figure } from './run.js';
import { demoServices } from './services.js';
import { StateStore } from '../src/planner/state-store.js';
import { Warehouse } from '../src/warehouse/warehouse.js';
import { differingTables } from './same-tables.js';
import { buildDist } from './build-dist.js';
import { median } from './stats.js';
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SPEC = join(ROOT, 'pipelines/churn.asg');

/** A private copy of the spec: its warehouse (`./.asgard/warehouse`, beside the spec) and state are the bench's own. */
function specCopy(): string {
  const dir = mkdtempSync(join(tmpdir(), 'asg-bench-apply-'));
  copyFileSync(SPEC, join(dir, 'churn.asg'));
  return join(dir, 'churn.asg');
}

interface Timed {
  readonly seconds: number;
  readonly peakMiB: number;
  readonly code: number;
  /** apply's JSON document: per node its status, seconds and maintenance. */
  readonly nodes: readonly { node: string; status: string; seconds: number; maintenance?: string }[];
}

export function applyOnce(spec: string, env: NodeJS.ProcessEnv): Promise<Timed> {
  return new Promise((resolve, reject) => {
    const t = performance.now();
    const child = spawn(process.execPath, [join(ROOT, 'bin/asgard.js'), 'apply', spec, '--yes', '--format', 'json'], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let peak = 0;
    let err = '';
    let out = '';
    child.stderr.on('data', (d) => (err += String(d)));
    child.stdout.on('data', (d) => (out += String(d)));
    const poll = setInterval(() => {
      try {
        const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
        if (m) peak = Math.max(peak, Number(m[1]) / 1024);
      } catch {
        // exited
      }
    }, 50);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearInterval(poll);
      if (code !== 0) reject(new Error(`asgard apply exited ${code}: ${err.slice(-2000)}`));
      else {
        let nodes: Timed['nodes'] = [];
        try {
          nodes = (JSON.parse(out) as { nodes: Timed['nodes'] }).nodes;
        } catch {
          // not JSON: no per-node figures
        }
        resolve({ seconds: (performance.now() - t) / 1000, peakMiB: peak, code: code ?? -1, nodes });
      }
    });
  });
}

export async function runCliBench(): Promise<Figure[]> {
  // The demo's services, started as the demo starts them (or the bench fails: never a skipped figure).
  const e = demoServices();
  // dist/ newer than src/, or bin/asgard.js would run the sources through tsx.
  buildDist(ROOT);
  // The bench's own copy of the seed data (the 1% step inserts rows; the demo's databases stay as
  // they are). The loader is idempotent: a second bench run reuses it.
  const pgT = { url: e.CUSTOMER_DB_URL, password: e.CUSTOMER_DB_PASSWORD || undefined, database: 'asgard_bench_customers' };
  const myT = { url: e.TRANSACTIONS_DB_URL, password: e.TRANSACTIONS_DB_PASSWORD || undefined, database: 'asgard_bench_orders' };
  const { loadDemo } = await import('../demo/load.js');
  await loadDemo({ customers: 100_000, seed: 42, pg: pgT, mysql: myT, force: true, log: (l) => process.stderr.write(`apply.bench: ${l}\n`) });
  const withDb = (url: string, db: string): string => {
    const u = new URL(url);
    u.pathname = `/${db}`;
    return u.toString();
  };
  const env: NodeJS.ProcessEnv = {
    ...e,
    CUSTOMER_DB_URL: withDb(e.CUSTOMER_DB_URL, pgT.database),
    TRANSACTIONS_DB_URL: withDb(e.TRANSACTIONS_DB_URL, myT.database),
  };
  const runs = Number(e.ASGARD_BENCH_RUNS ?? 3);
  const full: Timed[] = [];
  const noop: number[] = [];
  let spec = '';
  const say = (m: string) => process.stderr.write(`apply.bench: ${m}\n`);
  for (let i = 0; i < runs; i++) {
    spec = specCopy();
    full.push(await applyOnce(spec, env));
    say(`full apply ${full[i].seconds.toFixed(1)} s, peak ${full[i].peakMiB.toFixed(0)} MiB`);
    noop.push((await applyOnce(spec, env)).seconds);
    say(`no-op apply ${noop[i].toFixed(2)} s`);
  }
  const { addTransactions } = await import('./apply-change.js');
  const onePct: number[] = [];
  for (let i = 0; i < runs; i++) {
    const n = await addTransactions(0.01, env.TRANSACTIONS_DB_URL!);
    const r = await applyOnce(spec, env);
    onePct.push(r.seconds);
    say(`apply after ${n} new transactions ${onePct[i].toFixed(1)} s`);
    // Where the time went, and how each table was maintained.
    for (const x of r.nodes)
      if (x.status !== 'unchanged') say(`  ${x.node}: ${x.status} ${x.seconds.toFixed(2)} s${x.maintenance ? ` (${x.maintenance})` : ''}`);
  }
  // The equality check: the same spec applied from scratch over the same sources.
  const scratch = specCopy();
  await applyOnce(scratch, env);
  const side = (s: string) => ({
    state: new StateStore(join(dirname(s), '.asgard'), 'churn').read(),
    warehouse: new Warehouse(join(dirname(s), '.asgard', 'warehouse')),
  });
  const maintained = side(spec);
  const tables = Object.keys(maintained.state.nodes).filter((id) => /^(silver|gold|features)\./.test(id) && id !== 'gold.customer_churn_predictions');
  const differ = await differingTables(maintained, side(scratch), tables);
  say(
    differ.length
      ? `after the 1% applies these tables differ from a from-scratch apply: ${differ.join(', ')}`
      : `after the 1% applies ${tables.length} tables equal a from-scratch apply`,
  );
  const fullS = median(full.map((f) => f.seconds));
  return [
    { name: 'apply.full.seconds', value: fullS, unit: 's', goal: '< 60', runs },
    { name: 'apply.full.peak_rss.mib', value: Math.round(median(full.map((f) => f.peakMiB))), unit: 'MiB', goal: '< 2048', runs },
    { name: 'apply.noop.seconds', value: median(noop), unit: 's', goal: '< 1', runs },
    { name: 'apply.one_percent.seconds', value: median(onePct), unit: 's', goal: `< ${(fullS * 0.15).toFixed(1)} (15% of full)`, runs: onePct.length },
    { name: 'apply.one_percent.ratio', value: median(onePct) / fullS, unit: 'x', goal: '< 0.15', runs: onePct.length },
    // The dearest 1% apply: the bench's first batch is dated inside the label window (the day before the
    // logical time) and retrains the model; later batches are dated at the logical time, which the
    // metrics exclude (bench/apply.md, session 13). The median alone would hide the retraining run.
    { name: 'apply.one_percent.max_ratio', value: Math.max(...onePct) / fullS, unit: 'x', runs: onePct.length },
    { name: 'apply.one_percent.equals_full', value: differ.length === 0 ? 1 : 0, unit: 'bool', goal: '1', runs: 1 },
  ];
}
