// The profile settings the spark target reads (src/ir/profile-settings.ts).
import { z } from 'zod';
import { setting } from '../../ir/profile-settings.js';
import { icebergCatalogSettings, k8sSettings, s3ClientSettings } from '../k8s-settings.js';

export const sparkSettings = z.strictObject({
  spark_image: setting.string().optional(),
  spark_version: setting.string().optional(),
  warehouse: setting.string().optional(),
  bronze_format: setting.string().optional(),
  iceberg_version: setting.string().optional(),
  spark_service_account: setting.string().optional(),
  'driver.cores': setting.number().optional(),
  'driver.memory': setting.string().optional(),
  'executor.instances': setting.number().optional(),
  'executor.cores': setting.number().optional(),
  'executor.memory': setting.string().optional(),
  artifacts: setting.string().optional(),
  ...icebergCatalogSettings,
  ...k8sSettings,
  ...s3ClientSettings,
});
