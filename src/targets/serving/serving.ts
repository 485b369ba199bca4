// serving/: per serve node, a Deployment and a Service running `asgard serve` under the profile, so
// each replica reads the promoted ONNX model from the registry beside the S3 warehouse (no volume
// is shared between replicas: each has its own working copy in an emptyDir), with readiness and
// liveness on /health and resources from the profile. The spec travels in the ConfigMap of
// kubernetes/spec.yaml; S3 credentials come from the pipeline's Secret.

import type { NodeKind, PipelineIR } from '../../ir/types.js';
import type { Diagnostic, Result } from '../../diagnostics/diagnostic.js';
import type { FileMap, Origin } from '../files.js';
import { yamlDocs } from '../files.js';
import type { KindRole, Target, TargetContext } from '../registry.js';
import { ProfileSettings } from '../settings.js';
import { k8sName, nodeById, nodesOf } from '../pipeline.js';
import { SPEC_HOME, STATE_MOUNT } from '../training/training.js';
import { specConfigMapName } from '../kubernetes/kubernetes.js';
import { envVar, k8sRefs, type EnvVar } from '../k8s-env.js';
import { servingSettings } from './settings.js';

const PORT = 8000;

/** What this target does with each node kind (KindRole, src/targets/registry.ts). */
const kinds: Record<NodeKind, KindRole> = { source: 'none', cleanse: 'none', model: 'none', features: 'none', train: 'none', serve: 'runs' };

export const servingTarget: Target = {
  name: 'serving',
  kinds,
  settings: servingSettings,
  generate(ir: PipelineIR, ctx: TargetContext): Result<FileMap> {
    const serves = nodesOf(ir, 'serve');
    const files: FileMap = new Map();
    const diags: Diagnostic[] = [];
    if (serves.length === 0) return { value: files, diagnostics: [] };
    const settings = new ProfileSettings(ctx.profile, 'serving');
    const image = settings.literalString('image', 'the asgard image that runs `asgard serve`, e.g. "ghcr.io/asgard-data/asgard:0.1.0"');
    const namespace = settings.literalString('namespace', 'the Kubernetes namespace', 'default')!;
    const replicas = settings.literalNumber('serve.replicas', 2);
    const refs = k8sRefs(ir, settings);
    const endpoint = settings.get('s3_endpoint');
    diags.push(...settings.diagnostics);
    if (!image) return { diagnostics: diags };
    const specFile = ctx.specPath.split('/').pop()!;
    const specMap = specConfigMapName(ir);
    const env: EnvVar[] = [];
    if (endpoint) env.push(envVar('S3_ENDPOINT', endpoint, refs));
    env.push(envVar('AWS_ACCESS_KEY_ID', settings.get('s3_access_key_id') ?? { kind: 'secret', name: 'AWS_ACCESS_KEY_ID' }, refs));
    env.push(envVar('AWS_SECRET_ACCESS_KEY', settings.get('s3_secret_access_key') ?? { kind: 'secret', name: 'AWS_SECRET_ACCESS_KEY' }, refs));
    // `asgard serve` reads every serve node's auth token (src/serve/auth.ts): a secretKeyRef each.
    const tokens = [...new Map(serves.flatMap((n) => (n.auth ? [[n.auth.token.name, envVar(n.auth.token.name, n.auth.token, refs)] as const] : []))).values()];
    env.push(...tokens);

    for (const s of serves) {
      const origin: Origin = { spec: ctx.specPath, node: s.id };
      const train = nodeById(ir, s.model);
      const name = k8sName(ir.name, s.name);
      const selector = { 'app.kubernetes.io/name': name, 'app.kubernetes.io/instance': ir.name };
      const labels = { ...selector, 'app.kubernetes.io/managed-by': 'asgard', 'asgard.io/pipeline': ir.name, 'asgard.io/node': s.id };
      const probe = (initialDelaySeconds: number, periodSeconds: number) => ({
        httpGet: { path: '/health', port: 'http' },
        initialDelaySeconds,
        periodSeconds,
        timeoutSeconds: 2,
        failureThreshold: 3,
      });
      const docs: unknown[] = [];
      docs.push({
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name, namespace, labels, annotations: { 'asgard.io/model': train?.kind === 'train' ? train.register : s.model } },
        spec: {
          replicas,
          selector: { matchLabels: selector },
          template: {
            metadata: { labels },
            spec: {
              containers: [
                {
                  name: 'serve',
                  image,
                  imagePullPolicy: 'IfNotPresent',
                  // The spec sits in SPEC_HOME; under the profile the state and registry are read from S3.
                  command: ['asgard', 'serve', `${SPEC_HOME}/${specFile}`, '--profile', ctx.profile.name, '--host', '0.0.0.0', '--port', String(PORT)],
                  env,
                  workingDir: SPEC_HOME,
                  ports: [{ name: 'http', containerPort: PORT, protocol: 'TCP' }],
                  readinessProbe: probe(5, 10),
                  livenessProbe: probe(15, 20),
                  resources: {
                    requests: {
                      cpu: settings.literalString('serve.cpu', 'serving CPU', '250m')!,
                      memory: settings.literalString('serve.memory', 'serving memory', '512Mi')!,
                    },
                    limits: { memory: settings.literalString('serve.memory', 'serving memory', '512Mi')! },
                  },
                  volumeMounts: [
                    { name: 'spec', mountPath: `${SPEC_HOME}/${specFile}`, subPath: specFile, readOnly: true },
                    { name: 'work', mountPath: STATE_MOUNT },
                  ],
                },
              ],
              volumes: [
                { name: 'spec', configMap: { name: specMap } },
                // This replica's own working copy of state and registry (pulled from S3).
                { name: 'work', emptyDir: {} },
              ],
            },
          },
        },
      });
      docs.push({
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name, namespace, labels },
        spec: { type: 'ClusterIP', selector, ports: [{ name: 'http', port: PORT, targetPort: 'http', protocol: 'TCP' }] },
      });
      const path = `${s.name}.yaml`;
      files.set(path, yamlDocs(path, origin, docs));
    }
    return { value: files, diagnostics: diags };
  },
};
