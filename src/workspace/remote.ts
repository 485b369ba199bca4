// Where a spec's warehouse lives under a profile, and, for an object-store warehouse
// (`warehouse = "s3://bucket/prefix"`), the remote state, registry and lock beside it
// (src/warehouse/remote-state.ts). The endpoint, region and path-style come from the profile
// (`s3_endpoint`, `s3_region`, `s3_path_style`); credentials only from the AWS default chain.
// The Iceberg catalog is the warehouse's own SQLite file unless the profile names a shared one
// (`catalog_uri`, `catalog_user`, `catalog_password`: docs/lakehouse.md).
// Only the workspace (./workspace.ts) calls this.

import { resolver } from '../engine/resolve.js';
import type { PipelineIR } from '../ir/types.js';
import { parseS3Url, s3SettingsFromProfile, S3ObjectStore, type S3Location } from '../warehouse/s3-store.js';
import { catalogFromUri, CatalogUriError, type IcebergCatalog } from '../warehouse/iceberg/catalog.js';

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
export function objectStoreOf(
  ir: Pick<PipelineIR, 'warehouse' | 'profiles'>,
  profile: string,
  env: Env,
): { store: S3ObjectStore; where: S3Location } | undefined {
  const where = parseS3Url(warehouseLocation(ir, profile, env));
  if (!where) return undefined;
  return { store: new S3ObjectStore(where, s3SettingsFromProfile(profileSettings(ir, profile, env), env)), where };
}

/**
 * The shared Iceberg catalog a profile names (`catalog_uri = "jdbc:postgresql://host:port/db"`, the
 * user and password as `catalog_user` / `catalog_password`, the password a secret() or env()
 * reference), or undefined for the warehouse's own SQLite catalog (no `catalog_uri`, or a
 * `jdbc:sqlite:` one).
 */
export function catalogOf(ir: Pick<PipelineIR, 'profiles'>, profile: string, env: Env): IcebergCatalog | undefined {
  const settings = ir.profiles[profile]?.settings ?? {};
  if (!settings.catalog_uri) return undefined;
  const resolve = resolver(env, new Set());
  const value = (k: string): string | undefined => {
    const v = settings[k];
    if (!v) return undefined;
    try {
      return String(resolve(v));
    } catch (e) {
      throw new ProfileSettingError(`profile ${profile}: ${k}: ${(e as Error).message}`);
    }
  };
  const uri = value('catalog_uri')!;
  if (/^jdbc:sqlite:/i.test(uri)) return undefined;
  try {
    return catalogFromUri(uri, { user: value('catalog_user'), password: value('catalog_password') });
  } catch (e) {
    if (e instanceof CatalogUriError) throw new ProfileSettingError(`profile ${profile}: ${e.message}`);
    throw e;
  }
}
