// Test access to the Spark standalone cluster (a master and two workers on loopback) that
// scripts/spark-cluster.sh starts from the PySpark distribution in .venv, with the Iceberg, AWS and
// JDBC jars it caches under ~/.cache/asgard/spark-jars.

import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { sparkSubmit } from '../../src/spark/submit.js';
import { sparkRuntime } from '../../src/spark/runtime.js';

const ROOT = resolve(import.meta.dirname, '..', '..');

export interface SparkEnv {
  readonly master: string;
  readonly sparkHome: string;
  readonly jars: string;
  readonly javaHome: string;
}

let cached: SparkEnv | undefined;

/** The cluster's master URL, Spark home and jars; starts the cluster when it is not running. */
export function sparkCluster(): SparkEnv {
  if (cached) return cached;
  const out = execFileSync('bash', ['-c', 'source scripts/spark-cluster.sh && spark_cluster_up >&2 && env -0'], {
    cwd: ROOT,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    timeout: 900_000,
  });
  const vars: Record<string, string> = {};
  for (const kv of out.split('\0')) {
    const i = kv.indexOf('=');
    if (i > 0) vars[kv.slice(0, i)] = kv.slice(i + 1);
  }
  cached = { master: vars.ASGARD_SPARK_MASTER, sparkHome: vars.ASGARD_SPARK_HOME, jars: vars.ASGARD_SPARK_JARS, javaHome: vars.JAVA_HOME ?? '' };
  return cached;
}

export interface SparkTableRead {
  readonly columns: string[];
  readonly rows: Record<string, unknown>[];
}

/**
 * Spark's view of an Iceberg warehouse: a job on the cluster (test/spark/py/read_tables.py) opens
 * the SQL catalog `catalogDb` as Iceberg's JDBC catalog `iceberg`, with S3FileIO on the S3 server,
 * and reads every table in `tables` whole. Values come back in pyiceberg's forms (read_iceberg.py).
 */
export async function sparkReadTables(opts: {
  readonly catalogDb: string;
  readonly warehouse: string;
  readonly s3Endpoint: string;
  readonly aws: Readonly<Record<string, string>>;
  readonly tables: readonly string[];
  readonly workDir: string;
}): Promise<Record<string, SparkTableRead>> {
  const spark = sparkCluster();
  const runtime = sparkRuntime({ ASGARD_SPARK_HOME: spark.sparkHome, ASGARD_SPARK_JARS: spark.jars, ...(spark.javaHome ? { JAVA_HOME: spark.javaHome } : {}) });
  const out = join(opts.workDir, 'spark-read.json');
  const r = await sparkSubmit({
    sparkHome: runtime.sparkHome,
    ...(runtime.javaHome ? { javaHome: runtime.javaHome } : {}),
    master: spark.master,
    name: 'asgard-test-spark-reads',
    main: join(ROOT, 'test', 'spark', 'py', 'read_tables.py'),
    args: [out, ...opts.tables],
    conf: {
      ...(runtime.jars ? { 'spark.jars': runtime.jars } : {}),
      ...(runtime.python ? { 'spark.pyspark.python': runtime.python } : {}),
      'spark.ui.enabled': 'false',
      'spark.driver.memory': '512m',
      'spark.executor.memory': '512m',
      'spark.cores.max': '2',
      'spark.sql.session.timeZone': 'UTC',
      'spark.sql.catalog.iceberg': 'org.apache.iceberg.spark.SparkCatalog',
      'spark.sql.catalog.iceberg.type': 'jdbc',
      'spark.sql.catalog.iceberg.uri': `jdbc:sqlite:${opts.catalogDb}`,
      'spark.sql.catalog.iceberg.warehouse': opts.warehouse,
      'spark.sql.catalog.iceberg.io-impl': 'org.apache.iceberg.aws.s3.S3FileIO',
      'spark.sql.catalog.iceberg.s3.endpoint': opts.s3Endpoint,
      'spark.sql.catalog.iceberg.s3.path-style-access': 'true',
      'spark.sql.catalog.iceberg.client.region': 'us-east-1',
      'spark.local.dir': join(opts.workDir, 'spark-tmp'),
    },
    // Python turns timestamps into datetimes in its own zone: UTC, as pyiceberg's.
    env: { ...opts.aws, TZ: 'UTC' },
    secrets: Object.values(opts.aws),
    workDir: join(opts.workDir, 'spark-read'),
  });
  if (r.code !== 0) throw new Error(`Spark could not read the tables (exit ${r.code}):\n${r.tail}\n(driver log: ${r.logFile})`);
  return JSON.parse(readFileSync(out, 'utf8')) as Record<string, SparkTableRead>;
}
