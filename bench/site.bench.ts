// The site of `asgard docs` (src/docs/, site/): how long building it takes and how soon its graph is
// interactive in headless Chromium, for pipelines/churn.asg after a real apply on small data (the
// test services; test/helpers/churn.ts starts them when they are not running) and for a generated
// 1,000-node spec (bench/gen-spec.ts, planned but never applied: its sources are not real).
// Every build is `asgard docs` as a process (what a user waits for: the built CLI, dist/, compiled
// first — bin/asgard.js would run the sources through tsx while dist/ is older than src/); each
// figure in seconds of wall time has a twin in CPU seconds (the process's user + system time, from
// bash's `times`), which a loaded machine disturbs less.
//  - site.<x>.build_user_path: the first `asgard docs` after the user's last command (churn: after
//    `asgard apply`; 1,000 nodes: after `asgard plan`), which left the spec, SQL-analysis and schema
//    caches in the workspace. One run (a second run is warm).
//  - site.<x>.build: warm, the site's own cache (SQL per target, column lineage, layout) filled.
//  - site.<x>.build_cold: from nothing (a fresh state folder, `--state`): parse, check, analyse and
//    bind the spec, then everything the site needs. One run.
//  - site.<x>.graph_interactive.ms: from navigation start to the graph drawn, zoomable and
//    searchable and one frame painted (body[data-graph-ready], site/src/graph.ts), from file://;
//    its twin graph_interactive.main_thread_cpu_ms is the page's main-thread CPU over that time
//    (Chromium's trace: the thread time of its top-level tasks), which load disturbs less.
//  - site.<x>.index_html.bytes: the page the browser parses first (node details are beside it).
// Goals (issue #17): build < 2 s, graph interactive < 1 s.
//
// One size or figure at a time (bench/site.md gives the commands and how long each takes):
//   ASGARD_SITE_SIZES=churn|1000_nodes (default both)
//   ASGARD_SITE_FIGURES=user_path,warm,cold,interactive (default all)

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
// Types only from run.ts: a value import would wait for run.ts's top-level await (see plan.bench.ts).
import type { Figure } from './run.js';
import { generateSpec } from './gen-spec.js';
import { churnWorkspace } from '../test/helpers/churn.js';
import { launchChromium } from '../test/site/browser.js';
import { buildDist } from './build-dist.js';
import { median } from './stats.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const RUNS = Number(process.env.ASGARD_BENCH_RUNS ?? 3);
const SIZES = (process.env.ASGARD_SITE_SIZES ?? 'churn,1000_nodes').split(',');
const FIGURES = new Set((process.env.ASGARD_SITE_FIGURES ?? 'user_path,warm,cold,interactive').split(','));

interface Timed {
  readonly seconds: number;
  readonly cpu: number;
}

/** `asgard ARGS` as a process: wall seconds and CPU seconds (user + system of the process, from bash's `times`). */
function asgard(args: string[], cwd: string, env: Record<string, string> = {}, ok: readonly number[] = [0]): Timed {
  const quoted = [process.execPath, join(root, 'dist', 'cli', 'main.js'), ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  const t0 = performance.now();
  const r = spawnSync('bash', ['-c', `${quoted} >/dev/null 2>"$ERR"; rc=$?; times; exit $rc`], {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, ...env, ERR: join(cwd, 'asgard-bench.err') },
  });
  const seconds = (performance.now() - t0) / 1000;
  if (!ok.includes(r.status ?? -1))
    throw new Error(`asgard ${args[0]} exited ${r.status}: ${readFileSync(join(cwd, 'asgard-bench.err'), 'utf8').slice(-2000)}`);
  // `times`: the shell's user/system, then its children's: "0m1.234s 0m0.100s".
  const [user, sys] = (r.stdout.trim().split('\n').pop() ?? '').split(/\s+/).map((t) => {
    const m = /^(\d+)m([\d.]+)s$/.exec(t);
    return m ? Number(m[1]) * 60 + Number(m[2]) : NaN;
  });
  return { seconds, cpu: user + sys };
}

const docs = (spec: string, out: string, env?: Record<string, string>, extra: string[] = []): Timed =>
  asgard(['docs', spec, '--out', out, '--format', 'json', ...extra], dirname(spec), env);

interface TraceEvent {
  readonly name: string;
  readonly ph: string;
  readonly pid: number;
  readonly tid: number;
  readonly tdur?: number;
  readonly args?: { readonly name?: string };
}

/**
 * CPU milliseconds of the page's main thread (the renderer's CrRendererMain), from Chromium's trace:
 * the thread time of its top-level tasks (RunTask), navigation to ready (and the poll that saw it).
 * Unlike the wall time it barely moves with the machine's load.
 */
function mainThreadCpuMs(trace: Buffer): number {
  const raw = JSON.parse(trace.toString('utf8')) as { traceEvents?: TraceEvent[] } | TraceEvent[];
  const events = Array.isArray(raw) ? raw : (raw.traceEvents ?? []);
  const mains = events.filter((e) => e.name === 'thread_name' && e.args?.name === 'CrRendererMain').map((e) => `${e.pid}:${e.tid}`);
  const cpu = new Map<string, number>();
  for (const e of events) {
    const key = `${e.pid}:${e.tid}`;
    if (e.ph === 'X' && e.name === 'RunTask' && mains.includes(key)) cpu.set(key, (cpu.get(key) ?? 0) + (e.tdur ?? 0));
  }
  // The page's renderer is the busiest one (a new tab's about:blank is another).
  return Math.round(Math.max(0, ...cpu.values()) / 1000);
}

/** Per run: ms from navigation start to the graph ready (body[data-graph-ready]), and its main thread's CPU ms. */
async function interactive(index: string): Promise<{ ms: number[]; cpuMs: number[] }> {
  const browser = await launchChromium();
  try {
    const ms: number[] = [];
    const cpuMs: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const page = await browser.newPage();
      await page.tracing.start({ categories: ['toplevel', 'devtools.timeline', 'disabled-by-default-devtools.timeline'] });
      // Bounded, but generous: on a loaded 2-core machine a 1,000-node page can take long.
      await page.goto(pathToFileURL(index).href, { waitUntil: 'load', timeout: 300_000 });
      await page.waitForFunction(() => document.body.dataset.graphReady !== undefined, { timeout: 300_000, polling: 'raf' });
      const trace = await page.tracing.stop();
      ms.push(Number(await page.evaluate(() => document.body.dataset.graphReady)));
      if (trace) cpuMs.push(mainThreadCpuMs(Buffer.from(trace)));
      await page.close();
    }
    return { ms, cpuMs };
  } finally {
    await browser.close();
  }
}

/** The figures of one pipeline; `before` is the user's last command (apply or plan) in a workspace of its own. */
async function figures(name: string, spec: string, dir: string, env?: Record<string, string>): Promise<Figure[]> {
  const out: Figure[] = [];
  const twin = (figure: string, t: Timed | Timed[], goal?: string): void => {
    const ts = Array.isArray(t) ? t : [t];
    out.push({ name: `site.${name}.${figure}.seconds`, value: median(ts.map((x) => x.seconds)), unit: 's', ...(goal ? { goal } : {}), runs: ts.length });
    out.push({ name: `site.${name}.${figure}.cpu_seconds`, value: median(ts.map((x) => x.cpu)), unit: 's', runs: ts.length });
  };
  const site = join(dir, 'site');
  if (FIGURES.has('cold')) twin('build_cold', docs(spec, join(dir, 'site-cold'), env, ['--state', mkdtempSync(join(tmpdir(), 'asgard-bench-site-state-'))]));
  const first = docs(spec, site, env);
  if (FIGURES.has('user_path')) twin('build_user_path', first, '< 2');
  if (FIGURES.has('warm'))
    twin(
      'build',
      Array.from({ length: RUNS }, () => docs(spec, site, env)),
      '< 2',
    );
  if (FIGURES.has('interactive')) {
    const ready = await interactive(join(site, 'index.html'));
    out.push({ name: `site.${name}.graph_interactive.ms`, value: median(ready.ms), unit: 'ms', goal: '< 1000', runs: RUNS });
    if (ready.cpuMs.length)
      out.push({ name: `site.${name}.graph_interactive.main_thread_cpu_ms`, value: median(ready.cpuMs), unit: 'ms', runs: ready.cpuMs.length });
    out.push({ name: `site.${name}.index_html.bytes`, value: statSync(join(site, 'index.html')).size, unit: 'B', runs: 1 });
  }
  return out;
}

export async function run(): Promise<Figure[]> {
  buildDist(root);
  const spawnBuild = spawnSync(process.execPath, [join(root, 'site', 'build.mjs')], { stdio: 'inherit' });
  if (spawnBuild.status !== 0) throw new Error('the site bundle did not build');
  const result: Figure[] = [];

  if (SIZES.includes('churn')) {
    const ws = await churnWorkspace(mkdtempSync(join(tmpdir(), 'asgard-bench-site-')));
    try {
      const applied = await ws.asgard(['apply', ws.spec, '--yes', '--format', 'json']);
      if (applied.code !== 0) throw new Error(`apply of the churn pipeline failed: ${applied.stderr.slice(-2000)}`);
      result.push(...(await figures('churn', ws.spec, ws.dir, ws.env)));
    } finally {
      await ws.close();
    }
  }

  if (SIZES.includes('1000_nodes')) {
    const dir = mkdtempSync(join(tmpdir(), 'asgard-bench-site-1000-'));
    const spec = join(dir, 'synthetic.asg');
    writeFileSync(spec, generateSpec(1000)); // 50 streams + 950 SQL nodes (+ 5 source systems)
    // The user's path: the spec planned (exit 3: every node is to create), which fills the workspace's caches.
    asgard(['plan', spec, '--format', 'json'], dir, {}, [0, 3]);
    result.push(...(await figures('1000_nodes', spec, dir)));
  }
  return result;
}
