// Objects that run to completion — a SparkApplication (the spark-operator's) and a batch/v1 Job —
// submitted and watched until they finish. An object left by an earlier apply under the same name
// is deleted first, so a run is replaced, never duplicated, and the watch sees this run's status.
// The watch survives the API server going away: it re-reads the object and watches again from its
// resourceVersion until the deadline (the profile's `job_timeout`).

import * as k8s from './client-node.js';
import type { KubeObject } from '../targets/k8s-objects.js';
import { Cluster, KubeError, describe } from './cluster.js';

/** Where a run stands: still going (with the state to show), or finished well or badly. */
export interface Completion {
  readonly state: string;
  readonly finished: boolean;
  readonly failed: boolean;
  readonly message?: string;
}

type Status = { status?: Record<string, any> };

/** The resource path segment of the kinds that run to completion. */
const PLURAL: Record<string, string> = { SparkApplication: 'sparkapplications', Job: 'jobs' };

export const runsToCompletion = (o: Pick<KubeObject, 'kind'>): boolean => o.kind in PLURAL;

export function completionOf(o: KubeObject & Status): Completion {
  if (o.kind === 'SparkApplication') {
    const st = o.status?.applicationState as { state?: string; errorMessage?: string } | undefined;
    const state = st?.state || 'SUBMITTED';
    const failed = state === 'FAILED' || state === 'SUBMISSION_FAILED' || state === 'FAILING';
    return { state, finished: state === 'COMPLETED' || failed, failed, ...(st?.errorMessage ? { message: st.errorMessage } : {}) };
  }
  const conditions = (o.status?.conditions ?? []) as { type: string; status: string; message?: string; reason?: string }[];
  const failedCond = conditions.find((c) => c.type === 'Failed' && c.status === 'True');
  if (failedCond) return { state: 'Failed', finished: true, failed: true, message: [failedCond.reason, failedCond.message].filter(Boolean).join(': ') };
  if (conditions.some((c) => c.type === 'Complete' && c.status === 'True')) return { state: 'Complete', finished: true, failed: false };
  const active = Number(o.status?.active ?? 0);
  return { state: active > 0 ? 'Running' : 'Pending', finished: false, failed: false };
}

export interface RunOptions {
  readonly timeoutSeconds: number;
  readonly signal?: AbortSignal;
  /** Called when the run's state changes (SUBMITTED, RUNNING, …). */
  readonly onState?: (state: string) => void;
  /** Why the deadline is what it is, for the timeout message (e.g. "job_timeout of profile kubernetes"). */
  readonly timeoutSource?: string;
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((res) => {
    const t = setTimeout(res, ms);
    signal?.addEventListener('abort', () => (clearTimeout(t), res()), { once: true });
  });

/** Delete an earlier run of `o` and wait until the name is free. */
async function clearEarlierRun(cluster: Cluster, o: KubeObject, deadline: number): Promise<void> {
  if (!(await cluster.read(o))) return;
  await cluster.delete(o);
  while (await cluster.read(o)) {
    if (Date.now() > deadline) throw new KubeError(`${describe(o)}: the earlier run is still being deleted (a finalizer holds it)`, 'timeout');
    await sleep(100);
  }
}

/** Submit `o` (replacing an earlier run) and wait until it finishes; a failure throws with the log tail. */
export async function runToCompletion(cluster: Cluster, o: KubeObject, opts: RunOptions): Promise<KubeObject & Status> {
  const deadline = Date.now() + opts.timeoutSeconds * 1000;
  await clearEarlierRun(cluster, o, deadline);
  const applied = await cluster.apply(o);
  const done = await watchUntilFinished(cluster, applied, deadline, opts);
  const c = completionOf(done);
  if (c.failed) {
    const tail = await logTail(cluster, done);
    throw new KubeError(
      `${describe(o)} ${c.state}${c.message ? `: ${c.message}` : ''}${tail ? `\n--- ${o.kind === 'SparkApplication' ? 'driver' : 'pod'} log (last lines) ---\n${tail}` : ''}`,
      'other',
    );
  }
  return done;
}

async function watchUntilFinished(cluster: Cluster, applied: KubeObject, deadline: number, opts: RunOptions): Promise<KubeObject & Status> {
  const ns = applied.metadata.namespace ?? 'default';
  const path = `/${applied.apiVersion.includes('/') ? 'apis' : 'api'}/${applied.apiVersion}/namespaces/${ns}/${PLURAL[applied.kind]}`;
  let last: KubeObject & Status = applied;
  let lastState = '';
  let resourceVersion = applied.metadata.resourceVersion as string | undefined;
  const seen = (o: KubeObject & Status): Completion => {
    last = o;
    resourceVersion = (o.metadata.resourceVersion as string | undefined) ?? resourceVersion;
    const c = completionOf(o);
    if (c.state !== lastState) {
      lastState = c.state;
      opts.onState?.(c.state);
    }
    return c;
  };
  // The apply's answer is where it stands now: the first watch starts from its resourceVersion.
  let current: (KubeObject & Status) | undefined = applied;
  let backoff = 200;
  while (true) {
    if (opts.signal?.aborted) throw new KubeError(`${describe(applied)}: apply was interrupted while it ran`, 'other');
    if (Date.now() > deadline) {
      throw new KubeError(
        `${describe(applied)} did not finish within ${Math.round(opts.timeoutSeconds)} s (${opts.timeoutSource ?? 'the job timeout'}); its last state was ${lastState}`,
        'timeout',
      );
    }
    // Where it stands after a watch ended (also after a lost one: the API server may have restarted meanwhile).
    try {
      current ??= await cluster.read<KubeObject & Status>(applied);
    } catch (e) {
      if (e instanceof KubeError && e.reason === 'unreachable') {
        await sleep(Math.min((backoff *= 2), 2000), opts.signal);
        continue;
      }
      throw e;
    }
    if (!current) throw new KubeError(`${describe(applied)} was deleted while it ran`, 'not-found');
    if (seen(current).finished) return current;
    current = undefined;
    const outcome = await watchOnce(cluster, path, applied.metadata.name, resourceVersion, deadline, opts.signal, seen);
    if (outcome === 'finished') return last;
    if (outcome === 'lost') await sleep(Math.min((backoff *= 2), 2000), opts.signal);
    else backoff = 200;
  }
}

/** One watch connection: resolves 'finished', 'closed' (server ended it normally) or 'lost' (error). */
async function watchOnce(
  cluster: Cluster,
  path: string,
  name: string,
  resourceVersion: string | undefined,
  deadline: number,
  signal: AbortSignal | undefined,
  seen: (o: KubeObject & Status) => Completion,
): Promise<'finished' | 'closed' | 'lost'> {
  return new Promise((resolve) => {
    let controller: AbortController | undefined;
    let settled = false;
    const finish = (r: 'finished' | 'closed' | 'lost') => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      controller?.abort();
      resolve(r);
    };
    const onAbort = () => finish('closed');
    signal?.addEventListener('abort', onAbort, { once: true });
    // The deadline (and a periodic re-read) also end a watch that stays silent.
    const timer = setTimeout(() => finish('closed'), Math.max(0, Math.min(deadline - Date.now(), 30_000)));
    new k8s.Watch(cluster.kc)
      .watch(
        path,
        { fieldSelector: `metadata.name=${name}`, allowWatchBookmarks: false, ...(resourceVersion ? { resourceVersion } : {}) },
        (phase, obj) => {
          if (phase === 'ADDED' || phase === 'MODIFIED') {
            if (seen(obj as KubeObject & Status).finished) finish('finished');
          } else if (phase === 'DELETED') finish('closed');
        },
        (err) => finish(err ? 'lost' : 'closed'),
      )
      .then(
        (c) => {
          controller = c;
          if (settled) c.abort();
        },
        () => finish('lost'),
      );
  });
}

/** The driver's (SparkApplication) or the Job's pod's last log lines, when the cluster can give them. */
async function logTail(cluster: Cluster, o: KubeObject & Status): Promise<string | undefined> {
  const ns = o.metadata.namespace ?? 'default';
  if (o.kind === 'SparkApplication') {
    const pod = o.status?.driverInfo?.podName as string | undefined;
    return pod ? cluster.podLogTail(ns, pod) : undefined;
  }
  try {
    const pods = await cluster.core.listNamespacedPod({ namespace: ns, labelSelector: `job-name=${o.metadata.name}` });
    const pod = pods.items.at(-1)?.metadata?.name;
    return pod ? cluster.podLogTail(ns, pod) : undefined;
  } catch {
    // No right to list pods, or no pods: the Job's own condition message still says why it failed.
    return undefined;
  }
}
