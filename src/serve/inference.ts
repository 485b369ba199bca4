// POST /mlops/inference, the hot path. Validation is hand-written (not zod) because for a tree
// model JSON parsing and validation dominate latency; it still names the offending field:
//   400  malformed JSON, not an object, unknown top-level field, model_name/model_version/inputs
//        of the wrong type, empty inputs
//   413  body over the byte limit, or more inputs than the per-request limit
//   404  unknown model or version (or a version that is not promoted)
//   422  an input missing a feature, carrying an unknown one, or a feature that is not a finite number
//        or lies outside the float32 range of the model input
// The response is built as a string (no intermediate objects per prediction).

import type { LoadedModel, ModelStore } from './model-store.js';
import { HttpError } from './http.js';

export const MAX_INPUTS = 1000;
const FLOAT32_MAX = 3.4028234663852886e38;
const TOP_LEVEL = new Set(['model_name', 'model_version', 'inputs']);

export interface InferenceRequest {
  readonly modelName: string;
  readonly modelVersion?: number;
  readonly inputs: readonly unknown[];
}

export function validateInferenceBody(body: unknown, maxInputs = MAX_INPUTS): InferenceRequest {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new HttpError(400, 'invalid_body', 'request body must be a JSON object with model_name and inputs');
  }
  const b = body as Record<string, unknown>;
  for (const k in b) {
    if (!TOP_LEVEL.has(k)) throw new HttpError(400, 'invalid_body', `unknown field ${JSON.stringify(k)}; expected model_name, model_version, inputs`, { field: k });
  }
  const name = b.model_name;
  if (typeof name !== 'string' || name.length === 0) {
    throw new HttpError(400, 'invalid_body', name === undefined ? 'model_name is required' : 'model_name must be a non-empty string', { field: 'model_name' });
  }
  const v = b.model_version;
  if (v !== undefined && v !== null && !(typeof v === 'number' && Number.isInteger(v) && v >= 1)) {
    throw new HttpError(400, 'invalid_body', 'model_version must be a positive integer (or left out for the latest promoted version)', { field: 'model_version' });
  }
  const inputs = b.inputs;
  if (!Array.isArray(inputs)) {
    throw new HttpError(400, 'invalid_body', inputs === undefined ? 'inputs is required' : 'inputs must be an array of objects', { field: 'inputs' });
  }
  if (inputs.length === 0) throw new HttpError(400, 'invalid_body', 'inputs is empty; send at least one input', { field: 'inputs' });
  if (inputs.length > maxInputs) {
    throw new HttpError(413, 'too_many_inputs', `inputs has ${inputs.length} entries; the limit is ${maxInputs} per request (use /mlops/inference/batch for tables)`, {
      field: 'inputs',
      limit: maxInputs,
    });
  }
  return { modelName: name, modelVersion: (v as number | null | undefined) ?? undefined, inputs };
}

/** Per-feature float32 columns from the inputs, or a 422 naming `inputs[i].feature`. */
export function inputColumns(m: LoadedModel, inputs: readonly unknown[]): Float32Array[] {
  const n = inputs.length;
  const names = m.featureNames;
  const F = names.length;
  const cols: Float32Array[] = new Array(F);
  for (let f = 0; f < F; f++) cols[f] = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const row = inputs[i];
    if (row === null || typeof row !== 'object' || Array.isArray(row)) {
      throw new HttpError(422, 'invalid_input', `inputs[${i}] must be an object of features`, { field: `inputs[${i}]` });
    }
    const r = row as Record<string, unknown>;
    let seen = 0;
    for (let f = 0; f < F; f++) {
      const x = r[names[f]];
      if (typeof x !== 'number' || !Number.isFinite(x)) {
        const field = `inputs[${i}].${names[f]}`;
        if (x === undefined) throw new HttpError(422, 'missing_feature', `${field} is missing`, { field, expected: names });
        throw new HttpError(422, 'invalid_feature', `${field} must be a finite number, got ${describe(x)}`, { field });
      }
      cols[f][i] = x;
      // The model's inputs are float32: a value beyond its range (1e300) would become ±Infinity and
      // still get a prediction.
      if (cols[f][i] === Infinity || cols[f][i] === -Infinity) {
        const field = `inputs[${i}].${names[f]}`;
        throw new HttpError(422, 'invalid_feature', `${field} is outside the range of the model input (float32, ±${FLOAT32_MAX.toPrecision(8)}), got ${x}`, { field });
      }
      seen++;
    }
    let keys = 0;
    for (const _ in r) keys++;
    if (keys !== seen) {
      const extra = Object.keys(r).find((k) => !names.includes(k))!;
      throw new HttpError(422, 'unknown_feature', `inputs[${i}].${extra} is not a feature of ${m.name} v${m.version}`, { field: `inputs[${i}].${extra}`, expected: names });
    }
  }
  return cols;
}

function describe(x: unknown): string {
  if (x === null) return 'null';
  if (typeof x === 'string') return `the string ${JSON.stringify(x.length > 40 ? x.slice(0, 40) + '…' : x)}`;
  if (typeof x === 'number') return String(x);
  return Array.isArray(x) ? 'an array' : typeof x;
}

export async function infer(store: ModelStore, body: unknown, started: number, maxInputs = MAX_INPUTS): Promise<string> {
  const req = validateInferenceBody(body, maxInputs);
  const v = store.resolveVersion(req.modelName, req.modelVersion);
  const m = await store.load(req.modelName, v.version);
  const cols = inputColumns(m, req.inputs);
  const n = req.inputs.length;
  const p = await m.batcher.score(cols, n);
  const { high, medium } = m.riskLevels;
  const threshold = m.schema.threshold;
  const f = m.fields;
  const [kIndex, kProb, kPred, kRisk] = [f.index, f.probability, f.prediction, f.risk_level].map((k) => JSON.stringify(k));
  let out = `{"model_name":${JSON.stringify(m.name)},"model_version":${m.version},"predictions":[`;
  for (let i = 0; i < n; i++) {
    const pi = p[i];
    const risk = pi >= high ? 'high' : pi >= medium ? 'medium' : 'low';
    out += `${i ? ',' : ''}{${kIndex}:${i},${kProb}:${Math.round(pi * 1e6) / 1e6},${kPred}:${pi > threshold ? 1 : 0},${kRisk}:"${risk}"}`;
  }
  const ms = Math.round((performance.now() - started) * 1000) / 1000;
  return `${out}],"inference_time_ms":${ms}}`;
}
