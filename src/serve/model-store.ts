// The models the server answers for: every model a train node of the spec registers. One ONNX
// session per (model, version), created on first use and reused; the registry's index is re-read
// when its mtime changes (checked at most every POLL_MS), so a newly promoted version is served
// without a restart.

import { statSync } from 'node:fs';
import type { PipelineIR, ServeNode, TrainNode } from '../ir/types.js';
import { OnnxScorer } from '../ml/onnx-session.js';
import type { FeatureSchema, Registry, RegistryIndex, RegistryVersion } from '../ml/registry.js';
import { DEFAULT_RISK_LEVELS, type RiskLevels } from '../ml/risk.js';
import { HttpError } from './http.js';
import { serveFields, type ServeFields } from '../ir/serving.js';
import { MicroBatcher } from './micro-batch.js';

const POLL_MS = 250;

export interface LoadedModel {
  readonly name: string;
  readonly version: number;
  readonly schema: FeatureSchema;
  readonly featureNames: readonly string[];
  readonly riskLevels: RiskLevels;
  /** Response field names (src/ir/serving.ts) as JSON strings, and the answer's start up to its predictions, made once (inference.ts). */
  readonly answer: { readonly [K in keyof ServeFields]: string } & { readonly head: string };
  readonly scorer: OnnxScorer;
  /** Online requests go through this: concurrent requests share one ONNX run. */
  readonly batcher: MicroBatcher;
}

interface IndexCache {
  checkedAt: number;
  mtimeMs: number;
  index?: RegistryIndex;
}

export class ModelStore {
  readonly registry: Registry;
  /** Registered model name → its train node and the risk levels of the serve node that serves it. */
  readonly models: ReadonlyMap<string, { readonly train: TrainNode; readonly riskLevels: RiskLevels; readonly serve?: ServeNode }>;
  private readonly indexes = new Map<string, IndexCache>();
  private readonly sessions = new Map<string, Promise<LoadedModel>>();

  constructor(ir: PipelineIR, registry: Registry) {
    this.registry = registry;
    const models = new Map<string, { train: TrainNode; riskLevels: RiskLevels; serve?: ServeNode }>();
    for (const n of ir.nodes) if (n.kind === 'train') models.set(n.register, { train: n, riskLevels: DEFAULT_RISK_LEVELS });
    for (const n of ir.nodes) {
      if (n.kind !== 'serve') continue;
      const t = ir.nodes.find((x) => x.id === n.model);
      if (t?.kind === 'train') models.set(t.register, { train: t, riskLevels: n.riskLevels, serve: n });
    }
    this.models = models;
  }

  /** The registry index of a known model, re-read when the file changed. */
  index(name: string, now = Date.now()): RegistryIndex | undefined {
    if (!this.models.has(name)) return undefined;
    let c = this.indexes.get(name);
    if (c && now - c.checkedAt < POLL_MS) return c.index;
    let mtimeMs = -1;
    try {
      mtimeMs = statSync(this.registry.indexFile(name)).mtimeMs;
    } catch {
      // not registered yet
    }
    if (!c || c.mtimeMs !== mtimeMs) {
      c = { checkedAt: now, mtimeMs, index: mtimeMs < 0 ? undefined : this.registry.index(name) };
      this.indexes.set(name, c);
    } else c.checkedAt = now;
    return c.index;
  }

  /** The version to serve: the one asked for (it must be promoted), or the newest promoted one. */
  resolveVersion(name: string, version?: number): RegistryVersion {
    if (!this.models.has(name)) {
      throw new HttpError(404, 'unknown_model', `unknown model ${JSON.stringify(name)}`, { model_name: name, known: [...this.models.keys()] });
    }
    const idx = this.index(name);
    const versions = idx?.versions ?? [];
    if (version === undefined) {
      let best: RegistryVersion | undefined;
      for (const v of versions) if (v.promoted && (!best || v.version > best.version)) best = v;
      if (!best) throw new HttpError(404, 'no_promoted_version', `model ${name} has no promoted version to serve`, { model_name: name });
      return best;
    }
    const v = versions.find((x) => x.version === version);
    if (!v) throw new HttpError(404, 'unknown_version', `model ${name} has no version ${version}`, { model_name: name, model_version: version });
    if (!v.promoted) {
      throw new HttpError(
        404,
        'version_not_served',
        `model ${name} version ${version} is not promoted (${v.gate?.reason ?? 'failed its gate'}) and is not served`,
        {
          model_name: name,
          model_version: version,
        },
      );
    }
    return v;
  }

  /** The loaded session of a version (created once). */
  load(name: string, version: number): Promise<LoadedModel> {
    const key = `${name}@${version}`;
    let p = this.sessions.get(key);
    if (!p) {
      p = (async () => {
        const schema = this.registry.features(name, version);
        const featureNames = schema.features.map((f) => f.name);
        const scorer = await OnnxScorer.load(this.registry.onnxPath(name, version), schema.features, schema.output);
        const entry = this.models.get(name)!;
        const fields = serveFields(entry.serve);
        const answer = {
          probability: JSON.stringify(fields.probability),
          prediction: JSON.stringify(fields.prediction),
          risk_level: JSON.stringify(fields.risk_level),
          index: JSON.stringify(fields.index),
          head: `{"model_name":${JSON.stringify(name)},"model_version":${version},"predictions":[`,
        };
        return { name, version, schema, featureNames, riskLevels: entry.riskLevels, answer, scorer, batcher: new MicroBatcher(scorer) };
      })();
      p.catch(() => this.sessions.delete(key));
      this.sessions.set(key, p);
    }
    return p;
  }

  loaded(): { name: string; version: number }[] {
    return [...this.sessions.keys()].map((k) => {
      const at = k.lastIndexOf('@');
      return { name: k.slice(0, at), version: Number(k.slice(at + 1)) };
    });
  }

  async close(): Promise<void> {
    const all = [...this.sessions.values()];
    this.sessions.clear();
    for (const p of all) {
      try {
        await (await p).scorer.release();
      } catch {
        // a session that failed to load has nothing to release
      }
    }
  }
}
