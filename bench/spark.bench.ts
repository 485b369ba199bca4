// The three churn cleanses on the Spark standalone cluster (scripts/spark-cluster.sh: a master and
// two 1-core workers on loopback) against the embedded engine, on the same data in the same run:
// `asgard apply pipelines/churn.asg` with a cluster profile (cleanses through spark-submit, the rest
// embedded) and with a local-target profile, both on a warehouse on the loopback S3 server, each
// with a fresh state. The figure per engine is the sum of the three cleanse nodes' seconds as apply
// reports them (a Spark job's include its driver's start-up), the median over the runs.
//
// Starts what it needs (bench/services.ts): the demo services, the S3 server and the Spark cluster.
// ASGARD_SPARK_BENCH_CUSTOMERS sets the data size (default 5,000), ASGARD_BENCH_RUNS the runs (default 3).

import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import type { Figure } from './run.js';
import { demoServices, s3Server, sparkCluster } from './services.js';
import { median } from './stats.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
const CLEANSES = ['silver.customers_cleaned', 'silver.transactions_cleaned', 'silver.support_tickets_cleaned'];

/** A private copy of churn.asg with a cluster profile and an embedded one, each on its own bucket. */
function specCopy(clusterBucket: string, embeddedBucket: string, endpoint: string, master: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'asg-bench-spark-'));
  const text = readFileSync(join(ROOT, 'pipelines/churn.asg'), 'utf8');
  const end = text.lastIndexOf('}');
  const profiles = `
  profile sparkbench {
    spark_master  = "${master}"
    spark_image   = "apache/spark:4.0.1-python3"
    spark_version = "4.0.1"
    warehouse     = "s3://${clusterBucket}/warehouse"
    s3_endpoint   = "${endpoint}"
    driver        = { memory = "512m" }
    executor      = { instances = 2  cores = 1  memory = "512m" }
  }
  profile embeddedbench {
    target      = "local"
    warehouse   = "s3://${embeddedBucket}/warehouse"
    s3_endpoint = "${endpoint}"
  }
`;
  writeFileSync(join(dir, 'churn.asg'), text.slice(0, end) + profiles + text.slice(end));
  return join(dir, 'churn.asg');
}

/** `asgard apply` under a profile; the seconds of each cleanse node as apply reports them. */
function apply(spec: string, profile: string, env: NodeJS.ProcessEnv): Promise<number[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(ROOT, 'bin', 'asgard.js'), 'apply', spec, '--yes', '--format', 'json', '--profile', profile], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += String(d)));
    child.stderr.on('data', (d) => (err += String(d)));
    child.on('error', reject);
    child.on('exit', (code) => {
      if (code !== 0) return reject(new Error(`asgard apply --profile ${profile} exited ${code}: ${err.slice(-3000)}`));
      const nodes = JSON.parse(out).nodes as { node: string; status: string; seconds: number }[];
      const got = CLEANSES.map((c) => nodes.find((n) => n.node === c));
      if (got.some((n) => !n || n.status !== 'succeeded')) return reject(new Error(`--profile ${profile}: a cleanse did not run: ${JSON.stringify(got)}`));
      resolve(got.map((n) => n!.seconds));
    });
  });
}

export async function run(): Promise<Figure[]> {
  const e = demoServices();
  const s3 = s3Server() as Record<string, string>;
  const spark = sparkCluster();
  const creds = { AWS_ACCESS_KEY_ID: s3.ASGARD_S3_ACCESS_KEY, AWS_SECRET_ACCESS_KEY: s3.ASGARD_S3_SECRET_KEY, AWS_REGION: 'us-east-1' };
  const customers = Number(e.ASGARD_SPARK_BENCH_CUSTOMERS ?? 5_000);
  const pgT = { url: e.CUSTOMER_DB_URL, password: e.CUSTOMER_DB_PASSWORD || undefined, database: `asgard_spark_bench_${customers}` };
  const myT = { url: e.TRANSACTIONS_DB_URL, password: e.TRANSACTIONS_DB_PASSWORD || undefined, database: `asgard_spark_bench_${customers}` };
  const { loadDemo } = await import('../demo/load.js');
  await loadDemo({ customers, seed: 42, pg: pgT, mysql: myT, log: (l) => process.stderr.write(`spark.bench: ${l}\n`) });
  const withDb = (url: string, db: string): string => {
    const u = new URL(url);
    u.pathname = `/${db}`;
    return u.toString();
  };
  const env: NodeJS.ProcessEnv = {
    ...e,
    ...spark,
    ...creds,
    CUSTOMER_DB_URL: withDb(e.CUSTOMER_DB_URL, pgT.database),
    TRANSACTIONS_DB_URL: withDb(e.TRANSACTIONS_DB_URL, myT.database),
  };
  const runs = Number(e.ASGARD_BENCH_RUNS ?? 3);
  const say = (m: string) => process.stderr.write(`spark.bench: ${m}\n`);
  const embedded: number[] = [];
  const cluster: number[] = [];
  const c = new S3Client({
    endpoint: s3.ASGARD_S3_ENDPOINT,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: creds.AWS_ACCESS_KEY_ID, secretAccessKey: creds.AWS_SECRET_ACCESS_KEY },
  });
  try {
    for (let i = 0; i < runs; i++) {
      const buckets = [`spark-bench-${randomBytes(4).toString('hex')}`, `spark-bench-${randomBytes(4).toString('hex')}`];
      for (const b of buckets) await c.send(new CreateBucketCommand({ Bucket: b }));
      const spec = specCopy(buckets[0], buckets[1], s3.ASGARD_S3_ENDPOINT, spark.ASGARD_SPARK_MASTER);
      const emb = await apply(spec, 'embeddedbench', env);
      const clu = await apply(spec, 'sparkbench', env);
      embedded.push(emb.reduce((a, b) => a + b, 0));
      cluster.push(clu.reduce((a, b) => a + b, 0));
      say(`run ${i + 1}: cleanses embedded ${emb.map((s) => s.toFixed(2)).join(' + ')} s, on Spark ${clu.map((s) => s.toFixed(1)).join(' + ')} s`);
    }
  } finally {
    c.destroy();
  }
  return [
    { name: `spark.cleanses.embedded (3 churn cleanses, ${customers} customers)`, value: Number(median(embedded).toFixed(2)), unit: 's', runs },
    {
      name: `spark.cleanses.cluster (3 churn cleanses on the standalone cluster, ${customers} customers)`,
      value: Number(median(cluster).toFixed(2)),
      unit: 's',
      runs,
    },
    {
      name: 'spark.cleanses.cluster_over_embedded',
      value: Number((median(cluster) / median(embedded)).toFixed(1)),
      unit: 'x',
      runs,
      goal: 'report both (same data, same run)',
    },
  ];
}
