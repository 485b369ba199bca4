// MLflow logging through its REST API, against a stand-in tracking server on loopback that speaks
// the documented endpoints (api/2.0/mlflow/…, mlflow-artifacts): the experiment is created when
// missing, the run gets params and held-out metrics, the ONNX file is uploaded as an artifact and
// a registered model version points at it; credentials in the URI become a Basic header and never
// appear in errors.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:http';
import { logToMlflow } from '../../src/ml/mlflow.js';
import { classificationMetrics } from '../../src/ml/metrics.js';

interface Call {
  method: string;
  path: string;
  auth?: string;
  body: Buffer;
}
let server: Server;
let base: string;
const calls: Call[] = [];
const experiments = new Map<string, string>();
let failRuns = false;

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url!, 'http://x');
      const body = Buffer.concat(chunks);
      calls.push({ method: req.method!, path: url.pathname, auth: req.headers.authorization, body });
      const json = (status: number, o: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(o));
      };
      const p = url.pathname;
      if (p === '/api/2.0/mlflow/experiments/get-by-name') {
        const id = experiments.get(url.searchParams.get('experiment_name')!);
        return id ? json(200, { experiment: { experiment_id: id } }) : json(404, { error_code: 'RESOURCE_DOES_NOT_EXIST', message: 'no experiment' });
      }
      if (p === '/api/2.0/mlflow/experiments/create') {
        const id = String(experiments.size + 1);
        experiments.set(JSON.parse(body.toString()).name, id);
        return json(200, { experiment_id: id });
      }
      if (p === '/api/2.0/mlflow/runs/create') {
        if (failRuns) return json(500, { error_code: 'INTERNAL_ERROR', message: 'boom' });
        const e = JSON.parse(body.toString()).experiment_id;
        return json(200, { run: { info: { run_id: 'r1', artifact_uri: `mlflow-artifacts:/${e}/r1/artifacts` } } });
      }
      if (p === '/api/2.0/mlflow/registered-models/create') return json(400, { error_code: 'RESOURCE_ALREADY_EXISTS', message: 'exists' });
      if (p.startsWith('/api/2.0/mlflow-artifacts/artifacts/')) return json(200, {});
      if (['/api/2.0/mlflow/runs/log-batch', '/api/2.0/mlflow/model-versions/create', '/api/2.0/mlflow/runs/update'].includes(p)) return json(200, {});
      json(404, { error_code: 'ENDPOINT_NOT_FOUND', message: p });
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const a = server.address() as { port: number };
  base = `http://asgard:s3cret-pw@127.0.0.1:${a.port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

const metrics = classificationMetrics([1, 0, 1, 0], [0.9, 0.2, 0.4, 0.6]);
const onnx = new Uint8Array([8, 8, 18, 6, 97, 115, 103, 97, 114, 100]);

describe('MLflow logging', () => {
  it('creates the experiment, logs params and metrics, uploads the model and registers a version', async () => {
    calls.length = 0;
    const r = await logToMlflow(base, 'customer_churn_prediction', {
      runName: 'churn_predictor-v1',
      model: 'customer_churn_predictor',
      version: 1,
      params: { algorithm: 'random_forest', n_estimators: 100 },
      metrics,
      onnx,
    });
    expect(r.runId).toBe('r1');
    expect(calls.map((c) => `${c.method} ${c.path}`)).toEqual([
      'GET /api/2.0/mlflow/experiments/get-by-name',
      'POST /api/2.0/mlflow/experiments/create',
      'POST /api/2.0/mlflow/runs/create',
      'POST /api/2.0/mlflow/runs/log-batch',
      'PUT /api/2.0/mlflow-artifacts/artifacts/1/r1/artifacts/model/model.onnx',
      'POST /api/2.0/mlflow/registered-models/create',
      'POST /api/2.0/mlflow/model-versions/create',
      'POST /api/2.0/mlflow/runs/update',
    ]);
    expect(calls.every((c) => c.auth === 'Basic ' + Buffer.from('asgard:s3cret-pw').toString('base64'))).toBe(true);
    const batch = JSON.parse(calls[3].body.toString());
    expect(batch.params).toContainEqual({ key: 'n_estimators', value: '100' });
    expect(batch.metrics.map((m: { key: string }) => m.key)).toEqual(expect.arrayContaining(['accuracy', 'f1', 'roc_auc', 'log_loss', 'threshold']));
    expect(batch.metrics.find((m: { key: string }) => m.key === 'f1').value).toBeCloseTo(metrics.f1, 12);
    expect(Array.from(calls[4].body)).toEqual(Array.from(onnx));
    expect(JSON.parse(calls[6].body.toString())).toMatchObject({
      name: 'customer_churn_predictor',
      source: 'mlflow-artifacts:/1/r1/artifacts/model',
      run_id: 'r1',
    });
    // The experiment now exists: a second run does not create it again.
    calls.length = 0;
    await logToMlflow(base, 'customer_churn_prediction', { runName: 'v2', model: 'customer_churn_predictor', version: 2, params: {}, metrics, onnx });
    expect(calls.filter((c) => c.path.endsWith('experiments/create'))).toHaveLength(0);
  });

  it("reports a failing server without the URI's password", async () => {
    failRuns = true;
    const err = await logToMlflow(base, 'customer_churn_prediction', { runName: 'x', model: 'm', version: 1, params: {}, metrics, onnx }).catch(
      (e) => e as Error,
    );
    failRuns = false;
    expect(err).toBeInstanceOf(Error);
    expect(err.message).toMatch(/runs\/create answered 500 INTERNAL_ERROR/);
    expect(err.message).not.toContain('s3cret-pw');
  });
});
