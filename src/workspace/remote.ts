// Where a spec's warehouse lives under a profile, and, for an object-store warehouse
// (`warehouse = "s3://bucket/prefix"`), the remote state, registry and lock beside it
// (src/warehouse/remote-state.ts). The endpoint, region and path-style come from the profile
// (`s3_endpoint`, `s3_region`, `s3_path_style`); credentials only from the AWS default chain.
// Only the workspace (./workspace.ts) calls this.

import { resolver } from '../engine/apply.js';
import type { PipelineIR } from '../ir/types.js';
import { parseS3Url, s3SettingsFromProfile, S3ObjectStore, type S3Location } from '../warehouse/s3-store.js';

export type Env = Readonly<Record<string, string | undefined>>;

/** A profile setting that cannot be resolved (an env() without value and default). */
export class ProfileSettingError extends Error {}

/** The profile's location settings (`warehouse`, `s3_*`) with env() resolved; secrets are never among them. */
export function profileSettings(ir: Pick<PipelineIR, 'profiles'>, profile: string, env: Env): Record<string, string | number | boolean | undefined> {
  const resolve = resolver(env, new Set());
  const out: Record<string, string | number | boolean | undefined> = {};
  for (const [k, v] of Object.entries(ir.profiles[profile]?.settings ?? {})) {
    if (v.kind === 'secret' || !(k === 'warehouse' || k.startsWith('s3_') || k.startsWith('s3.'))) continue;
    try {
      out[k] = resolve(v);
    } catch (e) {
      throw new ProfileSettingError(`profile ${profile}: ${k}: ${(e as Error).message}`);
    }
  }
  return out;
}

/** The warehouse location under `profile`: its `warehouse` setting, else the spec's. */
export function warehouseLocation(ir: Pick<PipelineIR, 'warehouse' | 'profiles'>, profile: string, env: Env): string {
  const w = profileSettings(ir, profile, env).warehouse;
  return typeof w === 'string' && w !== '' ? w : ir.warehouse;
}

/** The object store of an `s3://` warehouse under `profile`, or undefined for a local one. */
export function objectStoreOf(ir: Pick<PipelineIR, 'warehouse' | 'profiles'>, profile: string, env: Env): { store: S3ObjectStore; where: S3Location } | undefined {
  const where = parseS3Url(warehouseLocation(ir, profile, env));
  if (!where) return undefined;
  return { store: new S3ObjectStore(where, s3SettingsFromProfile(profileSettings(ir, profile, env), env)), where };
}
