// `asgard models`: the registry's listing, one model's versions, and one version in detail. The JSON
// documents are the shapes docs/cli.md gives.

import { modelSummary, versionSummary, type RegistryVersion } from '../../ml/registry.js';
import type { View } from '../view.js';

const fmt = (x: unknown) => (typeof x === 'number' ? (Number.isInteger(x) ? String(x) : x.toFixed(4)) : String(x));

export interface ModelsList {
  readonly models: readonly ReturnType<typeof modelSummary>[];
}

export const modelsListView: View<ModelsList> = {
  text: ({ models }) =>
    models
      .map(
        (m) =>
          `${m.name}\n` +
          (m.versions.length ? '' : '  (no versions yet: run asgard apply)\n') +
          m.versions
            .map(
              (v) =>
                `  v${v.version}  ${v.promoted ? 'promoted' : 'not promoted'}  ${v.createdAt}  f1=${fmt(v.metrics.f1)} roc_auc=${fmt(v.metrics.roc_auc)} accuracy=${fmt(v.metrics.accuracy)}\n`,
            )
            .join(''),
      )
      .join(''),
  json: (r) => ({ models: r.models }),
};

export interface ModelVersions {
  readonly name: string;
  readonly served: number | null;
  readonly versions: readonly RegistryVersion[];
}

const gateText = (v: RegistryVersion) => `${v.gate?.reason ?? 'none'}${v.gate?.challenge ? `; ${v.gate.challenge.reason}` : ''}`;

export const modelVersionsView: View<ModelVersions> = {
  text: ({ name, served, versions }) =>
    `${name}  served: ${served === null ? 'none' : `v${served}`}\n` +
    versions.map((v) => `  v${v.version}  ${v.algorithm}  ${v.promoted ? 'promoted' : 'not promoted'}  ${v.createdAt}  gate: ${gateText(v)}\n`).join(''),
  json: ({ name, served, versions }) => ({ name, served, versions: versions.map((v) => ({ ...versionSummary(v), gate: v.gate, algorithm: v.algorithm })) }),
};

export interface ModelVersionDetail {
  readonly name: string;
  readonly v: RegistryVersion;
  readonly path: string;
  readonly params: unknown;
  readonly features: unknown;
  readonly lineage: unknown;
}

export const modelVersionView: View<ModelVersionDetail> = {
  text: ({ name, v, path, features }) => {
    const m = v.metrics;
    const [[tn, fp], [fn, tp]] = m.confusion_matrix;
    const feats = features as { features?: { name: string; dtype: string; fill: number }[] } | null;
    return [
      `${name} v${v.version}  ${v.algorithm}  ${v.promoted ? 'promoted' : 'not promoted'}  created ${v.createdAt}\n`,
      `  gate: ${gateText(v)}\n`,
      `  metrics (held-out, ${m.test_rows} rows, threshold ${m.threshold}):\n`,
      ...(['accuracy', 'precision', 'recall', 'f1', 'roc_auc', 'log_loss'] as const).map((k) => `    ${k.padEnd(10)} ${fmt(m[k])}\n`),
      `    confusion  tn=${tn} fp=${fp} fn=${fn} tp=${tp}\n`,
      feats?.features ? `  features (ONNX float32 inputs, in order): ${feats.features.map((f) => f.name).join(', ')}\n` : '',
      `  files: ${path}\n`,
    ].join('');
  },
  json: ({ name, v, path, params, features, lineage }) => ({
    name,
    ...versionSummary(v),
    algorithm: v.algorithm,
    gate: v.gate ?? null,
    inputsHash: v.inputsHash,
    path,
    params,
    features,
    lineage,
  }),
};
