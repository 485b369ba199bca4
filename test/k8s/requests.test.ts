// The requests `apply --profile kubernetes` makes before and while it runs a node, against a
// recording stand-in for the Cluster (each is a round trip on the apply's critical path,
// bench/k8s.bench.ts): a run-to-completion (src/kube/run.ts) is not read again after its apply,
// whose answer is where it stands; the pipeline's own objects (src/kube/deploy.ts prepare) go kind
// after kind in apply order, the objects of one kind at once, the job files uploaded meanwhile; an
// API group version's resources are looked up once even by applies that start together.

import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Cluster, loadKubeConfig } from '../../src/kube/cluster.js';
import { KubeDeployment } from '../../src/kube/deploy.js';
import { runToCompletion } from '../../src/kube/run.js';
import type { Airbyte } from '../../src/kube/airbyte.js';
import type { PipelineNode } from '../../src/ir/types.js';
import type { KubeObject } from '../../src/targets/k8s-objects.js';

const job: KubeObject = { apiVersion: 'batch/v1', kind: 'Job', metadata: { name: 'train', namespace: 'ns' } } as KubeObject;

describe('runToCompletion', () => {
  it('reads the object once (to replace an earlier run) and not again after applying it', async () => {
    const calls: string[] = [];
    const cluster = {
      read: async () => (calls.push('read'), undefined),
      delete: async () => void calls.push('delete'),
      // The API server answers the apply with the object as stored: here it has finished already.
      apply: async (o: KubeObject) => {
        calls.push('apply');
        return { ...o, metadata: { ...o.metadata, resourceVersion: '7' }, status: { conditions: [{ type: 'Complete', status: 'True' }] } };
      },
    } as unknown as Cluster;
    const done = await runToCompletion(cluster, job, { timeoutSeconds: 60 });
    expect(done.metadata.resourceVersion).toBe('7');
    expect(calls).toEqual(['read', 'apply']);
  });
});

describe("the pipeline's own objects", () => {
  it('kind after kind, those of one kind at once, the uploads meanwhile', async () => {
    const events: string[] = [];
    let inFlight = 0;
    let most = 0;
    const cluster = {
      apply: async (o: KubeObject) => {
        events.push(`apply ${o.kind}/${o.metadata.name}`);
        most = Math.max(most, ++inFlight);
        await new Promise((r) => setTimeout(r, 20));
        inFlight--;
        events.push(`applied ${o.kind}/${o.metadata.name}`);
        return o;
      },
    } as unknown as Cluster;
    const doc = (kind: string, name: string) =>
      `apiVersion: ${kind === 'Namespace' || kind === 'ConfigMap' ? 'v1' : 'rbac.authorization.k8s.io/v1'}\nkind: ${kind}\nmetadata:\n  name: ${name}\n`;
    const tree = new Map([
      ['kubernetes/namespace.yaml', [doc('RoleBinding', 'rb'), doc('Namespace', 'ns'), doc('Role', 'r')].join('---\n')],
      ['kubernetes/config.yaml', [doc('ConfigMap', 'a'), doc('ConfigMap', 'b'), doc('ConfigMap', 'c')].join('---\n')],
    ]);
    const deployment = new KubeDeployment(cluster, {
      pipeline: 'p',
      namespace: 'ns',
      tree,
      timeoutSeconds: 60,
      timeoutSource: 'test',
      upload: async () => {
        events.push('upload');
      },
    });
    await deployment.prepare();
    expect(events.filter((e) => e !== 'upload')[0]).toBe('apply Namespace/ns');
    expect(events.indexOf('upload')).toBeLessThan(events.indexOf('applied Namespace/ns'));
    const at = (e: string) => events.indexOf(e);
    expect(at('applied Namespace/ns')).toBeLessThan(at('apply Role/r'));
    expect(at('applied Role/r')).toBeLessThan(at('apply RoleBinding/rb'));
    expect(at('applied RoleBinding/rb')).toBeLessThan(at('apply ConfigMap/a'));
    expect(most).toBe(3);
    expect(deployment.writes).toBe(6);
  });
});

describe("a source's sync", () => {
  it("the pipeline's own objects are applied and the job files uploaded while it runs, not after it", async () => {
    const events: string[] = [];
    const cluster = {
      apply: async (o: KubeObject) => {
        events.push(`apply ${o.kind}/${o.metadata.name}`);
        return o;
      },
    } as unknown as Cluster;
    let finish!: () => void;
    const synced = new Promise<void>((r) => (finish = r));
    const airbyte = {
      sync: async () => {
        events.push('sync');
        await synced;
        events.push('synced');
        return { jobId: 1, rows: 10, bytes: 100 };
      },
    } as unknown as Airbyte;
    const tree = new Map([['kubernetes/namespace.yaml', 'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ns\n']]);
    const deployment = new KubeDeployment(cluster, {
      pipeline: 'p',
      namespace: 'ns',
      tree,
      timeoutSeconds: 60,
      timeoutSource: 'test',
      upload: async () => void events.push('upload'),
      airbyte,
    });
    const source = { id: 'bronze.events', kind: 'source', connector: { name: 'app_db' } } as unknown as PipelineNode;
    const running = deployment.runNode(source, { progress: () => undefined, signal: new AbortController().signal });
    // The sync is held until the end (the first run of the file loads the compile targets: seconds under load).
    const deadline = Date.now() + 30_000;
    while (!(events.includes('sync') && events.includes('apply Namespace/ns')) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    expect(events).not.toContain('synced');
    expect(events).toEqual(expect.arrayContaining(['sync', 'upload', 'apply Namespace/ns']));
    finish();
    await running;
    expect(deployment.writes).toBe(1);
  });
});

describe('API discovery', () => {
  it('applies of one group version that start together look its resources up once', async () => {
    const seen: string[] = [];
    const server = createServer((req, res) => {
      seen.push(`${req.method} ${req.url?.replace(/\?.*/, '')}`);
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', () => {
        res.setHeader('content-type', 'application/json');
        if (req.method === 'GET')
          res.end(
            JSON.stringify({
              kind: 'APIResourceList',
              groupVersion: 'rbac.authorization.k8s.io/v1',
              resources: [{ name: 'roles', singularName: 'role', namespaced: true, kind: 'Role', verbs: ['patch'] }],
            }),
          );
        else res.end(body);
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const port = (server.address() as { port: number }).port;
      const file = join(mkdtempSync(join(tmpdir(), 'asgard-discovery-')), 'kubeconfig');
      writeFileSync(
        file,
        `apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster: {server: "http://127.0.0.1:${port}", insecure-skip-tls-verify: true}\nusers:\n- name: u\n  user: {token: t}\ncontexts:\n- name: c\n  context: {cluster: c, user: u}\ncurrent-context: c\n`,
      );
      const cluster = new Cluster(loadKubeConfig({ KUBECONFIG: file }));
      const role = (name: string) => ({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name, namespace: 'ns' } }) as KubeObject;
      await Promise.all([cluster.apply(role('a')), cluster.apply(role('b')), cluster.apply(role('c'))]);
      expect(seen.filter((r) => r.startsWith('GET')).sort()).toEqual(['GET /apis/rbac.authorization.k8s.io/v1']);
      expect(seen.filter((r) => r.startsWith('PATCH'))).toHaveLength(3);
    } finally {
      server.close();
    }
  });
});
