// The profile settings the feast target reads (src/ir/profile-settings.ts).
import { z } from 'zod';
import { setting } from '../../ir/profile-settings.js';
import { icebergCatalogSettings, k8sSettings, s3ClientSettings } from '../k8s-settings.js';

export const feastSettings = z.strictObject({
  warehouse: setting.string().optional(),
  /** The feature views' Jobs (feast/jobs.yaml) run in the Python jobs image (src/targets/training/training.ts pythonJobImage). */
  image: setting.string().optional(),
  training_image: setting.string().optional(),
  ...icebergCatalogSettings,
  ...k8sSettings,
  ...s3ClientSettings,
});
