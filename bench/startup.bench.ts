// Start-up time of the command line (issue #12: typed lazy imports must not slow it down):
//   startup.help.ms            `asgard --help`
//   startup.validate.cold.ms   `asgard validate` on a copy of the churn spec, no caches yet
//                              (parser, SQL toolkit and DuckDB schema binding all load)
//   startup.validate.warm.ms   the same again (the workspace's caches answer)
// Each is the median of several runs of the built CLI (dist/, built first) in a child process.
// Figures before and after the change are kept in bench/startup.md.

import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Figure } from './run.js';
import { buildDist } from './build-dist.js';
import { median } from './stats.js';

const root = resolve(import.meta.dirname, '..');
const RUNS = 7;

function time(args: string[], env: Record<string, string> = {}): number {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [join(root, 'dist', 'cli', 'main.js'), ...args], { cwd: root, encoding: 'utf8', env: { ...process.env, ...env } });
  const ms = performance.now() - t0;
  if (r.status !== 0) throw new Error(`asgard ${args.join(' ')} exited ${r.status}: ${r.stderr.slice(0, 500)}`);
  return ms;
}

export async function run(): Promise<Figure[]> {
  buildDist(root);
  const spec = join(root, 'pipelines', 'churn.asg');
  const help: number[] = [];
  const cold: number[] = [];
  const warm: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    help.push(time(['--help']));
    // A fresh folder per run: the spec with no state beside it (and, for builds before the
    // workspace, an empty user cache folder), so `cold` is cold for every build measured.
    const dir = mkdtempSync(join(tmpdir(), 'asgard-startup-'));
    try {
      copyFileSync(spec, join(dir, 'churn.asg'));
      const env = { ASGARD_CACHE_DIR: join(dir, 'user-cache') };
      cold.push(time(['validate', join(dir, 'churn.asg')], env));
      warm.push(time(['validate', join(dir, 'churn.asg')], env));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  return [
    { name: 'startup.help.ms', value: Math.round(median(help)), unit: 'ms', runs: RUNS },
    { name: 'startup.validate.cold.ms', value: Math.round(median(cold)), unit: 'ms', runs: RUNS },
    { name: 'startup.validate.warm.ms', value: Math.round(median(warm)), unit: 'ms', runs: RUNS },
  ];
}
