// `asgard apply SPEC --profile kubernetes` against the REAL API server (kube-apiserver + etcd,
// scripts/k8s-apiserver.sh), the real S3 server (state, lock, Spark job files) and, for Spark runs,
// the real Spark cluster. What is played: the spark-operator's and the kubelet's status updates
// (./stand-in.ts) and Airbyte (./airbyte-server.ts, every request checked against its OpenAPI).
// A non-churn pipeline: one Airbyte-synced source and two cleanses on Spark, the second downstream
// (and, where a test says so, a second source that nothing reads).

import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import * as k8s from '@kubernetes/client-node';
import { S3ObjectStore } from '../../src/warehouse/s3-store.js';
import { ObjectLock } from '../../src/warehouse/lock.js';
import type { PipelineState } from '../../src/planner/state-store.js';
import { awsEnv, freshBucket, useAwsEnv } from '../helpers/s3.js';
import { deleteNamespace, freshNamespace, k8sServer, kubeConfig, privateK8sServer, type K8sEnv, type PrivateK8s } from '../helpers/k8s.js';
import { cli } from '../cli/helpers.js';
import { Cluster, loadKubeConfig } from '../../src/kube/cluster.js';
import { runToCompletion } from '../../src/kube/run.js';
import type { KubeObject } from '../../src/targets/k8s-objects.js';
import { AirbyteStandIn } from './airbyte-server.js';
import { StandIn, type StandInOptions } from './stand-in.js';

const SPARK_APP = 'sparkoperator.k8s.io/v1beta2';

function spec(
  ns: string,
  bucket: string,
  endpoint: string,
  opts: { withTop?: boolean; timeout?: number; withModel?: boolean; catalog?: boolean; crm?: boolean } = {},
): string {
  return `pipeline shop {
  warehouse = "./.asgard/warehouse"

  source shop_db postgres {
    url      = env("SHOP_DB_URL", "postgres://shop@127.0.0.1:55432/shop")
    password = secret("SHOP_DB_PASSWORD")
    stream orders {
      primary_key = order_id
      cursor      = placed_at
      columns     = { order_id = "BIGINT"  country = "VARCHAR"  amount = "DOUBLE"  placed_at = "TIMESTAMP" }
    }
  }

${
  opts.crm
    ? `
  source shop_crm postgres {
    url      = env("SHOP_DB_URL", "postgres://shop@127.0.0.1:55432/shop")
    password = secret("SHOP_DB_PASSWORD")
    stream accounts {
      primary_key = account_id
      columns     = { account_id = "BIGINT"  name = "VARCHAR" }
    }
  }
`
    : ''
}
  cleanse orders_clean {
    sql """ SELECT order_id, UPPER(country) AS country, amount, placed_at FROM bronze.orders WHERE amount > 0 """
    check not_null(order_id)
  }
${
  opts.withTop === false
    ? ''
    : `
  cleanse big_orders {
    sql """ SELECT order_id, country, amount FROM silver.orders_clean WHERE amount > 100 """
  }
`
}${
  opts.withModel
    ? `
  model country_totals {
    materialized = table
    sql """ SELECT country, COUNT(*) AS orders FROM silver.orders_clean GROUP BY country """
  }
`
    : ''
}
  profile kubernetes {
    namespace     = "${ns}"
    image         = "ghcr.io/asgard-data/asgard:0.1.0"
    spark_image   = "apache/spark:4.0.1-python3"
    spark_version = "4.0.1"
    warehouse     = "s3a://${bucket}/lake"
    s3_endpoint   = env("SHOP_S3_ENDPOINT", "${endpoint}")
    airbyte_url          = env("AIRBYTE_URL")
    airbyte_workspace_id = env("AIRBYTE_WORKSPACE_ID")
    job_timeout   = ${opts.timeout ?? 600}${opts.catalog ? '\n    catalog_type  = "jdbc"\n    catalog_uri   = "jdbc:sqlite:/tmp/shop-catalog.db"' : ''}
  }
}
`;
}

interface World {
  ns: string;
  bucket: string;
  dir: string;
  airbyte: AirbyteStandIn;
  standIn?: StandIn;
  store: S3ObjectStore;
  env: Record<string, string>;
  kubeconfig: string;
}

let w: World;
let endpoint: string;

beforeAll(async () => {
  const s3 = useAwsEnv();
  endpoint = s3.endpoint;
  k8sServer();
}, 3_700_000);

async function world(
  standIn: Omit<StandInOptions, 'kubeconfig' | 'namespace'>,
  specOpts: Parameters<typeof spec>[3] = {},
  server: K8sEnv = k8sServer(),
): Promise<World> {
  const ns = await freshNamespace('apply', server.kubeconfig);
  const bucket = await freshBucket('k8s');
  const dir = mkdtempSync(join(tmpdir(), 'asgard-k8s-'));
  writeFileSync(join(dir, 'shop.asg'), spec(ns, bucket, endpoint, specOpts));
  const airbyte = new AirbyteStandIn();
  const url = await airbyte.start();
  const st = new StandIn({ kubeconfig: server.kubeconfig, namespace: ns, ...standIn });
  await st.start();
  // What the tree's README tells the deployer to create: the Secret the Spark driver's env refers to.
  await kubeConfig(server.kubeconfig)
    .makeApiClient(k8s.CoreV1Api)
    .createNamespacedSecret({
      namespace: ns,
      body: {
        metadata: { name: 'shop-secrets' },
        stringData: { AWS_ACCESS_KEY_ID: awsEnv().AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY: awsEnv().AWS_SECRET_ACCESS_KEY },
      },
    });
  const store = new S3ObjectStore({ bucket, prefix: 'lake' }, { endpoint, pathStyle: true });
  const env = {
    ...awsEnv(),
    HOME: dir,
    KUBECONFIG: server.kubeconfig,
    AIRBYTE_URL: url,
    AIRBYTE_WORKSPACE_ID: airbyte.workspaceId,
    ASGARD_AIRBYTE_POLL_MS: '20',
    SHOP_DB_PASSWORD: 'shop-pw-never-printed',
    S3_ENDPOINT: endpoint,
  };
  w = { ns, bucket, dir, airbyte, standIn: st, store, env, kubeconfig: server.kubeconfig };
  return w;
}

afterEach(async () => {
  await w?.standIn?.stop();
  await w?.airbyte.stop();
  if (w?.ns) await deleteNamespace(w.ns, w.kubeconfig);
});

afterAll(() => undefined);

const apply = (extra: string[] = [], env: Record<string, string> = {}) =>
  cli(['apply', 'shop.asg', '--profile', 'kubernetes', '--yes', '--format', 'json', ...extra], { cwd: w.dir, env: { ...w.env, ...env } });

async function sparkApps(): Promise<any[]> {
  const api = k8s.KubernetesObjectApi.makeApiClient(kubeConfig(w.kubeconfig));
  return (await api.list(SPARK_APP, 'SparkApplication', w.ns)).items as any[];
}

async function remoteState(): Promise<PipelineState | undefined> {
  const got = await w.store.get('_asgard/state/shop.json');
  return got ? (JSON.parse(got.body.toString()) as PipelineState) : undefined;
}

// Each apply is a CLI process against four servers: minutes on a loaded two-core machine.
describe('apply --profile kubernetes (operator status played)', { timeout: 600_000 }, () => {
  it('submits every changed node in DAG order, records the state in S3; a second apply writes no object', async () => {
    await world({ sparkApplications: () => 'complete' });
    const r = await apply();
    expect(r.stderr).not.toMatch(/Error:|at .*\.ts:/);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as { ok: boolean; nodes: { node: string; status: string; seconds: number }[] };
    expect(out.ok).toBe(true);
    // The embedded apply's shape (src/cli/views/apply.ts): {ok, nodes: [{node, status, rows?, seconds, error?}]}.
    expect(Object.keys(out)).toEqual(['ok', 'nodes']);
    for (const n of out.nodes) {
      expect(Object.keys(n).filter((k) => !['node', 'status', 'rows', 'seconds', 'error', 'maintenance'].includes(k))).toEqual([]);
      expect(typeof n.seconds).toBe('number');
    }
    expect(out.nodes.map((n) => [n.node, n.status])).toEqual([
      ['bronze.orders', 'succeeded'],
      ['silver.orders_clean', 'succeeded'],
      ['silver.big_orders', 'succeeded'],
    ]);
    // The stand-in saw the applications in DAG order, and the source was synced through Airbyte first.
    expect(w.standIn!.submitted).toEqual(['SparkApplication/shop-orders-clean', 'SparkApplication/shop-big-orders']);
    expect(w.airbyte.invalid).toEqual([]);
    expect(w.airbyte.requests.indexOf('POST /jobs')).toBeGreaterThanOrEqual(0);
    const apps = await sparkApps();
    expect(apps.map((a) => [a.metadata.name, a.metadata.labels['asgard.io/node'], a.status.applicationState.state]).sort()).toEqual([
      ['shop-big-orders', 'silver.big_orders', 'COMPLETED'],
      ['shop-orders-clean', 'silver.orders_clean', 'COMPLETED'],
    ]);
    for (const a of apps) expect(a.metadata.managedFields.some((f: any) => f.manager === 'asgard' && f.operation === 'Apply')).toBe(true);
    // The job files the applications name were uploaded where they say.
    expect((await w.store.get('_asgard/shop/spark/runner.py'))?.body.toString()).toMatch(/argparse/);
    expect(await w.store.get('_asgard/shop/spark/jobs/orders_clean.sql')).toBeDefined();
    // State and lock live in S3; the lock is released.
    const state = (await remoteState())!;
    expect(Object.keys(state.nodes).sort()).toEqual(['bronze.orders', 'silver.big_orders', 'silver.orders_clean']);
    expect(await w.store.get('_asgard/locks/shop.lock')).toBeUndefined();
    // No secret value anywhere it could leak.
    expect(r.stdout + r.stderr + JSON.stringify(state)).not.toContain('shop-pw-never-printed');

    // Second apply: nothing to do, nothing submitted, no object written.
    const versions = apps.map((a) => `${a.metadata.name}@${a.metadata.resourceVersion}`).sort();
    const airbyteCalls = w.airbyte.requests.length;
    const again = await apply();
    expect(again.code).toBe(0);
    expect((JSON.parse(again.stdout) as { nodes: { status: string }[] }).nodes.every((n) => n.status === 'unchanged')).toBe(true);
    expect((await sparkApps()).map((a) => `${a.metadata.name}@${a.metadata.resourceVersion}`).sort()).toEqual(versions);
    expect(w.standIn!.submitted).toHaveLength(2);
    expect(w.airbyte.requests.length).toBe(airbyteCalls);
  });

  it('an object of an older plan is replaced, not duplicated; a removed node has its objects deleted, a removed source its Airbyte source and connection', async () => {
    await world({ sparkApplications: () => 'complete' }, { crm: true });
    const first = await apply();
    expect(first.code, first.stderr).toBe(0);
    const airbyteNames = () => [w.airbyte.sources, w.airbyte.connections, w.airbyte.destinations].map((m) => [...m.values()].map((x) => x.name).sort());
    expect(airbyteNames()).toEqual([['shop-shop_crm', 'shop-shop_db'], ['shop-shop_crm-to-bronze', 'shop-shop_db-to-bronze'], ['shop-bronze']]);
    const before = new Map((await sparkApps()).map((a) => [a.metadata.name, a.metadata.uid]));
    // A changed cleanse: its application is replaced by a new run (new uid, same name, one object).
    writeFileSync(join(w.dir, 'shop.asg'), spec(w.ns, w.bucket, endpoint, { crm: true }).replace('WHERE amount > 0', 'WHERE amount >= 1'));
    const r = await apply();
    expect(r.code, r.stderr).toBe(0);
    const after = await sparkApps();
    expect(after.map((a) => a.metadata.name).sort()).toEqual(['shop-big-orders', 'shop-orders-clean']);
    expect(after.find((a) => a.metadata.name === 'shop-orders-clean').metadata.uid).not.toBe(before.get('shop-orders-clean'));
    // Removing big_orders from the spec deletes its SparkApplication (found by asgard's labels).
    writeFileSync(join(w.dir, 'shop.asg'), spec(w.ns, w.bucket, endpoint, { withTop: false }).replace('WHERE amount > 0', 'WHERE amount >= 1'));
    // and removing the source shop_crm deletes its Airbyte connection and source (found by asgard's
    // names in the workspace); the destination stays for shop_db.
    const removed = await apply();
    expect(removed.code, removed.stderr).toBe(0);
    expect((await sparkApps()).map((a) => a.metadata.name)).toEqual(['shop-orders-clean']);
    expect(Object.keys((await remoteState())!.nodes).sort()).toEqual(['bronze.orders', 'silver.orders_clean']);
    expect(airbyteNames()).toEqual([['shop-shop_db'], ['shop-shop_db-to-bronze'], ['shop-bronze']]);
    expect(removed.stderr).toContain('deleted Airbyte connection shop-shop_crm-to-bronze (its source is no longer in the spec)');
    expect(w.airbyte.invalid).toEqual([]);
  });

  it("independent nodes run at once; the pipeline's own objects go with the last node that needs them (the dbt project's ConfigMap with the only model); the spec's ConfigMap follows the spec", async () => {
    // big_orders (a SparkApplication) and country_totals (a dbt Job) both read orders_clean only:
    // each is held running until both were submitted, so the apply finishes only if it runs them at once.
    let bothSubmitted!: () => void;
    const both = new Promise<void>((r) => (bothSubmitted = r));
    let submitted = 0;
    const hold = () => (++submitted === 2 && bothSubmitted(), both);
    await world(
      {
        sparkApplications: (app) => (app.metadata.name === 'shop-big-orders' ? { completeAfter: hold() } : 'complete'),
        jobs: () => ({ outcome: 'completeAfter', after: hold() }),
      },
      { withModel: true, catalog: true },
    );
    expect((await apply()).code).toBe(0);
    expect(submitted).toBe(2);
    const core = kubeConfig(w.kubeconfig).makeApiClient(k8s.CoreV1Api);
    const batch = kubeConfig(w.kubeconfig).makeApiClient(k8s.BatchV1Api);
    const configMaps = async () =>
      (await core.listNamespacedConfigMap({ namespace: w.ns, labelSelector: 'asgard.io/pipeline=shop' })).items.map((c) => c.metadata!.name!).sort();
    const jobs = async () => (await batch.listNamespacedJob({ namespace: w.ns })).items.map((j) => j.metadata!.name!);
    const before = await configMaps();
    expect(before).toContain('shop-dbt-project');
    expect(await jobs()).toEqual(['shop-dbt-country-totals']);

    // The model removed (nothing else changed, so no node runs): its Job goes, and so does the dbt
    // project's ConfigMap, which no node needs now; the pipeline's other objects stay.
    const next = spec(w.ns, w.bucket, endpoint, { catalog: true });
    writeFileSync(join(w.dir, 'shop.asg'), next);
    const r = await apply();
    expect(r.code, r.stderr).toBe(0);
    expect(await jobs()).toEqual([]);
    expect(await configMaps()).toEqual(before.filter((n) => n !== 'shop-dbt-project'));
    expect(r.stderr).toContain(`deleted ConfigMap ${w.ns}/shop-dbt-project (no node of the spec needs it)`);
    expect(r.stderr).toContain(`deleted Job ${w.ns}/shop-dbt-country-totals (its node is no longer in the spec)`);
    // The spec the scheduled applies read (kubernetes/spec.yaml's ConfigMap) is the one without the model.
    expect((await core.readNamespacedConfigMap({ name: 'shop-spec', namespace: w.ns })).data?.['shop.asg']).toBe(next);
    // Nothing left to delete: the next apply writes nothing.
    const again = await apply();
    expect(again.code).toBe(0);
    expect(again.stderr).not.toContain('deleted ');
  });

  it('a failing Spark driver: its log in the error, downstream skipped, exit 1; what the state had stays current', async () => {
    let failing = false;
    await world({
      sparkApplications: (app) =>
        failing && app.metadata.name === 'shop-orders-clean'
          ? { fail: 'Traceback (most recent call last):\nAnalysisException: [TABLE_OR_VIEW_NOT_FOUND] bronze__orders' }
          : 'complete',
    });
    expect((await apply()).code).toBe(0);
    const before = (await remoteState())!.nodes;
    // orders_clean changed, and its new run fails.
    failing = true;
    writeFileSync(join(w.dir, 'shop.asg'), spec(w.ns, w.bucket, endpoint).replace('WHERE amount > 0', 'WHERE amount >= 1'));
    const r = await apply();
    expect(r.code).toBe(1);
    const out = JSON.parse(r.stdout) as { ok: boolean; nodes: { node: string; status: string; error?: string }[] };
    expect(out.ok).toBe(false);
    const failed = out.nodes.find((n) => n.node === 'silver.orders_clean')!;
    expect(failed.status).toBe('failed');
    expect(failed.error).toMatch(/SparkApplication .*\/shop-orders-clean FAILED/);
    expect(failed.error).toMatch(/TABLE_OR_VIEW_NOT_FOUND/);
    expect(out.nodes.find((n) => n.node === 'silver.big_orders')).toMatchObject({ status: 'skipped' });
    expect(w.standIn!.submitted).toEqual(['SparkApplication/shop-orders-clean', 'SparkApplication/shop-big-orders', 'SparkApplication/shop-orders-clean']);
    // The state still records the last good runs (their tables' snapshots stay current: a failed
    // Spark job commits nothing, test/spark/cluster-apply.test.ts), so the next apply runs both again.
    expect((await remoteState())!.nodes).toEqual(before);
  });

  it('a run that never finishes fails at the profile job_timeout, naming it', async () => {
    await world({ sparkApplications: () => 'complete' }, { timeout: 3 });
    await w.standIn!.stop();
    const r = await apply();
    expect(r.code).toBe(1);
    const out = JSON.parse(r.stdout) as { nodes: { node: string; status: string; error?: string }[] };
    expect(out.nodes.find((n) => n.node === 'silver.orders_clean')?.error).toMatch(
      /did not finish within 3 s \(job_timeout of profile kubernetes\); its last state was SUBMITTED/,
    );
  });

  it("a Job that never finishes fails at the profile job_timeout, naming the Job and its last state; the state keeps the node's last good run", async () => {
    let hang = false;
    await world(
      { sparkApplications: () => 'complete', jobs: () => (hang ? { outcome: 'hang' } : { outcome: 'complete' }) },
      { withModel: true, catalog: true },
    );
    const first = await apply();
    expect(first.code, first.stderr).toBe(0);
    const before = (await remoteState())!.nodes['gold.country_totals'];
    expect(before).toBeDefined();
    // Only the model changes, so its dbt Job is the one run of the apply: the timeout is the Job's alone.
    hang = true;
    writeFileSync(
      join(w.dir, 'shop.asg'),
      spec(w.ns, w.bucket, endpoint, { withModel: true, catalog: true, timeout: 3 }).replace('COUNT(*) AS orders', 'COUNT(order_id) AS orders'),
    );
    const r = await apply();
    expect(r.code, r.stderr).toBe(1);
    const out = JSON.parse(r.stdout) as { nodes: { node: string; status: string; error?: string }[] };
    expect(out.nodes.filter((n) => n.status !== 'unchanged').map((n) => [n.node, n.status])).toEqual([['gold.country_totals', 'failed']]);
    expect(out.nodes.find((n) => n.node === 'gold.country_totals')?.error).toMatch(
      new RegExp(
        `^Job ${w.ns}/shop-dbt-country-totals did not finish within 3 s \\(job_timeout of profile kubernetes\\); its last state was (Pending|Running)$`,
      ),
    );
    expect((await remoteState())!.nodes['gold.country_totals']).toEqual(before);
  });
});

describe('a run watched to completion (in process; the operator and the Job controller played)', { timeout: 600_000 }, () => {
  it("shows each state a SparkApplication and a Job pass through; a failed Job's log is in the error; a Job that never finishes times out", async () => {
    await world({
      sparkApplications: () => 'complete',
      jobs: (job) =>
        job.metadata.name === 'shop-bad'
          ? { outcome: 'fail', log: 'Traceback: KeyError: customer_id' }
          : job.metadata.name === 'shop-hang'
            ? { outcome: 'hang' }
            : { outcome: 'complete' },
    });
    const cluster = new Cluster(loadKubeConfig({ KUBECONFIG: w.kubeconfig }));
    const watched = async (o: object, timeoutSeconds = 300) => {
      const states: string[] = [];
      const error = await runToCompletion(cluster, o as KubeObject, {
        timeoutSeconds,
        timeoutSource: 'job_timeout of the test',
        onState: (s) => states.push(s),
      }).then(
        () => undefined,
        (e: Error) => e.message,
      );
      return { states, error };
    };
    const metadata = (name: string) => ({ name, namespace: w.ns, labels: { 'asgard.io/pipeline': 'shop' } });
    const app = {
      apiVersion: SPARK_APP,
      kind: 'SparkApplication',
      metadata: metadata('shop-watched'),
      spec: { type: 'Python', mode: 'cluster', sparkVersion: '4.0.1', mainApplicationFile: 's3a://b/runner.py', driver: {}, executor: {} },
    };
    expect(await watched(app)).toEqual({ states: ['SUBMITTED', 'RUNNING', 'COMPLETED'], error: undefined });
    const job = (name: string) => ({
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: metadata(name),
      spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'main', image: 'busybox', command: ['true'] }] } } },
    });
    expect(await watched(job('shop-good'))).toEqual({ states: ['Pending', 'Running', 'Complete'], error: undefined });
    const bad = await watched(job('shop-bad'));
    expect(bad.states).toEqual(['Pending', 'Running', 'Failed']);
    expect(bad.error).toMatch(new RegExp(`^Job ${w.ns}/shop-bad Failed: BackoffLimitExceeded: Traceback: KeyError: customer_id`));
    // A Job that never finishes: the timeout names itself and where the run stood.
    expect((await watched(job('shop-hang'), 2)).error).toMatch(
      new RegExp(`^Job ${w.ns}/shop-hang did not finish within 2 s \\(job_timeout of the test\\); its last state was (Pending|Running)$`),
    );
  });
});

describe('apply --profile kubernetes: a file source', { timeout: 600_000 }, () => {
  it("uploads the files its globs name to the bucket and syncs them through Airbyte's S3 source", async () => {
    await world({ sparkApplications: () => 'complete' });
    mkdirSync(join(w.dir, 'drops', 'readings'), { recursive: true });
    writeFileSync(join(w.dir, 'drops', 'readings', '2025-01.csv'), 'id,value\n1,0.5\n');
    writeFileSync(join(w.dir, 'drops', 'readings', '2025-02.csv'), 'id,value\n2,0.7\n');
    writeFileSync(join(w.dir, 'drops', 'notes.txt'), 'not a reading');
    writeFileSync(
      join(w.dir, 'shop.asg'),
      spec(w.ns, w.bucket, endpoint)
        .replace(
          /  source shop_db postgres \{[\s\S]*?\n    \}\n  \}\n/,
          `  source drops file {
    path = "./drops"
    stream orders {
      path        = "readings/*.csv"
      primary_key = id
      columns     = { id = "BIGINT"  value = "DOUBLE" }
    }
  }
`,
        )
        .replace(
          'SELECT order_id, UPPER(country) AS country, amount, placed_at FROM bronze.orders WHERE amount > 0',
          'SELECT id AS order_id, value AS amount FROM bronze.orders',
        )
        .replace('check not_null(order_id)', '')
        .replace('SELECT order_id, country, amount FROM silver.orders_clean', 'SELECT order_id, amount FROM silver.orders_clean'),
    );
    const r = await apply();
    expect(r.stderr).not.toMatch(/at .*\.ts:/);
    expect(r.code).toBe(0);
    // The files the glob names, under the source's folder, where the compiled S3 source reads them.
    expect((await w.store.get('_asgard/shop/files/drops/readings/2025-01.csv'))?.body.toString()).toBe('id,value\n1,0.5\n');
    expect((await w.store.get('_asgard/shop/files/drops/readings/2025-02.csv'))?.body.toString()).toBe('id,value\n2,0.7\n');
    expect(await w.store.get('_asgard/shop/files/drops/notes.txt')).toBeUndefined();
    // Every request conformed to the Airbyte API and source-s3's own schema.
    expect(w.airbyte.invalid).toEqual([]);
    const [source] = [...w.airbyte.sources.values()];
    expect(source.configuration).toMatchObject({
      sourceType: 's3',
      bucket: w.bucket,
      streams: [{ name: 'orders', globs: ['lake/_asgard/shop/files/drops/readings/*.csv'], format: { filetype: 'csv' } }],
    });
    expect(w.airbyte.requests).toContain('POST /jobs');
  });
});

describe('plan --profile kubernetes: drift', { timeout: 600_000 }, () => {
  it('an object changed by hand in the cluster shows in the plan as drift; a label added by hand does not', async () => {
    await world({ sparkApplications: () => 'complete' });
    expect((await apply()).code).toBe(0);
    const plan = (extra: string[] = []) => cli(['plan', 'shop.asg', '--profile', 'kubernetes', ...extra], { cwd: w.dir, env: w.env });
    // Right after the apply: no drift.
    const clean = await plan(['--format', 'json']);
    expect(clean.code).toBe(0);
    expect(JSON.parse(clean.stdout).drift).toEqual([]);

    // By hand, as `kubectl edit` would (another field manager): a field asgard owns, a label it never set, a deleted object.
    const kc = kubeConfig(w.kubeconfig);
    const api = k8s.KubernetesObjectApi.makeApiClient(kc);
    const app = { apiVersion: SPARK_APP, kind: 'SparkApplication', metadata: { name: 'shop-orders-clean', namespace: w.ns } };
    await api.patch({ ...app, spec: { driver: { memory: '8g' } } } as any, undefined, undefined, 'kubectl-edit', undefined, k8s.PatchStrategy.MergePatch);
    await api.patch(
      { ...app, metadata: { ...app.metadata, name: 'shop-big-orders', labels: { team: 'data' } } } as any,
      undefined,
      undefined,
      'kubectl-label',
      undefined,
      k8s.PatchStrategy.MergePatch,
    );
    await kc.makeApiClient(k8s.CoreV1Api).deleteNamespacedConfigMap({ name: 'shop-spec', namespace: w.ns });

    const r = await plan(['--format', 'json', '--detailed-exitcode']);
    expect(r.code).toBe(3);
    const drift = JSON.parse(r.stdout).drift as { object: string; node?: string; change: string; fields: string[] }[];
    expect(drift).toEqual([
      { object: `ConfigMap ${w.ns}/shop-spec`, change: 'missing', fields: [] },
      { object: `SparkApplication ${w.ns}/shop-orders-clean`, node: 'silver.orders_clean', change: 'changed', fields: ['spec.driver.memory'] },
    ]);
    const text = await plan();
    expect(text.stdout).toMatch(/Drift: 2 objects in the cluster differ from what asgard applied/);
    expect(text.stdout).toContain(`~ SparkApplication ${w.ns}/shop-orders-clean (node silver.orders_clean): spec.driver.memory`);
    expect(text.stdout).toContain(`- ConfigMap ${w.ns}/shop-spec: missing`);
  });
});

describe('apply --profile kubernetes: access failures', { timeout: 600_000 }, () => {
  it('RBAC forbidding a verb names the verb and the object; the lock is released', async () => {
    await world({ sparkApplications: () => 'complete' });
    const r = await apply([], { KUBECONFIG: k8sServer().limitedKubeconfig });
    expect(r.code).toBe(1);
    const out = JSON.parse(r.stdout) as { nodes: { node: string; error?: string }[] };
    // The first object it may not write: the pipeline's service account (the namespace is skipped:
    // in-cluster, asgard runs inside it without rights on namespaces).
    expect(out.nodes.find((n) => n.node === 'silver.orders_clean')?.error).toMatch(
      new RegExp(`^RBAC forbids patch on ServiceAccount ${w.ns}/asgard: .*cannot patch resource "serviceaccounts"`),
    );
    expect(out.nodes.find((n) => n.node === 'silver.big_orders')).toMatchObject({ status: 'skipped' });
    expect(await w.store.get('_asgard/locks/shop.lock')).toBeUndefined();
  });

  it('an unreachable cluster is named with its address', async () => {
    await world({ sparkApplications: () => 'complete' });
    const bad = join(w.dir, 'nowhere.kubeconfig');
    writeFileSync(
      bad,
      'apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster: {server: "https://127.0.0.1:1"}\nusers:\n- name: u\n  user: {token: x}\ncontexts:\n- name: c\n  context: {cluster: c, user: u}\ncurrent-context: c\n',
    );
    const r = await apply([], { KUBECONFIG: bad });
    expect(r.code).toBe(1);
    expect(r.stdout + r.stderr).toMatch(/cannot reach the Kubernetes API server at https:\/\/127\.0\.0\.1:1/);
  });

  it('a lock held by another apply: exit 1 naming the holder, nothing submitted', async () => {
    await world({ sparkApplications: () => 'complete' });
    const held = await new ObjectLock(w.store, '_asgard/locks/shop.lock', 'shop.asg').acquire({ operation: 'apply' });
    try {
      const r = await apply();
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/lock/i);
      expect(w.standIn!.submitted).toEqual([]);
      expect(await sparkApps()).toEqual([]);
    } finally {
      await held.release();
    }
  });
});

describe('apply --profile kubernetes: the API server goes away mid-watch', { timeout: 900_000 }, () => {
  let server: PrivateK8s | undefined;
  afterAll(async () => {
    await server?.down();
  });

  it('the watch resumes once it is back: the apply completes, each run submitted once, no duplicate object', async () => {
    // An API server of this test's own (own ports and folder): stopping it disturbs no other test.
    server = await privateK8sServer(mkdtempSync(join(tmpdir(), 'asgard-k8s-restart-')));
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    await world({ sparkApplications: (app) => (app.metadata.name === 'shop-orders-clean' ? { completeAfter: held } : 'complete') }, {}, server);
    const running = apply();
    // Wait until asgard is watching orders_clean's run, then take the API server away.
    const deadline = Date.now() + 300_000;
    while (!w.standIn!.played.includes('SparkApplication/shop-orders-clean RUNNING')) {
      if (Date.now() > deadline) throw new Error(`the run never started: ${w.standIn!.played.join(', ')}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    await server.stopApiServer();
    await new Promise((r) => setTimeout(r, 2000));
    await server.start();
    release();
    const r = await running;
    expect(r.stderr).not.toMatch(/at .*\.ts:/);
    expect(r.code, r.stderr + r.stdout).toBe(0);
    const out = JSON.parse(r.stdout) as { nodes: { node: string; status: string }[] };
    expect(out.nodes.map((n) => [n.node, n.status])).toEqual([
      ['bronze.orders', 'succeeded'],
      ['silver.orders_clean', 'succeeded'],
      ['silver.big_orders', 'succeeded'],
    ]);
    // Each application created once (the stand-in sees every creation), one object each, both completed.
    expect(w.standIn!.submitted).toEqual(['SparkApplication/shop-orders-clean', 'SparkApplication/shop-big-orders']);
    expect((await sparkApps()).map((a) => [a.metadata.name, a.status.applicationState.state]).sort()).toEqual([
      ['shop-big-orders', 'COMPLETED'],
      ['shop-orders-clean', 'COMPLETED'],
    ]);
    // The next apply has nothing to do.
    const again = await apply();
    expect(again.code).toBe(0);
    expect((JSON.parse(again.stdout) as { nodes: { status: string }[] }).nodes.every((n) => n.status === 'unchanged')).toBe(true);
    expect(w.standIn!.submitted).toHaveLength(2);
  });
});
