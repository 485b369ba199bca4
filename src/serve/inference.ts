// POST /mlops/inference, the hot path. Validation is hand-written (not zod) because for a tree
// model JSON parsing and validation dominate latency; it still names the offending field:
//   400  malformed JSON, not an object, unknown top-level field, model_name/model_version/inputs/
//        entities/echo of the wrong type, empty inputs, both or neither of inputs and entities, an
//        entity without its join key or with a key its type cannot hold
//   413  body over the byte limit, or more inputs than the per-request limit
//   404  unknown model or version (or a version that is not promoted), an entity without features
//   422  an input missing a feature, carrying an unknown one, or a feature that is not a finite number
//        (true/false for a bool feature) or lies outside the float32 range of the model input, or a
//        categorical feature that is not a string (any string: one the model never saw in training
//        is scored in the unknown bucket, src/ml/categorical.ts)
// Two request forms (docs/http.md): `inputs` carry the features; `entities` carry only the feature
// view's join key, and the features are looked up online (the view's latest row per entity). An
// input may also carry the join key, and the fields listed in `echo`: both are echoed back in its
// prediction for correlation (an entity's every field is). Any other field is 422, so a misspelt
// feature never goes unnoticed. The response is built as a string (no intermediate objects per
// prediction).

import type { LoadedModel, ModelStore } from './model-store.js';
import { HttpError } from './http.js';
import type { ScoreColumn } from '../ml/onnx-session.js';
import { requestColumns } from './micro-batch.js';

export const MAX_INPUTS = 1000;
const FLOAT32_MAX = 3.4028234663852886e38;
const TOP_LEVEL = new Set(['model_name', 'model_version', 'inputs', 'entities', 'echo']);

export interface InferenceRequest {
  readonly modelName: string;
  readonly modelVersion?: number;
  /** The feature rows, or the entities to look features up for (exactly one of the two is given). */
  readonly inputs: readonly unknown[];
  readonly byEntity: boolean;
  /** Non-feature fields of the inputs to echo back (besides the join key). */
  readonly echo: readonly string[];
}

/** Online feature rows for the entities of a request, in their order (404 for an entity without a row). */
export type EntityLookup = (m: LoadedModel, entities: readonly Record<string, unknown>[]) => Promise<readonly Record<string, unknown>[]>;

export function validateInferenceBody(body: unknown, maxInputs = MAX_INPUTS): InferenceRequest {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new HttpError(400, 'invalid_body', 'request body must be a JSON object with model_name and inputs (or entities)');
  }
  const b = body as Record<string, unknown>;
  for (const k in b) {
    if (!TOP_LEVEL.has(k))
      throw new HttpError(400, 'invalid_body', `unknown field ${JSON.stringify(k)}; expected model_name, model_version, inputs or entities, echo`, {
        field: k,
      });
  }
  const name = b.model_name;
  if (typeof name !== 'string' || name.length === 0) {
    throw new HttpError(400, 'invalid_body', name === undefined ? 'model_name is required' : 'model_name must be a non-empty string', { field: 'model_name' });
  }
  const v = b.model_version;
  if (v !== undefined && v !== null && !(typeof v === 'number' && Number.isInteger(v) && v >= 1)) {
    throw new HttpError(400, 'invalid_body', 'model_version must be a positive integer (or left out for the latest promoted version)', {
      field: 'model_version',
    });
  }
  if (b.inputs !== undefined && b.entities !== undefined) {
    throw new HttpError(400, 'invalid_body', 'give either inputs (the features) or entities (the join keys to look features up for), not both', {
      field: 'entities',
    });
  }
  const byEntity = b.entities !== undefined;
  const field = byEntity ? 'entities' : 'inputs';
  const inputs = byEntity ? b.entities : b.inputs;
  if (!Array.isArray(inputs)) {
    throw new HttpError(400, 'invalid_body', inputs === undefined ? 'inputs (or entities) is required' : `${field} must be an array of objects`, { field });
  }
  if (inputs.length === 0) throw new HttpError(400, 'invalid_body', `${field} is empty; send at least one`, { field });
  if (inputs.length > maxInputs) {
    throw new HttpError(
      413,
      'too_many_inputs',
      `${field} has ${inputs.length} entries; the limit is ${maxInputs} per request (use /mlops/inference/batch for tables)`,
      {
        field,
        limit: maxInputs,
      },
    );
  }
  const echo = b.echo ?? [];
  if (!Array.isArray(echo) || echo.some((e) => typeof e !== 'string' || e === '')) {
    throw new HttpError(400, 'invalid_body', 'echo must be an array of field names to echo back with each prediction', { field: 'echo' });
  }
  if (byEntity) {
    for (let i = 0; i < inputs.length; i++) {
      const e = inputs[i];
      if (e === null || typeof e !== 'object' || Array.isArray(e))
        throw new HttpError(400, 'invalid_body', `entities[${i}] must be an object with the join key`, { field: `entities[${i}]` });
    }
  }
  return { modelName: name, modelVersion: (v as number | null | undefined) ?? undefined, inputs, byEntity, echo: echo as string[] };
}

/**
 * Per-feature columns from the inputs (float32, or strings for a categorical feature), or a 422
 * naming `inputs[i].feature`. `allowed`: the non-feature fields an input may carry (the join key,
 * echoed fields), looked at only when an input carries a field that is not a feature.
 */
export function inputColumns(m: LoadedModel, inputs: readonly unknown[], allowed: readonly string[] = []): ScoreColumn[] {
  const n = inputs.length;
  const names = m.featureNames;
  const F = names.length;
  const features = m.schema.features;
  const cols = requestColumns(F, n);
  const text: (string | null)[][] = new Array(F);
  for (let f = 0; f < F; f++) if (features[f].categories) text[f] = new Array(n);
  for (let i = 0; i < n; i++) {
    const row = inputs[i];
    if (row === null || typeof row !== 'object' || Array.isArray(row)) {
      throw new HttpError(422, 'invalid_input', `inputs[${i}] must be an object of features`, { field: `inputs[${i}]` });
    }
    const r = row as Record<string, unknown>;
    let seen = 0;
    for (let f = 0; f < F; f++) {
      let x = r[names[f]];
      if (text[f]) {
        if (typeof x !== 'string') {
          const field = `inputs[${i}].${names[f]}`;
          if (x === undefined) throw new HttpError(422, 'missing_feature', `${field} is missing`, { field, expected: names });
          throw new HttpError(422, 'invalid_feature', `${field} must be a string (a category of ${names[f]}), got ${describe(x)}`, { field });
        }
        text[f][i] = x;
        seen++;
        continue;
      }
      if (typeof x === 'boolean' && features[f].dtype === 'bool') x = x ? 1 : 0;
      if (typeof x !== 'number' || !Number.isFinite(x)) {
        const field = `inputs[${i}].${names[f]}`;
        if (x === undefined) throw new HttpError(422, 'missing_feature', `${field} is missing`, { field, expected: names });
        throw new HttpError(
          422,
          'invalid_feature',
          `${field} must be a finite number${features[f].dtype === 'bool' ? ' or a boolean' : ''}, got ${describe(x)}`,
          { field },
        );
      }
      cols[f][i] = x as number;
      // The model's inputs are float32: a value beyond its range (1e300) would become ±Infinity and
      // still get a prediction.
      if (cols[f][i] === Infinity || cols[f][i] === -Infinity) {
        const field = `inputs[${i}].${names[f]}`;
        throw new HttpError(422, 'invalid_feature', `${field} is outside the range of the model input (float32, ±${FLOAT32_MAX.toPrecision(8)}), got ${x}`, {
          field,
        });
      }
      seen++;
    }
    let keys = 0;
    for (const _ in r) keys++;
    if (keys !== seen) {
      const extra = Object.keys(r).find((k) => !names.includes(k) && !allowed.includes(k));
      if (extra !== undefined) {
        throw new HttpError(
          422,
          'unknown_feature',
          `inputs[${i}].${extra} is not a feature of ${m.name} v${m.version} (list it in echo to have it echoed back)`,
          {
            field: `inputs[${i}].${extra}`,
            expected: names,
          },
        );
      }
    }
  }
  return names.map((_, f) => text[f] ?? cols[f]);
}

function describe(x: unknown): string {
  if (x === null) return 'null';
  if (typeof x === 'string') return `the string ${JSON.stringify(x.length > 40 ? x.slice(0, 40) + '…' : x)}`;
  if (typeof x === 'number') return String(x);
  return Array.isArray(x) ? 'an array' : typeof x;
}

/** The fields of input i echoed back in its prediction: the join key and `echo` (inputs), every field (entities). */
function echoed(req: InferenceRequest, joinKey: string, i: number): string {
  const r = req.inputs[i] as Record<string, unknown>;
  const field = (k: string) => `${JSON.stringify(k)}:${JSON.stringify(r[k]) ?? 'null'},`;
  let out = '';
  if (req.byEntity) {
    for (const k in r) out += field(k);
    return out;
  }
  if (r[joinKey] !== undefined) out += field(joinKey);
  for (const k of req.echo) if (r[k] !== undefined) out += field(k);
  return out;
}

export async function infer(store: ModelStore, body: unknown, started: number, maxInputs = MAX_INPUTS, lookup?: EntityLookup): Promise<string> {
  const req = validateInferenceBody(body, maxInputs);
  const v = store.resolveVersion(req.modelName, req.modelVersion);
  const m = await store.load(req.modelName, v.version);
  const joinKey = m.schema.entity.joinKey;
  let cols: ScoreColumn[];
  if (req.byEntity) {
    if (!lookup) throw new HttpError(400, 'invalid_body', 'this server does not look features up by entity', { field: 'entities' });
    cols = entityColumns(m, await lookup(m, req.inputs as Record<string, unknown>[]));
  } else cols = inputColumns(m, req.inputs, req.echo.length ? [joinKey, ...req.echo] : [joinKey]);
  const n = req.inputs.length;
  const p = await m.batcher.score(cols, n);
  const { high, medium } = m.riskLevels;
  const threshold = m.schema.threshold;
  const { head, index: kIndex, probability: kProb, prediction: kPred, risk_level: kRisk } = m.answer;
  let out = head;
  for (let i = 0; i < n; i++) {
    const pi = p[i];
    const risk = pi >= high ? 'high' : pi >= medium ? 'medium' : 'low';
    out += `${i ? ',' : ''}{${echoed(req, joinKey, i)}${kIndex}:${i},${kProb}:${Math.round(pi * 1e6) / 1e6},${kPred}:${pi > threshold ? 1 : 0},${kRisk}:"${risk}"}`;
  }
  const ms = Math.round((performance.now() - started) * 1000) / 1000;
  return `${out}],"inference_time_ms":${ms}}`;
}

/**
 * Columns from online feature rows: a NULL feature takes the training median (a categorical one the
 * unknown bucket), as batch scoring does (the caller cannot supply it); a value beyond float32 is
 * 422 naming the entity and feature.
 */
function entityColumns(m: LoadedModel, rows: readonly Record<string, unknown>[]): ScoreColumn[] {
  const n = rows.length;
  const floats = requestColumns(m.schema.features.length, n);
  return m.schema.features.map((f, k): ScoreColumn => {
    if (f.categories) return rows.map((r) => (r[f.name] === null || r[f.name] === undefined ? null : String(r[f.name])));
    const col = floats[k];
    for (let i = 0; i < n; i++) {
      const x = rows[i][f.name];
      const v = x === null || x === undefined ? f.fill : Number(x);
      col[i] = v;
      if (!Number.isFinite(col[i])) {
        const field = `entities[${i}].${f.name}`;
        throw new HttpError(422, 'invalid_feature', `the online value of ${f.name} for entities[${i}] is not a finite float32 (${String(x)})`, { field });
      }
    }
    return col;
  });
}
