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
