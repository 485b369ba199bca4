// Settings every Kubernetes-deployed target reads (src/targets/k8s-env.ts and the manifests'
// namespace): spread into each target's own schema (src/targets/<name>/settings.ts).
import { z } from 'zod';
import { setting } from '../ir/profile-settings.js';

export const k8sSettings = {
  namespace: setting.string().optional(),
  secrets_name: setting.string().optional(),
  config_map: setting.string().optional(),
};

/** S3 endpoint and credentials passed to the pods as references. */
export const s3ClientSettings = {
  s3_endpoint: setting.reference().optional(),
  s3_region: setting.reference().optional(),
  s3_access_key_id: setting.reference().optional(),
  s3_secret_access_key: setting.reference().optional(),
  /** Also read by the workspace for remote state beside an S3 warehouse (src/workspace/profile-settings.ts). */
  s3_path_style: z.union([setting.boolean(), setting.stringOrEnv()]).describe('true or false').optional(),
};

/** The Iceberg catalog the cluster's jobs share: Spark writes silver through it, dbt Jobs read silver and write gold. */
export const icebergCatalogSettings = {
  iceberg_catalog: setting.string().optional(),
  catalog_type: setting.string().optional(),
  catalog_uri: setting.string().optional(),
  /** The JDBC catalog's credentials reach the jobs as environment (ICEBERG_JDBC_USER/PASSWORD), never as configuration. */
  catalog_user: setting.reference().optional(),
  catalog_password: setting.credential().optional(),
};
