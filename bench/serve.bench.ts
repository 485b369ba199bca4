// `asgard serve` under load, on loopback: a forest of the seed's size (100 trees, depth 10, 8
// features, trained on 100,000 synthetic customers) behind /mlops/inference, hit by autocannon with
// single-customer requests: p50/p99 latency at a fixed 2,000 requests/s, and requests/s at full
// load. Plus batch scoring of 100,000 customers by the serve executor (ONNX + Parquet snapshot).
// Goals (issue): p99 < 2 ms at 2,000 req/s; >= 5,000 req/s at full load; 100k scored < 2 s.

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

const RUNS = 3;
const SECONDS = 8;

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
  const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('./serve-server.ts', import.meta.url)), cfg], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    const port = await new Promise<number>((resolve, reject) => {
      child.stdout.once('data', (d) => resolve(Number(String(d).trim())));
      child.once('exit', (c) => reject(new Error(`server exited ${c}`)));
    });
    const url = `http://127.0.0.1:${port}`;
    await cannon(url, { connections: 10, duration: 2 }); // warm-up: session created, JIT warm
    const p50: number[] = [];
    const p99: number[] = [];
    const rps: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const fixed = await cannon(url, { connections: 20, overallRate: 2000, duration: SECONDS });
      if (fixed.non2xx || fixed.errors) throw new Error(`fixed-rate run had ${fixed.non2xx} non-2xx and ${fixed.errors} errors`);
      p50.push(fixed.latency.p50);
      p99.push(fixed.latency.p99);
      const full = await cannon(url, { connections: 64, duration: SECONDS });
      if (full.non2xx || full.errors) throw new Error(`full-load run had ${full.non2xx} non-2xx and ${full.errors} errors`);
      rps.push(full.requests.average);
    }
    return [
      { name: 'serve.inference.p50_ms', value: median(p50), unit: 'ms', goal: 'at 2,000 req/s', runs: RUNS },
      { name: 'serve.inference.p99_ms', value: median(p99), unit: 'ms', goal: '< 2 at 2,000 req/s', runs: RUNS },
      { name: 'serve.inference.max_rps', value: Math.round(median(rps)), unit: 'req/s', goal: '>= 5000', runs: RUNS },
      { name: 'ml.batch_score.100k.seconds', value: median(batch), unit: 's', goal: '< 2', runs: RUNS },
    ];
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    rmSync(dir, { recursive: true, force: true });
  }
}
