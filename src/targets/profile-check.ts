// A profile's settings checked against the schemas of what reads them (src/ir/profile-settings.ts):
// a setting no reader declares is ASG4008 with a did-you-mean, a value of the wrong form ASG4003,
// each at the setting's own span. `asgard compile` runs it before the targets, `asgard apply`
// for the embedded engine's profiles, and `asgard validate --profile NAME` for either.

import { z } from 'zod';
import { closest, Codes, diag } from '../diagnostics/catalogue.js';
import type { Diagnostic } from '../diagnostics/diagnostic.js';
import type { ProfileSchemaOwner } from '../ir/profile-settings.js';
import type { Profile, Resolvable } from '../ir/types.js';

export function checkProfileSettings(profile: Profile, owners: readonly ProfileSchemaOwner[]): Diagnostic[] {
  const out: Diagnostic[] = [];
  const known = new Set(owners.flatMap((o) => Object.keys(o.schema.shape)));
  const readers = owners.map((o) => o.name).join(', ');
  for (const [key, value] of Object.entries(profile.settings).sort(([a], [b]) => (a < b ? -1 : 1))) {
    const at = profile.settingSpans?.[key];
    if (!known.has(key)) {
      const guess = closest(key, known);
      out.push(
        diag(
          Codes.UnknownProfileSetting,
          `profile \`${profile.name}\` sets \`${key}\`, which no ${profile.target} target reads (${readers})`,
          at?.key ?? profile.span,
          {
            hint: guess ? `did you mean \`${guess}\`?` : `settings a ${profile.target} profile takes: ${[...known].sort().join(', ')}`,
          },
        ),
      );
      continue;
    }
    for (const o of owners) {
      const field = o.schema.shape[key];
      if (!field || field.safeParse(value).success) continue;
      out.push(
        diag(
          Codes.InvalidProfileSetting,
          `profile \`${profile.name}\` setting \`${key}\` must be ${expected(field)} (read by ${o.name}), got ${describe(value)}`,
          at?.value ?? profile.span,
        ),
      );
      break;
    }
  }
  return out;
}

/** The wording a schema field carries (`setting.*().describe(…)`), under `.optional()`. */
function expected(field: z.ZodType): string {
  const inner = field instanceof z.ZodOptional ? (field.unwrap() as z.ZodType) : field;
  return inner.description ?? field.description ?? 'another value';
}

function describe(v: Resolvable): string {
  if (v.kind === 'env') return `env("${v.name}")`;
  if (v.kind === 'secret') return `secret("${v.name}")`;
  return typeof v.value === 'string' ? `"${v.value}"` : String(v.value);
}
