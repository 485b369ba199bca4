// env() and secret() references in Kubernetes manifests: never values. A secret becomes a
// `secretKeyRef` into the pipeline's Secret; an env() reference a `configMapKeyRef` into its
// ConfigMap (optional, so the spec's default applies when the key is absent). The names of both
// come from the profile (`secrets_name`, `config_map`) or default to `<pipeline>-secrets` / `-env`.

import type { PipelineIR, Resolvable } from '../ir/types.js';
import type { ProfileSettings } from './settings.js';
import { k8sName } from './pipeline.js';

export interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: Record<string, unknown>;
}

export interface K8sRefs {
  readonly secretName: string;
  readonly configMapName: string;
}

export function k8sRefs(ir: PipelineIR, settings: ProfileSettings): K8sRefs {
  return {
    secretName: settings.literalString('secrets_name', 'the Secret holding secret() values', k8sName(ir.name, 'secrets'))!,
    configMapName: settings.literalString('config_map', 'the ConfigMap holding env() values', k8sName(ir.name, 'env'))!,
  };
}

/** The container env var `name` carrying a setting: a literal value or a reference. */
export function envVar(name: string, v: Resolvable, refs: K8sRefs): EnvVar {
  if (v.kind === 'literal') return { name, value: String(v.value) };
  if (v.kind === 'secret') return { name, valueFrom: { secretKeyRef: { name: refs.secretName, key: v.name } } };
  return { name, valueFrom: { configMapKeyRef: { name: refs.configMapName, key: v.name, optional: true } } };
}

/** A pod's S3 access: the endpoint (when the profile names one) and the credentials, as references. */
export function s3Env(settings: ProfileSettings, refs: K8sRefs): EnvVar[] {
  const endpoint = settings.get('s3_endpoint');
  return [
    ...(endpoint ? [envVar('S3_ENDPOINT', endpoint, refs)] : []),
    envVar('AWS_ACCESS_KEY_ID', settings.get('s3_access_key_id') ?? { kind: 'secret', name: 'AWS_ACCESS_KEY_ID' }, refs),
    envVar('AWS_SECRET_ACCESS_KEY', settings.get('s3_secret_access_key') ?? { kind: 'secret', name: 'AWS_SECRET_ACCESS_KEY' }, refs),
  ];
}
