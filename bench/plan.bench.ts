// `asgard plan` on a synthetic 1,000-node spec (bench/gen-spec.ts), median of 5 runs each:
//  - plan.1000_nodes.seconds / peak_rss_mb: as a child process (what a user waits for), the spec
//    unchanged since the last plan (its compile cache in .asgard/cache is warm, as for any repeated
//    plan or a CI re-run);
//  - plan.1000_nodes.after_edit.seconds: as a child process after an edit of the spec (the compile
//    cache misses; the SQL analysis cache still knows the unchanged SQL bodies);
//  - plan.1000_nodes.cpu_seconds / after_edit.cpu_seconds: those processes' CPU time (user + system);
//  - in_process: the same plan through runCli in one process (warm), and the very first one (cold).
// Goal: under 1 s and under 300 MB.
// And at 10,000 nodes (issue #16 item 3), as a child process:
//  - plan.10000_nodes.cold.seconds: no state and no cache at all (.asgard removed before each run);
//  - plan.10000_nodes.after_edit.seconds: after one node's SQL is edited, the caches warm from the
//    run before (what a developer waits for after changing one model);
//  - plan.10000_nodes.peak_rss_mb: the largest peak of those runs.
// Goals: cold < 5 s, after an edit < 0.6 s, peak < 1 GB.
// And, in the same run, `asgard plan` of the 1,000-node spec against `dbt parse` of the dbt project
// asgard compiles from it (bench/conformance-route.ts, planVersusParse; needs the Python toolchain):
//  - plan.1000_nodes.cold.seconds / dbt_parse_cold.seconds: no cache at all (--no-partial-parse);
//  - plan.node_start.seconds: `node -e 0` in the same environment (context: the floor under any
//    asgard process; NODE_EXTRA_CA_CERTS, where set, makes Node parse that whole bundle at start);
//  - plan.1000_nodes.cold_without_extra_ca.seconds, plan.node_start_without_extra_ca.seconds: the
//    same without NODE_EXTRA_CA_CERTS in the environment (context only; the ratios use the above);
//  - plan.1000_nodes.warm.seconds / dbt_parse_warm.seconds: the second run of each, with its cache;
//  - plan.1000_nodes.speedup_cold / speedup_warm: the ratios (goal >= 50).
// ASGARD_BENCH_RUNS (default 3) sets the runs of the 10,000-node and dbt comparisons.
// ASGARD_BENCH_PLAN_SIZE=1000 measures only the 1,000-node figures (with dbt parse), =10000 only the
// 10,000-node ones, so each can be measured quietly in a few minutes; the runner keeps the other
// size's last figures in bench/results.json and this bench says on stderr which it did not measure.
// The commands and the profile breakdown: bench/plan.md.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
// Types only from run.ts: a value import would wait for run.ts, whose top-level await is waiting for
// this module (a cycle that ends the process with exit code 13).
import type { Figure } from './run.js';
import { generateSpec } from './gen-spec.js';
import { planVersusParse } from './conformance-route.js';
import { buildDist } from './build-dist.js';
import { median } from './stats.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const RUNS = 5;
/** The sizes ASGARD_BENCH_PLAN_SIZE selects (both when unset); anything else is an error, not a silent skip. */
export function planSizes(env = process.env.ASGARD_BENCH_PLAN_SIZE): { small: boolean; big: boolean } {
  if (env === undefined || env === '') return { small: true, big: true };
  if (env === '1000') return { small: true, big: false };
  if (env === '10000') return { small: false, big: true };
  throw new Error(`ASGARD_BENCH_PLAN_SIZE=${env}: give 1000 or 10000 (or leave it unset for both)`);
}

export async function run(): Promise<Figure[]> {
  const sizes = planSizes();
  buildDist(root);
  if (!sizes.small)
    process.stderr.write(
      'plan.bench: ASGARD_BENCH_PLAN_SIZE=10000: the 1,000-node figures and dbt parse are not measured in this run (bench/results.json keeps their last values)\n',
    );
  if (!sizes.big)
    process.stderr.write(
      'plan.bench: ASGARD_BENCH_PLAN_SIZE=1000: the 10,000-node figures are not measured in this run (bench/results.json keeps their last values)\n',
    );
  const preloadDir = mkdtempSync(join(tmpdir(), 'asgard-bench-plan-rss-'));
  const preloadFile = join(preloadDir, 'rss.mjs');
  const rssOut = join(preloadDir, 'rss.txt');
  writeFileSync(
    preloadFile,
    `import { writeFileSync } from 'node:fs';\nprocess.on('exit', () => { const r = process.resourceUsage(); writeFileSync(${JSON.stringify(rssOut)}, r.maxRSS + ' ' + (r.userCPUTime + r.systemCPUTime)); });\n`,
  );
  const big = sizes.big ? planAtScale(10_000, preloadFile, rssOut) : [];
  if (!sizes.small) return big;
  const dir = mkdtempSync(join(tmpdir(), 'asgard-bench-plan-'));
  const spec = join(dir, 'synthetic.asg');
  writeFileSync(spec, generateSpec(1000)); // 50 streams + 950 SQL nodes

  // In-process: the CLI entry a test or an embedding program calls.
  const { runCli } = (await import(pathToFileURL(join(root, 'src', 'cli', 'run.ts')).href)) as typeof import('../src/cli/run.js');
  const io = {
    out: () => {},
    err: (t: string) => void process.stderr.write(t),
    stdoutIsTTY: false,
    stderrIsTTY: false,
    stdinIsTTY: false,
    prompt: async () => '',
    env: process.env,
    cwd: dir,
  };
  const inProc = async () => {
    const t0 = performance.now();
    const code = await runCli(['plan', spec, '--format', 'json'], io);
    if (code !== 0) throw new Error(`asgard plan exited ${code}`);
    return (performance.now() - t0) / 1000;
  };
  const cold = await inProc();
  const warm: number[] = [];
  for (let i = 0; i < RUNS; i++) warm.push(await inProc());

  // As a process: node bin/asgard.js plan …, with a preload that reports the peak RSS at exit.
  const child = () => planChild(spec, preloadFile, rssOut);
  child(); // warm-up: fills the caches beside the spec
  const runs = Array.from({ length: RUNS }, child);
  const text = readFileSync(spec, 'utf8');
  const edited = Array.from({ length: RUNS }, (_, i) => {
    writeFileSync(spec, `${text}\n// edit ${i}\n`);
    return child();
  });

  const versusDbt = await planVersusParse(Number(process.env.ASGARD_BENCH_RUNS ?? 3));
  return [
    ...versusDbt,
    ...big,
    { name: 'plan.1000_nodes.seconds', value: median(runs.map((r) => r.seconds)), unit: 's', goal: '< 1', runs: RUNS },
    { name: 'plan.1000_nodes.peak_rss_mb', value: median(runs.map((r) => r.rssMb)), unit: 'MB', goal: '< 300', runs: RUNS },
    { name: 'plan.1000_nodes.after_edit.seconds', value: median(edited.map((r) => r.seconds)), unit: 's', goal: '< 1', runs: RUNS },
    // CPU seconds of the same processes: what compares under load.
    { name: 'plan.1000_nodes.cpu_seconds', value: median(runs.map((r) => r.cpuSeconds)), unit: 's', runs: RUNS },
    { name: 'plan.1000_nodes.after_edit.cpu_seconds', value: median(edited.map((r) => r.cpuSeconds)), unit: 's', runs: RUNS },
    { name: 'plan.1000_nodes.in_process.seconds', value: median(warm), unit: 's', goal: '< 1', runs: RUNS },
    { name: 'plan.1000_nodes.in_process_cold.seconds', value: cold, unit: 's', runs: 1 },
  ];
}

/** `asgard plan SPEC --format json` as a child process: wall seconds, CPU seconds and peak RSS (MiB). */
function planChild(spec: string, preload: string, rssFile: string): { seconds: number; cpuSeconds: number; rssMb: number } {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, ['--import', pathToFileURL(preload).href, join(root, 'bin', 'asgard.js'), 'plan', spec, '--format', 'json'], {
    cwd: dirname(spec),
    encoding: 'utf8',
    maxBuffer: 1 << 30,
  });
  const seconds = (performance.now() - t0) / 1000;
  if (r.status !== 0) throw new Error(`asgard plan exited ${r.status}: ${r.stderr.slice(0, 2000)}`);
  JSON.parse(r.stdout);
  const [rss, cpu] = readFileSync(rssFile, 'utf8').split(' ').map(Number);
  return { seconds, cpuSeconds: cpu / 1e6, rssMb: rss / 1024 };
}

/** Cold plans (no state, no cache) and plans after one node's SQL is edited, of a generated n-node spec. */
function planAtScale(n: number, preload: string, rssFile: string): Figure[] {
  const runs = Number(process.env.ASGARD_BENCH_RUNS ?? 3);
  const dir = mkdtempSync(join(tmpdir(), `asgard-bench-plan-${n}-`));
  const spec = join(dir, 'synthetic.asg');
  const text = generateSpec(n);
  // The edited node: the first single-input body's filter (`WHERE amount > K`) gets another bound.
  const at = text.indexOf('WHERE amount > ');
  if (at < 0) throw new Error('the generated spec has no filter to edit');
  const edit = (i: number) => `${text.slice(0, at)}WHERE amount > ${100 + i} AND ${text.slice(at + 'WHERE '.length)}`;
  const cold: ReturnType<typeof planChild>[] = [];
  const edited: ReturnType<typeof planChild>[] = [];
  for (let i = 0; i < runs; i++) {
    writeFileSync(spec, text);
    rmSync(join(dir, '.asgard'), { recursive: true, force: true });
    cold.push(planChild(spec, preload, rssFile));
    writeFileSync(spec, edit(i));
    edited.push(planChild(spec, preload, rssFile));
    process.stderr.write(
      `plan.bench: ${n} nodes cold ${cold[i].seconds.toFixed(2)} s (${cold[i].cpuSeconds.toFixed(2)} s CPU, ${cold[i].rssMb.toFixed(0)} MB), after an edit ${edited[i].seconds.toFixed(2)} s (${edited[i].cpuSeconds.toFixed(2)} s CPU)\n`,
    );
  }
  rmSync(dir, { recursive: true, force: true });
  return [
    { name: `plan.${n}_nodes.cold.seconds`, value: median(cold.map((r) => r.seconds)), unit: 's', goal: '< 5', runs },
    { name: `plan.${n}_nodes.after_edit.seconds`, value: median(edited.map((r) => r.seconds)), unit: 's', goal: '< 0.6', runs },
    { name: `plan.${n}_nodes.cold.cpu_seconds`, value: median(cold.map((r) => r.cpuSeconds)), unit: 's', runs },
    { name: `plan.${n}_nodes.after_edit.cpu_seconds`, value: median(edited.map((r) => r.cpuSeconds)), unit: 's', runs },
    {
      name: `plan.${n}_nodes.peak_rss_mb`,
      value: Math.round(Math.max(...cold.map((r) => r.rssMb), ...edited.map((r) => r.rssMb))),
      unit: 'MB',
      goal: '< 1024',
      runs,
    },
  ];
}
