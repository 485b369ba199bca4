// The profile settings each compile target reads (its `<name>/settings.ts`), without the targets
// themselves: checking a profile (validate, plan, apply — src/cli/profiles.ts) loads none of the
// generators, their templates or the SQL renderer. registry.ts lists the targets in the same order;
// test/targets/profile-settings.test.ts keeps the two lists the same.

import type { ProfileSchema, ProfileSchemaOwner } from '../ir/profile-settings.js';
import { airbyteSettings } from './airbyte/settings.js';
import { sparkSettings } from './spark/settings.js';
import { dbtSettings } from './dbt/settings.js';
import { feastSettings } from './feast/settings.js';
import { trainingSettings } from './training/settings.js';
import { servingSettings } from './serving/settings.js';
import { kubernetesSettings } from './kubernetes/settings.js';

/** Each target's name and settings schema, in registry order. */
export const targetSettings: readonly { readonly name: string; readonly settings: ProfileSchema }[] = [
  { name: 'airbyte', settings: airbyteSettings },
  { name: 'spark', settings: sparkSettings },
  { name: 'dbt', settings: dbtSettings },
  { name: 'feast', settings: feastSettings },
  { name: 'training', settings: trainingSettings },
  { name: 'serving', settings: servingSettings },
  { name: 'kubernetes', settings: kubernetesSettings },
];

/** The targets a kubernetes profile is read by (all, or those of `--only`), as schema owners. */
export const profileOwners = (only?: readonly string[]): ProfileSchemaOwner[] =>
  targetSettings.filter((t) => !only || only.includes(t.name)).map((t) => ({ name: t.name, schema: t.settings }));
