// Plan review figures on the churn spec (median of 5 runs each):
//  - review.plan_base.churn.seconds: `asgard plan pipelines/churn.asg --base base.asg --format
//    markdown` as a child process, the spec edited (a feature's column changes meaning, so the
//    semantic SQL diff, lineage and impact all run), caches beside the spec warm as in a CI re-run;
//  - review.plan_base.churn.in_process.seconds: the same plan through runCli in one process (warm).
// Goal: under 1 s.

import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Figure } from './run.js';
import { median } from './stats.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const RUNS = 5;

export async function run(): Promise<Figure[]> {
  const dir = mkdtempSync(join(tmpdir(), 'asgard-bench-review-'));
  const churn = join(root, 'pipelines', 'churn.asg');
  copyFileSync(churn, join(dir, 'base.asg'));
  const text = readFileSync(churn, 'utf8');
  const edited = text.replace('COUNT(t.transaction_id) AS total_purchases', 'COUNT(DISTINCT t.order_id) AS total_purchases');
  if (edited === text) throw new Error('the bench edit no longer applies to pipelines/churn.asg');
  writeFileSync(join(dir, 'spec.asg'), edited);
  const argv = ['plan', 'spec.asg', '--base', 'base.asg', '--format', 'markdown'];

  const { runCli } = (await import(pathToFileURL(join(root, 'src', 'cli', 'run.ts')).href)) as typeof import('../src/cli/run.js');
  let out = '';
  const io = {
    out: (t: string) => void (out += t),
    err: (t: string) => void process.stderr.write(t),
    stdoutIsTTY: false,
    stderrIsTTY: false,
    stdinIsTTY: false,
    prompt: async () => '',
    env: { PATH: process.env.PATH },
    cwd: dir,
  };
  const inProc = async () => {
    out = '';
    const t0 = performance.now();
    const code = await runCli(argv, io);
    if (code !== 0 || !out.includes('breaking')) throw new Error(`asgard plan exited ${code}`);
    return (performance.now() - t0) / 1000;
  };
  await inProc();
  const warm: number[] = [];
  for (let i = 0; i < RUNS; i++) warm.push(await inProc());

  const child = () => {
    const t0 = performance.now();
    const r = spawnSync(process.execPath, [join(root, 'bin', 'asgard.js'), ...argv], {
      cwd: dir,
      encoding: 'utf8',
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '' },
    });
    const seconds = (performance.now() - t0) / 1000;
    if (r.status !== 0 || !r.stdout.includes('breaking')) throw new Error(`asgard plan exited ${r.status}: ${r.stderr}`);
    return seconds;
  };
  child();
  const runs = Array.from({ length: RUNS }, child);
  return [
    { name: 'review.plan_base.churn.seconds', value: median(runs), unit: 's', goal: '< 1', runs: RUNS },
    { name: 'review.plan_base.churn.in_process.seconds', value: median(warm), unit: 's', goal: '< 1', runs: RUNS },
  ];
}
