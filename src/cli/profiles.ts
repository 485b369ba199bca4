// Which schemas a profile's settings are checked against (src/targets/profile-check.ts), by the
// profile's target: the embedded engine's (local), those of every compile target (kubernetes),
// or the engine's plus the Spark target's and the master's (cluster).

import type { Diagnostic } from '../diagnostics/diagnostic.js';
import { z } from 'zod';
import { setting, type ProfileSchema, type ProfileSchemaOwner } from '../ir/profile-settings.js';
import type { PipelineIR, Profile } from '../ir/types.js';
import { checkProfileSettings } from '../targets/profile-check.js';
import { profileOwners, targetSettings } from '../targets/profile-owners.js';
import { clusterSettings, localSettings } from '../workspace/profile-settings.js';

const engine: ProfileSchemaOwner = { name: 'embedded engine', schema: localSettings };

export function ownersOf(target: Profile['target']): ProfileSchemaOwner[] {
  if (target === 'local') return [engine];
  if (target === 'kubernetes') return profileOwners();
  const spark = targetSettings.find((t) => t.name === 'spark');
  return [engine, { name: 'cluster', schema: clusterSettings }, ...(spark ? [{ name: spark.name, schema: resolvedAtRun(spark.settings) }] : [])];
}

/**
 * A cluster profile's Spark settings may be env() references even where compile needs literals:
 * apply resolves them before it compiles each job for the run (src/spark/cleanse-executor.ts).
 */
function resolvedAtRun(schema: ProfileSchema): ProfileSchema {
  return z.strictObject(Object.fromEntries(Object.entries(schema.shape).map(([k, field]) => [k, setting.orEnv(field)])));
}

/** The profile's setting diagnostics; none for a profile the spec does not define (`local` needs none). */
export function profileDiagnostics(ir: PipelineIR, profile: string): Diagnostic[] {
  const p = ir.profiles[profile];
  return p ? checkProfileSettings(p, ownersOf(p.target)) : [];
}
