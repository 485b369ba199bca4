// TEST-ONLY stand-in for what cannot run here: the spark-operator's and the kubelet's status updates.
// The local API server (scripts/k8s-apiserver.sh) has no controllers and no kubelet, so nothing
// would ever move a SparkApplication or a Job. This watches both kinds in one namespace on the REAL
// API server and plays their status through the status subresource, as the operator and the Job
// controller would:
//   - a SparkApplication is run for real on the local Spark standalone cluster (runSparkApplication
//     below: what differs from a cluster, and why, is listed there), its container env resolved
//     from the namespace's Secret/ConfigMap as the kubelet would (a missing non-optional key fails
//     it, as CreateContainerConfigError would), one run at a time; the state becomes COMPLETED, or
//     FAILED with the tail of the driver's output as `errorMessage` (there is no driver pod to read a
//     log from). test/k8s/spark-run.pending.ts runs compiled applications through it;
//   - a Job is run for real by default (runJob below: its container's command on this machine with the
//     .venv's tools, its ConfigMap volumes written out, its env resolved as for SparkApplications; what
//     differs from a pod is listed there), in the same one-at-a-time queue; Complete, or Failed with
//     the tail of its output as the condition's message. A test may instead play it (`jobs`):
//     complete, fail with a log line, or never finish.
// Nothing here is used by asgard itself.

import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import * as k8s from '@kubernetes/client-node';
import { rawClient } from '../helpers/s3.js';
import { sparkCluster } from '../helpers/spark.js';
import { sparkSubmit } from '../../src/spark/submit.js';
import { sparkRuntime } from '../../src/spark/runtime.js';
import { ensureToolchain } from '../conformance/lib/toolchain.js';

export type JobOutcome =
  | { outcome: 'run' }
  | { outcome: 'complete' }
  | { outcome: 'completeAfter'; after: Promise<unknown> }
  | { outcome: 'fail'; log: string }
  | { outcome: 'hang' };

export interface StandInOptions {
  readonly kubeconfig: string;
  readonly namespace: string;
  /** What each Job does: run for real (default), or played: complete (at once or when the test says), fail with a log, never finish. */
  readonly jobs?: (job: any) => JobOutcome;
  /**
   * What each SparkApplication does: run for real on the Spark cluster (default), or — for tests of
   * asgard's orchestration rather than of Spark — play COMPLETED, or FAILED with a driver log.
   */
  readonly sparkApplications?: (app: any) => 'run' | 'complete' | { fail: string } | { completeAfter: Promise<unknown> };
}

export class StandIn {
  /** `Kind/name STATE` for every status this stand-in wrote, in order. */
  readonly played: string[] = [];
  /** How many SparkApplications and Jobs it has seen created. */
  readonly submitted: string[] = [];
  /**
   * When each run was in the cluster's hands (performance.now() ms: seen created → final status
   * written): time the operator and Spark (or the Job's pods) take, which bench/k8s.bench.ts leaves
   * out of asgard's own overhead.
   */
  readonly spans: { readonly run: string; readonly from: number; readonly to: number }[] = [];
  private readonly kc = new k8s.KubeConfig();
  private readonly aborts: AbortController[] = [];
  private readonly busy = new Set<string>();
  private readonly running: Promise<unknown>[] = [];
  private stopped = false;
  private sparkQueue: Promise<unknown> = Promise.resolve();

  constructor(private readonly opts: StandInOptions) {
    this.kc.loadFromFile(opts.kubeconfig);
  }

  async start(): Promise<void> {
    await this.watch('/apis/sparkoperator.k8s.io/v1beta2', 'sparkapplications', (o) => this.onSparkApplication(o));
    await this.watch('/apis/batch/v1', 'jobs', (o) => this.onJob(o));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const a of this.aborts) a.abort();
    await Promise.allSettled(this.running);
  }

  private async watch(base: string, plural: string, on: (o: any) => Promise<void>): Promise<void> {
    const go = async (): Promise<void> => {
      if (this.stopped) return;
      const ac = await new k8s.Watch(this.kc)
        .watch(
          `${base}/namespaces/${this.opts.namespace}/${plural}`,
          {},
          (phase, o) => {
            if (phase !== 'ADDED' && phase !== 'MODIFIED') return;
            const key = `${plural}/${o.metadata.uid}`;
            if (this.busy.has(key)) return;
            this.busy.add(key);
            this.running.push(on(o).catch((e) => this.played.push(`${o.kind}/${o.metadata.name} stand-in error: ${(e as Error).message}`)));
          },
          // The API server may be restarted by a fault test: watch again.
          () => void setTimeout(() => void go().catch(() => undefined), 500),
        )
        .catch(() => undefined);
      if (ac) this.aborts.push(ac);
      else if (!this.stopped) setTimeout(() => void go().catch(() => undefined), 500);
    };
    await go();
  }

  // --- SparkApplications ---------------------------------------------------------------------

  private async onSparkApplication(app: any): Promise<void> {
    if (app.status?.applicationState?.state) return; // already played (a watch restarted)
    const name = app.metadata.name;
    const from = performance.now();
    this.submitted.push(`SparkApplication/${name}`);
    const now = () => new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    await this.status('sparkoperator.k8s.io/v1beta2', 'sparkapplications', name, {
      applicationState: { state: 'SUBMITTED' },
      driverInfo: { podName: `${name}-driver` },
      submissionAttempts: 1,
      lastSubmissionAttemptTime: now(),
    });
    this.played.push(`SparkApplication/${name} SUBMITTED`);
    await this.status('sparkoperator.k8s.io/v1beta2', 'sparkapplications', name, { applicationState: { state: 'RUNNING' } });
    this.played.push(`SparkApplication/${name} RUNNING`);
    let how = this.opts.sparkApplications?.(app) ?? 'run';
    if (typeof how === 'object' && 'completeAfter' in how) {
      // Held RUNNING until the test lets it finish (e.g. after restarting the API server).
      await how.completeAfter;
      how = 'complete';
    }
    const r = how === 'run' ? await this.oneAtATime(() => this.sparkSubmit(app)) : how === 'complete' ? { code: 0, tail: '' } : { code: 1, tail: how.fail };
    const state = r.code === 0 ? 'COMPLETED' : 'FAILED';
    await this.status('sparkoperator.k8s.io/v1beta2', 'sparkapplications', name, {
      applicationState: r.code === 0 ? { state } : { state, errorMessage: `driver exited with code ${r.code}:\n${r.tail}` },
      terminationTime: now(),
      executionAttempts: 1,
    });
    this.played.push(`SparkApplication/${name} ${state}`);
    this.spans.push({ run: `SparkApplication/${name}`, from, to: performance.now() });
  }

  /**
   * One real Spark run at a time: the profile's catalog may be a SQLite file, which takes one
   * writer at a time (as `apply --profile cluster` runs one job at a time), and the local cluster
   * has two cores.
   */
  private oneAtATime<T>(run: () => Promise<T>): Promise<T> {
    const next = this.sparkQueue.then(run, run);
    this.sparkQueue = next.catch(() => undefined);
    return next;
  }

  /** The app's container env as the kubelet would set it, from the namespace's Secrets and ConfigMaps. */
  private containerEnv(env: any[] | undefined): Promise<Record<string, string>> {
    const core = this.kc.makeApiClient(k8s.CoreV1Api);
    const namespace = this.opts.namespace;
    return resolveContainerEnv(env, async (kind, name, key) => {
      if (kind === 'Secret') {
        const v = (await core.readNamespacedSecret({ name, namespace }).catch(() => undefined))?.data?.[key];
        return v === undefined ? undefined : Buffer.from(v, 'base64').toString('utf8');
      }
      return (await core.readNamespacedConfigMap({ name, namespace }).catch(() => undefined))?.data?.[key];
    });
  }

  /** The Job's container run here (runJob), its env and ConfigMap volumes read from the namespace. */
  private async runJob(job: any): Promise<{ code: number; tail: string }> {
    const core = this.kc.makeApiClient(k8s.CoreV1Api);
    let env: Record<string, string>;
    try {
      env = await this.containerEnv(job.spec.template.spec.containers[0].env);
    } catch (e) {
      return { code: 1, tail: (e as Error).message };
    }
    return runJob(job, env, async (name) => (await core.readNamespacedConfigMap({ name, namespace: this.opts.namespace }).catch(() => undefined))?.data);
  }

  /** spark-submit of the app as compiled, its container env resolved from the namespace. */
  private async sparkSubmit(app: any): Promise<{ code: number; tail: string }> {
    let env: Record<string, string>;
    try {
      env = await this.containerEnv(app.spec.driver?.env);
    } catch (e) {
      return { code: 1, tail: (e as Error).message };
    }
    return runSparkApplication(app, env);
  }

  // --- Jobs --------------------------------------------------------------------------------

  private async onJob(job: any): Promise<void> {
    if (job.status?.startTime) return;
    const name = job.metadata.name;
    const from = performance.now();
    this.submitted.push(`Job/${name}`);
    const start = new Date();
    const t = (d: Date) => d.toISOString().replace(/\.\d+Z$/, 'Z');
    await this.status('batch/v1', 'jobs', name, { startTime: t(start), active: 1, ready: 0 });
    this.played.push(`Job/${name} Running`);
    let what = this.opts.jobs?.(job) ?? { outcome: 'run' };
    if (what.outcome === 'hang') return;
    if (what.outcome === 'completeAfter') {
      // Held running until the test lets it finish.
      await what.after;
      what = { outcome: 'complete' };
    }
    if (what.outcome === 'run') {
      const r = await this.oneAtATime(() => this.runJob(job));
      what = r.code === 0 ? { outcome: 'complete' } : { outcome: 'fail', log: `exit code ${r.code}:\n${r.tail}` };
    } else await new Promise((r) => setTimeout(r, 200));
    const end = new Date(Math.max(Date.now(), start.getTime() + 1000));
    const cond = (type: string, reason: string, message = '') => ({ type, status: 'True', reason, message, lastProbeTime: t(end), lastTransitionTime: t(end) });
    if (what.outcome === 'complete') {
      await this.status('batch/v1', 'jobs', name, {
        active: 0,
        ready: 0,
        succeeded: 1,
        completionTime: t(end),
        conditions: [
          cond('SuccessCriteriaMet', 'CompletionsReached', 'Reached expected number of succeeded pods'),
          cond('Complete', 'CompletionsReached', 'Reached expected number of succeeded pods'),
        ],
      });
      this.played.push(`Job/${name} Complete`);
    } else {
      await this.status('batch/v1', 'jobs', name, {
        active: 0,
        ready: 0,
        failed: 1,
        conditions: [cond('FailureTarget', 'BackoffLimitExceeded', what.log), cond('Failed', 'BackoffLimitExceeded', what.log)],
      });
      this.played.push(`Job/${name} Failed`);
    }
    this.spans.push({ run: `Job/${name}`, from, to: performance.now() });
  }

  // --- the status subresource ----------------------------------------------------------------

  private status(apiVersion: string, plural: string, name: string, status: Record<string, unknown>): Promise<void> {
    const cluster = this.kc.getCurrentCluster()!;
    const user = this.kc.getCurrentUser()!;
    const url = new URL(`${cluster.server}/apis/${apiVersion}/namespaces/${this.opts.namespace}/${plural}/${name}/status`);
    const body = JSON.stringify({ status });
    return new Promise((resolve, reject) => {
      const req = request(
        url,
        {
          method: 'PATCH',
          ca: Buffer.from(cluster.caData!, 'base64'),
          headers: { authorization: `Bearer ${user.token}`, 'content-type': 'application/merge-patch+json', 'content-length': Buffer.byteLength(body) },
        },
        (res) => {
          let text = '';
          res.on('data', (d) => (text += d));
          res.on('end', () =>
            (res.statusCode ?? 500) < 300 ? resolve() : reject(new Error(`status of ${plural}/${name}: HTTP ${res.statusCode}: ${text.slice(0, 500)}`)),
          );
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  }
}

/**
 * Runs a SparkApplication as the spark-operator would, on the local Spark standalone cluster
 * (scripts/spark-cluster.sh) through asgard's own runner (src/spark/submit.ts, the one
 * `--profile cluster` uses): its main file and `deps.files` fetched from the S3 server, its
 * `arguments` and `sparkConf` as compiled, `env` (the driver's container env, as the kubelet
 * resolves it) for the driver and the executors. What differs from a cluster, and why:
 *   - the driver runs on this machine in client mode (Spark standalone runs no Python driver in
 *     cluster mode), so it reaches the catalog the profile names from here;
 *   - `deps.packages` are not fetched: each must be among the Spark client's jars (the
 *     ASGARD_SPARK_PACKAGES of scripts/spark-cluster.sh), or the run fails naming it;
 *   - executors get 512m and two cores in all (the local workers' size), not the app's resources,
 *     and two shuffle partitions.
 */
export async function runSparkApplication(app: any, env: Readonly<Record<string, string>>): Promise<{ code: number; tail: string }> {
  const spark = sparkCluster();
  const rt = sparkRuntime({
    ...process.env,
    ASGARD_SPARK_HOME: spark.sparkHome,
    ASGARD_SPARK_JARS: spark.jars,
    ...(spark.javaHome ? { JAVA_HOME: spark.javaHome } : {}),
  });
  const have = new Set(
    rt.jars
      .split(',')
      .filter(Boolean)
      .map((j) => basename(j)),
  );
  const missing = (app.spec.deps?.packages ?? []).filter((p: string) => {
    const [, artifact, version] = p.split(':');
    return !have.has(`${artifact}-${version}.jar`);
  });
  if (missing.length)
    return { code: 1, tail: `the stand-in's Spark client has no jar for ${missing.join(', ')} (ASGARD_SPARK_PACKAGES in scripts/spark-cluster.sh)` };
  const dir = mkdtempSync(join(tmpdir(), 'stand-in-'));
  try {
    const main = await fetchS3(app.spec.mainApplicationFile, dir);
    const files: string[] = [];
    for (const f of app.spec.deps?.files ?? []) files.push(await fetchS3(f, dir));
    const conf: Record<string, string> = Object.fromEntries(Object.entries(app.spec.sparkConf ?? {}).map(([k, v]) => [k, String(v)]));
    if (rt.jars) conf['spark.jars'] = rt.jars;
    if (rt.python) conf['spark.pyspark.python'] = rt.python;
    // The local workers' size, and as many shuffle partitions as cores (as `apply --profile cluster`
    // runs, src/spark/cleanse-executor.ts): Spark's default of 200 turns each shuffle of a few rows
    // into 200 tasks on two cores.
    Object.assign(conf, { 'spark.executor.memory': '512m', 'spark.cores.max': '2', 'spark.sql.shuffle.partitions': '2', 'spark.ui.enabled': 'false' });
    const r = await sparkSubmit({
      sparkHome: rt.sparkHome,
      master: spark.master,
      name: app.metadata.name,
      main,
      args: (app.spec.arguments ?? []).map(String),
      files,
      conf,
      env,
      secrets: Object.values(env),
      workDir: join(dir, 'work'),
      ...(rt.javaHome ? { javaHome: rt.javaHome } : {}),
    });
    return { code: r.code ?? 1, tail: r.tail };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Runs a Job's (first) container as the kubelet would start it, on this machine: the container's
 * file system is a temporary folder where each ConfigMap volume is written out at its mount path
 * (its `items`, or every key) and each emptyDir made, with /tmp and the working directory writable;
 * the mount paths and /tmp named in its command, args and env point into that folder; `env` is the
 * container's env as resolved from the namespace. What differs from a pod: the image is not pulled —
 * its tools are this machine's (the .venv's python, dbt, feast first on PATH, scripts/setup-python.sh),
 * and its resources are not applied.
 */
export async function runJob(
  job: any,
  env: Readonly<Record<string, string>>,
  configMap: (name: string) => Promise<Record<string, string> | undefined>,
): Promise<{ code: number; tail: string }> {
  const pod = job.spec.template.spec;
  const c = pod.containers[0];
  const tc = ensureToolchain();
  if (!tc.ok) return { code: 1, tail: tc.reason };
  const root = mkdtempSync(join(tmpdir(), 'stand-in-job-'));
  try {
    const workingDir = c.workingDir ?? '/';
    const paths = new Set<string>(['/tmp', workingDir]);
    for (const m of c.volumeMounts ?? []) {
      paths.add(m.mountPath);
      const vol = (pod.volumes ?? []).find((v: any) => v.name === m.name);
      const at = join(root, m.mountPath);
      if (!vol?.configMap) {
        mkdirSync(at, { recursive: true });
        continue;
      }
      const data = await configMap(vol.configMap.name);
      if (!data) {
        if (vol.configMap.optional) continue;
        return { code: 1, tail: `FailedMount: configmap "${vol.configMap.name}" not found` };
      }
      if (m.subPath !== undefined) {
        mkdirSync(dirname(at), { recursive: true });
        writeFileSync(at, data[m.subPath] ?? '');
        continue;
      }
      const items: { key: string; path: string }[] = vol.configMap.items ?? Object.keys(data).map((key) => ({ key, path: key }));
      for (const it of items) {
        if (data[it.key] === undefined) return { code: 1, tail: `FailedMount: configmap "${vol.configMap.name}" has no key ${it.key}` };
        mkdirSync(dirname(join(at, it.path)), { recursive: true });
        writeFileSync(join(at, it.path), data[it.key]);
      }
    }
    for (const p of paths) mkdirSync(join(root, p), { recursive: true });
    // A container path in a word of the command or an env value → the same path under `root`.
    const literal = (p: string) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    const alternatives = [...paths]
      .filter((p) => p !== '/')
      .sort((a, b) => b.length - a.length)
      .map(literal)
      .join('|');
    const inRoot = (v: string) => v.replace(new RegExp(`(^|[\\s='"])(${alternatives})(?=$|[/\\s'"*;&)])`, 'g'), (_m, pre, p) => `${pre}${join(root, p)}`);
    const [cmd, ...args] = [...(c.command ?? []), ...(c.args ?? [])].map((a: string) => inRoot(String(a)));
    const childEnv: Record<string, string> = { PATH: tc.tools.env.PATH ?? '', HOME: join(root, '/tmp'), LANG: 'C.UTF-8' };
    for (const [k, v] of Object.entries(env)) childEnv[k] = inRoot(v);
    return await new Promise((resolve) => {
      const child = spawn(cmd, args, { cwd: join(root, workingDir), env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
      const lines: string[] = [];
      const keep = (d: Buffer) => {
        lines.push(...d.toString('utf8').split('\n'));
        if (lines.length > 400) lines.splice(0, lines.length - 400);
      };
      child.stdout.on('data', keep);
      child.stderr.on('data', keep);
      child.on('error', (e) => resolve({ code: 127, tail: e.message }));
      child.on('close', (code) =>
        resolve({
          code: code ?? 1,
          tail: mask(
            lines
              .filter((l) => l.trim() !== '')
              .slice(-40)
              .join('\n'),
            Object.values(env),
          ),
        }),
      );
    });
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

/** Every secret value (at least 4 characters) in `text` replaced by ***. */
function mask(text: string, secrets: readonly string[]): string {
  return secrets.filter((s) => s.length >= 4).reduce((t, s) => t.split(s).join('***'), text);
}

/** An s3:// or s3a:// object fetched into `dir` (its base name kept); a local path as it is. */
async function fetchS3(url: string, dir: string): Promise<string> {
  const m = /^s3a?:\/\/([^/]+)\/(.+)$/.exec(url);
  if (!m) return url;
  const c = rawClient();
  try {
    const r = await c.send(new GetObjectCommand({ Bucket: m[1], Key: m[2] }));
    const file = join(dir, basename(m[2]));
    writeFileSync(file, Buffer.from(await r.Body!.transformToByteArray()));
    return file;
  } finally {
    c.destroy();
  }
}

/**
 * A container's env as the kubelet sets it: literal values, Secret and ConfigMap keys (`lookup`).
 * A missing key is left unset when the reference is optional; otherwise the container would not
 * start (the kubelet's CreateContainerConfigError): an error naming it.
 */
export async function resolveContainerEnv(
  env: any[] | undefined,
  lookup: (kind: 'Secret' | 'ConfigMap', name: string, key: string) => Promise<string | undefined>,
): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const e of env ?? []) {
    if (e.value !== undefined) {
      out[e.name] = String(e.value);
      continue;
    }
    const kind = e.valueFrom?.secretKeyRef ? 'Secret' : e.valueFrom?.configMapKeyRef ? 'ConfigMap' : undefined;
    if (!kind) continue;
    const ref = e.valueFrom.secretKeyRef ?? e.valueFrom.configMapKeyRef;
    const v = await lookup(kind, ref.name, ref.key);
    if (v !== undefined) out[e.name] = v;
    else if (!ref.optional) throw new Error(`CreateContainerConfigError: env ${e.name}: key ${ref.key} of ${kind} ${ref.name} not found`);
  }
  return out;
}
