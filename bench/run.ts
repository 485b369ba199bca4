// `npm run bench`: runs every `bench/*.bench.ts` (or those named on the command line), prints one
// table of figures with the machine's facts, and writes bench/results.json (PRODUCT.md section 4).
// A bench module exports `run(): Promise<Figure[]>`; each figure is the median of its runs, stamped
// with when it was measured and the machine's load average meanwhile (the machine is shared).
// Running some benches updates their figures in results.json and keeps the others' last figures,
// so the file always carries every figure. A bench starts the services it needs
// (bench/services.ts) or fails: a failed bench exits 1, its figures are never silently absent.

import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export interface Figure {
  readonly name: string;
  readonly value: number;
  readonly unit: string;
  readonly goal?: string;
  readonly runs: number;
  /** Set by the runner: when the figure was measured, and the 1-minute load average before and after its bench. */
  readonly measuredAt?: string;
  readonly load?: readonly [number, number];
}

// In its own module: a bench importing a value from this file (which awaits main() at top level)
// would wait on its own importer, and Node exits 13 (unsettled top-level await).
export { median } from './stats.js';

const here = dirname(fileURLToPath(import.meta.url));
// Bench modules import `median` and `Figure` from here: only running this file directly runs them.
if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await main();

async function main(): Promise<void> {
  const only = process.argv.slice(2);
  const files = readdirSync(here)
    .filter((f) => f.endsWith('.bench.ts'))
    .filter((f) => only.length === 0 || only.some((o) => f.includes(o)))
    .sort();

  const machine = { cores: cpus().length, memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version };
  console.log(`asgard bench — ${machine.cores} cores, ${machine.memoryGiB} GiB, node ${machine.node}`);
  const figures: Figure[] = [];
  let failed = false;
  for (const f of files) {
    process.stderr.write(`running ${f} …\n`);
    try {
      const mod = (await import(pathToFileURL(join(here, f)).href)) as { run: () => Promise<Figure[]> };
      const before = Number(loadavg()[0].toFixed(2));
      const got = await mod.run();
      const stamp = { measuredAt: new Date().toISOString(), load: [before, Number(loadavg()[0].toFixed(2))] as const };
      figures.push(...got.map((g) => ({ ...g, ...stamp })));
    } catch (e) {
      failed = true;
      console.error(`${f} failed: ${(e as Error).stack ?? e}`);
    }
  }
  const w = Math.max(10, ...figures.map((f) => f.name.length));
  console.log(`${'figure'.padEnd(w)}  ${'value'.padStart(12)}  ${'unit'.padEnd(8)}  runs  goal`);
  for (const f of figures) {
    const v = Number.isInteger(f.value) ? String(f.value) : f.value.toPrecision(4);
    console.log(
      `${f.name.padEnd(w)}  ${v.padStart(12)}  ${f.unit.padEnd(8)}  ${String(f.runs).padStart(4)}  ${f.goal ?? ''}${f.load ? `  (load ${f.load[0]}→${f.load[1]})` : ''}`,
    );
  }
  // Figures of the benches not run this time are kept from the last results.
  const resultsFile = join(here, 'results.json');
  const fresh = new Set(figures.map((f) => f.name));
  const kept = existsSync(resultsFile)
    ? ((JSON.parse(readFileSync(resultsFile, 'utf8')) as { figures?: Figure[] }).figures ?? []).filter((f) => !fresh.has(f.name))
    : [];
  const all = [...kept, ...figures].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  writeFileSync(resultsFile, JSON.stringify({ machine, figures: all }, null, 2) + '\n');
  if (failed) process.exitCode = 1;
}
