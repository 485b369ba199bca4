// A spec file's text as the caches key it, in a module of its own: a repeated `asgard plan` checks
// it before loading anything else (src/cli/plan-replay.cts).

import { statSync } from 'node:fs';
import { readUtf8 } from '../util/read-utf8.js';
import { MAX_SPEC_BYTES } from '../dsl/limits.js';

/** What the caches of a spec read from a file are keyed by: its text and the `--var` values (part of what was checked). */
export const specTextKey = (text: string, vars: Readonly<Record<string, string>>): string =>
  Object.keys(vars).length ? `${text}\u0000--var ${JSON.stringify(Object.entries(vars).sort())}` : text;

/** The text of a spec file, when it is a regular file of a spec's size (anything else is left to the loader's diagnostics: reading /dev/zero would never end). */
export function specText(file: string): string | undefined {
  try {
    const st = statSync(file);
    return st.isFile() && st.size <= MAX_SPEC_BYTES ? readUtf8(file) : undefined;
  } catch {
    return undefined;
  }
}
