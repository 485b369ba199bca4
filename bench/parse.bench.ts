// The dsl on a synthetic spec (bench/gen-spec.ts: 50 source streams + 1,000 SQL nodes):
//   parse.1000_nodes.seconds        lex + parse + AST (no checking)
//   check.1000_nodes.cold.seconds   loadPipelineText with no SQL analysis cache (and the in-process memo emptied)
//   check.1000_nodes.warm.seconds   loadPipeline with the on-disk cache already filled (file read,
//                                   cache load, parse, check; what every second `plan` of a spec pays)
//   check.1000_nodes.{cold,warm}.peak_rss_mb   a child process loading the spec once
// Medians of several in-process runs after one warm-up run (JIT, polyglot's WASM instance).

import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { generateSpec } from './gen-spec.js';
import type { Figure } from './run.js';
import { median } from './stats.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');

/** Peak RSS (MiB) of a fresh process that loads the spec once. */
function childRss(spec: string, cachePath: string | false): number {
  const script = `
    const { loadPipeline } = await import(${JSON.stringify(pathToFileURL(join(root, 'src/dsl/load.ts')).href)});
    const r = loadPipeline(${JSON.stringify(spec)}, { sqlCachePath: ${JSON.stringify(cachePath)} });
    if (!r.ir) { console.error(r.diagnostics[0]?.message); process.exit(1); }
    process.stdout.write(JSON.stringify({ maxRssKiB: process.resourceUsage().maxRSS }));`;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: root, encoding: 'utf8', maxBuffer: 1 << 20 });
  if (r.status !== 0) throw new Error(`child failed: ${r.stderr}`);
  return JSON.parse(r.stdout).maxRssKiB / 1024;
}

export async function run(): Promise<Figure[]> {
  const { loadPipeline, loadPipelineText } = await import('../src/dsl/load.js');
  const { parseSpec } = await import('../src/dsl/syntax.js');
  const dir = mkdtempSync(join(tmpdir(), 'asg-parse-bench-'));
  try {
    const text = generateSpec({ sources: 50, sqlNodes: 1000 });
    const spec = join(dir, 'synthetic.asg');
    writeFileSync(spec, text);
    const cachePath = join(dir, '.asgard', 'cache', 'sql-analysis.json');

    const time = (f: () => void): number => {
      const t0 = performance.now();
      f();
      return (performance.now() - t0) / 1000;
    };
    const runs = (n: number, f: () => void): number[] => Array.from({ length: n }, () => time(f));

    // Warm-up: also proves the spec is valid and fills the on-disk cache.
    const first = loadPipeline(spec, { sqlCachePath: cachePath });
    if (!first.ir)
      throw new Error(
        `synthetic spec has errors: ${first.diagnostics
          .slice(0, 3)
          .map((d) => d.message)
          .join('; ')}`,
      );
    const nodes = first.ir.nodes.length;

    const parse = runs(5, () => parseSpec(text, spec));
    const { forgetSqlAnalyses } = await import('../src/sql/analyze.js');
    const cold = runs(3, () => {
      forgetSqlAnalyses();
      loadPipelineText(text, spec);
    });
    const warm = runs(5, () => loadPipeline(spec, { sqlCachePath: cachePath }));
    const rssWarm = childRss(spec, cachePath);
    const rssCold = childRss(spec, false);
    const note = `${nodes} nodes, ${(text.length / 1024).toFixed(0)} KiB`;
    return [
      { name: 'parse.1000_nodes.seconds', value: median(parse), unit: 's', goal: `(${note})`, runs: parse.length },
      { name: 'check.1000_nodes.cold.seconds', value: median(cold), unit: 's', goal: 'no SQL cache', runs: cold.length },
      { name: 'check.1000_nodes.warm.seconds', value: median(warm), unit: 's', goal: '< 1 s for all of plan', runs: warm.length },
      { name: 'check.1000_nodes.cold.peak_rss_mb', value: Math.round(rssCold), unit: 'MB', goal: '< 300 MB for all of plan', runs: 1 },
      { name: 'check.1000_nodes.warm.peak_rss_mb', value: Math.round(rssWarm), unit: 'MB', goal: '< 300 MB for all of plan', runs: 1 },
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
