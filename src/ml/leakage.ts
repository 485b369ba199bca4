// The leakage guard: before training, a feature that alone separates the label almost perfectly
// (single-feature ROC AUC above 0.98, in either direction) is almost always the label in
// disguise — the seed's `days_since_last_purchase > 60` label is exactly that.

import type { FeaturesNode, TrainNode } from '../ir/types.js';
import { LineageError, type LineageGraph, type LineageTree } from '../engine/lineage.js';
import type { Dataset } from './dataset.js';
import { rocAuc } from './metrics.js';

export const LEAKAGE_AUC = 0.98;

export interface LeakageFinding {
  readonly feature: string;
  readonly auc: number;
  readonly message: string;
}

export function singleFeatureLeakage(ds: Dataset, limit = LEAKAGE_AUC): LeakageFinding[] {
  const F = ds.featureNames.length;
  const col = new Float64Array(ds.n);
  const out: LeakageFinding[] = [];
  for (let f = 0; f < F; f++) {
    for (let i = 0; i < ds.n; i++) col[i] = ds.X[i * F + f];
    const auc = rocAuc(ds.y, col);
    if (Number.isNaN(auc)) continue;
    const sep = Math.max(auc, 1 - auc);
    if (sep > limit) {
      out.push({
        feature: ds.featureNames[f],
        auc: sep,
        message: `possible label leakage: feature ${ds.featureNames[f]} alone separates the label (single-feature ROC AUC ${sep.toFixed(4)} > ${limit}); compute features as of an observation time and the label from the window after it`,
      });
    }
  }
  return out;
}

/**
 * The lineage check: the label and a feature computed in the same table (so over the same rows and
 * the same as-of time) from the same upstream column — the seed's `churned` and
 * `days_since_last_purchase`, both from the purchase dates of the same window. When the label comes
 * from another table, the point-in-time join takes features as of each label's event time and the
 * label's window is the label table's own business (the example pipeline looks only after it), so
 * lineage alone cannot show the same window and nothing is reported.
 */
export function sharedSourceLeakage(graph: Pick<LineageGraph, 'lineage'>, view: FeaturesNode, label: TrainNode['label']): LeakageFinding[] {
  if (label.from !== view.from) return [];
  const upstream = (address: string): Set<string> => {
    const out = new Set<string>();
    const walk = (t: LineageTree) => {
      out.add(`${t.table}.${t.column}`);
      t.children.forEach(walk);
    };
    try {
      graph.lineage(address).upstream.forEach(walk);
    } catch (e) {
      if (!(e instanceof LineageError)) throw e;
    }
    return out;
  };
  const labelSources = upstream(`${label.from}.${label.column}`);
  if (labelSources.size === 0) return [];
  const out: LeakageFinding[] = [];
  for (const f of view.features) {
    const shared = [...upstream(`${view.from}.${f.name}`)].filter((c) => labelSources.has(c) && !c.startsWith('source:')).sort();
    if (shared.length === 0) continue;
    out.push({
      feature: f.name,
      auc: NaN,
      message: `possible label leakage: the label ${label.from}.${label.column} and feature ${f.name} are computed in the same table, over the same rows and time, from ${shared.join(', ')}; compute features as of an observation time and the label from the window after it`,
    });
  }
  return out;
}
