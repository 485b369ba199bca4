// The Kubernetes objects of a compiled tree: every YAML document in it that is one (apiVersion, kind
// and metadata.name), in file order. `apply --profile kubernetes` submits these, the tests apply
// them to the real API server; the files stay the single output of the targets.

import { type FileMap, yamlDocuments } from './files.js';

export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string>; [k: string]: unknown };
  [k: string]: unknown;
}

/** The label every compiled object carries with the node it belongs to (absent: the pipeline's own objects). */
export const NODE_LABEL = 'asgard.io/node';
export const PIPELINE_LABEL = 'asgard.io/pipeline';
export const MANAGED_BY = { 'app.kubernetes.io/managed-by': 'asgard' } as const;

export function isKubeObject(v: unknown): v is KubeObject {
  const o = v as KubeObject | null;
  return !!o && typeof o === 'object' && typeof o.apiVersion === 'string' && typeof o.kind === 'string' && typeof o.metadata?.name === 'string';
}

/** Every Kubernetes object in the tree's YAML files, with the file it came from (shared: read only, see yamlDocuments). */
export function kubeObjects(files: FileMap): { path: string; object: KubeObject }[] {
  const out: { path: string; object: KubeObject }[] = [];
  for (const [path, text] of files) {
    if (!/\.ya?ml$/.test(path)) continue;
    for (const doc of yamlDocuments(text)) if (isKubeObject(doc)) out.push({ path, object: doc });
  }
  return out;
}
