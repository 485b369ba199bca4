// The profile settings the dbt target reads (src/ir/profile-settings.ts).
import { z } from 'zod';
import { setting } from '../../ir/profile-settings.js';
import { icebergCatalogSettings, k8sSettings, s3ClientSettings } from '../k8s-settings.js';

export const dbtSettings = z.strictObject({
  warehouse: setting.string().optional(),
  dbt_threads: setting.number().optional(),
  spark_thrift_host: setting.reference().optional(),
  spark_thrift_port: setting.number().optional(),
  trino_host: setting.reference().optional(),
  trino_port: setting.number().optional(),
  image: setting.string().optional(),
  training_image: setting.string().optional(),
  ...icebergCatalogSettings,
  ...k8sSettings,
  ...s3ClientSettings,
});
