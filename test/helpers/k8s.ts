// Test access to the real Kubernetes API server and etcd that scripts/k8s-apiserver.sh builds (from
// the Go module proxy) and starts on loopback, plus a fresh namespace per test so test files can run
// in parallel. The kubeconfigs it writes hold bearer tokens generated at start, under the services
// folder; nothing here is a secret of anyone's.

import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import * as k8s from '@kubernetes/client-node';

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
export async function freshNamespace(prefix = 't'): Promise<string> {
  const name = `${prefix}-${randomBytes(4).toString('hex')}`;
  await kubeConfig().makeApiClient(k8s.CoreV1Api).createNamespace({ body: { metadata: { name } } });
  return name;
}

export async function deleteNamespace(name: string): Promise<void> {
  await kubeConfig()
    .makeApiClient(k8s.CoreV1Api)
    .deleteNamespace({ name })
    .catch(() => undefined);
}
