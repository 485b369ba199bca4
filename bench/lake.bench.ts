// The warehouse on the loopback S3 server (versitygw, scripts/s3-server.sh) against local disk:
// the full `asgard apply pipelines/churn.asg` (ingestion included, a fresh state each run) with the
// default local warehouse and with `warehouse = "s3://…"` (remote state, registry and lock beside
// it), their ratio (goal ≤ 1.5×), and a no-op apply against the remote state (goal < 1 s), and the
// local no-op for comparison. A sync that moves a cursor records the read of the next sync's window
// (src/ingest/source-executor.ts), so the first no-op after an apply, the one a user meets, should
// cost what later ones do (write nothing, open no DuckDB): both are reported. Each asgard
// process runs with bench/process-trace.mjs: its own CPU time and its requests to the S3 server are
// reported too, the figures that stay comparable on a loaded machine.
//
// Starts what it needs (bench/services.ts): the demo services and the S3 server. ASGARD_LAKE_BENCH_CUSTOMERS sets
// the data size (default 100,000, the seed scale), ASGARD_BENCH_RUNS the runs per figure (default 3).

import { spawn } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import type { Figure } from './run.js';
import { demoServices, s3Server } from './services.js';
import { median } from './stats.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
const SPEC = join(ROOT, 'pipelines/churn.asg');

/** A private copy of churn.asg, with a `lakebench` profile whose warehouse is `s3Url`. */
function specCopy(s3Url: string, endpoint: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'asg-bench-lake-'));
  const text = readFileSync(SPEC, 'utf8');
  const end = text.lastIndexOf('}');
  const profile = `\n  profile lakebench {\n    target      = "local"\n    warehouse   = "${s3Url}"\n    s3_endpoint = "${endpoint}"\n  }\n`;
  writeFileSync(join(dir, 'churn.asg'), text.slice(0, end) + profile + text.slice(end));
  copyFileSync(SPEC, join(dir, 'churn.local.asg'));
  return join(dir, 'churn.asg');
}

/** One asgard process's cost: wall seconds, its own CPU seconds, and its requests to the S3 server by method. */
interface Cost {
  readonly seconds: number;
  readonly cpuSeconds: number;
  readonly s3: Readonly<Record<string, number>>;
}

function apply(spec: string, args: string[], env: NodeJS.ProcessEnv, s3Host: string): Promise<Cost> {
  const trace = join(spec, '..', `trace-${randomBytes(4).toString('hex')}.json`);
  return new Promise((resolve, reject) => {
    const t = performance.now();
    const argv = ['--import', join(ROOT, 'bench', 'process-trace.mjs'), join(ROOT, 'bin', 'asgard.js'), 'apply', spec, '--yes', '--format', 'json', ...args];
    const child = spawn(process.execPath, argv, { env: { ...env, ASGARD_BENCH_TRACE: trace }, stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d) => (err += String(d)));
    child.stdout.resume();
    child.on('error', reject);
    child.on('exit', (code) => {
      if (code !== 0) return reject(new Error(`asgard apply ${args.join(' ')} exited ${code}: ${err.slice(-2000)}`));
      const seconds = (performance.now() - t) / 1000;
      const got = JSON.parse(readFileSync(trace, 'utf8')) as { cpuSeconds: number; requests: { method: string; host: string }[] };
      const s3: Record<string, number> = {};
      for (const r of got.requests) if (r.host === s3Host) s3[r.method] = (s3[r.method] ?? 0) + 1;
      resolve({ seconds, cpuSeconds: got.cpuSeconds, s3 });
    });
  });
}

const requests = (c: Cost): number => Object.values(c.s3).reduce((a, b) => a + b, 0);
const show = (c: Cost): string => `${c.seconds.toFixed(2)} s (CPU ${c.cpuSeconds.toFixed(2)} s, S3 ${JSON.stringify(c.s3)})`;

export async function run(): Promise<Figure[]> {
  const e = demoServices();
  const s3 = s3Server() as Record<string, string>;
  const creds = { AWS_ACCESS_KEY_ID: s3.ASGARD_S3_ACCESS_KEY, AWS_SECRET_ACCESS_KEY: s3.ASGARD_S3_SECRET_KEY, AWS_REGION: 'us-east-1' };
  const customers = Number(e.ASGARD_LAKE_BENCH_CUSTOMERS ?? 100_000);
  const pgT = { url: e.CUSTOMER_DB_URL, password: e.CUSTOMER_DB_PASSWORD || undefined, database: `asgard_lake_bench_${customers}` };
  const myT = { url: e.TRANSACTIONS_DB_URL, password: e.TRANSACTIONS_DB_PASSWORD || undefined, database: `asgard_lake_bench_${customers}` };
  const { loadDemo } = await import('../demo/load.js');
  await loadDemo({ customers, seed: 42, pg: pgT, mysql: myT, log: (l) => process.stderr.write(`lake.bench: ${l}\n`) });
  const withDb = (url: string, db: string): string => {
    const u = new URL(url);
    u.pathname = `/${db}`;
    return u.toString();
  };
  const env: NodeJS.ProcessEnv = {
    ...e,
    ...creds,
    CUSTOMER_DB_URL: withDb(e.CUSTOMER_DB_URL, pgT.database),
    TRANSACTIONS_DB_URL: withDb(e.TRANSACTIONS_DB_URL, myT.database),
  };
  const runs = Number(e.ASGARD_BENCH_RUNS ?? 3);
  const say = (m: string) => process.stderr.write(`lake.bench: ${m}\n`);
  const s3Host = new URL(s3.ASGARD_S3_ENDPOINT).host;
  const local: Cost[] = [];
  const remote: Cost[] = [];
  const noopRemote: Cost[] = [];
  const noopLocal: Cost[] = [];
  const firstNoopRemote: Cost[] = [];
  const firstNoopLocal: Cost[] = [];
  for (let i = 0; i < runs; i++) {
    const bucket = `lake-bench-${randomBytes(4).toString('hex')}`;
    const c = new S3Client({
      endpoint: s3.ASGARD_S3_ENDPOINT,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: { accessKeyId: creds.AWS_ACCESS_KEY_ID, secretAccessKey: creds.AWS_SECRET_ACCESS_KEY },
    });
    await c.send(new CreateBucketCommand({ Bucket: bucket }));
    c.destroy();
    const spec = specCopy(`s3://${bucket}/warehouse`, s3.ASGARD_S3_ENDPOINT);
    const localSpec = join(spec, '..', 'churn.local.asg');
    local.push(await apply(localSpec, ['--state', join(spec, '..', '.local-state')], env, s3Host));
    remote.push(await apply(spec, ['--profile', 'lakebench'], env, s3Host));
    firstNoopLocal.push(await apply(localSpec, ['--state', join(spec, '..', '.local-state')], env, s3Host));
    firstNoopRemote.push(await apply(spec, ['--profile', 'lakebench'], env, s3Host));
    noopLocal.push(await apply(localSpec, ['--state', join(spec, '..', '.local-state')], env, s3Host));
    // A no-op apply on S3: lock, pull the state and registry (the snapshots are in the working copy), plan, sync the sources, release.
    noopRemote.push(await apply(spec, ['--profile', 'lakebench'], env, s3Host));
    say(
      `run ${i + 1}: local ${show(local[i])}; S3 ${show(remote[i])}; first no-op local ${show(firstNoopLocal[i])}; first no-op S3 ${show(firstNoopRemote[i])}; ` +
        `no-op local ${show(noopLocal[i])}; no-op S3 ${show(noopRemote[i])}`,
    );
  }
  const scale = customers === 100_000 ? '' : `_${customers}`;
  const m = (xs: readonly Cost[], f: (c: Cost) => number): number => median(xs.map(f));
  const wall = (c: Cost) => c.seconds;
  const cpu = (c: Cost) => c.cpuSeconds;
  return [
    { name: `lake.churn_apply_local${scale}`, value: m(local, wall), unit: 's', runs },
    { name: `lake.churn_apply_s3${scale}`, value: m(remote, wall), unit: 's', runs },
    { name: `lake.churn_apply_s3_vs_local${scale}`, value: m(remote, wall) / m(local, wall), unit: 'x', goal: '<= 1.5', runs },
    // Comparable under load: the asgard process's own CPU time, and its requests to the S3 server.
    { name: `lake.churn_apply_cpu_s3_vs_local${scale}`, value: m(remote, cpu) / m(local, cpu), unit: 'x', runs },
    { name: `lake.churn_apply_s3_requests${scale}`, value: m(remote, requests), unit: 'requests', runs },
    { name: `lake.noop_apply_local${scale}`, value: m(noopLocal, wall), unit: 's', runs },
    { name: `lake.noop_apply_remote_state${scale}`, value: m(noopRemote, wall), unit: 's', goal: '< 1', runs },
    { name: `lake.noop_apply_remote_overhead${scale}`, value: m(noopRemote, wall) - m(noopLocal, wall), unit: 's', runs },
    { name: `lake.noop_apply_remote_cpu_overhead${scale}`, value: m(noopRemote, cpu) - m(noopLocal, cpu), unit: 's', runs },
    { name: `lake.noop_apply_remote_s3_requests${scale}`, value: m(noopRemote, requests), unit: 'requests', runs },
    { name: `lake.noop_apply_remote_cpu${scale}`, value: m(noopRemote, cpu), unit: 's', runs },
    { name: `lake.noop_apply_local_cpu${scale}`, value: m(noopLocal, cpu), unit: 's', runs },
    { name: `lake.first_noop_apply_remote_state${scale}`, value: m(firstNoopRemote, wall), unit: 's', goal: '< 1', runs },
    { name: `lake.first_noop_apply_remote_cpu${scale}`, value: m(firstNoopRemote, cpu), unit: 's', runs },
    { name: `lake.first_noop_apply_local_cpu${scale}`, value: m(firstNoopLocal, cpu), unit: 's', runs },
    { name: `lake.first_noop_apply_local${scale}`, value: m(firstNoopLocal, wall), unit: 's', runs },
    { name: `lake.first_noop_apply_remote_s3_requests${scale}`, value: m(firstNoopRemote, requests), unit: 'requests', runs },
  ];
}
