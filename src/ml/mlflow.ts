// Logging a training run to an MLflow tracking server through its REST API (api/2.0/mlflow):
// experiment (created when missing), run, params, metrics, the ONNX file as an artifact (when the
// server proxies artifacts, `mlflow-artifacts:` URIs) and a registered model version. No Python,
// no MLflow client. Errors never carry the tracking URI's credentials.

import type { Metrics } from './metrics.js';

export interface MlflowRun {
  readonly runName: string;
  readonly model: string;
  readonly version: number;
  readonly params: Readonly<Record<string, string | number | boolean>>;
  readonly metrics: Metrics;
  readonly onnx: Uint8Array;
  readonly signal?: AbortSignal;
}

const TIMEOUT_MS = 15_000;

export async function logToMlflow(trackingUri: string, experiment: string, run: MlflowRun): Promise<{ runId: string }> {
  const base = new URL(trackingUri);
  const auth = base.username
    ? 'Basic ' + Buffer.from(`${decodeURIComponent(base.username)}:${decodeURIComponent(base.password)}`).toString('base64')
    : undefined;
  base.username = '';
  base.password = '';
  const root = base.toString().replace(/\/+$/, '');
  const call = async (method: string, path: string, body?: unknown, raw?: Uint8Array): Promise<Record<string, any>> => {
    const signal = run.signal ? AbortSignal.any([run.signal, AbortSignal.timeout(TIMEOUT_MS)]) : AbortSignal.timeout(TIMEOUT_MS);
    const headers: Record<string, string> = { 'content-type': raw ? 'application/octet-stream' : 'application/json' };
    if (auth) headers.authorization = auth;
    const payload: BodyInit | undefined = raw ? Buffer.from(raw) : body === undefined ? undefined : JSON.stringify(body);
    const res = await fetch(`${root}${path}`, { method, headers, body: payload, signal });
    const text = await res.text();
    let json: Record<string, any> = {};
    try {
      json = text ? JSON.parse(text) : {};
    } catch {
      // Artifact PUTs answer with an empty or non-JSON body.
    }
    if (!res.ok) {
      const err = new Error(
        `MLflow ${method} ${path.split('?')[0]} answered ${res.status}${json.error_code ? ` ${json.error_code}` : ''}${json.message ? `: ${json.message}` : ''}`,
      );
      (err as Error & { code?: string }).code = json.error_code;
      throw err;
    }
    return json;
  };

  let experimentId: string;
  try {
    const got = await call('GET', `/api/2.0/mlflow/experiments/get-by-name?experiment_name=${encodeURIComponent(experiment)}`);
    experimentId = got.experiment.experiment_id;
  } catch (e) {
    if ((e as { code?: string }).code !== 'RESOURCE_DOES_NOT_EXIST') throw e;
    experimentId = (await call('POST', '/api/2.0/mlflow/experiments/create', { name: experiment })).experiment_id;
  }
  const now = Date.now();
  const created = await call('POST', '/api/2.0/mlflow/runs/create', {
    experiment_id: experimentId,
    run_name: run.runName,
    start_time: now,
    tags: [
      { key: 'mlflow.runName', value: run.runName },
      { key: 'asgard.model', value: run.model },
      { key: 'asgard.version', value: String(run.version) },
    ],
  });
  const runId: string = created.run.info.run_id;
  const artifactUri: string = created.run.info.artifact_uri ?? '';
  const metricEntries = Object.entries(run.metrics).filter(([, v]) => typeof v === 'number' && Number.isFinite(v)) as [string, number][];
  await call('POST', '/api/2.0/mlflow/runs/log-batch', {
    run_id: runId,
    params: Object.entries(run.params).map(([key, value]) => ({ key, value: String(value) })),
    metrics: metricEntries.map(([key, value]) => ({ key, value, timestamp: now, step: 0 })),
  });
  const m = /^mlflow-artifacts:\/(.*)$/.exec(artifactUri);
  if (m) {
    const path = m[1].replace(/^\/+/, '');
    await call('PUT', `/api/2.0/mlflow-artifacts/artifacts/${path}/model/model.onnx`, undefined, run.onnx);
  }
  try {
    await call('POST', '/api/2.0/mlflow/registered-models/create', { name: run.model });
  } catch (e) {
    if ((e as { code?: string }).code !== 'RESOURCE_ALREADY_EXISTS') throw e;
  }
  await call('POST', '/api/2.0/mlflow/model-versions/create', { name: run.model, source: `${artifactUri}/model`, run_id: runId });
  await call('POST', '/api/2.0/mlflow/runs/update', { run_id: runId, status: 'FINISHED', end_time: Date.now() });
  return { runId };
}
