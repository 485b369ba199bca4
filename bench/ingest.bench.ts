// Ingestion speed at seed scale against the demo's services: full sync of the 100,000 customers
// from PostgreSQL and the 1,200,000 transactions from MariaDB (rows/s, peak RSS of the syncing
// process), next to each database's own bulk export of the same table in the same run (`psql \copy
// … to` a CSV file; the `mariadb` client's batch output) as the physical limit.
// Goals (2 cores): >= 300,000 rows/s per source, within 2.5x of the bulk export, < 500 MB RSS.
// Services come from the *_URL variables or are started through scripts/services.sh; the demo data
// is loaded when missing (demo/load.ts, idempotent). Each sync runs the built code (dist/, compiled
// first) in a process of its own, as `asgard apply` runs it: through tsx the process held ~200 MB
// more, the transpiler's (bench/ingest.md).

import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Figure } from './run.js';
import { demoServices } from './services.js';
import { buildDist } from './build-dist.js';
import { median } from './stats.js';

const ROOT = resolve(import.meta.dirname, '..');
const RUNS = Number(process.env.ASGARD_BENCH_RUNS ?? 3);

function timeIt(cmd: string, args: string[], env: NodeJS.ProcessEnv): number {
  const t0 = performance.now();
  const r = spawnSync(cmd, args, { env, stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} failed: ${r.stderr?.slice(0, 300)}`);
  return (performance.now() - t0) / 1000;
}

function sync(id: string, env: NodeJS.ProcessEnv): Promise<{ rows: number; seconds: number; cpuSeconds: number; peakRssMB: number }> {
  return new Promise((resolvePromise, reject) => {
    const p = spawn(process.execPath, [join(ROOT, 'bench', 'ingest-sync.mjs'), id], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (err += d));
    p.on('close', (code) =>
      code === 0 ? resolvePromise(JSON.parse(out.trim().split('\n').pop()!)) : reject(new Error(`sync ${id} failed: ${err.slice(-500)}`)),
    );
  });
}

export async function run(): Promise<Figure[]> {
  const env = { ...demoServices() };
  buildDist(ROOT);
  execFileSync('node', ['--import', 'tsx', 'demo/load.ts'], { cwd: ROOT, env, stdio: ['ignore', 'ignore', 'inherit'] });
  const pg = new URL(env.CUSTOMER_DB_URL!);
  const my = new URL(env.TRANSACTIONS_DB_URL!);
  const tmp = mkdtempSync(join(tmpdir(), 'asgard-export-'));
  // Passwords travel in the environment (never on a command line).
  const pgEnv = { ...env, PGPASSWORD: env.CUSTOMER_DB_PASSWORD || decodeURIComponent(pg.password) };
  const myEnv = { ...env, MYSQL_PWD: env.TRANSACTIONS_DB_PASSWORD || decodeURIComponent(my.password) };
  const psql = ['-h', pg.hostname, '-p', pg.port || '5432', '-U', decodeURIComponent(pg.username), '-d', pg.pathname.slice(1), '-qAt', '-c'];
  const mariadb = [
    '--no-defaults',
    '-h',
    my.hostname,
    '-P',
    my.port || '3306',
    '-u',
    decodeURIComponent(my.username),
    '--batch',
    '--quick',
    my.pathname.slice(1),
    '-e',
  ];
  const client = spawnSync('bash', ['-c', 'command -v mariadb || command -v mysql'], { encoding: 'utf8' }).stdout.trim();
  const out: Record<string, number[]> = {
    pgSync: [],
    pgCpu: [],
    pgRss: [],
    pgExport: [],
    mySync: [],
    myCpu: [],
    myRss: [],
    myExport: [],
    pgRows: [],
    myRows: [],
  };
  try {
    for (let i = 0; i < RUNS; i++) {
      const c = await sync('bronze.customers', env);
      out.pgSync.push(c.seconds);
      out.pgCpu.push(c.cpuSeconds);
      out.pgRss.push(c.peakRssMB);
      out.pgRows.push(c.rows);
      out.pgExport.push(timeIt('psql', [...psql, `\\copy (SELECT * FROM customers) TO '${join(tmp, 'customers.csv')}' WITH (FORMAT csv)`], pgEnv));
      const t = await sync('bronze.transactions', env);
      out.mySync.push(t.seconds);
      out.myCpu.push(t.cpuSeconds);
      out.myRss.push(t.peakRssMB);
      out.myRows.push(t.rows);
      out.myExport.push(timeIt('bash', ['-c', `"$0" "$@" > '${join(tmp, 'transactions.tsv')}'`, client, ...mariadb, 'SELECT * FROM transactions'], myEnv));
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  const pgRows = median(out.pgRows);
  const myRows = median(out.myRows);
  const round = (x: number, d = 3) => Math.round(x * 10 ** d) / 10 ** d;
  return [
    { name: 'ingest.postgres.customers.rows_per_s', value: Math.round(pgRows / median(out.pgSync)), unit: 'rows/s', goal: '>= 300000', runs: RUNS },
    { name: 'ingest.postgres.customers.seconds', value: round(median(out.pgSync)), unit: 's', runs: RUNS },
    // The syncing process's CPU time (every thread; PostgreSQL's own work is not in it): what a loaded machine does not distort as much.
    { name: 'ingest.postgres.customers.cpu_seconds', value: round(median(out.pgCpu)), unit: 's', runs: RUNS },
    { name: 'ingest.postgres.copy_export.seconds', value: round(median(out.pgExport)), unit: 's', runs: RUNS },
    { name: 'ingest.postgres.customers.vs_copy_export', value: round(median(out.pgSync) / median(out.pgExport), 2), unit: 'x', goal: '<= 2.5', runs: RUNS },
    { name: 'ingest.postgres.customers.peak_rss_mb', value: Math.round(median(out.pgRss)), unit: 'MB', goal: '< 500', runs: RUNS },
    { name: 'ingest.mariadb.transactions.rows_per_s', value: Math.round(myRows / median(out.mySync)), unit: 'rows/s', goal: '>= 300000', runs: RUNS },
    { name: 'ingest.mariadb.transactions.seconds', value: round(median(out.mySync)), unit: 's', runs: RUNS },
    { name: 'ingest.mariadb.transactions.cpu_seconds', value: round(median(out.myCpu)), unit: 's', runs: RUNS },
    { name: 'ingest.mariadb.batch_export.seconds', value: round(median(out.myExport)), unit: 's', runs: RUNS },
    { name: 'ingest.mariadb.transactions.vs_batch_export', value: round(median(out.mySync) / median(out.myExport), 2), unit: 'x', goal: '<= 2.5', runs: RUNS },
    { name: 'ingest.mariadb.transactions.peak_rss_mb', value: Math.round(median(out.myRss)), unit: 'MB', goal: '< 500', runs: RUNS },
  ];
}
