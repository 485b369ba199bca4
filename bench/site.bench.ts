// The site of `asgard docs` (src/docs/, site/): how long building it takes and how soon its graph is
// interactive in headless Chromium, for pipelines/churn.asg after a real apply on small data (the
// test services; test/helpers/churn.ts starts them when they are not running) and for a generated
// 1,000-node spec (bench/gen-spec.ts, never applied).
//  - site.<x>.build.seconds: `asgard docs` as a process (what a user waits for: the built CLI, dist/,
//    compiled first — bin/asgard.js would run the sources through tsx while dist/ is older than
//    src/), warm (its cache of transpiled SQL, column lineage and layout filled by an earlier build);
//    .build_cold: the first build.
//  - site.<x>.graph_interactive.ms: from navigation start to the graph laid out, drawn, zoomable and
//    searchable (body[data-graph-ready], set by site/src/graph.ts), the page opened from file://.
// Goals (issue #17): build < 2 s, graph interactive < 1 s.

import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
// Types only from run.ts: a value import would wait for run.ts's top-level await (see plan.bench.ts).
import type { Figure } from './run.js';
import { generateSpec } from './gen-spec.js';
import { churnWorkspace } from '../test/helpers/churn.js';
import { launchChromium } from '../test/site/browser.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const RUNS = Number(process.env.ASGARD_BENCH_RUNS ?? 3);
const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

function build(spec: string, out: string, env: Record<string, string> = {}): number {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [join(root, 'dist', 'cli', 'main.js'), 'docs', spec, '--out', out, '--format', 'json'], { cwd: dirname(spec), encoding: 'utf8', env: { ...process.env, ...env } });
  const seconds = (performance.now() - t0) / 1000;
  if (r.status !== 0) throw new Error(`asgard docs exited ${r.status}: ${r.stderr}`);
  return seconds;
}

async function interactive(index: string): Promise<number[]> {
  const browser = await launchChromium();
  try {
    const out: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const page = await browser.newPage();
      // Bounded, but generous: on a loaded 2-core machine a 1,000-node layout can take long.
      await page.goto(pathToFileURL(index).href, { waitUntil: 'load', timeout: 300_000 });
      await page.waitForFunction(() => document.body.dataset.graphReady !== undefined, { timeout: 300_000 });
      out.push(Number(await page.evaluate(() => document.body.dataset.graphReady)));
      await page.close();
    }
    return out;
  } finally {
    await browser.close();
  }
}

async function figures(name: string, spec: string, dir: string, env?: Record<string, string>): Promise<Figure[]> {
  const out = join(dir, 'site');
  const cold = build(spec, out, env);
  const warm = Array.from({ length: RUNS }, () => build(spec, out, env));
  const ready = await interactive(join(out, 'index.html'));
  return [
    { name: `site.${name}.build.seconds`, value: median(warm), unit: 's', goal: '< 2', runs: RUNS },
    { name: `site.${name}.build_cold.seconds`, value: cold, unit: 's', runs: 1 },
    { name: `site.${name}.graph_interactive.ms`, value: median(ready), unit: 'ms', goal: '< 1000', runs: RUNS },
  ];
}

export async function run(): Promise<Figure[]> {
  execFileSync('npx', ['tsc', '-p', 'tsconfig.json'], { cwd: root, stdio: 'inherit' });
  const spawnBuild = spawnSync(process.execPath, [join(root, 'site', 'build.mjs')], { stdio: 'inherit' });
  if (spawnBuild.status !== 0) throw new Error('the site bundle did not build');
  const result: Figure[] = [];

  const ws = await churnWorkspace(mkdtempSync(join(tmpdir(), 'asgard-bench-site-')));
  try {
    const applied = await ws.asgard(['apply', ws.spec, '--yes', '--format', 'json']);
    if (applied.code !== 0) throw new Error(`apply of the churn pipeline failed: ${applied.stderr.slice(-2000)}`);
    result.push(...(await figures('churn', ws.spec, ws.dir, ws.env)));
  } finally {
    await ws.close();
  }

  const dir = mkdtempSync(join(tmpdir(), 'asgard-bench-site-1000-'));
  const spec = join(dir, 'synthetic.asg');
  writeFileSync(spec, generateSpec(1000)); // 50 streams + 950 SQL nodes (+ 5 source systems)
  result.push(...(await figures('1000_nodes', spec, dir)));
  return result;
}
