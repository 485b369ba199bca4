// The services a bench needs, started the way the demo starts them (scripts/services.sh,
// scripts/s3-server.sh; both idempotent: a running server is reused, and a *_URL variable already
// set points at the caller's own). The variables they export are merged into process.env, so every
// later bench and child process sees them. A service that cannot start fails the bench: a figure is
// never skipped (issue #16 item 6).

import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '..');

/** `source scripts/<script> && <fn>`: the environment it leaves behind. Throws when the function fails. */
function sourced(script: string, fn: string): Record<string, string> {
  const out = execFileSync('bash', ['-c', `source scripts/${script} && ${fn} >&2 && env -0`], {
    cwd: ROOT,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    timeout: 1_200_000,
    maxBuffer: 16 << 20,
  });
  const env: Record<string, string> = {};
  for (const kv of out.split('\0')) {
    const i = kv.indexOf('=');
    if (i > 0) env[kv.slice(0, i)] = kv.slice(i + 1);
  }
  return env;
}

/** PostgreSQL, MariaDB and the ticket API (CUSTOMER_DB_URL, TRANSACTIONS_DB_URL, SUPPORT_API_URL…). */
export type DemoEnv = NodeJS.ProcessEnv & { readonly CUSTOMER_DB_URL: string; readonly TRANSACTIONS_DB_URL: string; readonly SUPPORT_API_URL: string };

export function demoServices(): DemoEnv {
  const e = process.env;
  if (!e.CUSTOMER_DB_URL || !e.TRANSACTIONS_DB_URL || !e.SUPPORT_API_URL) Object.assign(process.env, sourced('services.sh', 'services_up'));
  if (!e.CUSTOMER_DB_URL || !e.TRANSACTIONS_DB_URL || !e.SUPPORT_API_URL)
    throw new Error('scripts/services.sh did not export CUSTOMER_DB_URL, TRANSACTIONS_DB_URL and SUPPORT_API_URL');
  return e as DemoEnv;
}

/** The loopback S3 server (versitygw): ASGARD_S3_ENDPOINT, ASGARD_S3_ACCESS_KEY, ASGARD_S3_SECRET_KEY… */
export function s3Server(): NodeJS.ProcessEnv {
  Object.assign(process.env, sourced('s3-server.sh', 's3_server_up'));
  return process.env;
}

/** The Kubernetes API server and etcd (scripts/k8s-apiserver.sh): ASGARD_K8S_KUBECONFIG, ASGARD_K8S_SERVER… */
export function k8sApiServer(): NodeJS.ProcessEnv {
  Object.assign(process.env, sourced('k8s-apiserver.sh', 'k8s_apiserver_up'));
  return process.env;
}

/** The Spark standalone cluster (scripts/spark-cluster.sh): ASGARD_SPARK_MASTER, ASGARD_SPARK_HOME, ASGARD_SPARK_JARS, JAVA_HOME. */
export function sparkCluster(): {
  readonly ASGARD_SPARK_MASTER: string;
  readonly ASGARD_SPARK_HOME: string;
  readonly ASGARD_SPARK_JARS: string;
  readonly JAVA_HOME?: string;
} {
  const env = sourced('spark-cluster.sh', 'spark_cluster_up');
  if (!env.ASGARD_SPARK_MASTER || !env.ASGARD_SPARK_HOME) throw new Error('scripts/spark-cluster.sh did not export ASGARD_SPARK_MASTER and ASGARD_SPARK_HOME');
  return {
    ASGARD_SPARK_MASTER: env.ASGARD_SPARK_MASTER,
    ASGARD_SPARK_HOME: env.ASGARD_SPARK_HOME,
    ASGARD_SPARK_JARS: env.ASGARD_SPARK_JARS ?? '',
    ...(env.JAVA_HOME ? { JAVA_HOME: env.JAVA_HOME } : {}),
  };
}
