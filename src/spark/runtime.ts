// Where the Spark client is on this machine: SPARK_HOME (spark-submit), the jars the compiled jobs
// need (the Iceberg runtime and AWS bundle, the catalog's JDBC driver), Java and the Python the
// driver and executors run. scripts/spark-cluster.sh exports the ASGARD_SPARK_* variables; a plain
// Spark installation sets SPARK_HOME (and its own jars through spark-defaults.conf).

import { existsSync } from 'node:fs';
import { join } from 'node:path';

export type Env = Readonly<Record<string, string | undefined>>;

export interface SparkRuntime {
  readonly sparkHome: string;
  /** Comma-separated jar paths for `spark.jars` (empty: the installation provides them). */
  readonly jars: string;
  readonly javaHome?: string;
  /** The Python of the driver and the executors (`spark.pyspark.python`). */
  readonly python?: string;
}

export class SparkRuntimeError extends Error {}

export function sparkRuntime(env: Env): SparkRuntime {
  const sparkHome = env.ASGARD_SPARK_HOME || env.SPARK_HOME;
  if (!sparkHome || !existsSync(join(sparkHome, 'bin', 'spark-submit'))) {
    throw new SparkRuntimeError(
      sparkHome
        ? `no spark-submit under ${sparkHome}/bin (ASGARD_SPARK_HOME / SPARK_HOME)`
        : 'no Spark client: set SPARK_HOME (or run `source scripts/spark-cluster.sh && spark_cluster_up`, which exports ASGARD_SPARK_HOME and ASGARD_SPARK_JARS)',
    );
  }
  const python = env.ASGARD_SPARK_PYTHON || env.PYSPARK_PYTHON || undefined;
  return {
    sparkHome,
    jars: env.ASGARD_SPARK_JARS ?? '',
    ...(env.JAVA_HOME ? { javaHome: env.JAVA_HOME } : {}),
    ...(python ? { python } : pysparkVenvPython(sparkHome)),
  };
}

/** PySpark installed in a virtualenv (…/lib/pythonX.Y/site-packages/pyspark): that env's python. */
function pysparkVenvPython(sparkHome: string): { python?: string } {
  const m = /^(.*)\/lib\/python[\d.]+\/site-packages\/pyspark\/?$/.exec(sparkHome);
  const p = m ? join(m[1], 'bin', 'python') : undefined;
  return p && existsSync(p) ? { python: p } : {};
}
