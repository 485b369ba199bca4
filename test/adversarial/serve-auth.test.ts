// The write endpoint and the query door without credentials (issue #11, item 9): POST
// /mlops/inference/batch wrote snapshots and the query door answered anyone. With
// `serve NAME { auth = { token = secret("…") } }` both answer 401 without `Authorization: Bearer
// <token>`, before reading the body, and nothing is written; the token is a secret reference (a
// literal is refused at check time), read from the environment at start, and never logged or echoed.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadPipelineText } from '../../src/dsl/load.js';
import { createAsgardServer } from '../../src/serve/server.js';
import { Workspace } from '../../src/workspace/workspace.js';
import { FEATURE_NAMES, mlIR, serveNode } from '../ml/fixtures.js';
import { ROOT, servedModel, tree, type Served } from './helpers.js';

const TOKEN = 'serve-tok-93b1d0e2a7';
let served: Served;
const logged: string[] = [];

beforeAll(async () => {
  served = await servedModel('asgard-serve-auth-', {
    serve: { auth: { token: { kind: 'secret', name: 'CHURN_SERVE_TOKEN' } } },
    env: { CHURN_SERVE_TOKEN: TOKEN },
    log: (l) => logged.push(l),
  });
}, 120_000);

afterAll(async () => {
  await served?.close();
});

const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(`${served.base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
const batchBody = { model_name: 'customer_churn_predictor', input_table: 'gold.customer_metrics', output_table: 'gold.customer_churn_predictions' };
const queryBody = { sql: 'SELECT count(*) AS n FROM gold.customer_metrics' };

describe('serve with auth.token', () => {
  it.each([
    ['no header', {}],
    ['a wrong token', { authorization: 'Bearer not-the-token' }],
    ['the token without Bearer', { authorization: TOKEN }],
    ['Basic', { authorization: `Basic ${Buffer.from(`x:${TOKEN}`).toString('base64')}` }],
  ])('%s: batch and query are 401, nothing written, no token echoed', async (_name, headers) => {
    const before = tree(served.dir);
    for (const [path, body] of [
      ['/mlops/inference/batch', batchBody],
      ['/data-products/query', queryBody],
    ] as const) {
      const r = await post(path, body, headers);
      const text = await r.text();
      expect(r.status, `${path}: ${text}`).toBe(401);
      expect(r.headers.get('www-authenticate')).toBe('Bearer realm="asgard"');
      expect((JSON.parse(text) as { error: { code: string } }).error.code).toBe('unauthorized');
      expect(text).not.toContain(TOKEN);
      expect(text).not.toContain('not-the-token');
    }
    expect(tree(served.dir)).toEqual(before);
  });

  it('with the token: batch writes a snapshot and the query answers; read endpoints need none', async () => {
    const auth = { authorization: `Bearer ${TOKEN}` };
    const q = await post('/data-products/query', queryBody, auth);
    expect(q.status, await q.clone().text()).toBe(200);
    const b = await post('/mlops/inference/batch', batchBody, auth);
    expect(b.status, await b.clone().text()).toBe(200);
    expect(((await b.json()) as { status: string }).status).toBe('completed');
    const inputs = [Object.fromEntries(FEATURE_NAMES.map((f) => [f, 1]))];
    expect((await post('/mlops/inference', { model_name: 'customer_churn_predictor', inputs })).status).toBe(200);
    expect((await fetch(`${served.base}/features/customer_churn_features/7`)).status).toBe(200);
    expect((await fetch(`${served.base}/health`)).status).toBe(200);
    expect(logged.join('\n')).not.toContain(TOKEN);
  }, 60_000);

  it('the secret not set at start: the server refuses to start, naming the secret, not a value', () => {
    const ir = mlIR(undefined, serveNode({ auth: { token: { kind: 'secret', name: 'CHURN_SERVE_TOKEN' } } }));
    expect(() => createAsgardServer({ ir, workspace: Workspace.open(join(served.dir, 'spec.asg'), { stateDir: served.dir }), env: {} })).toThrow(
      /serve\.churn_api auth\.token: secret CHURN_SERVE_TOKEN is not set/,
    );
  });
});

describe('auth.token in the spec', () => {
  // A non-churn pipeline (pipelines/bikeshare.asg) with auth added to its serve block.
  const file = join(ROOT, 'pipelines', 'bikeshare.asg');
  const text = readFileSync(file, 'utf8');
  const at = text.indexOf('serve station_api {');
  const line = text.slice(0, at).split('\n').length + 1;
  const spec = (token: string) => text.replace('serve station_api {', `serve station_api {\n    auth = { token = ${token} }`);

  it('secret("…") is a reference in the IR, never a value', () => {
    const r = loadPipelineText(spec('secret("S_TOKEN")'), file);
    expect(r.diagnostics.filter((x) => x.severity === 'error')).toEqual([]);
    const s = r.ir?.nodes.find((n) => n.id === 'serve.station_api');
    expect(s && s.kind === 'serve' ? s.auth : undefined).toEqual({ token: { kind: 'secret', name: 'S_TOKEN' } });
  });

  it.each(['"plain-text-token"', 'env("S_TOKEN")'])('%s is refused, naming auth.token and the line', (value) => {
    const r = loadPipelineText(spec(value), file);
    const d = r.diagnostics.filter((x) => x.severity === 'error');
    expect(d.length).toBeGreaterThan(0);
    expect(d[0].message).toContain('auth.token');
    expect(d[0].message).toContain('secret("NAME")');
    expect(d[0].span.line).toBe(line);
  });
});
