// Cluster access without a cluster: where the kubeconfig comes from (KUBECONFIG files merged, a
// named context, clear errors), what an unreachable API server looks like, and what apply
// --profile kubernetes refuses before touching anything (no S3 warehouse, a bad job_timeout).

import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Cluster, KubeError, loadKubeConfig } from '../../src/kube/cluster.js';
import { parseDuration } from '../../src/cli/kube.js';
import { cli } from '../cli/helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'asgard-kubeconfig-'));
const config = (name: string, server: string, contexts: string[] = [name]) => {
  const f = join(dir, `${name}.kubeconfig`);
  writeFileSync(
    f,
    `apiVersion: v1
kind: Config
clusters:
- name: ${name}
  cluster: {server: "${server}"}
users:
- name: ${name}
  user: {token: not-a-real-token}
contexts:
${contexts.map((c) => `- name: ${c}\n  context: {cluster: ${name}, user: ${name}}`).join('\n')}
current-context: ${contexts[0]}
`,
  );
  return f;
};

describe('the kubeconfig', () => {
  it('KUBECONFIG files are merged; the first one names the current context; a context can be picked', () => {
    const a = config('alpha', 'https://127.0.0.1:1');
    const b = config('beta', 'https://127.0.0.1:2');
    const kc = loadKubeConfig({ KUBECONFIG: `${a}:${b}` });
    expect(kc.getCurrentCluster()?.server).toBe('https://127.0.0.1:1');
    expect(loadKubeConfig({ KUBECONFIG: `${a}:${b}` }, 'beta').getCurrentCluster()?.server).toBe('https://127.0.0.1:2');
  });

  it('an unknown context names the ones there are', () => {
    const a = config('gamma', 'https://127.0.0.1:1', ['gamma', 'gamma-admin']);
    expect(() => loadKubeConfig({ KUBECONFIG: a }, 'prod')).toThrow(/the kubeconfig has no context "prod" \(it has: gamma, gamma-admin\)/);
  });

  it('no kubeconfig anywhere and not in a cluster: says where it looked', () => {
    expect(() => loadKubeConfig({ HOME: dir })).toThrow(/no Kubernetes credentials: set KUBECONFIG, write ~\/\.kube\/config, or run asgard inside the cluster/);
    expect(() => loadKubeConfig({ KUBECONFIG: join(dir, 'missing') })).toThrow(KubeError);
  });

  it("in a pod (a scheduled apply's CronJob: no kubeconfig, KUBERNETES_SERVICE_HOST set): the service account's token and CA, the in-cluster address", () => {
    const pod = { KUBERNETES_SERVICE_HOST: '10.96.0.1', KUBERNETES_SERVICE_PORT: '443' };
    const saved = { host: process.env.KUBERNETES_SERVICE_HOST, port: process.env.KUBERNETES_SERVICE_PORT };
    // client-node reads the address from the process's environment, as a pod's is.
    Object.assign(process.env, pod);
    try {
      const kc = loadKubeConfig({ HOME: dir, ...pod });
      expect(kc.getCurrentCluster()).toMatchObject({ server: 'https://10.96.0.1:443', caFile: '/var/run/secrets/kubernetes.io/serviceaccount/ca.crt' });
      expect(kc.getCurrentUser()?.authProvider).toEqual({ name: 'tokenFile', config: { tokenFile: '/var/run/secrets/kubernetes.io/serviceaccount/token' } });
    } finally {
      for (const [k, v] of [
        ['KUBERNETES_SERVICE_HOST', saved.host],
        ['KUBERNETES_SERVICE_PORT', saved.port],
      ] as const) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
  });

  it('an API server nobody answers at: "cannot reach", with its address and what was being done', async () => {
    const c = new Cluster(loadKubeConfig({ KUBECONFIG: config('delta', 'https://127.0.0.1:1') }));
    const e = await c.read({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x', namespace: 'ns' } }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(KubeError);
    expect((e as KubeError).reason).toBe('unreachable');
    expect((e as KubeError).message).toMatch(/^cannot reach the Kubernetes API server at https:\/\/127\.0\.0\.1:1 \(to get ConfigMap ns\/x\)/);
  });
});

describe('job_timeout', () => {
  it('takes seconds or a duration', () => {
    expect(parseDuration(90)).toBe(90);
    expect(parseDuration('15m')).toBe(900);
    expect(parseDuration('2h')).toBe(7200);
    expect(parseDuration('30s')).toBe(30);
    expect(parseDuration('soon')).toBeUndefined();
    expect(parseDuration(0)).toBeUndefined();
  });
});

describe('apply --profile kubernetes refuses before touching anything', () => {
  const spec = (profile: string) => `pipeline p {
  source db postgres {
    url = "postgres://u@127.0.0.1:1/d"
    stream t { columns = { id = "BIGINT" } }
  }
  profile kubernetes {
${profile}
  }
}
`;
  it('without an S3 warehouse (state, lock and registry live there)', async () => {
    const d = mkdtempSync(join(tmpdir(), 'asgard-k8s-refuse-'));
    writeFileSync(join(d, 'p.asg'), spec('    namespace = "x"'));
    const r = await cli(['apply', 'p.asg', '--profile', 'kubernetes', '--yes'], { cwd: d, env: { HOME: d } });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /apply --profile kubernetes keeps the state, lock and registry beside an S3 warehouse: set `warehouse = "s3:\/\/bucket\/prefix"` in profile kubernetes/,
    );
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('with a job_timeout that is not a duration', async () => {
    const d = mkdtempSync(join(tmpdir(), 'asgard-k8s-refuse-'));
    writeFileSync(join(d, 'p.asg'), spec('    warehouse = "s3://b/w"\n    s3_endpoint = "http://127.0.0.1:1"\n    job_timeout = "soon"'));
    const r = await cli(['apply', 'p.asg', '--profile', 'kubernetes', '--yes'], { cwd: d, env: { HOME: d } });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/profile kubernetes: job_timeout must be seconds or a duration like "30m", not "soon"/);
  });
});

describe("a node's objects (the compiled churn tree, no cluster needed)", () => {
  it("groups objects by asgard.io/node, puts the pipeline's own first (namespace before what lives in it), and refuses nodes it cannot run before any request", async () => {
    const { compileChurn, churnWithHadoopCatalog } = await import('../targets/churn.js');
    const { KubeDeployment } = await import('../../src/kube/deploy.js');
    // On a Hadoop catalog the feature view compiles to no Job (src/targets/feast/jobs.ts): a node apply cannot run.
    const tree = (await compileChurn(churnWithHadoopCatalog())).files!;
    // A server nobody answers at: any request would fail with "cannot reach".
    const cluster = new Cluster(loadKubeConfig({ KUBECONFIG: config('epsilon', 'https://127.0.0.1:1') }));
    const d = new KubeDeployment(cluster, { pipeline: 'churn', namespace: 'asgard', tree, timeoutSeconds: 5, timeoutSource: 'test' });
    const { shared, byNode } = await d.objects();
    expect(shared.map((o) => o.kind)).toEqual([
      'Namespace',
      'ServiceAccount',
      'ServiceAccount',
      'Role',
      'Role',
      'RoleBinding',
      'RoleBinding',
      'ConfigMap',
      'ConfigMap',
      'CronJob',
    ]);
    const kinds = (id: string) => (byNode.get(id) ?? []).map((o) => o.kind);
    expect(kinds('silver.customers_cleaned')).toEqual(['SparkApplication']);
    expect(kinds('train.churn_predictor')).toEqual(['ConfigMap', 'Job']);
    expect(kinds('serve.churn_api')).toEqual(['Service', 'Deployment']);
    const { loadPipeline } = await import('../../src/dsl/load.js');
    const { CHURN } = await import('../targets/churn.js');
    const ir = loadPipeline(CHURN, { sqlCachePath: false }).ir!;
    const ctx = { progress: () => undefined, signal: new AbortController().signal };
    const features = ir.nodes.find((n) => n.kind === 'features')!;
    await expect(d.runNode(features, ctx)).rejects.toThrow(
      `${features.id}: the profile compiles no Kubernetes object for this features node, so it cannot run on the cluster (the feast target compiled none for it)`,
    );
    const source = ir.nodes.find((n) => n.kind === 'source')!;
    await expect(d.runNode(source, ctx)).rejects.toThrow(/sources are synced by Airbyte under this profile: set `airbyte_url` and `airbyte_workspace_id`/);
    expect(d.writes).toBe(0);
  });
});
