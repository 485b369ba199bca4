// kubernetes/: what the other folders' objects need to run in a cluster of their own — the
// namespace; a ServiceAccount with a Role and RoleBinding for asgard (what `apply --profile
// kubernetes` does: apply, watch and delete the compiled objects) and for the Spark driver (its
// executor pods); the spec in a ConfigMap (for `asgard serve` and the schedules); and, per distinct
// source `schedule = cron(…)`, a CronJob that runs `asgard apply --profile <profile>` for the
// sources on that schedule and everything downstream of them, in asgard's own image with the
// in-cluster service account (concurrencyPolicy Forbid; the S3 lock guards against any other
// apply). Its README (written after every target, from the tree: see secretsReadme) lists the
// Secrets and ConfigMap keys to create — names and keys, never values.

import type { NodeKind, PipelineIR } from '../../ir/types.js';
import type { Diagnostic, Result } from '../../diagnostics/diagnostic.js';
import type { FileMap, Origin } from '../files.js';
import { textFile, yamlDocs } from '../files.js';
import type { KindRole, Target, TargetContext } from '../registry.js';
import { ProfileSettings } from '../settings.js';
import { k8sName, nodesOf } from '../pipeline.js';
import { k8sRefs } from '../k8s-env.js';
import { kubeObjects } from '../k8s-objects.js';
import { SPEC_HOME } from '../training/training.js';
import { kubernetesSettings } from './settings.js';

export const specConfigMapName = (ir: PipelineIR) => k8sName(ir.name, 'spec');
export const ASGARD_SERVICE_ACCOUNT = 'asgard';

const ALL = ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'];

/** What this target does with each node kind (KindRole, src/targets/registry.ts). */
const kinds: Record<NodeKind, KindRole> = { source: 'none', cleanse: 'none', model: 'none', features: 'none', train: 'none', serve: 'none' };

export const kubernetesTarget: Target = {
  name: 'kubernetes',
  kinds,
  settings: kubernetesSettings,
  generate(ir: PipelineIR, ctx: TargetContext): Result<FileMap> {
    const settings = new ProfileSettings(ctx.profile, 'kubernetes');
    const diags: Diagnostic[] = [];
    const files: FileMap = new Map();
    const namespace = settings.literalString('namespace', 'the Kubernetes namespace', 'default')!;
    const sparkAccount = settings.literalString('spark_service_account', 'the driver service account', 'spark')!;
    const refs = k8sRefs(ir, settings);
    const schedules = [...new Set(nodesOf(ir, 'source').flatMap((s) => (s.connector.schedule ? [s.connector.schedule] : [])))].sort();
    const image = schedules.length
      ? settings.literalString('image', 'the asgard image the scheduled applies run in, e.g. "ghcr.io/asgard-data/asgard:0.1.0"')
      : undefined;
    diags.push(...settings.diagnostics);
    const origin: Origin = { spec: ctx.specPath, node: `pipeline ${ir.name}` };
    const labels = { 'app.kubernetes.io/managed-by': 'asgard', 'asgard.io/pipeline': ir.name };
    const meta = (name: string) => ({ name, namespace, labels });

    const role = (name: string, rules: object[]) => ({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: meta(name), rules });
    const binding = (name: string, account: string) => ({
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: meta(name),
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name },
      subjects: [{ kind: 'ServiceAccount', name: account, namespace }],
    });
    files.set(
      'namespace.yaml',
      yamlDocs('namespace.yaml', origin, [
        { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace, labels } },
        { apiVersion: 'v1', kind: 'ServiceAccount', metadata: meta(ASGARD_SERVICE_ACCOUNT) },
        // asgard applies, watches and deletes the kinds it compiles, and reads run logs.
        role(k8sName(ir.name, 'asgard'), [
          { apiGroups: [''], resources: ['configmaps', 'services', 'serviceaccounts'], verbs: ALL },
          { apiGroups: [''], resources: ['pods', 'pods/log'], verbs: ['get', 'list', 'watch'] },
          { apiGroups: ['apps'], resources: ['deployments'], verbs: ALL },
          { apiGroups: ['batch'], resources: ['jobs', 'cronjobs'], verbs: ALL },
          { apiGroups: ['sparkoperator.k8s.io'], resources: ['sparkapplications'], verbs: ALL },
          { apiGroups: ['rbac.authorization.k8s.io'], resources: ['roles', 'rolebindings'], verbs: ALL },
        ]),
        binding(k8sName(ir.name, 'asgard'), ASGARD_SERVICE_ACCOUNT),
        { apiVersion: 'v1', kind: 'ServiceAccount', metadata: meta(sparkAccount) },
        // The driver creates and watches its executors (as the spark-operator's chart grants).
        role(k8sName(ir.name, 'spark-driver'), [{ apiGroups: [''], resources: ['pods', 'services', 'configmaps', 'persistentvolumeclaims'], verbs: ALL }]),
        binding(k8sName(ir.name, 'spark-driver'), sparkAccount),
      ]),
    );

    const specFile = ctx.specPath.split('/').pop()!;
    if (ctx.specSource !== undefined) {
      files.set(
        'spec.yaml',
        yamlDocs('spec.yaml', origin, [
          { apiVersion: 'v1', kind: 'ConfigMap', metadata: meta(specConfigMapName(ir)), data: { [specFile]: withoutUrlPasswords(ctx.specSource) } },
        ]),
      );
    }

    if (schedules.length && image) {
      const cronJobs = schedules.map((schedule, i) => {
        const sources = nodesOf(ir, 'source').filter((s) => s.connector.schedule === schedule);
        return {
          apiVersion: 'batch/v1',
          kind: 'CronJob',
          metadata: { ...meta(k8sName(ir.name, 'apply', String(i + 1))), annotations: { 'asgard.io/sources': sources.map((s) => s.id).join(',') } },
          spec: {
            schedule,
            timeZone: 'Etc/UTC',
            // One run at a time here; the S3 lock also keeps out an apply from anywhere else.
            concurrencyPolicy: 'Forbid',
            startingDeadlineSeconds: 600,
            successfulJobsHistoryLimit: 3,
            failedJobsHistoryLimit: 3,
            jobTemplate: {
              metadata: { labels },
              spec: {
                backoffLimit: 0,
                template: {
                  metadata: { labels },
                  spec: {
                    serviceAccountName: ASGARD_SERVICE_ACCOUNT,
                    restartPolicy: 'Never',
                    containers: [
                      {
                        name: 'apply',
                        image,
                        imagePullPolicy: 'IfNotPresent',
                        workingDir: SPEC_HOME,
                        command: [
                          'asgard',
                          'apply',
                          `${SPEC_HOME}/${specFile}`,
                          '--profile',
                          ctx.profile.name,
                          '--yes',
                          '--select',
                          sources.map((s) => `${s.id}+`).join(','),
                        ],
                        // The secrets and env() values the spec names (kubernetes/README.md lists them).
                        envFrom: [{ secretRef: { name: refs.secretName } }, { configMapRef: { name: refs.configMapName, optional: true } }],
                        volumeMounts: [
                          { name: 'spec', mountPath: `${SPEC_HOME}/${specFile}`, subPath: specFile, readOnly: true },
                          // A working copy of the state only: state, lock and registry live in S3.
                          { name: 'work', mountPath: `${SPEC_HOME}/.asgard` },
                        ],
                      },
                    ],
                    volumes: [
                      { name: 'spec', configMap: { name: specConfigMapName(ir) } },
                      { name: 'work', emptyDir: {} },
                    ],
                  },
                },
              },
            },
          },
        };
      });
      files.set('schedules.yaml', yamlDocs('schedules.yaml', origin, cronJobs));
    }
    return { value: files, diagnostics: diags };
  },
};

/**
 * kubernetes/README.md from the whole compiled tree: every Secret and ConfigMap its objects refer
 * to, with the keys, and the command that creates each — names only, never a value.
 */
export function secretsReadme(ir: PipelineIR, specPath: string, tree: FileMap): string {
  const secrets = new Map<string, Set<string>>();
  const configs = new Map<string, Set<string>>();
  const add = (m: Map<string, Set<string>>, name: string, key?: string) => {
    const s = m.get(name) ?? new Set<string>();
    if (key) s.add(key);
    m.set(name, s);
  };
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) return v.forEach(walk);
    if (!v || typeof v !== 'object') return;
    const o = v as Record<string, any>;
    if (o.secretKeyRef) add(secrets, o.secretKeyRef.name, o.secretKeyRef.key);
    if (o.configMapKeyRef) add(configs, o.configMapKeyRef.name, o.configMapKeyRef.key);
    if (o.secretRef?.name) add(secrets, o.secretRef.name);
    Object.values(o).forEach(walk);
  };
  for (const { object } of kubeObjects(tree)) walk(object);
  // The scheduled applies take every secret() of the spec from the pipeline's Secret (envFrom).
  const refsSecret = [...secrets.keys()].find((n) => n === k8sName(ir.name, 'secrets'));
  if (refsSecret) for (const s of specSecrets(ir)) add(secrets, refsSecret, s);
  const lines: string[] = [
    `# Kubernetes objects of pipeline \`${ir.name}\``,
    '',
    'Apply `namespace.yaml` first (the namespace, and the service accounts with their roles for asgard and the Spark',
    'driver), then create the Secrets and ConfigMaps below, then run `asgard apply --profile …` or apply the other',
    'folders yourself. Values are never written by asgard: create them from your own secret store.',
    '',
    '## Secrets to create',
    '',
  ];
  if (secrets.size === 0) lines.push('None.');
  for (const [name, keys] of [...secrets].sort(([a], [b]) => a.localeCompare(b))) {
    lines.push(
      `- \`${name}\`: ${
        [...keys]
          .sort()
          .map((k) => `\`${k}\``)
          .join(', ') || '(keys as your deployment needs)'
      }`,
    );
    lines.push(
      '',
      '  ```sh',
      `  kubectl create secret generic ${name} ${[...keys]
        .sort()
        .map((k) => `--from-literal=${k}=…`)
        .join(' ')}`,
      '  ```',
      '',
    );
  }
  lines.push('', '## ConfigMap keys (env() values; optional: the spec default applies when a key is absent)', '');
  if (configs.size === 0) lines.push('None.');
  for (const [name, keys] of [...configs].sort(([a], [b]) => a.localeCompare(b)))
    lines.push(
      `- \`${name}\`: ${[...keys]
        .sort()
        .map((k) => `\`${k}\``)
        .join(', ')}`,
    );
  return textFile('README.md', { spec: specPath, node: `pipeline ${ir.name}` }, lines.join('\n'));
}

/** The names of every secret() the spec refers to. */
function specSecrets(ir: PipelineIR): string[] {
  const out = new Set<string>();
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) return v.forEach(walk);
    if (!v || typeof v !== 'object') return;
    const o = v as Record<string, any>;
    if (o.kind === 'secret' && typeof o.name === 'string') out.add(o.name);
    for (const [k, x] of Object.entries(o)) if (k !== 'span') walk(x);
  };
  walk(ir.nodes);
  walk(ir.profiles);
  return [...out];
}

/** A password written inside a URL (`scheme://user:password@host`) never reaches an artifact; `serve` needs none. */
export function withoutUrlPasswords(text: string): string {
  return text.replace(/\b([a-z][a-z0-9+.-]*:\/\/[^\s/:@"'`]+):[^\s/@"'`]*@/gi, '$1@');
}
