// The leakage guard: before training, a feature that alone separates the label almost perfectly
// (single-feature ROC AUC above 0.98, in either direction) is almost always the label in
// disguise — the seed's `days_since_last_purchase > 60` label is exactly that.

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
