// The shape of a profile's settings as their owners declare them: each compile target
// (src/targets/<name>/settings.ts) and the embedded engine's workspace (src/workspace/profile.ts)
// own a zod object of the settings they read, keyed as the IR flattens them (`driver.cores`).
// A setting's value is a Resolvable (src/ir/types.ts); these helpers say which forms it may take.
// `checkProfileSettings` (src/targets/profile-check.ts) turns these schemas into diagnostics.

import { z } from 'zod';

const literalOf = <T extends z.ZodType>(value: T) => z.object({ kind: z.literal('literal'), value });
const env = z.object({ kind: z.literal('env'), name: z.string(), default: z.string().optional() });
const secret = z.object({ kind: z.literal('secret'), name: z.string() });

/** The forms a setting may take; `.describe()` carries the wording of a wrong-type diagnostic. */
export const setting = {
  /** A string known when compiling (an image, a version, a name). */
  string: () => literalOf(z.union([z.string(), z.number()])).describe('a literal string'),
  /** A number known when compiling. */
  number: () => literalOf(z.number()).describe('a number'),
  boolean: () => literalOf(z.boolean()).describe('true or false'),
  /** A string, or an env() reference read when the command runs. */
  stringOrEnv: () => z.union([literalOf(z.string()), env]).describe('a string or env("NAME")'),
  /** A string or any reference: env("NAME") or secret("NAME") (never a value in artifacts). */
  reference: () => z.union([literalOf(z.string()), env, secret]).describe('a string, env("NAME") or secret("NAME")'),
  /** A credential: secret("NAME") or env("NAME"), never a literal (a password is never in a spec). */
  credential: () => z.union([env, secret]).describe('secret("NAME") or env("NAME") (never a literal password)'),
  /** `field`, or an env() reference: for a reader that gets the profile with env() already resolved. */
  orEnv: (field: z.ZodType) => {
    const inner = field instanceof z.ZodOptional ? (field.unwrap() as z.ZodType) : field;
    return z
      .union([inner, env])
      .describe(`${inner.description ?? 'a value'} or env("NAME")`)
      .optional();
  },
};

/** The settings one owner reads: a zod object over flattened keys; optional fields have defaults. */
export type ProfileSchema = z.ZodObject<Record<string, z.ZodType>>;

/** What a profile's settings are checked against: each owner's name and schema. */
export interface ProfileSchemaOwner {
  readonly name: string;
  readonly schema: ProfileSchema;
}
