// #14's Done-when on pipelines/churn.asg: `asgard apply churn.asg --profile kubernetes --yes` as a
// user runs it (a CLI process) against the REAL API server (kube-apiserver + etcd), the REAL S3
// server (tables, state, lock, Spark job files) and an Iceberg SQL catalog in a database of its own
// on the REAL PostgreSQL. churn's nodes are as in pipelines/churn.asg; its kubernetes profile is
// pointed at these services (namespace, bucket, S3 endpoint, the catalog's JDBC URL, Airbyte, job
// timeout), nothing else changed. The stand-in (./stand-in.ts) plays the operator's and the Job
// controller's status but RUNS each SparkApplication on the local Spark cluster and each Job's
// container with the .venv's tools, so the three cleanses (Spark), both gold models (dbt Jobs) and
// the feature view (its Job) really produce their tables, and the training Job trains and registers
// a version. Airbyte is played (./airbyte-server.ts): the test puts bronze where Airbyte's S3
// destination lands it, Parquet per stream, from the demo generator's data. As the compiled tree's
// airbyte/README.md asks of a user, the HTTP source's low-code manifest (airbyte/custom/
// support_api.manifest.yaml of `asgard compile`) is published as a custom connector and its
// definition id exported as AIRBYTE_DEFINITION_ID_SUPPORT_API. MLflow is a real tracking server.
//
// It proves, on churn: every node submitted in DAG order (each run created after those it reads from
// finished), the three silver tables, both gold tables and the online feature table read back through
// the catalog, the training Job's version READY on a real MLflow server and served by `asgard serve
// --profile kubernetes` (the serving Deployment's command) from the registry beside the warehouse,
// state in S3 and the lock released; the cluster holding exactly the compiled tree's objects; a second
// apply writing no object (every resourceVersion unchanged); the feature view removed (with the train
// and serve nodes that depend on it): their Jobs, Deployment, Service and the ConfigMaps only they
// needed deleted, the cluster again exactly what the spec compiles to. Under load ~30 on two cores it
// took 20 min (264 s CPU).

import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { load } from 'js-yaml';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as k8s from '@kubernetes/client-node';
import pg from 'pg';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { S3ObjectStore } from '../../src/warehouse/s3-store.js';
import { kubeObjects } from '../../src/targets/k8s-objects.js';
import type { PipelineState } from '../../src/planner/state-store.js';
import { generate, transactionRow } from '../../demo/generate.js';
import { pgConfig } from '../../demo/load.js';
import { openDuck } from '../../src/engine/duckdb.js';
import { awsEnv, freshBucket, rawClient, useAwsEnv } from '../helpers/s3.js';
import { services } from '../helpers/services.js';
import { pyicebergAt } from '../helpers/pyiceberg.js';
import { deleteNamespace, freshNamespace, k8sServer, kubeConfig } from '../helpers/k8s.js';
import { CHURN, CHURN_INPUT } from '../targets/churn.js';
import { cli, repoRoot } from '../cli/helpers.js';
import { ensureToolchain } from '../conformance/lib/toolchain.js';
import { startAsgardServe, startMlflow, type RunningServer } from '../conformance/lib/servers.js';
import { AirbyteStandIn } from './airbyte-server.js';
import { StandIn } from './stand-in.js';

/** churn.asg with its kubernetes profile pointed at the local services, and without the nodes `drop` names. */
function churnSpec(ns: string, bucket: string, endpoint: string, catalogUri: string, drop: readonly ('train' | 'serve' | 'features')[]): string {
  let text = readFileSync(CHURN, 'utf8');
  const set = (key: string, value: string) => {
    const next = text.replace(new RegExp(`(\\n\\s*profile kubernetes \\{[\\s\\S]*?\\n\\s*${key}\\s*=\\s*)[^\\n]*`), `$1${value}`);
    expect(next, key).not.toBe(text);
    text = next;
  };
  set('namespace', `"${ns}"`);
  set('warehouse', `"s3a://${bucket}/lake"`);
  set('s3_endpoint', `env("S3_ENDPOINT", "${endpoint}")`);
  set('catalog_uri', `"${catalogUri}"`);
  text = text.replace(
    /(\n\s*profile kubernetes \{)/,
    '$1\n    airbyte_url          = env("AIRBYTE_URL")\n    airbyte_workspace_id = env("AIRBYTE_WORKSPACE_ID")\n    job_timeout          = 1800',
  );
  const blocks: Record<string, RegExp> = {
    features: /\n {2}features customer_churn_features \{[\s\S]*?\n {2}\}\n/,
    train: /\n {2}train churn_predictor \{[\s\S]*?\n {2}\}\n/,
    serve: /\n {2}serve churn_api \{[\s\S]*?\n {2}\}\n/,
  };
  for (const d of drop) {
    const next = text.replace(blocks[d], '\n');
    expect(next, d).not.toBe(text);
    text = next;
  }
  return text;
}

/** Bronze as Airbyte's S3 destination lands each stream: Parquet in <warehouse>/bronze/<stream>/, typed as the spec's columns. */
async function putBronze(bucket: string, dir: string): Promise<{ customers: number }> {
  const data = generate({ customers: 1200, seed: 14 });
  const tx = data.transactions;
  const rows = Array.from({ length: tx.length }, (_, r) => transactionRow(tx, r));
  writeFileSync(join(dir, 'customers.json'), JSON.stringify(data.customers));
  writeFileSync(
    join(dir, 'transactions.json'),
    JSON.stringify(
      rows.map(([transaction_id, customer_id, order_id, amount, transaction_date, payment_method, status, created_at]) => ({
        transaction_id,
        customer_id,
        order_id,
        amount,
        transaction_date,
        payment_method,
        status,
        created_at,
      })),
    ),
  );
  writeFileSync(join(dir, 'tickets.json'), JSON.stringify(data.tickets));
  const selects: Record<string, string> = {
    customers: `SELECT CAST(customer_id AS BIGINT) AS customer_id, email, first_name, last_name, CAST(registration_date AS DATE) AS registration_date, status, country, city, CAST(created_at AS TIMESTAMP) AS created_at, CAST(updated_at AS TIMESTAMP) AS updated_at FROM read_json('${join(dir, 'customers.json')}', format = 'array', columns = {customer_id: 'BIGINT', email: 'VARCHAR', first_name: 'VARCHAR', last_name: 'VARCHAR', registration_date: 'VARCHAR', status: 'VARCHAR', country: 'VARCHAR', city: 'VARCHAR', created_at: 'VARCHAR', updated_at: 'VARCHAR'})`,
    transactions: `SELECT CAST(transaction_id AS BIGINT) AS transaction_id, CAST(customer_id AS BIGINT) AS customer_id, CAST(order_id AS BIGINT) AS order_id, CAST(amount AS DECIMAL(10,2)) AS amount, CAST(transaction_date AS DATE) AS transaction_date, payment_method, status, CAST(created_at AS TIMESTAMP) AS created_at FROM read_json('${join(dir, 'transactions.json')}', format = 'array', columns = {transaction_id: 'VARCHAR', customer_id: 'VARCHAR', order_id: 'VARCHAR', amount: 'VARCHAR', transaction_date: 'VARCHAR', payment_method: 'VARCHAR', status: 'VARCHAR', created_at: 'VARCHAR'})`,
    support_tickets: `SELECT CAST(ticket_id AS BIGINT) AS ticket_id, CAST(customer_id AS BIGINT) AS customer_id, CAST(created_at AS TIMESTAMPTZ) AS created_at, CAST(resolution_time_hours AS DOUBLE) AS resolution_time_hours, CAST(satisfaction_score AS INTEGER) AS satisfaction_score FROM read_json('${join(dir, 'tickets.json')}', format = 'array', columns = {ticket_id: 'BIGINT', customer_id: 'BIGINT', created_at: 'VARCHAR', resolution_time_hours: 'DOUBLE', satisfaction_score: 'INTEGER'})`,
  };
  const duck = await openDuck();
  try {
    for (const [stream, select] of Object.entries(selects)) await duck.run(`COPY (${select}) TO '${join(dir, `${stream}.parquet`)}' (FORMAT parquet)`);
  } finally {
    duck.closeSync();
  }
  const store = new S3ObjectStore({ bucket, prefix: 'lake' }, { endpoint: useAwsEnv().endpoint, pathStyle: true });
  for (const stream of Object.keys(selects)) await store.put(`bronze/${stream}/2025_11_10_0_0.parquet`, readFileSync(join(dir, `${stream}.parquet`)));
  return { customers: data.customers.length };
}

interface World {
  ns: string;
  bucket: string;
  dir: string;
  catalogDb: string;
  catalogUri: string;
  airbyte: AirbyteStandIn;
  standIn: StandIn;
  store: S3ObjectStore;
  env: Record<string, string>;
  /** The pipeline's Secret as created (the keys the tree's kubernetes/README.md lists). */
  secret: Record<string, string>;
  /** The MLflow tracking server the training Job logs to (the churn-env ConfigMap's MLFLOW_TRACKING_URI). */
  mlflow: RunningServer;
}

let w: World | undefined;

beforeAll(() => {
  useAwsEnv();
  k8sServer();
}, 3_700_000);

afterAll(async () => {
  if (!w) return;
  await w.standIn.stop();
  await w.airbyte.stop();
  await w.mlflow.stop();
  await deleteNamespace(w.ns);
  const admin = new pg.Client({ ...pgConfig({ url: services().CUSTOMER_DB_URL, password: services().CUSTOMER_DB_PASSWORD }), database: 'postgres' });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS "${w.catalogDb}" WITH (FORCE)`).finally(() => admin.end());
});

async function world(): Promise<World> {
  const s3 = useAwsEnv();
  const aws = awsEnv();
  const svc = services();
  const ns = await freshNamespace('churn');
  const bucket = await freshBucket('k8s-churn');
  const dir = mkdtempSync(join(tmpdir(), 'asgard-k8s-churn-'));
  // The Iceberg SQL catalog: a database of this test's own on the shared PostgreSQL.
  const catalogDb = `lake_t_${randomBytes(4).toString('hex')}`;
  const pgc = pgConfig({ url: svc.CUSTOMER_DB_URL, password: svc.CUSTOMER_DB_PASSWORD });
  const admin = new pg.Client({ ...pgc, database: 'postgres' });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${catalogDb}"`).finally(() => admin.end());
  const catalogUri = `jdbc:postgresql://${pgc.host}:${pgc.port}/${catalogDb}`;
  const airbyte = new AirbyteStandIn();
  const url = await airbyte.start();
  const standIn = new StandIn({ kubeconfig: k8sServer().kubeconfig, namespace: ns });
  await standIn.start();
  // What the compiled tree's kubernetes/README.md tells the deployer to create: the Secret and the ConfigMap of env() values.
  const core = kubeConfig().makeApiClient(k8s.CoreV1Api);
  // Every key the README lists (the scheduled applies' CronJob reads the sources' too).
  const secret = {
    AWS_ACCESS_KEY_ID: aws.AWS_ACCESS_KEY_ID,
    AWS_SECRET_ACCESS_KEY: aws.AWS_SECRET_ACCESS_KEY,
    CUSTOMER_DB_PASSWORD: 'customer-pw-never-printed',
    ICEBERG_CATALOG_PASSWORD: pgc.password!,
    SUPPORT_API_TOKEN: 'ticket-token-never-printed',
    TRANSACTIONS_DB_PASSWORD: 'orders-pw-never-printed',
  };
  await core.createNamespacedSecret({ namespace: ns, body: { metadata: { name: 'churn-secrets' }, stringData: secret } });
  const tc = ensureToolchain();
  if (!tc.ok) throw new Error(tc.reason);
  const mlflow = await startMlflow(tc.tools, join(dir, 'mlflow'));
  await core.createNamespacedConfigMap({
    namespace: ns,
    body: { metadata: { name: 'churn-env' }, data: { S3_ENDPOINT: s3.endpoint, MLFLOW_TRACKING_URI: mlflow.url } },
  });
  const store = new S3ObjectStore({ bucket, prefix: 'lake' }, { endpoint: s3.endpoint, pathStyle: true });
  const env = {
    ...aws,
    HOME: dir,
    KUBECONFIG: k8sServer().kubeconfig,
    AIRBYTE_URL: url,
    AIRBYTE_WORKSPACE_ID: airbyte.workspaceId,
    ASGARD_AIRBYTE_POLL_MS: '20',
    CUSTOMER_DB_URL: svc.CUSTOMER_DB_URL,
    CUSTOMER_DB_PASSWORD: 'customer-pw-never-printed',
    TRANSACTIONS_DB_URL: svc.TRANSACTIONS_DB_URL,
    TRANSACTIONS_DB_PASSWORD: 'orders-pw-never-printed',
    SUPPORT_API_URL: svc.SUPPORT_API_URL,
    SUPPORT_API_TOKEN: 'ticket-token-never-printed',
    ICEBERG_CATALOG_PASSWORD: pgc.password!,
    S3_ENDPOINT: s3.endpoint,
  };
  w = { ns, bucket, dir, catalogDb, catalogUri, airbyte, standIn, store, env, secret, mlflow };
  return w;
}

const apply = () => cli(['apply', 'churn.asg', '--profile', 'kubernetes', '--yes', '--format', 'json'], { cwd: w!.dir, env: w!.env });

async function remoteState(): Promise<PipelineState> {
  const got = await w!.store.get('_asgard/state/churn.json');
  return JSON.parse(got!.body.toString()) as PipelineState;
}

/** The namespaced kinds asgard compiles (the Namespace aside). */
const KINDS = [
  ['v1', 'ServiceAccount'],
  ['rbac.authorization.k8s.io/v1', 'Role'],
  ['rbac.authorization.k8s.io/v1', 'RoleBinding'],
  ['v1', 'ConfigMap'],
  ['v1', 'Service'],
  ['apps/v1', 'Deployment'],
  ['batch/v1', 'CronJob'],
  ['batch/v1', 'Job'],
  ['sparkoperator.k8s.io/v1beta2', 'SparkApplication'],
] as const;

/** The pipeline's objects in the namespace (asgard's label): `Kind/name@resourceVersion`. */
async function objects(): Promise<string[]> {
  const api = k8s.KubernetesObjectApi.makeApiClient(kubeConfig());
  const out: string[] = [];
  for (const [v, kind] of KINDS)
    for (const o of (await api.list(v, kind, w!.ns, undefined, undefined, undefined, undefined, 'asgard.io/pipeline=churn')).items)
      out.push(`${kind}/${o.metadata!.name}@${o.metadata!.resourceVersion}`);
  return out.sort();
}

const names = (xs: readonly string[]) => xs.map((x) => x.split('@')[0]);

/** What `asgard compile churn.asg --profile kubernetes` writes for the spec now: `Kind/name` of every namespaced object. */
async function compiled(out: string): Promise<string[]> {
  const r = await cli(['compile', 'churn.asg', '--profile', 'kubernetes', '--out', out], { cwd: w!.dir, env: w!.env });
  expect(r.code, r.stderr).toBe(0);
  const files = new Map<string, string>();
  for (const f of readdirSync(join(w!.dir, out), { recursive: true, encoding: 'utf8' }))
    if (/\.ya?ml$/.test(f)) files.set(f, readFileSync(join(w!.dir, out, f), 'utf8'));
  return kubeObjects(files)
    .map(({ object: o }) => `${o.kind}/${o.metadata.name}`)
    .filter((x) => !x.startsWith('Namespace/'))
    .sort();
}

async function keysUnder(prefix: string): Promise<string[]> {
  const c = rawClient();
  try {
    const r = await c.send(new ListObjectsV2Command({ Bucket: w!.bucket, Prefix: `lake/${prefix}` }));
    return (r.Contents ?? []).map((o) => o.Key!);
  } finally {
    c.destroy();
  }
}

const ALL_NODES = [
  'bronze.customers',
  'bronze.support_tickets',
  'bronze.transactions',
  'features.customer_churn_features',
  'gold.churn_labels',
  'gold.customer_metrics',
  'serve.churn_api',
  'silver.customers_cleaned',
  'silver.support_tickets_cleaned',
  'silver.transactions_cleaned',
  'train.churn_predictor',
];

// Three Spark runs, two dbt Jobs, a feature Job and a training Job, one at a time on a loaded two-core machine: tens of minutes.
describe('apply pipelines/churn.asg --profile kubernetes (Spark and Jobs run for real, statuses played)', { timeout: 3_600_000 }, () => {
  it('submits every changed node in DAG order, its tables land in the catalog on S3 and the state in S3; a second apply submits nothing; a removed node has its objects deleted', async () => {
    await world();
    const { customers } = await putBronze(w!.bucket, w!.dir);
    writeFileSync(join(w!.dir, 'churn.asg'), churnSpec(w!.ns, w!.bucket, useAwsEnv().endpoint, w!.catalogUri, []));
    // The custom connector the tree's airbyte/README.md asks for: its manifest published, its definition id exported.
    const tree = await compiled('build');
    const readme = readFileSync(join(w!.dir, 'build', 'kubernetes', 'README.md'), 'utf8');
    expect(/- `churn-secrets`: (.*)/.exec(readme)?.[1].match(/[A-Z][A-Z0-9_]+/g)).toEqual(Object.keys(w!.secret));
    const manifest = load(readFileSync(join(w!.dir, 'build', 'airbyte', 'custom', 'support_api.manifest.yaml'), 'utf8')) as Record<string, unknown>;
    w!.env.AIRBYTE_DEFINITION_ID_SUPPORT_API = w!.airbyte.publishDeclarative(manifest);

    const r = await apply();
    expect(r.stderr).not.toMatch(/at .*\.ts:/);
    const out = JSON.parse(r.stdout) as { ok: boolean; nodes: { node: string; status: string; error?: string }[] };
    expect(
      out.nodes.filter((n) => n.status !== 'succeeded'),
      r.stderr,
    ).toEqual([]);
    expect(r.code).toBe(0);
    expect(out.nodes.map((n) => n.node).sort()).toEqual(ALL_NODES);
    // Every run created once, in DAG order: each created only after the runs it reads from had
    // finished (the stand-in's spans: seen created → final status written).
    expect([...w!.standIn.submitted].sort()).toEqual([
      'Job/churn-dbt-churn-labels',
      'Job/churn-dbt-customer-metrics',
      'Job/churn-features-customer-churn-features',
      'Job/churn-train-churn-predictor',
      'SparkApplication/churn-customers-cleaned',
      'SparkApplication/churn-support-tickets-cleaned',
      'SparkApplication/churn-transactions-cleaned',
    ]);
    const span = (run: string) => w!.standIn.spans.find((x) => x.run === run)!;
    const createdAfter = (run: string, ...upstream: string[]) => {
      for (const u of upstream) expect(span(run).from, `${run} created after ${u} finished`).toBeGreaterThan(span(u).to);
    };
    const cleansed = ['SparkApplication/churn-customers-cleaned', 'SparkApplication/churn-transactions-cleaned'];
    createdAfter('Job/churn-dbt-churn-labels', ...cleansed);
    createdAfter('Job/churn-dbt-customer-metrics', ...cleansed, 'SparkApplication/churn-support-tickets-cleaned');
    createdAfter('Job/churn-features-customer-churn-features', 'Job/churn-dbt-customer-metrics');
    createdAfter('Job/churn-train-churn-predictor', 'Job/churn-features-customer-churn-features', 'Job/churn-dbt-churn-labels');
    expect(w!.standIn.played.filter((p) => / (FAILED|Failed)$|stand-in error/.test(p))).toEqual([]);
    expect(w!.airbyte.invalid).toEqual([]);

    // The tables, read back through the catalog by another engine (pyiceberg), their files on the S3 server.
    const aws = awsEnv();
    const pgc = pgConfig({ url: services().CUSTOMER_DB_URL, password: services().CUSTOMER_DB_PASSWORD });
    const py = pyicebergAt(
      `postgresql+psycopg2://${encodeURIComponent(pgc.user!)}:${encodeURIComponent(pgc.password!)}@${pgc.host}:${pgc.port}/${w!.catalogDb}`,
      {
        's3.endpoint': useAwsEnv().endpoint,
        's3.path-style-access': 'true',
        's3.access-key-id': aws.AWS_ACCESS_KEY_ID,
        's3.secret-access-key': aws.AWS_SECRET_ACCESS_KEY,
        's3.region': 'us-east-1',
      },
      'silver.customers_cleaned',
      'gold.customer_metrics',
      'gold.churn_labels',
      'features.customer_churn_features',
    );
    expect(py.tables).toEqual([
      'features.customer_churn_features',
      'gold.churn_labels',
      'gold.customer_metrics',
      'silver.customers_cleaned',
      'silver.support_tickets_cleaned',
      'silver.transactions_cleaned',
    ]);
    const [silver, metrics, labels, online] = py.reads;
    expect(silver.rows.length).toBeGreaterThan(customers / 2);
    expect(silver.rows.length).toBeLessThanOrEqual(customers);
    // Two as-of dates per customer in gold; the online table keeps each customer's latest row.
    const metricCustomers = new Set(metrics.rows.map((x) => x.customer_id));
    expect(online.rows.length).toBe(metricCustomers.size);
    expect(new Set(online.rows.map((x) => x.updated_at))).toEqual(new Set(['2025-11-11 00:00:00.000000']));
    expect(labels.rows.length).toBeGreaterThan(0);
    expect(new Set(labels.rows.map((x) => x.churned))).toEqual(new Set([0, 1]));
    for (const prefix of ['silver/customers_cleaned/', 'gold/customer_metrics/', 'gold/churn_labels/', 'features/customer_churn_features/'])
      expect((await keysUnder(prefix)).filter((k) => k.endsWith('.parquet')).length, prefix).toBeGreaterThan(0);

    // The training Job's registered version on the MLflow server; `asgard serve --profile kubernetes`
    // (the serving Deployment's command, which no kubelet runs here) pulls the registry beside the
    // warehouse and scores with the version the Job promoted.
    const search = await fetch(`${w!.mlflow.url}/api/2.0/mlflow/model-versions/search?filter=${encodeURIComponent("name='customer_churn_predictor'")}`);
    const mlflowVersions = ((await search.json()) as { model_versions?: { status: string }[] }).model_versions ?? [];
    expect(mlflowVersions.map((v) => v.status)).toEqual(['READY']);
    const serve = await startAsgardServe(
      [join(repoRoot, 'bin', 'asgard.js'), 'serve', 'churn.asg', '--profile', 'kubernetes'],
      { ...process.env, ...w!.env },
      w!.dir,
      join(w!.dir, 'serve.log'),
    );
    try {
      const res = await fetch(`${serve.url}/mlops/inference`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          model_name: 'customer_churn_predictor',
          inputs: [CHURN_INPUT],
        }),
      });
      const body = (await res.json()) as { model_version?: number; predictions?: Record<string, unknown>[] };
      expect(res.status, JSON.stringify(body)).toBe(200);
      expect(body.model_version).toBe(1);
      expect(body.predictions).toHaveLength(1);
      expect(Object.keys(body.predictions![0])).toContain('churn_probability');
    } finally {
      await serve.stop();
    }

    // State and lock in S3; no secret value anywhere it could leak.
    const state = await remoteState();
    expect(Object.keys(state.nodes).sort()).toEqual(ALL_NODES);
    expect(await w!.store.get('_asgard/locks/churn.lock')).toBeUndefined();
    expect(r.stdout + r.stderr + JSON.stringify(state)).not.toMatch(/never-printed/);

    // In the cluster: every object the tree has (the namespace aside), and nothing else of the pipeline's.
    const before = await objects();
    expect(names(before)).toEqual(tree);

    // A second apply: nothing changed, nothing submitted, no object written (every resourceVersion as it was).
    const again = await apply();
    expect(again.code, again.stderr).toBe(0);
    expect((JSON.parse(again.stdout) as { nodes: { status: string }[] }).nodes.every((n) => n.status === 'unchanged')).toBe(true);
    expect(w!.standIn.submitted).toHaveLength(7);
    expect(await objects()).toEqual(before);

    // The feature view removed from the spec: its Job is deleted (found by asgard's labels), and so
    // are the objects only feature views needed (their ConfigMaps); its node leaves the state. The
    // cluster holds what the new spec compiles to, no more.
    writeFileSync(join(w!.dir, 'churn.asg'), churnSpec(w!.ns, w!.bucket, useAwsEnv().endpoint, w!.catalogUri, ['train', 'serve', 'features']));
    const removed = await apply();
    expect(removed.code, removed.stderr).toBe(0);
    const left = names(await objects());
    expect(left).not.toContain('Job/churn-features-customer-churn-features');
    expect(left).not.toContain('ConfigMap/churn-feature-jobs');
    expect(left).toEqual(await compiled('build-removed'));
    expect(Object.keys((await remoteState()).nodes)).not.toContain('features.customer_churn_features');
    expect(w!.standIn.submitted).toHaveLength(7);
  });
});
