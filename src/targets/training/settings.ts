// The profile settings the training target reads (src/ir/profile-settings.ts).
import { z } from 'zod';
import { setting } from '../../ir/profile-settings.js';
import { icebergCatalogSettings, k8sSettings, s3ClientSettings } from '../k8s-settings.js';

export const trainingSettings = z.strictObject({
  warehouse: setting.string().optional(),
  image: setting.string().optional(),
  training_image: setting.string().optional(),
  'training.cpu': setting.string().optional(),
  'training.memory': setting.string().optional(),
  mlflow_tracking_uri: setting.reference().optional(),
  ...icebergCatalogSettings,
  ...k8sSettings,
  ...s3ClientSettings,
});
