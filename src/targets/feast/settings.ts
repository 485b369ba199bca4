// The profile settings the feast target reads (src/ir/profile-settings.ts).
import { z } from 'zod';
import { setting } from '../../ir/profile-settings.js';
import { k8sSettings, s3ClientSettings } from '../k8s-settings.js';

export const feastSettings = z.strictObject({
  warehouse: setting.string().optional(),
  ...k8sSettings,
  ...s3ClientSettings,
});
