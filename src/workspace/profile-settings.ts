// The profile settings the embedded engine reads (`asgard apply --profile NAME` with a local or
// cluster profile): where the warehouse lives and how to reach an S3 one (src/workspace/remote.ts).
// S3 credentials come from the AWS default chain; a shared catalog's password is a secret() reference.
import { z } from 'zod';
import { setting } from '../ir/profile-settings.js';

export const localSettings = z.strictObject({
  warehouse: setting.stringOrEnv().optional(),
  s3_endpoint: setting.stringOrEnv().optional(),
  s3_region: setting.stringOrEnv().optional(),
  s3_path_style: z.union([setting.boolean(), setting.stringOrEnv()]).describe('true or false').optional(),
  /** A shared Iceberg catalog (jdbc:postgresql://…) instead of the warehouse's SQLite file (src/workspace/remote.ts). */
  catalog_uri: setting.stringOrEnv().optional(),
  catalog_user: setting.stringOrEnv().optional(),
  catalog_password: setting.credential().optional(),
});

/** A cluster profile also names the Spark master its cleanses run on. */
export const clusterSettings = z.strictObject({
  spark_master: setting.stringOrEnv().optional(),
});
