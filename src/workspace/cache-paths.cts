// Where a spec's state folder is and the names of the cache files a replayed plan reads (the
// layout: ./workspace.ts). CommonJS (compiled to cache-paths.cjs), as is everything a replayed plan
// loads (src/cli/plan-replay.cts); ./caches.ts builds the other cache paths on these.

import { basename, dirname, join, resolve } from 'node:path';

/** The folder name of the default state folder, beside the spec. */
export const STATE_FOLDER = '.asgard';

/** The state folder of the spec at the absolute path `specFile`: `--state DIR` (relative to `cwd`), else `.asgard/` beside the spec. */
export function stateDirOf(specFile: string, opts: { readonly stateDir?: string; readonly cwd?: string }): string {
  return opts.stateDir ? resolve(opts.cwd ?? process.cwd(), opts.stateDir) : join(dirname(specFile), STATE_FOLDER);
}

/** The cache folder of the state folder `stateDir`. */
export const cacheDirOf = (stateDir: string): string => join(stateDir, 'cache');

/** The build id's memo in the cache folder `cacheDir` (src/workspace/build-id.ts). */
export const buildIdMemoFile = (cacheDir: string): string => join(cacheDir, 'build-id.json');

/** The last `asgard plan` process's output for one spec file and what it proves (src/cli/plan-replay.cts). */
export const replayFile = (cacheDir: string, specFile: string): string => join(cacheDir, 'plans', `${basename(specFile)}.out`);

/**
 * The folder of V8's code cache for this Node (src/cli/code-cache.cts): ASGARD_CODE_CACHE, else
 * $XDG_CACHE_HOME/asgard/code, else ~/.cache/asgard/code; undefined when ASGARD_CODE_CACHE=off. The
 * user's, not a state folder's: it holds the program's compiled code, whatever spec it plans.
 */
export function codeCacheFolder(env: Readonly<Record<string, string | undefined>>): string | undefined {
  const set = env.ASGARD_CODE_CACHE;
  if (set === 'off') return undefined;
  // node:os only when needed: a replayed plan loads this module and no more of Node than it must.
  const home = () => (require('node:os') as typeof import('node:os')).homedir();
  const root = set || join(env.XDG_CACHE_HOME || join(home(), '.cache'), 'asgard', 'code');
  // V8's data is for one V8 and one set of flags (it rejects any other): a folder each, so processes
  // started with other flags (`asgard serve`'s server) do not replace each other's data.
  return join(root, `${process.version}-${process.arch}-${fnv1a(process.execArgv.join('\0'))}`);
}

/** A 32-bit FNV-1a hash in hex (this module loads no node:crypto). */
function fnv1a(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return (h >>> 0).toString(16).padStart(8, '0');
}
