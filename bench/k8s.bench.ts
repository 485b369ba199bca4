// `asgard apply --profile kubernetes` on the local API server (scripts/k8s-apiserver.sh): an 11-node
// pipeline (one Airbyte-synced source and ten cleanses, a chain of five and five beside it) applied
// from a fresh state, with the spark-operator's status played at once by the test stand-in
// (test/k8s/stand-in.ts: COMPLETED as soon as it sees an application); and a no-op apply of the same
// spec (goal < 1 s), whose objects written must be 0 (the API server's resourceVersions of every
// object are compared). Both as a user runs them (`node bin/asgard.js`, process start included).
// Starts what it needs (bench/services.ts).
//
// asgard's own overhead (goal < 2 s) is the apply's wall time less the time some run was in the
// cluster's hands (the union of the stand-in's spans, seen created → final status written: the
// operator's and Spark's time, which a real cluster spends too); the raw wall time is reported as
// well. On a loaded machine compare the CPU time and the round trips per server instead (each CLI
// runs with bench/process-trace.mjs). ASGARD_BENCH_CPU_PROF=DIR writes each CLI's --cpu-prof and
// request trace there. ASGARD_BENCH_K8S_BASE=DIR (another checkout, built) runs its CLI too, round by
// round beside this one's, and reports its figures under `base.` — an A/B in one run, the load alike.

import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import * as k8s from '@kubernetes/client-node';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import type { Figure } from './run.js';
import { median } from './stats.js';
import { k8sApiServer, s3Server } from './services.js';
import { StandIn } from '../test/k8s/stand-in.js';
import { AirbyteStandIn } from '../test/k8s/airbyte-server.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const RUNS = Number(process.env.ASGARD_BENCH_RUNS ?? 3);

export function spec(ns: string, bucket: string, endpoint: string): string {
  const cleanses: string[] = [];
  for (let i = 1; i <= 10; i++) {
    const from = i === 1 || i === 6 ? 'bronze.events' : `silver.step_${i - 1}`;
    cleanses.push(`  cleanse step_${i} {\n    sql """ SELECT id, kind, seen_at FROM ${from} WHERE id > ${i} """\n  }`);
  }
  return `pipeline benchk8s {
  source app_db postgres {
    url      = env("APP_DB_URL", "postgres://app@127.0.0.1:55432/app")
    password = secret("APP_DB_PASSWORD")
    stream events {
      primary_key = id
      cursor      = seen_at
      columns     = { id = "BIGINT"  kind = "VARCHAR"  seen_at = "TIMESTAMP" }
    }
  }
${cleanses.join('\n')}
  profile kubernetes {
    namespace     = "${ns}"
    image         = "ghcr.io/asgard-data/asgard:0.1.0"
    spark_image   = "apache/spark:4.0.1-python3"
    spark_version = "4.0.1"
    warehouse     = "s3a://${bucket}/lake"
    s3_endpoint   = "${endpoint}"
    airbyte_url          = env("AIRBYTE_URL")
    airbyte_workspace_id = env("AIRBYTE_WORKSPACE_ID")
  }
}
`;
}

interface Applied {
  readonly out: string;
  /** Wall time (performance.now() ms of this process) from spawn to exit. */
  readonly from: number;
  readonly to: number;
  /** The CLI's own CPU time (user + system) and the HTTP requests it started (bench/process-trace.mjs). */
  readonly cpuSeconds: number;
  readonly requests: readonly { readonly method: string; readonly host: string; readonly path: string }[];
  /** The connections its node:http/https requests used, by host (each new one to the API server a TLS handshake). */
  readonly sockets: readonly { readonly host: string }[];
}

function apply(dir: string, env: NodeJS.ProcessEnv, root: string): Promise<Applied> {
  const profDir = process.env.ASGARD_BENCH_CPU_PROF;
  const trace = join(profDir ?? dir, `trace-${Date.now()}-${randomBytes(2).toString('hex')}.json`);
  const prof = profDir ? ['--cpu-prof', `--cpu-prof-dir=${profDir}`] : [];
  return new Promise((resolve, reject) => {
    const from = performance.now();
    const argv = [
      ...prof,
      ...(process.env.ASGARD_BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean),
      '--import',
      join(ROOT, 'bench', 'process-trace.mjs'),
      join(root, 'bin', 'asgard.js'),
      'apply',
      'k8s.asg',
      '--profile',
      'kubernetes',
      '--yes',
      '--format',
      'json',
    ];
    const child = spawn(process.execPath, argv, { cwd: dir, env: { ...env, ASGARD_BENCH_TRACE: trace }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('close', (code) => {
      const to = performance.now();
      if (code !== 0) return reject(new Error(`apply exited ${code}: ${err.slice(-2000)} ${out.slice(-2000)}`));
      const t = JSON.parse(readFileSync(trace, 'utf8')) as Pick<Applied, 'cpuSeconds' | 'requests' | 'sockets'>;
      resolve({ out, from, to, cpuSeconds: t.cpuSeconds, requests: t.requests, sockets: t.sockets });
    });
  });
}

/** Milliseconds of [from, to] covered by at least one span. */
function covered(spans: readonly { from: number; to: number }[], from: number, to: number): number {
  let total = 0;
  let end = from;
  for (const s of [...spans].sort((a, b) => a.from - b.from)) {
    const a = Math.max(s.from, end);
    const b = Math.min(s.to, to);
    if (b > a) total += b - a;
    end = Math.max(end, Math.min(s.to, to));
  }
  return total;
}

/** Round trips per server: the API server, S3 and Airbyte (by the port each was given). */
function roundTrips(a: Applied, ports: { kube: string; s3: string; airbyte: string }): Record<'kube' | 's3' | 'airbyte' | 'other', number> {
  const n = { kube: 0, s3: 0, airbyte: 0, other: 0 };
  for (const r of a.requests) {
    const port = /:(\d+)$/.exec(r.host ?? '')?.[1] ?? '';
    n[port === ports.kube ? 'kube' : port === ports.s3 ? 's3' : port === ports.airbyte ? 'airbyte' : 'other']++;
  }
  return n;
}

/** Connections opened to the API server. */
const kubeConnections = (a: Applied, kubePort: string): number => a.sockets.filter((s) => /:(\d+)$/.exec(s.host ?? '')?.[1] === kubePort).length;

async function versions(kc: k8s.KubeConfig, ns: string): Promise<string[]> {
  const api = k8s.KubernetesObjectApi.makeApiClient(kc);
  const out: string[] = [];
  for (const [v, kind] of [
    ['sparkoperator.k8s.io/v1beta2', 'SparkApplication'],
    ['v1', 'ConfigMap'],
    ['v1', 'ServiceAccount'],
    ['rbac.authorization.k8s.io/v1', 'Role'],
  ] as const) {
    for (const o of (await api.list(v, kind, ns)).items) out.push(`${kind}/${o.metadata?.name}@${o.metadata?.resourceVersion}`);
  }
  return out.sort();
}

/** What one CLI's rounds measured. */
interface Measured {
  firsts: number[];
  firstWalls: number[];
  firstCpu: number[];
  noops: number[];
  noopCpu: number[];
  trips: { first: ReturnType<typeof roundTrips>; noop: ReturnType<typeof roundTrips> }[];
  conns: { first: number; noop: number }[];
  written: number[];
}

const measured = (): Measured => ({ firsts: [], firstWalls: [], firstCpu: [], noops: [], noopCpu: [], trips: [], conns: [], written: [] });

export async function run(): Promise<Figure[]> {
  const s3 = s3Server();
  const k = k8sApiServer();
  const kc = new k8s.KubeConfig();
  kc.loadFromFile(k.ASGARD_K8S_KUBECONFIG!);
  const endpoint = s3.ASGARD_S3_ENDPOINT!;
  const creds = { AWS_ACCESS_KEY_ID: s3.ASGARD_S3_ACCESS_KEY!, AWS_SECRET_ACCESS_KEY: s3.ASGARD_S3_SECRET_KEY!, AWS_REGION: 'us-east-1' };
  Object.assign(process.env, creds);
  const ports = { kube: new URL(kc.getCurrentCluster()!.server).port, s3: new URL(endpoint).port, airbyte: '' };
  const base = process.env.ASGARD_BENCH_K8S_BASE;
  const variants = [{ label: '', root: ROOT, m: measured() }, ...(base ? [{ label: 'base.', root: base, m: measured() }] : [])];

  /** One round of one CLI: a fresh namespace and bucket, the 11-node apply, then the no-op. */
  const round = async (root: string, m: Measured, counted: boolean): Promise<void> => {
    const ns = `bench-${randomBytes(4).toString('hex')}`;
    const bucket = `bench-${randomBytes(4).toString('hex')}`;
    const s3c = new S3Client({
      endpoint,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: { accessKeyId: creds.AWS_ACCESS_KEY_ID, secretAccessKey: creds.AWS_SECRET_ACCESS_KEY },
    });
    await s3c.send(new CreateBucketCommand({ Bucket: bucket }));
    s3c.destroy();
    await kc.makeApiClient(k8s.CoreV1Api).createNamespace({ body: { metadata: { name: ns } } });
    const airbyte = new AirbyteStandIn();
    const url = await airbyte.start();
    ports.airbyte = new URL(url).port;
    const standIn = new StandIn({ kubeconfig: k.ASGARD_K8S_KUBECONFIG!, namespace: ns, sparkApplications: () => 'complete' });
    await standIn.start();
    try {
      const dir = mkdtempSync(join(tmpdir(), 'asg-bench-k8s-'));
      writeFileSync(join(dir, 'k8s.asg'), spec(ns, bucket, endpoint));
      const env = {
        PATH: process.env.PATH ?? '',
        HOME: dir,
        KUBECONFIG: k.ASGARD_K8S_KUBECONFIG!,
        AIRBYTE_URL: url,
        AIRBYTE_WORKSPACE_ID: airbyte.workspaceId,
        ASGARD_AIRBYTE_POLL_MS: '20',
        APP_DB_PASSWORD: 'bench',
        ...creds,
      };
      const first = await apply(dir, env, root);
      const nodes = (JSON.parse(first.out) as { nodes: { status: string }[] }).nodes;
      if (nodes.length !== 11 || nodes.some((n) => n.status !== 'succeeded')) throw new Error(`the first apply did not run 11 nodes: ${first.out}`);
      const before = await versions(kc, ns);
      const noop = await apply(dir, env, root);
      if (counted) {
        m.firstWalls.push((first.to - first.from) / 1000);
        m.firsts.push((first.to - first.from - covered(standIn.spans, first.from, first.to)) / 1000);
        m.firstCpu.push(first.cpuSeconds);
        m.noops.push((noop.to - noop.from) / 1000);
        m.noopCpu.push(noop.cpuSeconds);
        m.trips.push({ first: roundTrips(first, ports), noop: roundTrips(noop, ports) });
        m.conns.push({ first: kubeConnections(first, ports.kube), noop: kubeConnections(noop, ports.kube) });
      }
      const after = await versions(kc, ns);
      m.written.push(after.filter((v) => !before.includes(v)).length + before.filter((v) => !after.includes(v)).length);
    } finally {
      await standIn.stop();
      await airbyte.stop();
      await kc
        .makeApiClient(k8s.CoreV1Api)
        .deleteNamespace({ name: ns })
        .catch(() => undefined);
    }
  };
  // One round more than counted: the first warms what is not asgard's (the Airbyte test server's
  // OpenAPI validators, the API server's caches) and is left out of the medians.
  for (let r = 0; r <= RUNS; r++) for (const v of r % 2 ? [...variants].reverse() : variants) await round(v.root, v.m, r > 0);
  return variants.flatMap((v) => figures(v.m, v.label));
}

function figures(m: Measured, label: string): Figure[] {
  const name = (n: string) => `apply.kubernetes.${label}${n}`;
  const tripFigures = (which: 'first' | 'noop', size: string): Figure[] =>
    (['kube', 's3', 'airbyte', 'other'] as const).map((server) => ({
      name: name(`${size}.round_trips.${server}`),
      value: median(m.trips.map((t) => t[which][server])),
      unit: 'requests',
      runs: RUNS,
    }));
  return [
    {
      name: name('11_nodes.overhead_seconds'),
      value: median(m.firsts),
      unit: 's',
      goal: "< 2 (wall time less the time runs were in the cluster's hands)",
      runs: RUNS,
    },
    { name: name('11_nodes.wall_seconds'), value: median(m.firstWalls), unit: 's', runs: RUNS },
    { name: name('11_nodes.cpu_seconds'), value: median(m.firstCpu), unit: 's', runs: RUNS },
    ...tripFigures('first', '11_nodes'),
    { name: name('11_nodes.connections.kube'), value: median(m.conns.map((c) => c.first)), unit: 'connections', runs: RUNS },
    { name: name('noop.seconds'), value: median(m.noops), unit: 's', goal: '< 1', runs: RUNS },
    { name: name('noop.cpu_seconds'), value: median(m.noopCpu), unit: 's', runs: RUNS },
    ...tripFigures('noop', 'noop'),
    { name: name('noop.connections.kube'), value: median(m.conns.map((c) => c.noop)), unit: 'connections', runs: RUNS },
    { name: name('noop.objects_written'), value: Math.max(...m.written), unit: 'objects', goal: '0', runs: RUNS },
  ];
}
