// The model registry: `<stateDir>/registry/<model>/<version>/` holds model.onnx, metrics.json,
// params.json, features.json (the feature schema: order, dtypes, ONNX input/output, imputation)
// lineage.json (the fingerprints and snapshot ids of the data it was trained on) and
// evaluation.json (ROC/PR curves and feature importance on the held-out split, src/ml/evaluation.ts);
// `<stateDir>/registry/<model>/index.json` lists the versions, written atomically. A version is
// immutable once written; only its `promoted` flag changes (when the gate is re-evaluated).
// The served version is the newest promoted one.

import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic, fsyncDir } from '../util/fs-atomic.js';
import type { Evaluation } from './evaluation.js';
import type { Metrics } from './metrics.js';
import type { ChallengeResult } from './champion.js';
import type { OnnxOutput } from './onnx-export.js';

export const REGISTRY_SCHEMA_VERSION = 1;

export interface GateResult {
  readonly text: string;
  readonly passed: boolean;
  readonly reason: string;
  /** The comparison with the version served when this one was trained (src/ml/champion.ts). */
  readonly challenge?: ChallengeResult;
}

export interface RegistryVersion {
  readonly version: number;
  readonly promoted: boolean;
  readonly createdAt: string;
  /** SHA-256 over the training inputs (feature fingerprints and snapshot ids, algorithm, params, split). */
  readonly inputsHash: string;
  /** SHA-256 over the training set itself (src/ml/model-inputs.ts trainingSetHash); absent in versions made before it was recorded. */
  readonly trainingSet?: string;
  readonly algorithm: string;
  readonly metrics: Metrics;
  readonly gate?: GateResult;
}

export interface RegistryIndex {
  readonly schemaVersion: typeof REGISTRY_SCHEMA_VERSION;
  readonly name: string;
  readonly versions: readonly RegistryVersion[];
}

export interface FeatureEntry {
  readonly name: string;
  readonly dtype: string;
  readonly onnxType: 'float32' | 'string';
  /** A numeric NULL's replacement (the training median); -1 (the unknown code) for a categorical feature. */
  readonly fill: number;
  /** A categorical feature's training vocabulary, code order (src/ml/categorical.ts). */
  readonly categories?: readonly string[];
}

export interface FeatureSchema {
  /** The feature view (`features.<view>`) and its entity. */
  readonly view: string;
  readonly entity: { readonly name: string; readonly joinKey: string };
  /** In ONNX input order. Every input is [N, 1] named after the feature: float32, or string for a categorical feature. */
  readonly features: readonly FeatureEntry[];
  /**
   * NULL handling: training and batch scoring replace a numeric NULL by `fill` (the training
   * median) and put a categorical NULL in the unknown bucket; the online API refuses missing features.
   */
  readonly nullPolicy: 'impute_training_median';
  readonly output: OnnxOutput;
  readonly label: { readonly from: string; readonly column: string; readonly timestamp: string };
  /** prediction = 1 when probability > threshold. */
  readonly threshold: number;
}

export interface NewVersion {
  readonly onnx: Uint8Array;
  readonly metrics: Metrics;
  readonly params: unknown;
  readonly features: FeatureSchema;
  readonly lineage: unknown;
  readonly evaluation?: Evaluation;
  readonly inputsHash: string;
  readonly trainingSet?: string;
  readonly algorithm: string;
  readonly promoted: boolean;
  readonly gate?: GateResult;
  readonly createdAt?: Date;
}

/**
 * A model and its versions as `asgard models list --format json` and `GET /mlops/models` both give
 * them (docs/cli.md, docs/http.md): `{"name", "versions": [{"version", "promoted", "createdAt", "metrics"}]}`.
 */
export const versionSummary = (v: RegistryVersion) => ({ version: v.version, promoted: v.promoted, createdAt: v.createdAt, metrics: v.metrics });
export const modelSummary = (name: string, versions: readonly RegistryVersion[]) => ({ name, versions: versions.map(versionSummary) });

const MODEL_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

export class Registry {
  readonly root: string;

  constructor(stateDir: string) {
    this.root = join(stateDir, 'registry');
  }

  modelDir(model: string): string {
    if (!MODEL_NAME.test(model)) throw new Error(`invalid model name ${JSON.stringify(model)}`);
    return join(this.root, model);
  }

  versionDir(model: string, version: number): string {
    return join(this.modelDir(model), String(version));
  }

  indexFile(model: string): string {
    return join(this.modelDir(model), 'index.json');
  }

  /** Registered model names, sorted. */
  models(): string[] {
    if (!existsSync(this.root)) return [];
    return readdirSync(this.root, { withFileTypes: true })
      .filter((e) => e.isDirectory() && MODEL_NAME.test(e.name) && existsSync(join(this.root, e.name, 'index.json')))
      .map((e) => e.name)
      .sort();
  }

  index(model: string): RegistryIndex | undefined {
    if (!MODEL_NAME.test(model)) return undefined;
    const f = this.indexFile(model);
    if (!existsSync(f)) return undefined;
    const idx = JSON.parse(readFileSync(f, 'utf8')) as RegistryIndex;
    if (idx.schemaVersion !== REGISTRY_SCHEMA_VERSION)
      throw new Error(`${f} has schemaVersion ${idx.schemaVersion}; this asgard reads ${REGISTRY_SCHEMA_VERSION}`);
    return idx;
  }

  version(model: string, version: number): RegistryVersion | undefined {
    return this.index(model)?.versions.find((v) => v.version === version);
  }

  /** The version served by default: the newest promoted one. */
  servingVersion(model: string): RegistryVersion | undefined {
    const vs = this.index(model)?.versions.filter((v) => v.promoted) ?? [];
    return vs.length ? vs.reduce((a, b) => (b.version > a.version ? b : a)) : undefined;
  }

  findByInputs(model: string, inputsHash: string): RegistryVersion | undefined {
    return this.index(model)?.versions.find((v) => v.inputsHash === inputsHash);
  }

  /** The version trained on exactly this training set (trainingSetHash), if any. */
  findByTrainingSet(model: string, trainingSet: string): RegistryVersion | undefined {
    return this.index(model)?.versions.find((v) => v.trainingSet === trainingSet);
  }

  features(model: string, version: number): FeatureSchema {
    return JSON.parse(readFileSync(join(this.versionDir(model, version), 'features.json'), 'utf8')) as FeatureSchema;
  }

  /** One of the version's JSON files (`params`, `lineage`, `evaluation`), or undefined when it has none (versions made before it existed). */
  versionFile(model: string, version: number, file: 'params' | 'lineage' | 'evaluation'): unknown {
    const f = join(this.versionDir(model, version), `${file}.json`);
    return existsSync(f) ? (JSON.parse(readFileSync(f, 'utf8')) as unknown) : undefined;
  }

  onnxPath(model: string, version: number): string {
    return join(this.versionDir(model, version), 'model.onnx');
  }

  /** Write a new version folder (via a temp folder renamed into place), then the index. */
  register(model: string, v: NewVersion): RegistryVersion {
    const prev = this.index(model);
    const version = (prev?.versions.reduce((m, x) => Math.max(m, x.version), 0) ?? 0) + 1;
    const dir = this.versionDir(model, version);
    const tmp = `${dir}.partial`;
    rmSync(tmp, { recursive: true, force: true });
    rmSync(dir, { recursive: true, force: true }); // a leftover of a crash before the index was written
    mkdirSync(tmp, { recursive: true });
    const json = (x: unknown) => JSON.stringify(x, null, 2) + '\n';
    writeFileAtomic(join(tmp, 'model.onnx'), v.onnx);
    writeFileAtomic(join(tmp, 'metrics.json'), json(v.metrics));
    writeFileAtomic(join(tmp, 'params.json'), json(v.params));
    writeFileAtomic(join(tmp, 'features.json'), json(v.features));
    writeFileAtomic(join(tmp, 'lineage.json'), json(v.lineage));
    if (v.evaluation) writeFileAtomic(join(tmp, 'evaluation.json'), json(v.evaluation));
    renameSync(tmp, dir);
    fsyncDir(this.modelDir(model));
    const entry: RegistryVersion = {
      version,
      promoted: v.promoted,
      createdAt: (v.createdAt ?? new Date()).toISOString(),
      inputsHash: v.inputsHash,
      ...(v.trainingSet ? { trainingSet: v.trainingSet } : {}),
      algorithm: v.algorithm,
      metrics: v.metrics,
      ...(v.gate ? { gate: v.gate } : {}),
    };
    this.writeIndex(model, [...(prev?.versions ?? []), entry]);
    return entry;
  }

  /** Re-evaluate promotion of an existing version (the gate changed, the inputs did not). */
  setPromotion(model: string, version: number, promoted: boolean, gate?: GateResult): RegistryVersion {
    const idx = this.index(model);
    const cur = idx?.versions.find((v) => v.version === version);
    if (!idx || !cur) throw new Error(`model ${model} has no version ${version}`);
    const next: RegistryVersion = { ...cur, promoted, ...(gate ? { gate } : {}) };
    this.writeIndex(
      model,
      idx.versions.map((v) => (v.version === version ? next : v)),
    );
    return next;
  }

  private writeIndex(model: string, versions: readonly RegistryVersion[]): void {
    const idx: RegistryIndex = { schemaVersion: REGISTRY_SCHEMA_VERSION, name: model, versions: [...versions].sort((a, b) => a.version - b.version) };
    writeFileAtomic(this.indexFile(model), JSON.stringify(idx, null, 2) + '\n');
  }
}
