// Importing a module that another part of asgard may not provide yet (an executor, schema
// inference): `undefined` when the file is not there, the module otherwise. A module that exists
// but fails to load is a bug and is rethrown. Works on the compiled `.js` and, under tsx, on the
// `.ts` sources beside it.

import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export async function importOptional<T = Record<string, unknown>>(url: URL): Promise<T | undefined> {
  const path = fileURLToPath(url);
  const candidates = [path, path.replace(/\.js$/, '.ts')];
  const found = candidates.find((p) => existsSync(p));
  if (!found) return undefined;
  // Import the URL as written (`.js`): under tsx the loader maps it onto the `.ts` source.
  return (await import(found === path ? url.href : new URL(url.href.replace(/\.js$/, '.ts')).href)) as T;
}
