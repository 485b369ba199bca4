// PENDING (not run by vitest: *.pending.ts). Its one run (session 6, load ~40, 17 min) got as far as:
// both Airbyte syncs of the database sources, silver.customers_cleaned and silver.transactions_cleaned
// COMPLETED on the real Spark cluster through the PostgreSQL catalog, gold.churn_labels' dbt Job
// Complete; bronze.support_tickets failed before any run: "airbyte/sources/support_api.yaml:
// ${AIRBYTE_DEFINITION_ID_SUPPORT_API} has no value" — the declarative (custom) source needs its
// definition created in the Airbyte test server and its id in the environment, which this test does
// not do yet; so support_tickets_cleaned, customer_metrics and the feature view were skipped. Next:
// create the definition in AirbyteStandIn, export its id, rename to .test.ts; training (landed by
// kfig, ba1b9a7) and serve can then stay in the spec (needs an MLflow server as training-run does).
//
// #14's Done-when on pipelines/churn.asg: `asgard apply churn.asg --profile kubernetes --yes` as a
// user runs it (a CLI process) against the REAL API server (kube-apiserver + etcd), the REAL S3
// server (tables, state, lock, Spark job files) and an Iceberg SQL catalog in a database of its own
// on the REAL PostgreSQL. churn's nodes are as in pipelines/churn.asg; its kubernetes profile is
// pointed at these services (namespace, bucket, S3 endpoint, the catalog's JDBC URL, Airbyte, job
// timeout), nothing else changed. The stand-in (./stand-in.ts) plays the operator's and the Job
// controller's status but RUNS each SparkApplication on the local Spark cluster and each Job's
// container with the .venv's tools, so the three cleanses (Spark), both gold models (dbt Jobs) and
// the feature view (its Job) really produce their tables. Airbyte is played (./airbyte-server.ts): the
// test puts bronze where Airbyte's S3 destination lands it, Parquet per stream, from the demo
// generator's data.
//
// Where it stops: at the training node. No compiled training Job has run to the end here yet (it
// needs s3fs, an MLflow tracking URI and the training image's packages in the stand-in), so the spec
// applied here leaves out `train churn_predictor` and `serve churn_api`, which needs its model.

import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as k8s from '@kubernetes/client-node';
import pg from 'pg';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { S3ObjectStore } from '../../src/warehouse/s3-store.js';
import type { PipelineState } from '../../src/planner/state-store.js';
import { generate, transactionRow } from '../../demo/generate.js';
import { pgConfig } from '../../demo/load.js';
import { openDuck } from '../../src/engine/duckdb.js';
import { awsEnv, freshBucket, rawClient, useAwsEnv } from '../helpers/s3.js';
import { services } from '../helpers/services.js';
import { pyicebergAt } from '../helpers/pyiceberg.js';
import { deleteNamespace, freshNamespace, k8sServer, kubeConfig } from '../helpers/k8s.js';
import { CHURN } from '../targets/churn.js';
import { cli } from '../cli/helpers.js';
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
  await core.createNamespacedSecret({
    namespace: ns,
    body: {
      metadata: { name: 'churn-secrets' },
      stringData: { AWS_ACCESS_KEY_ID: aws.AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY: aws.AWS_SECRET_ACCESS_KEY, ICEBERG_CATALOG_PASSWORD: pgc.password! },
    },
  });
  await core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'churn-env' }, data: { S3_ENDPOINT: s3.endpoint } } });
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
  w = { ns, bucket, dir, catalogDb, catalogUri, airbyte, standIn, store, env };
  return w;
}

const apply = () => cli(['apply', 'churn.asg', '--profile', 'kubernetes', '--yes', '--format', 'json'], { cwd: w!.dir, env: w!.env });

async function remoteState(): Promise<PipelineState> {
  const got = await w!.store.get('_asgard/state/churn.json');
  return JSON.parse(got!.body.toString()) as PipelineState;
}

/** The runs in the namespace: `Kind/name@resourceVersion`. */
async function runs(): Promise<string[]> {
  const api = k8s.KubernetesObjectApi.makeApiClient(kubeConfig());
  const out: string[] = [];
  for (const [v, kind] of [
    ['sparkoperator.k8s.io/v1beta2', 'SparkApplication'],
    ['batch/v1', 'Job'],
  ])
    for (const o of (await api.list(v, kind, w!.ns)).items) out.push(`${kind}/${o.metadata!.name}@${o.metadata!.resourceVersion}`);
  return out.sort();
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

const UPSTREAM_OF_TRAINING = [
  'bronze.customers',
  'bronze.support_tickets',
  'bronze.transactions',
  'features.customer_churn_features',
  'gold.churn_labels',
  'gold.customer_metrics',
  'silver.customers_cleaned',
  'silver.support_tickets_cleaned',
  'silver.transactions_cleaned',
];

// Three Spark runs, two dbt Jobs and a feature Job, one at a time on a loaded two-core machine: tens of minutes.
describe('apply pipelines/churn.asg --profile kubernetes (Spark and Jobs run for real, statuses played)', { timeout: 3_600_000 }, () => {
  it('submits every changed node in DAG order, its tables land in the catalog on S3 and the state in S3; a second apply submits nothing; a removed node has its objects deleted', async () => {
    await world();
    const { customers } = await putBronze(w!.bucket, w!.dir);
    writeFileSync(join(w!.dir, 'churn.asg'), churnSpec(w!.ns, w!.bucket, useAwsEnv().endpoint, w!.catalogUri, ['train', 'serve']));

    const r = await apply();
    expect(r.stderr).not.toMatch(/at .*\.ts:/);
    const out = JSON.parse(r.stdout) as { ok: boolean; nodes: { node: string; status: string; error?: string }[] };
    expect(
      out.nodes.filter((n) => n.status !== 'succeeded'),
      r.stderr,
    ).toEqual([]);
    expect(r.code).toBe(0);
    expect(out.nodes.map((n) => n.node).sort()).toEqual(UPSTREAM_OF_TRAINING);
    // Every run created once, in DAG order: the cleanses (Spark), then the gold models' dbt Jobs, then the feature view's Job.
    const order = w!.standIn.submitted;
    expect([...order].sort()).toEqual([
      'Job/churn-dbt-churn-labels',
      'Job/churn-dbt-customer-metrics',
      'Job/churn-features-customer-churn-features',
      'SparkApplication/churn-customers-cleaned',
      'SparkApplication/churn-support-tickets-cleaned',
      'SparkApplication/churn-transactions-cleaned',
    ]);
    const at = (run: string) => order.indexOf(run);
    const lastSpark = Math.max(...order.filter((x) => x.startsWith('SparkApplication/')).map(at));
    expect(at('Job/churn-dbt-customer-metrics')).toBeGreaterThan(lastSpark);
    expect(at('Job/churn-dbt-churn-labels')).toBeGreaterThan(lastSpark);
    expect(at('Job/churn-features-customer-churn-features')).toBeGreaterThan(at('Job/churn-dbt-customer-metrics'));
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

    // State and lock in S3; no secret value anywhere it could leak.
    const state = await remoteState();
    expect(Object.keys(state.nodes).sort()).toEqual(UPSTREAM_OF_TRAINING);
    expect(await w!.store.get('_asgard/locks/churn.lock')).toBeUndefined();
    expect(r.stdout + r.stderr + JSON.stringify(state)).not.toMatch(/never-printed/);

    // A second apply: nothing changed, nothing submitted, no run touched.
    const before = await runs();
    const again = await apply();
    expect(again.code, again.stderr).toBe(0);
    expect((JSON.parse(again.stdout) as { nodes: { status: string }[] }).nodes.every((n) => n.status === 'unchanged')).toBe(true);
    expect(w!.standIn.submitted).toHaveLength(6);
    expect(await runs()).toEqual(before);

    // The feature view removed from the spec: its Job is deleted (found by asgard's labels), its node leaves the state.
    writeFileSync(join(w!.dir, 'churn.asg'), churnSpec(w!.ns, w!.bucket, useAwsEnv().endpoint, w!.catalogUri, ['train', 'serve', 'features']));
    const removed = await apply();
    expect(removed.code, removed.stderr).toBe(0);
    expect((await runs()).map((x) => x.split('@')[0])).toEqual(
      before.map((x) => x.split('@')[0]).filter((x) => x !== 'Job/churn-features-customer-churn-features'),
    );
    expect(Object.keys((await remoteState()).nodes)).not.toContain('features.customer_churn_features');
    expect(w!.standIn.submitted).toHaveLength(6);
  });
});
