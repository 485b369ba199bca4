// The dist/ a bench times: compiled by tsc and its packages bundled as `npm run build` and `prepare`
// do (scripts/bundle-packages.mjs). bin/asgard.js runs dist/ only while it is newer than src/ (else
// the sources through tsx, whose transpiling would be timed), so a bench compiles first; tsc alone
// leaves dist importing chevrotain, zod and DuckDB's API as ~950 module files, which a user's install
// never loads — and leaves it so for every bench run after it.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

export function buildDist(root: string): void {
  execFileSync('npx', ['tsc', '-p', 'tsconfig.json'], { cwd: root, stdio: 'inherit' });
  execFileSync(process.execPath, [join(root, 'scripts', 'bundle-packages.mjs')], { cwd: root, stdio: 'inherit' });
}
