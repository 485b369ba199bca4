// The Iceberg catalog a kubernetes profile names for the cluster's jobs: Spark's SparkApplications
// write silver through it (spark/spark.ts), the dbt Jobs read silver and write gold (dbt/jobs.ts).

import type { ProfileSettings } from './settings.js';
import { envVar, type EnvVar, type K8sRefs } from './k8s-env.js';

/** The Iceberg catalog the profile names for the cluster's jobs (`iceberg_catalog`, `catalog_type`, `catalog_uri`). */
export interface IcebergCatalog {
  readonly name: string;
  readonly type: string;
  /** The JDBC URL of a `jdbc` catalog (undefined when missing: a diagnostic is reported). */
  readonly uri?: string;
}

export function icebergCatalog(settings: ProfileSettings): IcebergCatalog {
  const name = settings.literalString('iceberg_catalog', 'Iceberg catalog name', 'iceberg')!;
  const type = settings.literalString('catalog_type', 'Iceberg catalog type', 'hadoop')!;
  // Iceberg's JDBC catalog (the SQL catalog asgard writes, docs/lakehouse.md) needs its JDBC URL.
  const uri =
    type === 'jdbc' ? settings.literalString('catalog_uri', 'the JDBC URL of the Iceberg SQL catalog, e.g. "jdbc:postgresql://db:5432/lake"') : undefined;
  return { name, type, ...(uri !== undefined ? { uri } : {}) };
}

/** A JDBC catalog's credentials as the pod's ICEBERG_JDBC_USER / ICEBERG_JDBC_PASSWORD: a secret stays a reference. */
export function catalogCredentialsEnv(settings: ProfileSettings, refs: K8sRefs): EnvVar[] {
  const user = settings.get('catalog_user');
  const password = settings.get('catalog_password');
  return [...(user ? [envVar('ICEBERG_JDBC_USER', user, refs)] : []), ...(password ? [envVar('ICEBERG_JDBC_PASSWORD', password, refs)] : [])];
}
