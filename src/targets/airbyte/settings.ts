// The profile settings the airbyte target reads (src/ir/profile-settings.ts).
import { z } from 'zod';
import { setting } from '../../ir/profile-settings.js';
import { s3ClientSettings } from '../k8s-settings.js';

export const airbyteSettings = z.strictObject({
  warehouse: setting.string().optional(),
  ...s3ClientSettings,
});
