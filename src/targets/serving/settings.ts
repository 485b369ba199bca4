// The profile settings the serving target reads (src/ir/profile-settings.ts).
import { z } from 'zod';
import { setting } from '../../ir/profile-settings.js';
import { k8sSettings, s3ClientSettings } from '../k8s-settings.js';

export const servingSettings = z.strictObject({
  image: setting.string().optional(),
  'serve.replicas': setting.number().optional(),
  'serve.cpu': setting.string().optional(),
  'serve.memory': setting.string().optional(),
  ...k8sSettings,
  ...s3ClientSettings,
});
