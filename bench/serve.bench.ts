// `asgard serve` under load, on loopback: a forest of the seed's size (100 trees, depth 10, 8
// features, trained on 100,000 synthetic customers) behind /mlops/inference, with single-customer
// requests. The server runs pinned to core 0 and the load generator to core 1 (taskset), so they do
// not share a core:
//  - serve.inference.p50_us / p99_us: an open-loop generator (bench/loadgen.ts) at a fixed 2,000
//    requests/s, latency from each request's scheduled time, in microseconds (HDR histogram);
//  - serve.inference.under_queries.*: the same while two clients keep the query door
//    (POST /data-products/query) busy with a join and aggregate over the gold table;
//  - serve.inference.max_rps: requests/s at full load (autocannon, 64 connections);
//  - ml.batch_score.100k.seconds: batch scoring of 100,000 customers by the serve executor.
// Goals (issues #4, #16): p99 < 2,000 µs at 2,000 req/s; >= 5,000 req/s at full load; 100k scored < 2 s.

import { spawn } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import type { Figure } from './run.js';

// Not imported from run.ts: importing a value from it runs the bench runner itself.
const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
import { persistState, runContext, serveOn } from '../test/ml/fixtures.js';
import { trainForest } from './served-forest.js';
import { openLoop as openLoopRun, SERVER_CORE, type LoadResult } from './open-loop.js';

const RUNS = 3;
const SECONDS = 8;
const RATE = 2000;
const HEAVY_QUERY = `SELECT a.total_purchases, COUNT(*) AS n, AVG(b.customer_lifetime_value) AS clv
  FROM gold.customer_metrics a JOIN gold.customer_metrics b ON a.customer_id = b.customer_id
  GROUP BY a.total_purchases ORDER BY a.total_purchases`;

const openLoop = (url: string): Promise<LoadResult> => openLoopRun(`${url}/mlops/inference`, BODY, RATE, SECONDS);

/** Two clients sending HEAVY_QUERY to the query door back to back until stopped; stop() resolves to the queries answered. */
function queryDoor(url: string): { stop: () => Promise<number> } {
  let running = true;
  let answered = 0;
  const client = async () => {
    while (running) {
      const r = await fetch(`${url}/data-products/query`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ sql: HEAVY_QUERY, limit: 100 }) });
      const text = await r.text();
      if (!r.ok) throw new Error(`the query door answered ${r.status}: ${text.slice(0, 500)}`);
      answered++;
    }
  };
  const clients = [client(), client()];
  return {
    stop: async () => {
      running = false;
      await Promise.all(clients);
      return answered;
    },
  };
}

const BODY = JSON.stringify({
  model_name: 'customer_churn_predictor',
  inputs: [{ total_purchases: 5, customer_lifetime_value: 450.0, avg_purchase_value: 90.0, days_since_last_purchase: 75, purchase_frequency: 0.5, account_age_days: 120, support_tickets: 5, avg_support_resolution_hours: 48.0 }],
});

function cannon(url: string, opts: { connections: number; overallRate?: number; duration: number }): Promise<autocannon.Result> {
  return new Promise((resolve, reject) => {
    autocannon(
      { url: `${url}/mlops/inference`, method: 'POST', headers: { 'content-type': 'application/json' }, body: BODY, ...opts },
      (err, res) => (err ? reject(err) : resolve(res)),
    );
  });
}

export async function run(): Promise<Figure[]> {
  const { dir, ir, train, serve, fx, trained: t } = await trainForest('asgard-serve-bench-', 100_000);

  const batch: number[] = [];
  let last;
  for (let i = 0; i < RUNS; i++) {
    const t0 = performance.now();
    last = await serveOn(fx).run(runContext(ir, serve, fx));
    batch.push((performance.now() - t0) / 1000);
    if (last.rows !== 100_000) throw new Error(`batch scored ${last.rows} rows, expected 100000`);
  }
  persistState(fx, ir, {
    [train.id]: { kind: 'train', fingerprint: 'f', metaFingerprint: 'm', definition: {}, modelVersion: t.modelVersion, appliedAt: new Date().toISOString() },
    [serve.id]: { kind: 'serve', fingerprint: 'f', metaFingerprint: 'm', definition: {}, snapshot: last!.snapshot, schema: last!.schema, appliedAt: new Date().toISOString() },
  });

  const cfg = join(dir, 'serve.json');
  writeFileSync(cfg, JSON.stringify({ ir, spec: join(dir, 'spec.asg'), stateDir: dir }));
  const child = spawn('taskset', ['-c', SERVER_CORE, process.execPath, '--import', 'tsx', fileURLToPath(new URL('./serve-server.ts', import.meta.url)), cfg], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    const port = await new Promise<number>((resolve, reject) => {
      child.stdout.once('data', (d) => resolve(Number(String(d).trim())));
      child.once('exit', (c) => reject(new Error(`server exited ${c}`)));
    });
    const url = `http://127.0.0.1:${port}`;
    await cannon(url, { connections: 10, duration: 2 }); // warm-up: session created, JIT warm
    const quiet: LoadResult[] = [];
    const busy: LoadResult[] = [];
    const queries: number[] = [];
    const rps: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      quiet.push(await openLoop(url));
      const door = queryDoor(url);
      busy.push(await openLoop(url));
      queries.push(await door.stop());
      const full = await cannon(url, { connections: 64, duration: SECONDS });
      if (full.non2xx || full.errors) throw new Error(`full-load run had ${full.non2xx} non-2xx and ${full.errors} errors`);
      rps.push(full.requests.average);
      process.stderr.write(`serve.bench: p50/p99 ${quiet[i].p50_us}/${quiet[i].p99_us} µs (client send lag p99 ${quiet[i].send_lag_p99_us} µs); with the query door busy (${queries[i]} queries) ${busy[i].p50_us}/${busy[i].p99_us} µs; full load ${Math.round(full.requests.average)} req/s\n`);
    }
    const us = (name: string, xs: LoadResult[], k: 'p50_us' | 'p99_us' | 'p999_us', goal?: string): Figure => ({ name, value: median(xs.map((x) => x[k])), unit: 'µs', ...(goal ? { goal } : {}), runs: RUNS });
    return [
      us('serve.inference.p50_us', quiet, 'p50_us', 'at 2,000 req/s open loop'),
      us('serve.inference.p99_us', quiet, 'p99_us', '< 2000 at 2,000 req/s open loop'),
      us('serve.inference.p999_us', quiet, 'p999_us'),
      us('serve.inference.under_queries.p50_us', busy, 'p50_us', 'query door busy'),
      us('serve.inference.under_queries.p99_us', busy, 'p99_us', '< 2000 with the query door busy'),
      { name: 'serve.inference.under_queries.queries', value: median(queries), unit: 'queries', runs: RUNS },
      { name: 'serve.inference.max_rps', value: Math.round(median(rps)), unit: 'req/s', goal: '>= 5000', runs: RUNS },
      { name: 'ml.batch_score.100k.seconds', value: median(batch), unit: 's', goal: '< 2', runs: RUNS },
    ];
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    rmSync(dir, { recursive: true, force: true });
  }
}
