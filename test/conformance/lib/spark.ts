// Spark: every compiled SparkApplication's job (the same runner.py and SQL file it points at) under
// `spark-submit --master local[2]`, over the bronze Parquet the embedded ingestion wrote, with the
// warehouse pointed at a local folder (plain Parquet: `--catalog-type none`, since Iceberg's runtime
// jar would be fetched from Maven at run time). Its silver output must equal the embedded silver
// table row for row.

import { mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join, posix } from 'node:path';
import * as yaml from 'js-yaml';
import type { Toolchain } from './toolchain.js';
import { run } from './proc.js';
import { compareTables, readParquet, type Comparison } from './compare.js';
import { snapshotDir, type Workspace } from './workspace.js';

export interface SparkApp {
  readonly file: string;
  readonly output: string;
  readonly inputs: readonly string[];
  readonly args: readonly string[];
  readonly files: readonly string[];
  readonly mainApplicationFile: string;
  readonly sparkConf: Readonly<Record<string, string>>;
  readonly driverMemory?: string;
}

interface SparkApplicationDoc {
  kind: string;
  spec: {
    mainApplicationFile: string;
    arguments: string[];
    deps?: { files?: string[] };
    sparkConf?: Record<string, string>;
    driver?: { memory?: string };
  };
}

export function sparkApps(compiled: string): SparkApp[] {
  const dir = join(compiled, 'spark', 'applications');
  return readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .map((f) => {
      const doc = yaml.load(readFileSync(join(dir, f), 'utf8')) as SparkApplicationDoc;
      if (doc.kind !== 'SparkApplication') throw new Error(`${f}: kind ${doc.kind}, expected SparkApplication`);
      const a = doc.spec.arguments;
      const valuesOf = (flag: string) => a.flatMap((v, i) => (v === flag ? [a[i + 1]] : []));
      const [output] = valuesOf('--output');
      return {
        file: f,
        output,
        inputs: valuesOf('--input'),
        args: a,
        files: doc.spec.deps?.files ?? [],
        mainApplicationFile: doc.spec.mainApplicationFile,
        sparkConf: doc.spec.sparkConf ?? {},
        driverMemory: doc.spec.driver?.memory,
      };
    });
}

/** The application's arguments with the warehouse, bronze and catalog pointed at local Parquet. */
export function localArgs(app: SparkApp, ws: Workspace, localWarehouse: string): string[] {
  const out: string[] = [];
  const replace: Record<string, string | null> = { '--warehouse': `file://${localWarehouse}`, '--catalog-type': 'none', '--bronze': null };
  for (let i = 0; i < app.args.length; i++) {
    const a = app.args[i];
    if (a in replace) {
      const v = replace[a];
      if (v !== null) out.push(a, v);
      i++;
      continue;
    }
    out.push(a);
  }
  for (const input of app.inputs) out.push('--input-path', `${input}=${snapshotDir(ws, input)}`);
  return out;
}

/** A job file the application ships (s3a://…/spark/jobs/x.sql) → the compiled local file. */
function localFile(app: SparkApp, compiled: string, remote: string): string {
  const base = posix.dirname(app.mainApplicationFile);
  if (!remote.startsWith(base + '/')) throw new Error(`${app.file}: ${remote} is not under ${base}`);
  return join(compiled, 'spark', remote.slice(base.length + 1));
}

export interface SparkOutcome {
  readonly app: SparkApp;
  readonly comparison: Comparison;
  readonly seconds: number;
}

/** Submits every compiled job, one after the other, and compares each output to the embedded table. */
export async function runSpark(ws: Workspace, tools: Toolchain, opts: { readonly compare?: boolean } = {}): Promise<SparkOutcome[]> {
  const localWarehouse = join(ws.dir, 'spark-warehouse');
  rmSync(localWarehouse, { recursive: true, force: true });
  mkdirSync(localWarehouse, { recursive: true });
  const outcomes: SparkOutcome[] = [];
  for (const app of sparkApps(ws.compiled)) {
    const conf = Object.entries(app.sparkConf).filter(([k]) => !/^spark\.sql\.(extensions|catalog\.)|^spark\.hadoop\.fs\.s3a\./.test(k));
    const submit = [
      '--master', 'local[2]',
      '--name', `asgard-conformance-${app.output}`,
      ...(app.driverMemory ? ['--driver-memory', app.driverMemory] : []),
      ...conf.flatMap(([k, v]) => ['--conf', `${k}=${v}`]),
      '--conf', 'spark.ui.enabled=false',
      '--conf', `spark.local.dir=${join(ws.dir, 'spark-tmp')}`,
      '--conf', 'spark.sql.shuffle.partitions=4',
      ...(app.files.length ? ['--files', app.files.map((f) => localFile(app, ws.compiled, f)).join(',')] : []),
      localFile(app, ws.compiled, app.mainApplicationFile),
      ...localArgs(app, ws, localWarehouse),
    ];
    const r = await run(join(tools.bin, 'spark-submit'), submit, {
      cwd: ws.dir,
      env: { ...tools.env, ASGARD_LOGICAL_TIME: ws.logicalTime },
      log: ws.log,
      timeoutMs: 15 * 60_000,
    });
    let comparison: Comparison = { ok: true, rows: 0, message: 'not compared' };
    if (opts.compare !== false) {
      const [layer, name] = app.output.split('.');
      const expected = await readParquet([join(snapshotDir(ws, app.output), '**', '*.parquet')]);
      const actual = await readParquet([join(localWarehouse, layer, name, '**', '*.parquet')]);
      comparison = compareTables(`spark ${app.output}`, expected, actual, { keys: keyOf(app) });
    }
    outcomes.push({ app, comparison, seconds: r.seconds });
  }
  return outcomes;
}

/** The output's key: the first not_null+unique column of its checks, else the whole row. */
function keyOf(app: SparkApp): string[] {
  const i = app.args.indexOf('--checks');
  if (i < 0) return [];
  const checks = JSON.parse(app.args[i + 1]) as { kind: string; column?: string }[];
  const unique = checks.find((c) => c.kind === 'unique' && c.column);
  return unique?.column ? [unique.column] : [];
}
