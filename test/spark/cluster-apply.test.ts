// `asgard apply --profile cluster` on the real Spark standalone cluster (scripts/spark-cluster.sh)
// and the real S3 server (versitygw): the source is ingested by asgard into an Iceberg table on S3,
// the cleanse runs as its compiled SparkApplication through spark-submit (Spark writes the silver
// Iceberg table through the same JDBC catalog), and the model runs on DuckDB over Spark's table.
// pyiceberg reads every table from S3; a second apply does nothing. Faults: a driver failing at run
// time names the node and its error, exits 1, leaves state and catalog as they were, skips the
// downstream, and the next apply resumes. Spark jobs are heavy on two cores: small data, one file.

import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { beforeAll, describe, expect, it } from 'vitest';
import { S3ObjectStore } from '../../src/warehouse/s3-store.js';
import { currentSnapshot, parseMetadata } from '../../src/warehouse/iceberg/metadata.js';
import type { PipelineState } from '../../src/planner/state-store.js';
import { awsEnv, freshBucket, useAwsEnv } from '../helpers/s3.js';
import { sparkCluster } from '../helpers/spark.js';
import { pyicebergWith } from '../helpers/pyiceberg.js';
import { repoRoot } from '../cli/helpers.js';
import { asgardProcess, ORDERS_CLEAN_SQL, ordersPipeline, type Proc } from '../helpers/orders-lake.js';

const CLEANSE_SQL = ORDERS_CLEAN_SQL;

function spec(bucket: string, csv: string, cleanseSql = CLEANSE_SQL): string {
  // A second cleanse: apply starts both Spark jobs together (their namespace must not race).
  const extra = `
  cleanse large_orders {
    sql """ SELECT order_id, amount FROM bronze.orders WHERE amount >= 5 """
  }
`;
  const profiles = `  profile cluster {
    spark_master  = env("ASGARD_SPARK_MASTER", "spark://127.0.0.1:7077")
    spark_image   = "apache/spark:4.0.1-python3"
    spark_version = "4.0.1"
    warehouse     = "s3://${bucket}/lake"
    s3_endpoint   = env("LAKE_S3_ENDPOINT")
    driver        = { memory = "512m" }
    executor      = { instances = 2  cores = 1  memory = "512m" }
  }`;
  return ordersPipeline({ name: 'orders_lake', csv, cleanseSql, extra, profiles });
}

describe('apply --profile cluster: cleanses on the Spark cluster, the rest embedded, every table Iceberg on S3', () => {
  let bucket: string;
  let dir: string;
  let csv: string;
  let store: S3ObjectStore;
  let env: Record<string, string>;
  const stateDir = () => join(dir, '.asgard');
  const localRoot = () => join(stateDir(), 's3', bucket, 'lake');
  const asgard = (args: string[], started?: (p: ChildProcess) => void): Promise<Proc> =>
    asgardProcess([...args, '--profile', 'cluster'], { cwd: dir, env }, started);
  const remoteState = async (): Promise<PipelineState> => JSON.parse((await store.get('_asgard/state/orders_lake.json'))!.body.toString()) as PipelineState;
  const catalogRows = (): Promise<Record<string, string>> => {
    const py = join(repoRoot, '.venv', 'bin', 'python');
    return new Promise((done) => {
      const p = spawn(py, [
        '-c',
        'import sqlite3,sys,json; c=sqlite3.connect(sys.argv[1]); print(json.dumps({f"{n}.{t}": m for n,t,m in c.execute("select table_namespace, table_name, metadata_location from iceberg_tables")}))',
        join(localRoot(), 'catalog.db'),
      ]);
      let out = '';
      p.stdout.on('data', (d) => (out += d));
      p.on('close', () => done(JSON.parse(out) as Record<string, string>));
    });
  };
  const query = async (sql: string): Promise<unknown[]> => {
    const r = await asgard(['query', 'lake.asg', sql, '--format', 'json']);
    expect(r.code, r.stderr).toBe(0);
    return JSON.parse(r.stdout).rows;
  };

  beforeAll(async () => {
    const s3 = useAwsEnv();
    const spark = sparkCluster();
    bucket = await freshBucket('cluster');
    dir = mkdtempSync(join(tmpdir(), 'asgard-cluster-'));
    csv = join(dir, 'orders.csv');
    writeFileSync(
      csv,
      'order_id,country,amount,placed_at\n1,nl,10,2025-01-01 10:00:00\n2,de,5,2025-01-01 11:00:00\n3,nl,-1,2025-01-01 12:00:00\n4,fr,7.5,2025-01-02 09:00:00\n5,nl,2.5,2025-01-02 10:00:00\n',
    );
    writeFileSync(join(dir, 'lake.asg'), spec(bucket, csv));
    store = new S3ObjectStore({ bucket, prefix: 'lake' }, { endpoint: s3.endpoint, pathStyle: true });
    env = {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      ...awsEnv(),
      LAKE_S3_ENDPOINT: s3.endpoint,
      ASGARD_SPARK_MASTER: spark.master,
      ASGARD_SPARK_HOME: spark.sparkHome,
      ASGARD_SPARK_JARS: spark.jars,
      ...(spark.javaHome ? { JAVA_HOME: spark.javaHome } : {}),
    };
  }, 900_000);

  it('runs the cleanse on Spark, writes every table as Iceberg on S3, and a second apply does nothing', async () => {
    const r = await asgard(['apply', 'lake.asg', '--yes', '--format', 'json']);
    expect(r.code, r.stderr.slice(-3000)).toBe(0);
    const statuses = Object.fromEntries((JSON.parse(r.stdout).nodes as { node: string; status: string }[]).map((n) => [n.node, n.status]));
    expect(statuses).toEqual({
      'bronze.orders': 'succeeded',
      'silver.orders_clean': 'succeeded',
      'silver.large_orders': 'succeeded',
      'gold.revenue_by_country': 'succeeded',
    });

    // Every table's current metadata is an object on the S3 server, and the silver snapshot was
    // committed by Spark (its summary names the Spark application), the others by asgard.
    const catalog = await catalogRows();
    expect(Object.keys(catalog).sort()).toEqual(['bronze.orders', 'gold.revenue_by_country', 'silver.large_orders', 'silver.orders_clean']);
    const state = await remoteState();
    for (const [table, location] of Object.entries(catalog)) {
      expect(location, table).toMatch(new RegExp(`^s3a?://${bucket}/lake/${table.replace('.', '/')}/metadata/`));
      const key = location.replace(/^s3a?:\/\/[^/]+\/lake\//, '');
      // Snapshot ids are 63-bit: parsed as the reader does, not as JSON numbers.
      const meta = parseMetadata((await store.get(key))!.body.toString());
      expect(meta['format-version']).toBe(2);
      const current = currentSnapshot(meta)!;
      expect(current['snapshot-id']).toBe(state.nodes[table].snapshot!.id);
      expect('spark.app.id' in current.summary, table).toBe(table.startsWith('silver.'));
      expect(current['manifest-list'].startsWith(`s3`)).toBe(true);
    }

    // DuckDB's gold over Spark's silver.
    expect(await query('SELECT country, orders, revenue FROM gold.revenue_by_country ORDER BY country')).toEqual([
      { country: 'DE', orders: 1, revenue: 5 },
      { country: 'FR', orders: 1, revenue: 7.5 },
      { country: 'NL', orders: 2, revenue: 12.5 },
    ]);

    // pyiceberg reads every table from the S3 server through the catalog, with asgard's rows.
    const s3 = useAwsEnv();
    const props = {
      's3.endpoint': s3.endpoint,
      's3.path-style-access': 'true',
      's3.access-key-id': s3.accessKey,
      's3.secret-access-key': s3.secretKey,
      's3.region': 'us-east-1',
    };
    const py = pyicebergWith(props, join(localRoot(), 'catalog.db'), 'bronze.orders', 'silver.orders_clean', 'gold.revenue_by_country');
    const byTable = Object.fromEntries(py.reads.map((x) => [x.table, x]));
    expect(byTable['bronze.orders'].rows.map((x) => x.order_id).sort()).toEqual([1, 2, 3, 4, 5]);
    expect(byTable['silver.orders_clean'].rows.map((x) => [x.order_id, x.country]).sort()).toEqual([
      [1, 'NL'],
      [2, 'DE'],
      [4, 'FR'],
      [5, 'NL'],
    ]);
    expect(byTable['gold.revenue_by_country'].rows.sort((a, b) => String(a.country).localeCompare(String(b.country)))).toEqual([
      { country: 'DE', orders: 1, revenue: 5 },
      { country: 'FR', orders: 1, revenue: 7.5 },
      { country: 'NL', orders: 2, revenue: 12.5 },
    ]);

    // Same plan, same state, same incremental rules: nothing changed, nothing runs.
    const again = await asgard(['apply', 'lake.asg', '--yes', '--format', 'json']);
    expect(again.code, again.stderr.slice(-2000)).toBe(0);
    // (The source is synced on every apply; its file did not change, so neither did its snapshot.)
    const second = Object.fromEntries((JSON.parse(again.stdout).nodes as { node: string; status: string }[]).map((n) => [n.node, n.status]));
    expect(second['silver.orders_clean']).toBe('unchanged');
    expect(second['gold.revenue_by_country']).toBe('unchanged');
    const stateAgain = await remoteState();
    for (const t of ['bronze.orders', 'silver.orders_clean', 'gold.revenue_by_country'])
      expect(stateAgain.nodes[t].snapshot!.id, t).toBe(state.nodes[t].snapshot!.id);
  }, 1_800_000);

  it('a driver failing at run time: exit 1 naming the node and its error, state and catalog untouched, gold skipped; the next apply resumes', async () => {
    const before = await remoteState();
    const catalogBefore = await catalogRows();
    // Valid SQL that Spark (ANSI mode) rejects only on the rows: 'NL' is no integer.
    writeFileSync(
      join(dir, 'lake.asg'),
      spec(bucket, csv, CLEANSE_SQL.replace('UPPER(country) AS country', 'UPPER(country) AS country, CAST(country AS INT) AS country_code')),
    );
    const r = await asgard(['apply', 'lake.asg', '--yes']);
    expect(r.code).toBe(1);
    expect(r.stderr + r.stdout).toMatch(/silver\.orders_clean: the Spark driver failed on spark:\/\/[^ ]+ \(exit \d+\); the previous snapshot stays current/);
    expect(r.stderr + r.stdout).toMatch(/CAST_INVALID_INPUT/);
    expect(r.stderr + r.stdout).not.toContain(awsEnv().AWS_SECRET_ACCESS_KEY);
    expect(r.stdout).toMatch(/gold\.revenue_by_country\s+skipped/);
    const after = await remoteState();
    expect(after.nodes['silver.orders_clean']).toEqual(before.nodes['silver.orders_clean']);
    expect(after.nodes['gold.revenue_by_country']).toEqual(before.nodes['gold.revenue_by_country']);
    expect(await catalogRows()).toEqual(catalogBefore);

    // Fixed: the cleanse and its downstream run again, from the state the failure left.
    writeFileSync(join(dir, 'lake.asg'), spec(bucket, csv, CLEANSE_SQL.replace('WHERE amount > 0', 'WHERE amount > 3')));
    const fixed = await asgard(['apply', 'lake.asg', '--yes', '--format', 'json']);
    expect(fixed.code, fixed.stderr.slice(-3000)).toBe(0);
    const st = Object.fromEntries((JSON.parse(fixed.stdout).nodes as { node: string; status: string }[]).map((n) => [n.node, n.status]));
    expect(st['silver.orders_clean']).toBe('succeeded');
    expect(st['gold.revenue_by_country']).toBe('succeeded');
    expect(await query('SELECT country, orders, revenue FROM gold.revenue_by_country ORDER BY country')).toEqual([
      { country: 'DE', orders: 1, revenue: 5 },
      { country: 'FR', orders: 1, revenue: 7.5 },
      { country: 'NL', orders: 1, revenue: 10 },
    ]);
  }, 1_800_000);

  it('SIGTERM to apply stops its Spark drivers, releases the lock, keeps the state, and exits 1', async () => {
    // (Run alone, the first apply is this one: the cleanse has no state yet.)
    const cleanseState = async () => ((await store.get('_asgard/state/orders_lake.json')) ? (await remoteState()).nodes['silver.orders_clean'] : undefined);
    const before = await cleanseState();
    writeFileSync(join(dir, 'lake.asg'), spec(bucket, csv, CLEANSE_SQL.replace('WHERE amount > 0', 'WHERE amount > 4')));
    let apply: ChildProcess | undefined;
    const applying = asgard(['apply', 'lake.asg', '--yes', '--format', 'json'], (p) => (apply = p));
    // Once a driver's JVM runs (spark-submit execs into SparkSubmit), apply is sent SIGTERM.
    let drivers: number[] = [];
    for (let i = 0; i < 2400 && drivers.length === 0 && apply?.exitCode === null; i++) {
      drivers = childrenRunning(apply!.pid!, 'org.apache.spark.deploy.SparkSubmit');
      if (drivers.length === 0) await new Promise((r) => setTimeout(r, 250));
    }
    expect(drivers.length).toBeGreaterThan(0);
    apply!.kill('SIGTERM');
    const r = await applying;
    try {
      expect(r.code, r.stderr.slice(-3000)).toBe(1);
      expect(r.stderr + r.stdout).toMatch(/silver\.orders_clean: interrupted \(the Spark driver was stopped\)/);
      expect(r.stderr).not.toMatch(/\n\s+at /);
      // The drivers stop (their JVM's shutdown takes a moment), the lock is released, the state stays.
      for (let i = 0; i < 600 && drivers.some(alive); i++) await new Promise((r) => setTimeout(r, 200));
      expect(drivers.filter(alive)).toEqual([]);
      expect(await store.get('_asgard/locks/orders_lake.lock')).toBeUndefined();
      expect(await cleanseState()).toEqual(before);
    } finally {
      for (const pid of drivers.filter(alive)) process.kill(-pid, 'SIGKILL');
    }
  }, 1_800_000);

  it('a worker killed mid-job: the job finishes on the other worker, the result is whole, and the cluster comes back', async () => {
    const spark = sparkCluster();
    const before = await remoteState();
    writeFileSync(join(dir, 'lake.asg'), spec(bucket, csv, CLEANSE_SQL.replace('WHERE amount > 0', 'WHERE amount > 1')));
    const applying = asgard(['apply', 'lake.asg', '--yes', '--format', 'json']);
    // Mid-job: a worker runs an executor of the application; that worker is killed. (Which worker,
    // and whether the job has one executor or two, depends on what else the cluster runs: other
    // test files share it.)
    const app = `asgard-orders_lake-silver.orders_clean`;
    let killed: number | undefined;
    for (let i = 0; i < 1200 && killed === undefined; i++) {
      for (const n of [1, 2]) {
        const worker = (await (await fetch(`http://127.0.0.1:${workerUiPort(n)}/json/`)).json()) as { executors: { appdesc: { name: string } }[] };
        if (killed === undefined && worker.executors.some((e) => e.appdesc.name === app)) {
          killWorker(n);
          killed = n;
        }
      }
      if (killed === undefined) await new Promise((r) => setTimeout(r, 500));
    }
    expect(killed).toBeDefined();
    const r = await applying;
    restartCluster(spark);
    expect(r.code, r.stderr.slice(-3000)).toBe(0);
    const after = await remoteState();
    expect(after.nodes['silver.orders_clean'].snapshot!.id).not.toBe(before.nodes['silver.orders_clean'].snapshot!.id);
    expect(await query('SELECT country, orders, revenue FROM gold.revenue_by_country ORDER BY country')).toEqual([
      { country: 'DE', orders: 1, revenue: 5 },
      { country: 'FR', orders: 1, revenue: 7.5 },
      { country: 'NL', orders: 2, revenue: 12.5 },
    ]);
  }, 1_800_000);
});

/** The pids of `parent`'s children whose command line holds `needle`. */
function childrenRunning(parent: number, needle: string): number[] {
  // ps exits 1 when there is no such child.
  return spawnSync('ps', ['-o', 'pid=,args=', '--ppid', String(parent)], { encoding: 'utf8' })
    .stdout.split('\n')
    .filter((l) => l.includes(needle))
    .map((l) => Number(l.trim().split(/\s+/)[0]));
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** SIGKILL worker N of scripts/spark-cluster.sh (its pid file under the services folder; its web UI is the master's port + N). */
const sparkDir = () => join(process.env.ASGARD_SERVICES_DIR ?? join(repoRoot, '.services'), 'spark');

function killWorker(n: number): void {
  process.kill(Number(readFileSync(join(sparkDir(), `worker${n}.pid`), 'utf8').trim()), 'SIGKILL');
}

/**
 * The port worker `n`'s web UI listens on, as its log says. scripts/spark-cluster.sh asks for the
 * master's UI port + n, but Spark takes the next free port when that one is busy (the service ports
 * lie in Linux's ephemeral range: a passing connection can hold one), so the asked port may be
 * another worker's or nobody's.
 */
function workerUiPort(n: number): number {
  const log = readFileSync(join(sparkDir(), `worker${n}.log`), 'utf8');
  const started = [...log.matchAll(/Bound WorkerWebUI to .*, and started at http:\/\/[^:\s]+:(\d+)/g)].at(-1);
  if (!started) throw new Error(`worker${n}.log does not say where the worker's web UI started`);
  return Number(started[1]);
}

/** spark_cluster_up is idempotent: it starts the worker that is gone and waits for two alive workers. */
function restartCluster(spark: { sparkHome: string }): void {
  execFileSync('bash', ['-c', 'source scripts/spark-cluster.sh && spark_cluster_up >&2'], {
    cwd: repoRoot,
    stdio: ['ignore', 'inherit', 'inherit'],
    timeout: 600_000,
    env: { ...process.env, ASGARD_SPARK_HOME: spark.sparkHome },
  });
}
