// dbt: `dbt build` of the compiled project on dbt-duckdb, its silver sources pointed (the
// `silver_location` var) at the embedded silver snapshots: every model builds with its enforced
// contract, every spec check runs as a dbt test and passes, and each gold table equals the embedded
// gold table row for row.
//
// The compiled profiles.yml's duckdb output is used as compiled (it loads no extension: the sources
// are local Parquet, as in the dbt Jobs of src/targets/dbt/jobs.ts).

import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as yaml from 'js-yaml';
import type { Toolchain } from './toolchain.js';
import { run } from './proc.js';
import { compareTables, readParquet, type Comparison } from './compare.js';
import { readState, snapshotDir, type Workspace } from './workspace.js';
import { inferKey } from './keys.js';

export interface DbtOutcome {
  readonly ok: boolean;
  readonly message: string;
  /** run_results.json: what ran, by resource type and status. */
  readonly models: number;
  readonly tests: number;
  readonly failures: readonly string[];
  readonly comparisons: readonly { readonly table: string; readonly comparison: Comparison }[];
  readonly seconds: number;
}

interface RunResults {
  results: { unique_id: string; status: string; message?: string | null; failures?: number | null }[];
}

export async function runDbt(ws: Workspace, tools: Toolchain, opts: { readonly compare?: boolean } = {}): Promise<DbtOutcome> {
  const project = join(ws.dir, 'dbt-project');
  rmSync(project, { recursive: true, force: true });
  cpSync(join(ws.compiled, 'dbt'), project, { recursive: true });

  // The silver sources: `<silver_location>/<table>/**/*.parquet` → the embedded current snapshots.
  const sourcesDoc = yaml.load(readFileSync(join(project, 'models', 'sources.yml'), 'utf8')) as { sources: { name: string; tables: { name: string }[] }[] };
  const vars: Record<string, string> = {};
  for (const src of sourcesDoc.sources) {
    const root = join(ws.dir, 'dbt-sources', src.name);
    rmSync(root, { recursive: true, force: true });
    mkdirSync(root, { recursive: true });
    for (const t of src.tables) symlinkSync(snapshotDir(ws, `${src.name}.${t.name}`), join(root, t.name));
    vars[`${src.name}_location`] = root;
  }

  const projectDoc = yaml.load(readFileSync(join(project, 'dbt_project.yml'), 'utf8')) as { profile: string };
  const profilesDoc = yaml.load(readFileSync(join(project, 'profiles.yml'), 'utf8')) as Record<
    string,
    { target: string; outputs: Record<string, Record<string, unknown>> }
  >;
  const prof = profilesDoc[projectDoc.profile];
  if (!prof?.outputs?.duckdb) throw new Error(`compiled profiles.yml has no duckdb output for profile ${projectDoc.profile}`);
  const duck = prof.outputs.duckdb;
  const profilesDir = join(ws.dir, 'dbt-profiles');
  mkdirSync(profilesDir, { recursive: true });
  writeFileSync(join(profilesDir, 'profiles.yml'), yaml.dump({ [projectDoc.profile]: { target: 'duckdb', outputs: { duckdb: duck } } }));

  const dbPath = join(ws.dir, 'dbt.duckdb');
  rmSync(dbPath, { force: true });
  const env = { ...tools.env, DBT_DUCKDB_PATH: dbPath, ASGARD_LOGICAL_TIME: ws.logicalTime, DBT_LOG_PATH: join(ws.dir, 'dbt-logs') };
  const r = await run(
    join(tools.bin, 'dbt'),
    ['build', '--project-dir', project, '--profiles-dir', profilesDir, '--target', 'duckdb', '--vars', JSON.stringify(vars), '--no-use-colors'],
    { cwd: project, env, log: ws.log, allowFailure: true, timeoutMs: 15 * 60_000 },
  );
  const resultsFile = join(project, 'target', 'run_results.json');
  if (!existsSync(resultsFile)) {
    return {
      ok: false,
      message: `dbt build wrote no run_results.json (exit ${r.code}):\n${r.stdout.slice(-3000)}`,
      models: 0,
      tests: 0,
      failures: [],
      comparisons: [],
      seconds: r.seconds,
    };
  }
  const results = JSON.parse(readFileSync(resultsFile, 'utf8')) as RunResults;
  const models = results.results.filter((x) => x.unique_id.startsWith('model.'));
  const tests = results.results.filter((x) => x.unique_id.startsWith('test.'));
  const failures = results.results
    .filter((x) => !['success', 'pass'].includes(x.status))
    .map((x) => `${x.unique_id}: ${x.status}${x.message ? ` (${x.message})` : ''}`);
  if (r.code !== 0 || failures.length) {
    return {
      ok: false,
      message: `dbt build exit ${r.code}; not passing:\n  ${failures.join('\n  ')}\n${r.stdout
        .split('\n')
        .filter((l) => /error|fail/i.test(l))
        .slice(0, 20)
        .join('\n')}`,
      models: models.length,
      tests: tests.length,
      failures,
      comparisons: [],
      seconds: r.seconds,
    };
  }

  const comparisons: { table: string; comparison: Comparison }[] = [];
  if (opts.compare !== false) {
    // Export each built model to Parquet with dbt-duckdb's own DuckDB, then read both sides alike.
    const names = models.map((m) => m.unique_id.split('.').pop()!);
    const outDir = join(ws.dir, 'dbt-gold');
    rmSync(outDir, { recursive: true, force: true });
    mkdirSync(outDir, { recursive: true });
    const py = `import duckdb, sys, json\nc = duckdb.connect(sys.argv[1], read_only=True)\nfor n in json.loads(sys.argv[3]):\n    c.execute(f"COPY gold.{n} TO '{sys.argv[2]}/{n}.parquet' (FORMAT parquet)")\n`;
    await run(tools.python, ['-c', py, dbPath, outDir, JSON.stringify(names)], { env: tools.env, log: ws.log });
    const state = readState(ws);
    for (const n of names) {
      const table = `gold.${n}`;
      if (!state.nodes[table]?.snapshot) {
        comparisons.push({ table, comparison: { ok: false, rows: 0, message: `${table}: dbt built it but the embedded run has no snapshot of it` } });
        continue;
      }
      const expected = await readParquet([join(snapshotDir(ws, table), '**', '*.parquet')]);
      const actual = await readParquet([join(outDir, `${n}.parquet`)], { hive: false });
      comparisons.push({ table, comparison: compareTables(`dbt ${table}`, expected, actual, { keys: inferKey(expected) }) });
    }
  }
  const bad = comparisons.filter((c) => !c.comparison.ok);
  return {
    ok: bad.length === 0,
    message: bad.length
      ? bad.map((c) => c.comparison.message).join('\n')
      : `${models.length} models, ${tests.length} tests passed; ${comparisons.map((c) => c.comparison.message).join('; ')}`,
    models: models.length,
    tests: tests.length,
    failures,
    comparisons,
    seconds: r.seconds,
  };
}
