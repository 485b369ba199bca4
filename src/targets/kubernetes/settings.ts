// The profile settings the kubernetes target reads (src/ir/profile-settings.ts).
import { z } from 'zod';
import { setting } from '../../ir/profile-settings.js';
import { k8sSettings } from '../k8s-settings.js';

/** Also what `apply --profile kubernetes` reads (src/cli/kube.ts): the cluster, job timeout and Airbyte API. */
export const kubernetesSettings = z.strictObject({
  image: setting.string().optional(),
  context: setting.stringOrEnv().optional(),
  job_timeout: z.union([setting.number(), setting.stringOrEnv()]).describe('seconds or a duration like "30m"').optional(),
  airbyte_url: setting.stringOrEnv().optional(),
  airbyte_workspace_id: setting.stringOrEnv().optional(),
  airbyte_token: setting.reference().optional(),
  spark_service_account: setting.string().optional(),
  ...k8sSettings,
});
