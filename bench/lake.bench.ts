// The warehouse on the loopback S3 server (versitygw, scripts/s3-server.sh) against local disk:
// the full `asgard apply pipelines/churn.asg` (ingestion included, a fresh state each run) with the
// default local warehouse and with `warehouse = "s3://…"` (remote state, registry and lock beside
// it), their ratio (goal ≤ 1.5×), and a no-op apply against the remote state (goal < 1 s of asgard's
// own work on top of the source syncs a local no-op apply also does; both are reported).
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

function apply(spec: string, args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((resolve, reject) => {
    const t = performance.now();
    const child = spawn(process.execPath, [join(ROOT, 'bin', 'asgard.js'), 'apply', spec, '--yes', '--format', 'json', ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d) => (err += String(d)));
    child.stdout.resume();
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve((performance.now() - t) / 1000) : reject(new Error(`asgard apply ${args.join(' ')} exited ${code}: ${err.slice(-2000)}`))));
  });
}

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
  const env: NodeJS.ProcessEnv = { ...e, ...creds, CUSTOMER_DB_URL: withDb(e.CUSTOMER_DB_URL, pgT.database), TRANSACTIONS_DB_URL: withDb(e.TRANSACTIONS_DB_URL, myT.database) };
  const runs = Number(e.ASGARD_BENCH_RUNS ?? 3);
  const say = (m: string) => process.stderr.write(`lake.bench: ${m}\n`);
  const local: number[] = [];
  const remote: number[] = [];
  const noopRemote: number[] = [];
  const noopLocal: number[] = [];
  for (let i = 0; i < runs; i++) {
    const bucket = `lake-bench-${randomBytes(4).toString('hex')}`;
    const c = new S3Client({ endpoint: s3.ASGARD_S3_ENDPOINT, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: creds.AWS_ACCESS_KEY_ID, secretAccessKey: creds.AWS_SECRET_ACCESS_KEY } });
    await c.send(new CreateBucketCommand({ Bucket: bucket }));
    c.destroy();
    const spec = specCopy(`s3://${bucket}/warehouse`, s3.ASGARD_S3_ENDPOINT);
    const localSpec = join(spec, '..', 'churn.local.asg');
    local.push(await apply(localSpec, ['--state', join(spec, '..', '.local-state')], env));
    remote.push(await apply(spec, ['--profile', 'lakebench'], env));
    noopLocal.push(await apply(localSpec, ['--state', join(spec, '..', '.local-state')], env));
    // A no-op apply on S3: lock, pull the state and registry (the snapshots are in the working copy), plan, sync the sources, release.
    noopRemote.push(await apply(spec, ['--profile', 'lakebench'], env));
    say(`run ${i + 1}: local ${local[i].toFixed(1)} s, S3 ${remote[i].toFixed(1)} s; no-op local ${noopLocal[i].toFixed(2)} s, S3 ${noopRemote[i].toFixed(2)} s`);
  }
  const scale = customers === 100_000 ? '' : `_${customers}`;
  return [
    { name: `lake.churn_apply_local${scale}`, value: median(local), unit: 's', runs },
    { name: `lake.churn_apply_s3${scale}`, value: median(remote), unit: 's', runs },
    { name: `lake.churn_apply_s3_vs_local${scale}`, value: median(remote) / median(local), unit: 'x', goal: '<= 1.5', runs },
    { name: `lake.noop_apply_local${scale}`, value: median(noopLocal), unit: 's', runs },
    { name: `lake.noop_apply_remote_state${scale}`, value: median(noopRemote), unit: 's', goal: '< 1 (asgard overhead over the local no-op)', runs },
    { name: `lake.noop_apply_remote_overhead${scale}`, value: median(noopRemote) - median(noopLocal), unit: 's', goal: '< 1', runs },
  ];
}
