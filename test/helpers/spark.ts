// Test access to the Spark standalone cluster (a master and two workers on loopback) that
// scripts/spark-cluster.sh starts from the PySpark distribution in .venv, with the Iceberg, AWS and
// JDBC jars it caches under ~/.cache/asgard/spark-jars.

import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';

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
