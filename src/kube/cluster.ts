// Access to a Kubernetes API server through @kubernetes/client-node: the kubeconfig from the usual
// places (KUBECONFIG, ~/.kube/config, else the in-cluster service account when asgard runs as a
// CronJob), the profile's `context`, and every API failure turned into a KubeError that names the
// object and the verb — "cannot reach", "RBAC forbids", "not found" — never a stack trace.

import { existsSync } from 'node:fs';
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { delimiter, join } from 'node:path';
import * as k8s from './client-node.js';
import type { KubeObject } from '../targets/k8s-objects.js';

export type Env = Readonly<Record<string, string | undefined>>;

/** What failed, for the command to report: the message names the object, the verb and the server. */
export class KubeError extends Error {
  constructor(
    message: string,
    readonly reason: 'unreachable' | 'forbidden' | 'unauthorized' | 'not-found' | 'conflict' | 'invalid' | 'config' | 'timeout' | 'other',
    readonly status?: number,
  ) {
    super(message);
  }
}

/** `SparkApplication ns/name` */
export const describe = (o: Pick<KubeObject, 'kind' | 'metadata'>): string =>
  `${o.kind} ${o.metadata.namespace ? `${o.metadata.namespace}/` : ''}${o.metadata.name}`;

type RequestContext = Parameters<k8s.KubeConfig['applySecurityAuthentication']>[0];
type FetchInit = Awaited<ReturnType<k8s.KubeConfig['applyToFetchOptions']>>;

/**
 * A KubeConfig whose requests share keep-alive connections. client-node builds a new agent for every
 * request (config.js `createAgent`), so each API call and watch paid a TCP connection and a TLS
 * handshake, on both sides; here the agent it builds is swapped for one pooled agent with the same
 * TLS options (the credentials and headers are still applied per request: tokens refresh as before).
 * Proxy agents are left as they are.
 */
class PooledKubeConfig extends k8s.KubeConfig {
  private pooled?: { readonly key: string; readonly agent: HttpAgent };

  override async applySecurityAuthentication(context: RequestContext): Promise<void> {
    await super.applySecurityAuthentication(context);
    const agent = this.pool(context.getAgent());
    if (agent) context.setAgent(agent);
  }

  override async applyToFetchOptions(opts: Parameters<k8s.KubeConfig['applyToFetchOptions']>[0]): Promise<FetchInit> {
    const init = await super.applyToFetchOptions(opts);
    const agent = this.pool(init.agent);
    return agent ? { ...init, agent } : init;
  }

  /** The pooled agent with `fresh`'s options (made anew when they change), or undefined to keep `fresh`. */
  private pool(fresh: unknown): HttpAgent | undefined {
    const ctor = (fresh as object | undefined)?.constructor;
    const Kind = ctor === HttpsAgent ? HttpsAgent : ctor === HttpAgent ? HttpAgent : undefined;
    if (!Kind) return undefined;
    const { options } = fresh as HttpAgent & { options: Record<string, unknown> };
    const key = `${Kind.name}:${JSON.stringify(options, (_k, v) => (v && typeof v === 'object' && v.type === 'Buffer' ? Buffer.from(v.data).toString('base64') : v))}`;
    if (this.pooled?.key !== key) this.pooled = { key, agent: new Kind({ ...options, keepAlive: true }) };
    return this.pooled.agent;
  }
}

/**
 * client-node looks an API group version's resources up on its first use (one GET per group version,
 * cached), but concurrent first uses each send their own: applies and lists run at once here (a
 * kind's objects, independent nodes), so the first lookup is shared by those that start meanwhile.
 */
class SharedDiscoveryObjectApi extends k8s.KubernetesObjectApi {
  private readonly discovering = new Map<string, Promise<unknown>>();

  /** As KubernetesObjectApi.makeApiClient: the kubeconfig's namespace is the default one. */
  static of(kc: k8s.KubeConfig): SharedDiscoveryObjectApi {
    const api = kc.makeApiClient(SharedDiscoveryObjectApi);
    api.setDefaultNamespace(kc);
    return api;
  }

  protected override resource(...args: Parameters<k8s.KubernetesObjectApi['resource']>): ReturnType<k8s.KubernetesObjectApi['resource']> {
    const first = this.discovering.get(args[0]);
    if (first) {
      const again = () => super.resource(...args);
      return first.then(again, again);
    }
    const lookup = super.resource(...args);
    this.discovering.set(args[0], lookup);
    return lookup;
  }
}

/**
 * The kubeconfig: each file of KUBECONFIG (merged, first wins for the current context), else
 * $HOME/.kube/config, else the in-cluster service account. `context` picks one of its contexts.
 */
export function loadKubeConfig(env: Env, context?: string): k8s.KubeConfig {
  const kc = new PooledKubeConfig();
  const files = (env.KUBECONFIG ?? '').split(delimiter).filter((f) => f !== '');
  const home = env.HOME ? join(env.HOME, '.kube', 'config') : undefined;
  try {
    if (files.length) {
      const missing = files.filter((f) => !existsSync(f));
      if (missing.length === files.length) throw new KubeError(`KUBECONFIG names no readable file (${files.join(', ')})`, 'config');
      let first = true;
      for (const f of files.filter((x) => existsSync(x))) {
        if (first) kc.loadFromFile(f);
        else {
          const more = new k8s.KubeConfig();
          more.loadFromFile(f);
          kc.mergeConfig(more, true);
        }
        first = false;
      }
    } else if (home && existsSync(home)) {
      kc.loadFromFile(home);
    } else if (env.KUBERNETES_SERVICE_HOST) {
      kc.loadFromCluster();
    } else {
      throw new KubeError('no Kubernetes credentials: set KUBECONFIG, write ~/.kube/config, or run asgard inside the cluster (service account)', 'config');
    }
  } catch (e) {
    if (e instanceof KubeError) throw e;
    throw new KubeError(`cannot read the kubeconfig: ${(e as Error).message}`, 'config');
  }
  if (context !== undefined) {
    if (!kc.getContextObject(context)) {
      throw new KubeError(
        `the kubeconfig has no context "${context}" (it has: ${
          kc
            .getContexts()
            .map((c) => c.name)
            .join(', ') || 'none'
        })`,
        'config',
      );
    }
    kc.setCurrentContext(context);
  }
  if (!kc.getCurrentCluster())
    throw new KubeError('the kubeconfig has no current context: set `context` in the profile or `kubectl config use-context`', 'config');
  return kc;
}

/** The server's own words in a failed response (a Status object's message), else the error's. */
function serverMessage(e: unknown): { code?: number; message: string } {
  const err = e as { code?: number; body?: unknown; message?: string; cause?: { code?: string; message?: string } };
  let body = err.body;
  if (typeof body === 'string') {
    try {
      body = JSON.parse(body);
    } catch {
      // plain text
    }
  }
  const msg = (body as { message?: string } | undefined)?.message;
  return { ...(typeof err.code === 'number' ? { code: err.code } : {}), message: msg ?? err.cause?.message ?? err.message ?? String(e) };
}

const NETWORK = /ECONNREFUSED|ECONNRESET|EHOSTUNREACH|ENOTFOUND|ETIMEDOUT|socket hang up|fetch failed|other side closed|UND_ERR/i;

/** A client-node failure as a KubeError naming `verb` and `what`. */
export function kubeError(e: unknown, verb: string, what: string, server: string): KubeError {
  if (e instanceof KubeError) return e;
  const { code, message } = serverMessage(e);
  const cause = (e as { cause?: { code?: string } }).cause?.code ?? (e as { code?: unknown }).code;
  if (code === undefined && (NETWORK.test(message) || (typeof cause === 'string' && NETWORK.test(cause)))) {
    return new KubeError(`cannot reach the Kubernetes API server at ${server} (to ${verb} ${what}): ${message}`, 'unreachable');
  }
  if (code === 403) return new KubeError(`RBAC forbids ${verb} on ${what}: ${message}`, 'forbidden', 403);
  if (code === 401)
    return new KubeError(`the Kubernetes API server at ${server} did not accept the credentials (to ${verb} ${what}): ${message}`, 'unauthorized', 401);
  if (code === 404) return new KubeError(`${what} not found (${verb}): ${message}`, 'not-found', 404);
  if (code === 409) return new KubeError(`${verb} ${what} conflicts: ${message}`, 'conflict', 409);
  if (code === 422 || code === 400) return new KubeError(`the API server refused ${what} (${verb}): ${message}`, 'invalid', code);
  return new KubeError(`${verb} ${what} failed${code ? ` (HTTP ${code})` : ''}: ${message}`, 'other', code);
}

/** One API server: objects applied, read, listed, deleted and watched, every failure a KubeError. */
export class Cluster {
  readonly objects: k8s.KubernetesObjectApi;
  readonly core: k8s.CoreV1Api;
  readonly server: string;

  constructor(readonly kc: k8s.KubeConfig) {
    this.objects = SharedDiscoveryObjectApi.of(kc);
    this.core = kc.makeApiClient(k8s.CoreV1Api);
    this.server = kc.getCurrentCluster()?.server ?? '(no server)';
  }

  private async call<T>(verb: string, what: string, f: () => Promise<T>): Promise<T> {
    try {
      return await f();
    } catch (e) {
      throw kubeError(e, verb, what, this.server);
    }
  }

  /** Server-side apply with field manager `asgard` (conflicting fields taken over: asgard owns what it compiles). */
  apply<T extends KubeObject>(o: T, dryRun = false): Promise<T> {
    return this.call(
      'patch',
      describe(o),
      () => this.objects.patch(o, undefined, dryRun ? 'All' : undefined, 'asgard', true, k8s.PatchStrategy.ServerSideApply) as Promise<T>,
    );
  }

  /** The object as stored, or undefined when it does not exist. */
  async read<T extends KubeObject>(o: Pick<KubeObject, 'apiVersion' | 'kind' | 'metadata'>): Promise<T | undefined> {
    try {
      return await this.call('get', describe(o), () => this.objects.read(o as KubeObject) as Promise<T>);
    } catch (e) {
      if (e instanceof KubeError && e.reason === 'not-found') return undefined;
      throw e;
    }
  }

  async list(apiVersion: string, kind: string, namespace: string, labelSelector: string): Promise<KubeObject[]> {
    const r = await this.call('list', `${kind} in namespace ${namespace}`, () =>
      this.objects.list(apiVersion, kind, namespace, undefined, undefined, undefined, undefined, labelSelector),
    );
    return (r.items as KubeObject[]).map((o) => ({ ...o, apiVersion, kind }));
  }

  /** Delete (the garbage collector removes dependents in the background); gone already is fine. */
  async delete(o: Pick<KubeObject, 'apiVersion' | 'kind' | 'metadata'>): Promise<void> {
    try {
      await this.call('delete', describe(o), () => this.objects.delete(o as KubeObject, undefined, undefined, undefined, undefined, 'Background'));
    } catch (e) {
      if (e instanceof KubeError && e.reason === 'not-found') return;
      throw e;
    }
  }

  /** The last lines of a pod's log, or undefined when the pod or its log cannot be read. */
  async podLogTail(namespace: string, name: string, lines = 30): Promise<string | undefined> {
    try {
      const log = await this.core.readNamespacedPodLog({ name, namespace, tailLines: lines });
      return typeof log === 'string' && log.trim() !== '' ? log.trimEnd() : undefined;
    } catch {
      return undefined;
    }
  }
}
