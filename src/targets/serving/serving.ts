// serving/: per serve node, a Deployment and a Service running `asgard serve` on the registered
// ONNX model (the asgard state volume the training Job registers versions into), readiness and
// liveness on /health; the spec itself travels in a ConfigMap when compile is given its text.

import { envVar, k8sRefs } from '../k8s-env.js';
import type { PipelineIR } from '../../ir/types.js';
import type { Diagnostic, Result } from '../../diagnostics/diagnostic.js';
import type { FileMap, Origin } from '../files.js';
import { yamlDocs } from '../files.js';
import type { Target, TargetContext } from '../registry.js';
import { ProfileSettings } from '../settings.js';
import { k8sName, nodeById, nodesOf } from '../pipeline.js';
import { SPEC_HOME, STATE_MOUNT } from '../training/training.js';

const PORT = 8000;

export const servingTarget: Target = {
  name: 'serving',
  generate(ir: PipelineIR, ctx: TargetContext): Result<FileMap> {
    const serves = nodesOf(ir, 'serve');
    const files: FileMap = new Map();
    const diags: Diagnostic[] = [];
    if (serves.length === 0) return { value: files, diagnostics: [] };
    const settings = new ProfileSettings(ctx.profile, 'serving');
    const image = settings.literalString('image', 'the asgard image that runs `asgard serve`, e.g. "ghcr.io/asgard-data/asgard:0.1.0"');
    const namespace = settings.literalString('namespace', 'the Kubernetes namespace', 'default')!;
    const replicas = settings.literalNumber('serve.replicas', 2);
    const stateClaim = settings.literalString('state_claim', 'the PersistentVolumeClaim holding asgard state', k8sName(ir.name, 'asgard-state'))!;
    diags.push(...settings.diagnostics);
    if (!image) return { diagnostics: diags };
    const specFile = ctx.specPath.split('/').pop()!;
    const specMap = k8sName(ir.name, 'spec');
    // `asgard serve` reads every serve node's auth token (src/serve/auth.ts): a secretKeyRef each.
    const refs = k8sRefs(ir, settings);
    const tokens = [...new Map(serves.flatMap((n) => (n.auth ? [[n.auth.token.name, envVar(n.auth.token.name, n.auth.token, refs)] as const] : []))).values()];

    for (const s of serves) {
      const origin: Origin = { spec: ctx.specPath, node: s.id };
      const train = nodeById(ir, s.model);
      const name = k8sName(ir.name, s.name);
      const selector = { 'app.kubernetes.io/name': name, 'app.kubernetes.io/instance': ir.name };
      const labels = { ...selector, 'app.kubernetes.io/managed-by': 'asgard', 'asgard.io/pipeline': ir.name, 'asgard.io/node': s.id };
      const probe = (initialDelaySeconds: number, periodSeconds: number) => ({ httpGet: { path: '/health', port: 'http' }, initialDelaySeconds, periodSeconds, timeoutSeconds: 2, failureThreshold: 3 });
      const docs: unknown[] = [];
      if (ctx.specSource !== undefined) {
        docs.push({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: specMap, namespace, labels }, data: { [specFile]: withoutUrlPasswords(ctx.specSource) } });
      }
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
                  // The spec sits in SPEC_HOME with the state volume as its `.asgard/` (state, registry, warehouse).
                  command: ['asgard', 'serve', `${SPEC_HOME}/${specFile}`, '--host', '0.0.0.0', '--port', String(PORT)],
                  workingDir: SPEC_HOME,
                  ...(tokens.length ? { env: tokens } : {}),
                  ports: [{ name: 'http', containerPort: PORT, protocol: 'TCP' }],
                  readinessProbe: probe(5, 10),
                  livenessProbe: probe(15, 20),
                  resources: {
                    requests: { cpu: settings.literalString('serve.cpu', 'serving CPU', '250m')!, memory: settings.literalString('serve.memory', 'serving memory', '512Mi')! },
                    limits: { memory: settings.literalString('serve.memory', 'serving memory', '512Mi')! },
                  },
                  volumeMounts: [
                    { name: 'spec', mountPath: `${SPEC_HOME}/${specFile}`, subPath: specFile, readOnly: true },
                    { name: 'state', mountPath: STATE_MOUNT },
                  ],
                },
              ],
              volumes: [
                { name: 'spec', configMap: { name: specMap } },
                { name: 'state', persistentVolumeClaim: { claimName: stateClaim } },
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

/** A password written inside a URL (`scheme://user:password@host`) never reaches an artifact; `serve` needs none. */
export function withoutUrlPasswords(text: string): string {
  return text.replace(/\b([a-z][a-z0-9+.-]*:\/\/[^\s/:@"'`]+):[^\s/@"'`]*@/gi, '$1@');
}
