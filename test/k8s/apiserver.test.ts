// The real Kubernetes API server (kube-apiserver v1.37 and etcd built from the Go module proxy by
// scripts/k8s-apiserver.sh) accepts every object of the compiled churn tree: each one is validated
// against the official schemas in ../shared/schemas by test/targets/golden.test.ts, and here the API
// server validates, defaults and stores it (server-side apply, field manager asgard), with the
// spark-operator CRD installed from ../shared/schemas.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as k8s from '@kubernetes/client-node';
import { compileChurn } from '../targets/churn.js';
import { deleteNamespace, freshNamespace, k8sServer, kubeConfig } from '../helpers/k8s.js';
import { kubeObjects, type KubeObject } from '../../src/targets/k8s-objects.js';

let ns: string;
let objects: KubeObject[];

beforeAll(async () => {
  k8sServer();
  ns = await freshNamespace('compiled');
  // churn's profile names an Iceberg SQL catalog: the gold models' dbt Jobs and the feature view's Job are among the objects.
  const r = await compileChurn();
  expect(r.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  // Everything into this test's namespace (the compiled namespace object itself is applied as is).
  objects = kubeObjects(r.files!).map((o) => (o.object.kind === 'Namespace' ? o.object : { ...o.object, metadata: { ...o.object.metadata, namespace: ns } }));
}, 3_700_000);

afterAll(async () => {
  if (ns) await deleteNamespace(ns);
});

describe('the local API server', () => {
  it('is the Kubernetes release the Go module pins, with the spark-operator CRD served', async () => {
    const kc = kubeConfig();
    const version = await kc.makeApiClient(k8s.VersionApi).getCode();
    expect(version.gitVersion).toBe('v1.37.2');
    const crd = await kc.makeApiClient(k8s.ApiextensionsV1Api).readCustomResourceDefinition({ name: 'sparkapplications.sparkoperator.k8s.io' });
    expect(crd.spec.versions.map((v) => v.name)).toContain('v1beta2');
    expect(crd.status?.conditions?.find((c) => c.type === 'Established')?.status).toBe('True');
  });

  it('refuses an invalid SparkApplication (the CRD schema is enforced)', async () => {
    const api = k8s.KubernetesObjectApi.makeApiClient(kubeConfig());
    const bad = {
      apiVersion: 'sparkoperator.k8s.io/v1beta2',
      kind: 'SparkApplication',
      metadata: { name: 'bad', namespace: ns },
      spec: { type: 'Cobol', mode: 'cluster', sparkVersion: '4.0.1' },
    };
    await expect(api.patch(bad, undefined, 'All', 'asgard', true, k8s.PatchStrategy.ServerSideApply)).rejects.toThrow(/spec.type|Unsupported value/);
  });
});

describe('every object of the compiled churn tree', () => {
  it('has the kinds the tree promises', () => {
    const kinds = objects.map((o) => o.kind).sort();
    expect(new Set(kinds)).toEqual(
      new Set(['ConfigMap', 'CronJob', 'Deployment', 'Job', 'Namespace', 'Role', 'RoleBinding', 'Service', 'ServiceAccount', 'SparkApplication']),
    );
    expect(kinds.filter((k) => k === 'SparkApplication')).toHaveLength(3);
  });

  it('is accepted by the API server with a dry run, then stored by server-side apply', async () => {
    const api = k8s.KubernetesObjectApi.makeApiClient(kubeConfig());
    for (const o of objects) {
      await expect(
        api.patch(o, undefined, 'All', 'asgard', true, k8s.PatchStrategy.ServerSideApply).then((r) => r.kind),
        `${o.kind}/${o.metadata.name}`,
      ).resolves.toBe(o.kind);
    }
    for (const o of objects) {
      const stored = await api.patch(o, undefined, undefined, 'asgard', true, k8s.PatchStrategy.ServerSideApply);
      expect(
        stored.metadata.managedFields?.some((f) => f.manager === 'asgard' && f.operation === 'Apply'),
        `${o.kind}/${o.metadata.name}`,
      ).toBe(true);
      expect(stored.metadata.labels?.['asgard.io/pipeline']).toBe('churn');
    }
    // Read back: what asgard applied is what the server keeps (no field dropped by pruning).
    for (const o of objects.filter((x) => x.kind === 'SparkApplication')) {
      const back = (await api.read(o)) as unknown as { spec: Record<string, unknown> };
      expect(back.spec.arguments).toEqual((o as unknown as { spec: Record<string, unknown> }).spec.arguments);
    }
  });
});
