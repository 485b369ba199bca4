// `asgard apply --profile cluster`: a cleanse runs on a Spark cluster (`spark_master`) as the
// compiled SparkApplication says (src/targets/spark/spark.ts: the same runner.py, job SQL,
// arguments and sparkConf), through `spark-submit` (./submit.ts), against the catalog asgard uses:
// Iceberg's JDBC catalog (the warehouse's SQLite file, or the profile's shared PostgreSQL catalog),
// S3FileIO on the profile's endpoint. The job
// reads its bronze inputs at exactly the snapshots the state records, writes the silver table
// through the catalog (its commit is the catalog's compare-and-swap), and asgard then reads what
// Spark committed: the snapshot, its row count and schema, recorded in the state like any other.
// A failed driver leaves the catalog, the state and every file as they were; its log tail is the
// node's error.

import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, posix } from 'node:path';
import * as yaml from 'js-yaml';
import type { CleanseNode, PipelineIR, Profile, Resolvable } from '../ir/types.js';
import type { ColumnSchema, SnapshotRef } from '../planner/state-store.js';
import { NodeError, type NodeExecutor, type NodeResult, type RunContext } from '../engine/executor.js';
import { openDuck } from '../engine/duckdb.js';
import { compileTargets } from '../targets/registry.js';
import { sparkSettings } from '../targets/spark/settings.js';
import type { Warehouse } from '../warehouse/warehouse.js';
import { currentSnapshot } from '../warehouse/iceberg/metadata.js';
import { sparkSubmit } from './submit.js';
import { sparkRuntime, SparkRuntimeError, type Env } from './runtime.js';

export interface ClusterOptions {
  /** The profile's name (`--profile`): its settings configure the job and the cluster. */
  readonly profile: string;
  /** The command's environment: AWS credentials (default chain), the Spark client's location. */
  readonly env: Env;
  /** The spec's path as compiled files name it. */
  readonly specPath: string;
  /** Make what this run committed so far visible in the object store (before the job reads it). */
  readonly publish?: () => Promise<void>;
  /** Bring a table's objects from the object store into the working copy (what Spark wrote). */
  readonly fetchTable?: (path: string) => Promise<void>;
}

/** The AWS default chain's environment, passed to the driver and executors (never on a command line). */
const AWS_ENV = [
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_SESSION_TOKEN',
  'AWS_PROFILE',
  'AWS_REGION',
  'AWS_DEFAULT_REGION',
  'AWS_SHARED_CREDENTIALS_FILE',
  'AWS_CONFIG_FILE',
];
const SECRET_ENV = new Set(['AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_ACCESS_KEY_ID', 'ICEBERG_JDBC_PASSWORD']);

/**
 * Jobs of an apply on a catalog with a single writer (the warehouse's SQLite file) run one at a
 * time: two drivers committing together failed with SQLITE_BUSY on the cluster even with a 120 s
 * busy timeout. On a catalog that admits several writers (PostgreSQL) they run together, each
 * commit a compare-and-swap of its own table's row. docs/lakehouse.md.
 */
let queue: Promise<unknown> = Promise.resolve();

export function clusterCleanseExecutor(opts: ClusterOptions): NodeExecutor<CleanseNode> {
  return {
    kind: 'cleanse',
    run(ctx: RunContext<CleanseNode>): Promise<NodeResult> {
      if (ctx.warehouse.tables.catalog.jdbc().concurrentWriters) return runOnCluster(opts, ctx);
      const turn = queue.then(() => runOnCluster(opts, ctx));
      queue = turn.catch(() => undefined);
      return turn;
    },
  };
}

async function runOnCluster(opts: ClusterOptions, ctx: RunContext<CleanseNode>): Promise<NodeResult> {
  const node = ctx.node;
  const profile = ctx.ir.profiles[opts.profile];
  if (!profile) throw new NodeError(`${node.id}: the spec has no profile ${opts.profile}`);
  let runtime;
  try {
    runtime = sparkRuntime(opts.env);
  } catch (e) {
    if (e instanceof SparkRuntimeError) throw new NodeError(`${node.id}: ${e.message}`);
    throw e;
  }
  const master = String(ctx.resolve(profile.settings.spark_master));
  // The driver opens the catalog asgard commits to: the warehouse's SQLite file, or the shared one.
  const jdbc = ctx.warehouse.tables.catalog.jdbc();
  const app = compiledApplication(ctx.ir, node, runtimeProfile(profile, ctx, jdbc.uri), opts.specPath);
  const workDir = join(ctx.scratchDir, 'spark', `${node.id}-${Date.now().toString(36)}`);
  for (const [p, text] of app.files) {
    mkdirSync(dirname(join(workDir, p)), { recursive: true });
    writeFileSync(join(workDir, p), text);
  }
  const base = posix.dirname(app.doc.spec.mainApplicationFile);
  const local = (remote: string): string => join(workDir, remote.startsWith(base + '/') ? remote.slice(base.length + 1) : posix.basename(remote));

  // Inputs at the snapshots the state records (what the plan was made against), and the run's logical time.
  const args = [...app.doc.spec.arguments];
  for (const input of node.inputs) {
    const s = ctx.state.nodes[input]?.snapshot;
    if (!s) throw new NodeError(`${node.id}: its input ${input} has no snapshot yet`);
    args.push('--snapshot', `${input}=${s.id}`);
  }
  args.push('--logical-time', ctx.logicalTime.toISOString());

  const spec = app.doc.spec;
  const instances = Number(spec.executor?.instances ?? 1);
  const cores = Number(spec.executor?.cores ?? 1);
  const conf: Record<string, string> = {
    ...spec.sparkConf,
    ...(runtime.jars ? { 'spark.jars': runtime.jars } : {}),
    ...(runtime.python ? { 'spark.pyspark.python': runtime.python } : {}),
    'spark.driver.memory': String(spec.driver?.memory ?? '1g'),
    'spark.executor.memory': String(spec.executor?.memory ?? '1g'),
    'spark.executor.cores': String(cores),
    'spark.cores.max': String(instances * cores),
    'spark.sql.shuffle.partitions': String(Math.max(2, instances * cores)),
    'spark.ui.enabled': 'false',
    'spark.local.dir': join(workDir, 'tmp'),
  };
  const env: Record<string, string> = {};
  for (const k of AWS_ENV) if (opts.env[k]) env[k] = opts.env[k]!;
  // The catalog's credentials reach the driver only, as runner.py reads them (never a command line or sparkConf).
  if (jdbc.user) env.ICEBERG_JDBC_USER = jdbc.user;
  if (jdbc.password) env.ICEBERG_JDBC_PASSWORD = jdbc.password;
  env.AWS_REGION ??= env.AWS_DEFAULT_REGION ?? String(conf['spark.sql.catalog.iceberg.client.region'] ?? 'us-east-1');

  const ident = ctx.warehouse.ident(node.id);
  const catalog = ctx.warehouse.tables.catalog;
  // The job's CREATE NAMESPACE IF NOT EXISTS is a check-then-insert in JdbcCatalog: two jobs
  // starting together (apply runs two nodes at once) both insert, and one fails. asgard
  // records the namespace first, the way JdbcCatalog does, so the jobs find it.
  await catalog.ensureNamespace(ident.namespace);
  const before = await catalog.load(ident);
  await opts.publish?.();
  ctx.progress({ rows: 0, message: `spark-submit on ${master}` });
  const r = await sparkSubmit({
    sparkHome: runtime.sparkHome,
    ...(runtime.javaHome ? { javaHome: runtime.javaHome } : {}),
    master,
    name: `asgard-${ctx.ir.name}-${node.id}`,
    main: local(spec.mainApplicationFile),
    args,
    files: (spec.deps?.files ?? []).map(local),
    conf,
    env,
    secrets: Object.entries(env)
      .filter(([k]) => SECRET_ENV.has(k))
      .map(([, v]) => v),
    workDir,
    signal: ctx.signal,
  });
  const after = await catalog.load(ident);
  if (ctx.signal.aborted || r.code !== 0) {
    // The job never committed, or it did and then failed: either way the previous snapshot stays current.
    if (after !== before) await restoreCatalog(ctx.warehouse, node.id, before, after);
    if (ctx.signal.aborted) throw new NodeError(`${node.id}: interrupted (the Spark driver was stopped)`);
    throw new NodeError(
      `${node.id}: the Spark driver failed on ${master} (exit ${r.code ?? 'killed'}); the previous snapshot stays current:\n${indent(r.tail)}\n  (driver log: ${r.logFile})`,
    );
  }
  if (!after || after === before) throw new NodeError(`${node.id}: the Spark job exited 0 but committed no snapshot to the catalog (driver log: ${r.logFile})`);

  const path = `${ident.namespace}/${ident.name}`;
  await opts.fetchTable?.(path);
  const current = await ctx.warehouse.tables.current(ident);
  const snap = current && currentSnapshot(current.metadata);
  if (!current || !snap) throw new NodeError(`${node.id}: the catalog's table ${node.id} has no current snapshot after the Spark job`);
  const snapshot: SnapshotRef = {
    id: snap['snapshot-id'],
    path,
    rows: Number(snap.summary['total-records'] ?? 0),
    createdAt: new Date(snap['timestamp-ms']).toISOString(),
    metadataLocation: current.location,
    manifestList: snap['manifest-list'],
  };
  const schema = await describe(ctx.warehouse, snapshot);
  ctx.progress({ rows: snapshot.rows });
  return { rows: snapshot.rows, snapshot, schema };
}

interface SparkApplicationDoc {
  kind: string;
  spec: {
    mainApplicationFile: string;
    arguments: string[];
    deps?: { files?: string[] };
    sparkConf: Record<string, string>;
    driver?: { memory?: string };
    executor?: { instances?: number; cores?: number; memory?: string };
  };
}

/** The node's SparkApplication and the files it runs, compiled for this run's profile. */
function compiledApplication(ir: PipelineIR, node: CleanseNode, profile: Profile, specPath: string): { doc: SparkApplicationDoc; files: Map<string, string> } {
  const r = compileTargets(
    { ...ir, profiles: { ...ir.profiles, [profile.name]: profile } },
    { profile: profile.name, schemas: new Map(), specPath, only: ['spark'] },
  );
  const err = r.diagnostics.find((d) => d.severity === 'error');
  if (!r.value || err) throw new NodeError(`${node.id}: the Spark job cannot be compiled for profile ${profile.name}: ${err?.message ?? 'no output'}`);
  const files = new Map<string, string>();
  let doc: SparkApplicationDoc | undefined;
  for (const [p, text] of r.value) {
    if (!p.startsWith('spark/')) continue;
    const rel = p.slice('spark/'.length);
    if (rel === `applications/${node.name}.yaml`) doc = yaml.load(text) as SparkApplicationDoc;
    else if (rel === 'runner.py' || rel.startsWith('jobs/')) files.set(rel, text);
  }
  if (!doc || doc.kind !== 'SparkApplication') throw new NodeError(`${node.id}: compile wrote no SparkApplication for it`);
  return { doc, files };
}

/**
 * The profile as this run sees it: env() settings resolved to their values (secrets stay
 * references, the job reads credentials from its environment), and the catalog the warehouse
 * uses: Iceberg's JDBC catalog at `catalogUri`, bronze as Iceberg tables in it.
 */
function runtimeProfile(profile: Profile, ctx: RunContext, catalogUri: string): Profile {
  const settings: Record<string, Resolvable> = {};
  for (const [k, v] of Object.entries(profile.settings)) {
    // What only the cluster or the embedded engine reads (`spark_master`, `s3_path_style`) is not
    // the Spark target's to check (apply checked the whole profile against its readers already).
    if (!(k in sparkSettings.shape)) continue;
    settings[k] = v.kind === 'secret' ? v : { kind: 'literal', value: ctx.resolve(v) };
  }
  const lit = (value: string): Resolvable => ({ kind: 'literal', value });
  settings.catalog_type = lit('jdbc');
  settings.catalog_uri = lit(catalogUri);
  settings.bronze_format = lit('iceberg');
  return { ...profile, settings };
}

/** Put the catalog back on `before` (or drop the table Spark created) after a failed run committed. */
async function restoreCatalog(warehouse: Warehouse, table: string, before: string | undefined, after: string | undefined): Promise<void> {
  const catalog = warehouse.tables.catalog;
  const ident = warehouse.ident(table);
  if (!after) return;
  if (before) await catalog.commit(ident, after, before);
  else await catalog.drop(ident);
}

async function describe(warehouse: Warehouse, s: SnapshotRef): Promise<ColumnSchema[]> {
  const conn = await openDuck();
  try {
    const r = await conn.runAndReadAll(`DESCRIBE ${await warehouse.snapshotSelect(s)}`);
    return r.getRowObjects().map((row) => ({ name: String(row.column_name), type: String(row.column_type) }));
  } finally {
    conn.closeSync();
  }
}

const indent = (text: string): string =>
  text
    .split('\n')
    .map((l) => `  ${l}`)
    .join('\n');
