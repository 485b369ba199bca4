// Drift: the compiled objects of applied nodes compared with what the cluster holds now, for
// `plan --profile kubernetes`. What asgard would write is asked of the API server itself — a
// server-side apply dry run (field manager asgard, conflicts forced, nothing stored) — and compared
// with the live object: a field asgard owns that someone changed by hand (kubectl edit, another
// field manager) differs; a field asgard never set (a label added by hand) is left alone by the
// apply and is therefore not drift. An object that should exist and does not is drift too.

import type { NodeId } from '../ir/types.js';
import { NODE_LABEL, type KubeObject } from '../targets/k8s-objects.js';
import { Cluster, KubeError, describe } from './cluster.js';

export interface Drift {
  /** `Kind namespace/name` */
  readonly object: string;
  /** The node the object belongs to (absent: the pipeline's own objects). */
  readonly node?: string;
  readonly change: 'changed' | 'missing';
  /** The paths (dotted) whose live value differs from asgard's, e.g. `data.train.py`, `spec.replicas`. */
  readonly fields: readonly string[];
}

/** Metadata the server moves by itself, and status: never drift. */
const VOLATILE_METADATA = ['resourceVersion', 'managedFields', 'generation', 'creationTimestamp', 'uid', 'selfLink'];

function comparable(o: Record<string, unknown>): Record<string, unknown> {
  const { status: _status, metadata, ...rest } = o;
  const meta = { ...(metadata as Record<string, unknown>) };
  for (const k of VOLATILE_METADATA) delete meta[k];
  return { ...rest, metadata: meta };
}

/** The dotted paths where `a` and `b` differ (leaves and arrays compared whole). */
export function differingPaths(a: unknown, b: unknown, at = ''): string[] {
  const isObj = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v);
  if (isObj(a) && isObj(b)) {
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
    return keys.flatMap((k) => differingPaths(a[k], b[k], at ? `${at}.${k}` : k));
  }
  return JSON.stringify(a) === JSON.stringify(b) ? [] : [at || '(whole object)'];
}

/**
 * The drift of `objects` whose node has been applied (`applied`); the pipeline's own objects (no
 * node label) count once any node has. Namespaces are not compared (cluster-scoped: asgard's
 * in-cluster role cannot read them, and needs not).
 */
export async function clusterDrift(cluster: Cluster, objects: readonly KubeObject[], applied: ReadonlySet<NodeId>): Promise<Drift[]> {
  const out: Drift[] = [];
  for (const o of objects) {
    if (o.kind === 'Namespace') continue;
    const node = o.metadata.labels?.[NODE_LABEL];
    if (node ? !applied.has(node) : applied.size === 0) continue;
    const live = await cluster.read(o);
    const where = { object: describe(o), ...(node ? { node } : {}) };
    if (!live) {
      out.push({ ...where, change: 'missing', fields: [] });
      continue;
    }
    let wanted: KubeObject;
    try {
      wanted = await cluster.apply(o, true);
    } catch (e) {
      // A field that cannot change in place (a Job's pod template) was changed: the object differs.
      if (e instanceof KubeError && e.reason === 'invalid') {
        out.push({ ...where, change: 'changed', fields: [e.message] });
        continue;
      }
      throw e;
    }
    const fields = differingPaths(comparable(live), comparable(wanted));
    if (fields.length) out.push({ ...where, change: 'changed', fields });
  }
  return out;
}
