// Test access to the real Kubernetes API server and etcd that scripts/k8s-apiserver.sh builds (from
// the Go module proxy) and starts on loopback, plus a fresh namespace per test so test files can run
// in parallel. The kubeconfigs it writes hold bearer tokens generated at start, under the services
// folder; nothing here is a secret of anyone's.

import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { freePortsBelowEphemeral } from './ports.js';

const ROOT = resolve(import.meta.dirname, '..', '..');

export interface K8sEnv {
  /** The admin kubeconfig (group system:masters). */
  readonly kubeconfig: string;
  /** A user with no rights until a test grants them (RBAC tests). */
  readonly limitedKubeconfig: string;
  readonly server: string;
}

let cached: K8sEnv | undefined;

/** The API server's kubeconfigs; builds (first use: many minutes) and starts it when needed. */
export function k8sServer(): K8sEnv {
  if (cached) return cached;
  const out = execFileSync('bash', ['-c', 'source scripts/k8s-apiserver.sh && k8s_apiserver_up >&2 && env -0'], {
    cwd: ROOT,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    timeout: 3_600_000,
  });
  const vars: Record<string, string> = {};
  for (const kv of out.split('\0')) {
    const i = kv.indexOf('=');
    if (i > 0) vars[kv.slice(0, i)] = kv.slice(i + 1);
  }
  cached = { kubeconfig: vars.ASGARD_K8S_KUBECONFIG, limitedKubeconfig: vars.ASGARD_K8S_LIMITED_KUBECONFIG, server: vars.ASGARD_K8S_SERVER };
  return cached;
}

export function kubeConfig(file = k8sServer().kubeconfig): k8s.KubeConfig {
  const kc = new k8s.KubeConfig();
  kc.loadFromFile(file);
  return kc;
}

/** A namespace with a random name (deleted by the caller's cleanup if it wants). */
export async function freshNamespace(prefix = 't', kubeconfig?: string): Promise<string> {
  const name = `${prefix}-${randomBytes(4).toString('hex')}`;
  await kubeConfig(kubeconfig)
    .makeApiClient(k8s.CoreV1Api)
    .createNamespace({ body: { metadata: { name } } });
  return name;
}

export async function deleteNamespace(name: string, kubeconfig?: string): Promise<void> {
  await kubeConfig(kubeconfig)
    .makeApiClient(k8s.CoreV1Api)
    .deleteNamespace({ name })
    .catch(() => undefined);
}

/**
 * An API server and etcd of the caller's own (its own folder, and ports chosen below the ephemeral
 * range: test/helpers/ports.ts), for fault tests that stop and restart kube-apiserver without
 * disturbing the shared one other test files use. `stopApiServer` kills kube-apiserver only (etcd
 * keeps the objects); `start` starts what is not running. Both run the script asynchronously, so an
 * apply in the same process goes on meanwhile.
 */
export interface PrivateK8s extends K8sEnv {
  start(): Promise<void>;
  stopApiServer(): Promise<void>;
  down(): Promise<void>;
}

export async function privateK8sServer(dir: string): Promise<PrivateK8s> {
  // kube-apiserver, etcd's client port and its peer port (the script's client port + 1).
  const [port, etcdPort] = await freePortsBelowEphemeral(3);
  const env = { ...process.env, ASGARD_SERVICES_DIR: dir, ASGARD_K8S_PORT: String(port), ASGARD_ETCD_PORT: String(etcdPort) };
  const sh = async (script: string) => {
    await promisify(execFile)('bash', ['-c', `source scripts/k8s-apiserver.sh && ${script}`], { cwd: ROOT, env, timeout: 600_000 });
  };
  const start = () => sh('k8s_apiserver_up');
  await start();
  const pidFile = resolve(dir, 'k8s', 'kube-apiserver.pid');
  return {
    kubeconfig: resolve(dir, 'k8s', 'admin.kubeconfig'),
    limitedKubeconfig: resolve(dir, 'k8s', 'limited.kubeconfig'),
    server: `https://127.0.0.1:${port}`,
    start,
    // The pid file is the script's own record of what it started (scripts/daemon.sh); then wait until the port is closed.
    stopApiServer: () =>
      sh(
        `daemon_stop ${JSON.stringify(pidFile)} _k8s_log kube-apiserver; while curl -ksS -o /dev/null https://127.0.0.1:${port}/ 2>/dev/null; do sleep 0.2; done`,
      ),
    down: () => sh('k8s_apiserver_down'),
  };
}
