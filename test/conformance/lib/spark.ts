// Spark on the real format: every compiled SparkApplication's job (the same runner.py, SQL files,
// arguments and sparkConf it is compiled with) runs under spark-submit against Iceberg tables on the
// S3 server (scripts/s3-server.sh) through Iceberg's JDBC catalog, as the lakehouse runs it
// (docs/lakehouse.md). The route:
//
// 1. `asgard apply` of the spec under a profile whose warehouse is a fresh bucket on the S3 server
//    (bronze and silver nodes, the same sources and logical time as the embedded run): asgard writes
//    those tables as Iceberg on S3, registered in its SQL catalog (SQLite, in the working copy).
// 2. pyiceberg reads every table asgard wrote, from the bucket through that catalog, with asgard's rows.
// 3. `asgard compile` under a profile with the same warehouse, `catalog_type = "jdbc"` on a copy of
//    that catalog and `bronze_format = "iceberg"`; each job (inputs first) runs as compiled: Spark
//    reads asgard's tables through the catalog and commits its silver snapshot onto asgard's table in
//    the copy, with S3FileIO on the bucket.
// 4. asgard reads what Spark committed (catalog row → metadata → manifests → data files, fetched
//    from the bucket) and its rows must equal asgard's own silver table row for row.

import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, posix } from 'node:path';
import * as yaml from 'js-yaml';
import type { Toolchain } from './toolchain.js';
import { asgard } from './asgard.js';
import { compareTables, readParquet, type Comparison } from './compare.js';
import type { Workspace } from './workspace.js';
import { loadSpec } from '../../../src/cli/spec.js';
import { sparkSubmit } from '../../../src/spark/submit.js';
import { S3ObjectStore } from '../../../src/warehouse/s3-store.js';
import { Warehouse } from '../../../src/warehouse/warehouse.js';
import { LocalTableStore } from '../../../src/warehouse/iceberg/table-store.js';
import { SqliteCatalog } from '../../../src/warehouse/iceberg/catalog.js';
import { currentSnapshot } from '../../../src/warehouse/iceberg/metadata.js';
import type { PipelineState } from '../../../src/planner/state-store.js';
import { awsEnv, freshBucket, useAwsEnv } from '../../helpers/s3.js';
import { sparkCluster } from '../../helpers/spark.js';
import { asgardRows, canonical, pyicebergWith } from '../../helpers/pyiceberg.js';

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

/** The compiled SparkApplications, each after the ones whose output it reads. */
export function sparkApps(compiled: string): SparkApp[] {
  const dir = join(compiled, 'spark', 'applications');
  const apps = readdirSync(dir)
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
  const ordered: SparkApp[] = [];
  const pending = [...apps];
  while (pending.length) {
    const i = pending.findIndex((a) => a.inputs.every((x) => !pending.some((p) => p.output === x)));
    if (i < 0) throw new Error(`the SparkApplications read each other's outputs in a cycle: ${pending.map((p) => p.output).join(', ')}`);
    ordered.push(...pending.splice(i, 1));
  }
  return ordered;
}

/** A job file the application ships (s3a://…/spark/jobs/x.sql) → the compiled local file. */
function localFile(app: SparkApp, compiled: string, remote: string): string {
  const base = posix.dirname(app.mainApplicationFile);
  if (!remote.startsWith(base + '/')) throw new Error(`${app.file}: ${remote} is not under ${base}`);
  return join(compiled, 'spark', remote.slice(base.length + 1));
}

export interface SparkOutcome {
  /** What was compared: `spark silver.x` (Spark's table against asgard's) or `pyiceberg layer.x`. */
  readonly check: string;
  readonly comparison: Comparison;
  readonly seconds: number;
}

/** What the route needs of a workspace: the spec, the sources' environment, a folder and a log. */
export type LakeWorkspace = Pick<Workspace, 'dir' | 'spec' | 'pipeline' | 'env' | 'log'>;

export interface SparkOptions {
  /** Compare the tables (the bench only times the jobs). Default true. */
  readonly compare?: boolean;
  /** The Spark master the jobs are submitted to. Default `local[2]`. */
  readonly master?: string;
}

/** The spec with two profiles appended: asgard's S3 warehouse, and the Spark jobs on its catalog copy. */
function lakeSpec(ws: LakeWorkspace, warehouse: string, endpoint: string, sparkCatalog: string): string {
  const text = readFileSync(ws.spec, 'utf8');
  const end = text.lastIndexOf('}');
  const profiles = `
  profile conformance_lake {
    target      = "local"
    warehouse   = "${warehouse}"
    s3_endpoint = "${endpoint}"
  }

  profile conformance_spark {
    target        = "kubernetes"
    image         = "ghcr.io/asgard-data/asgard:0.1.0"
    spark_image   = "apache/spark:4.0.1-python3"
    spark_version = "4.0.1"
    warehouse     = "${warehouse}"
    s3_endpoint   = "${endpoint}"
    catalog_type  = "jdbc"
    catalog_uri   = "jdbc:sqlite:${sparkCatalog}"
    bronze_format = "iceberg"
  }
`;
  // Beside the original, so the spec's relative paths name the same files.
  const file = ws.spec.replace(/\.asg$/, '') + '.lake.asg';
  writeFileSync(file, text.slice(0, end) + profiles + text.slice(end));
  return file;
}

/**
 * Runs the route above; one outcome per table pyiceberg read and per Spark job. Needs the S3
 * server and the Spark jars (scripts/spark-cluster.sh caches them; test/helpers/spark.ts).
 */
export async function runSpark(ws: LakeWorkspace, tools: Toolchain, opts: SparkOptions = {}): Promise<SparkOutcome[]> {
  // (This process reads Spark's objects too: the S3 server's credentials in its default chain.)
  const s3 = useAwsEnv();
  const spark = sparkCluster();
  const bucket = await freshBucket('conformance');
  const prefix = 'lake';
  const warehouseUrl = `s3://${bucket}/${prefix}`;
  const dir = join(ws.dir, 'spark-lake');
  mkdirSync(dir, { recursive: true });
  const sparkCatalog = join(dir, 'catalog.db');
  const spec = lakeSpec(ws, warehouseUrl, s3.endpoint, sparkCatalog);
  const stateDir = join(dir, 'state');
  const lws: Workspace = {
    ...ws,
    spec,
    stateDir,
    warehouse: join(stateDir, 's3', bucket, prefix),
    compiled: join(dir, 'compiled'),
    logicalTime: '',
    env: { ...ws.env, ...awsEnv(s3) },
  };

  // 1. asgard writes the bronze and silver tables on S3.
  const loaded = await loadSpec(spec, ws.dir);
  if (!loaded.ir) throw new Error(`${spec} does not load`);
  const ids = loaded.ir.nodes.map((n) => n.id).filter((n) => /^(bronze|silver)\./.test(n));
  await asgard(lws, ['apply', spec, '--profile', 'conformance_lake', '--state', stateDir, '--yes', '--select', ids.join(',')]);
  const state = JSON.parse(readFileSync(join(stateDir, 'state', `${ws.pipeline}.json`), 'utf8')) as PipelineState;
  const wh = new Warehouse(lws.warehouse, undefined, { store: new LocalTableStore(lws.warehouse, warehouseUrl) });
  const outcomes: SparkOutcome[] = [];

  // 2. pyiceberg reads every table asgard wrote, from the bucket.
  const tables = Object.entries(state.nodes).filter(([, n]) => n.snapshot && n.schema);
  if (opts.compare !== false) {
    const t0 = performance.now();
    const props = {
      's3.endpoint': s3.endpoint,
      's3.path-style-access': 'true',
      's3.access-key-id': s3.accessKey,
      's3.secret-access-key': s3.secretKey,
      's3.region': 'us-east-1',
    };
    const py = pyicebergWith(props, join(lws.warehouse, 'catalog.db'), ...tables.map(([id, n]) => `${id}@${n.snapshot!.id}`));
    const seconds = (performance.now() - t0) / 1000 / Math.max(1, tables.length);
    for (const [i, [id, n]] of tables.entries()) {
      const ours = canonical(await asgardRows(wh, n.snapshot!, n.schema!));
      const theirs = canonical(py.reads[i].rows);
      const same = ours.length === theirs.length && ours.every((r, j) => r === theirs[j]);
      const first = ours.findIndex((r, j) => r !== theirs[j]);
      const message = same
        ? 'pass'
        : `pyiceberg ${id}: ${theirs.length} rows, asgard ${ours.length}; first difference: asgard ${ours[first] ?? '-'} / pyiceberg ${theirs[first] ?? '-'}`;
      outcomes.push({ check: `pyiceberg ${id}`, comparison: { ok: same && ours.length === n.snapshot!.rows, rows: ours.length, message }, seconds });
    }
  }

  // 3. The compiled jobs on a copy of asgard's catalog.
  copyFileSync(join(lws.warehouse, 'catalog.db'), sparkCatalog);
  await asgard(lws, ['compile', spec, '--out', lws.compiled, '--profile', 'conformance_spark']);
  const sparks = new Warehouse(lws.warehouse, undefined, { store: new LocalTableStore(lws.warehouse, warehouseUrl), catalog: new SqliteCatalog(sparkCatalog) });
  const store = new S3ObjectStore({ bucket, prefix }, { endpoint: s3.endpoint, pathStyle: true });
  const env = { ...awsEnv(s3), ...(ws.env.ASGARD_LOGICAL_TIME ? { ASGARD_LOGICAL_TIME: ws.env.ASGARD_LOGICAL_TIME } : {}), TZ: 'UTC' };
  try {
    for (const app of sparkApps(lws.compiled)) {
      const t0 = performance.now();
      const work = join(dir, 'jobs', app.output);
      const r = await sparkSubmit({
        sparkHome: spark.sparkHome,
        ...(spark.javaHome ? { javaHome: spark.javaHome } : {}),
        master: opts.master ?? 'local[2]',
        name: `asgard-conformance-${app.output}`,
        main: localFile(app, lws.compiled, app.mainApplicationFile),
        args: app.args,
        files: app.files.map((f) => localFile(app, lws.compiled, f)),
        conf: {
          ...app.sparkConf,
          'spark.jars': spark.jars,
          'spark.pyspark.python': tools.python,
          ...(app.driverMemory ? { 'spark.driver.memory': app.driverMemory } : {}),
          'spark.ui.enabled': 'false',
          'spark.local.dir': join(work, 'tmp'),
          'spark.sql.warehouse.dir': join(work, 'spark-warehouse'),
          'spark.sql.shuffle.partitions': '4',
        },
        env,
        secrets: [s3.secretKey],
        workDir: work,
      });
      const seconds = (performance.now() - t0) / 1000;
      if (r.code !== 0) {
        outcomes.push({
          check: `spark ${app.output}`,
          comparison: { ok: false, rows: 0, message: `spark-submit exited ${r.code}:\n${r.tail}\n(driver log: ${r.logFile})` },
          seconds,
        });
        continue;
      }
      if (opts.compare === false) {
        outcomes.push({ check: `spark ${app.output}`, comparison: { ok: true, rows: 0, message: 'not compared' }, seconds });
        continue;
      }
      // 4. asgard reads Spark's snapshot: its objects fetched from the bucket, then its manifests.
      const ident = sparks.ident(app.output);
      for (const o of await store.list(`${ident.namespace}/${ident.name}/`)) {
        const local = join(lws.warehouse, ...o.key.split('/'));
        if (!existsSync(local)) await store.download(o.key, local);
      }
      const current = await sparks.tables.current(ident);
      const snap = current && currentSnapshot(current.metadata);
      const mine = state.nodes[app.output]?.snapshot;
      if (!snap || !mine || !('spark.app.id' in snap.summary) || current.location === mine.metadataLocation) {
        outcomes.push({
          check: `spark ${app.output}`,
          comparison: {
            ok: false,
            rows: 0,
            message: `spark ${app.output}: the job exited 0 but committed no Spark snapshot to the catalog (driver log: ${r.logFile})`,
          },
          seconds,
        });
        continue;
      }
      const expected = await readParquet(await wh.files(mine), { hive: false });
      const actual = await readParquet(await sparks.tables.dataFiles(snap['manifest-list']), { hive: false });
      outcomes.push({ check: `spark ${app.output}`, comparison: compareTables(`spark ${app.output}`, expected, actual, { keys: keyOf(app) }), seconds });
    }
  } finally {
    store.destroy();
    await sparks.tables.catalog.close();
    await wh.tables.catalog.close();
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
