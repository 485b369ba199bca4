// `asgard compile` of the synthetic 1,000-node spec (bench/gen-spec.ts) with a kubernetes profile,
// as a child process (what a user waits for): median wall time of the runs after one warm-up (the
// warm-up fills the spec's SQL analysis and rendered-SQL caches, as any second compile finds them)
// and the peak RSS, each run into a fresh --out folder. Goal: under 2 s.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
// Types only from run.ts: a value import would wait for run.ts, whose top-level await is waiting for
// this module (a cycle that never settles).
import type { Figure } from './run.js';
import { generateSpec } from './gen-spec.js';
import { median } from './stats.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const RUNS = 3;

const PROFILE = `
  profile kubernetes {
    namespace     = "asgard"
    image         = "ghcr.io/asgard-data/asgard:0.1.0"
    spark_image   = "apache/spark:4.0.1-python3"
    spark_version = "4.0.1"
    warehouse     = "s3a://asgard-lake/warehouse"
    s3_endpoint   = env("S3_ENDPOINT", "http://minio.asgard.svc:9000")
    driver        = { cores = 1  memory = "2g" }
    executor      = { instances = 2  cores = 2  memory = "4g" }
  }
}
`;

/** The generated spec with a kubernetes profile added before the pipeline's closing brace. */
export function compileSpecText(nodes = 1000): string {
  const text = generateSpec(nodes).trimEnd();
  if (!text.endsWith('}')) throw new Error('generated spec does not end with the pipeline block');
  return text.slice(0, -1) + PROFILE;
}

export async function run(): Promise<Figure[]> {
  const dir = mkdtempSync(join(tmpdir(), 'asgard-bench-compile-'));
  try {
    const spec = join(dir, 'synthetic.asg');
    writeFileSync(spec, compileSpecText(1000));
    const preload = join(dir, 'rss.mjs');
    const rssFile = join(dir, 'rss.txt');
    writeFileSync(
      preload,
      `import { writeFileSync } from 'node:fs';\nprocess.on('exit', () => writeFileSync(${JSON.stringify(rssFile)}, String(process.resourceUsage().maxRSS)));\n`,
    );
    let n = 0;
    // A fresh --out each run: the figure is the compile itself, not deleting the previous tree.
    const child = () => {
      const out = join(dir, `build-${n++}`);
      const t0 = performance.now();
      const r = spawnSync(
        process.execPath,
        ['--import', pathToFileURL(preload).href, join(root, 'bin', 'asgard.js'), 'compile', spec, '--out', out, '--profile', 'kubernetes', '--format', 'json'],
        { cwd: dir, encoding: 'utf8', maxBuffer: 256 << 20 },
      );
      const seconds = (performance.now() - t0) / 1000;
      if (r.status !== 0) throw new Error(`asgard compile exited ${r.status}: ${r.stderr.slice(0, 2000)}${r.stdout.slice(0, 2000)}`);
      const doc = JSON.parse(r.stdout) as { files: unknown[] };
      if (doc.files.length < 1000) throw new Error(`only ${doc.files.length} files compiled`);
      const rssMb = Number(readFileSync(rssFile, 'utf8')) / 1024;
      rmSync(out, { recursive: true, force: true });
      return { seconds, rssMb };
    };
    child(); // warm-up
    const runs = Array.from({ length: RUNS }, child);
    return [
      { name: 'compile.1000_nodes.seconds', value: median(runs.map((r) => r.seconds)), unit: 's', goal: '< 2', runs: RUNS },
      { name: 'compile.1000_nodes.peak_rss_mb', value: median(runs.map((r) => r.rssMb)), unit: 'MB', runs: RUNS },
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
