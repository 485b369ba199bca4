// The HTTP API under bad input and a broken state (issue #11, items 8, 10, 11):
// - a feature key of the wrong type for the entity's join key (`abc`, `%00`, a 26-digit number for a
//   BIGINT key) is 400 naming the key and its type, not a 500 from DuckDB's conversion;
// - a feature value outside the model input's range (1e300 overflows float32 to Infinity) is 422
//   naming the field, never a prediction;
// - a state file corrupted or truncated while `serve` runs makes the endpoints that read the state
//   answer 503 with the reason (never a 500, never data of a state it cannot read), inference of the
//   loaded model is unaffected, and everything answers again once the state is fixed.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { FEATURE_NAMES } from '../ml/fixtures.js';
import { servedModel, type Served } from './helpers.js';

let served: Served;
const logged: string[] = [];

beforeAll(async () => {
  served = await servedModel('asgard-serve-input-', { log: (l) => logged.push(l) });
}, 120_000);

afterAll(async () => {
  await served?.close();
});

interface ErrorBody {
  error: { code: string; message: string; details?: { field?: string } };
}

const get = (path: string) => fetch(`${served.base}${path}`);
const post = (path: string, body: unknown) =>
  fetch(`${served.base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
const input = (over: Record<string, number> = {}) => ({ ...Object.fromEntries(FEATURE_NAMES.map((f) => [f, 1])), ...over });
const infer = (over: Record<string, number> = {}) => post('/mlops/inference', { model_name: 'customer_churn_predictor', inputs: [input(over)] });

describe('a feature key of the wrong type', () => {
  it.each(['abc', '%00', '12345678901234567890123456', '1.5', '%20'])(
    'GET /features/customer_churn_features/%s: 400 naming customer_id and BIGINT',
    async (key) => {
      const r = await get(`/features/customer_churn_features/${key}`);
      const j = (await r.json()) as ErrorBody;
      expect(r.status, JSON.stringify(j)).toBe(400);
      expect(j.error.code).toBe('invalid_key');
      expect(j.error.details?.field).toBe('customer_id');
      expect(j.error.message).toContain('customer_id');
      expect(j.error.message).toContain('BIGINT');
      expect(j.error.message).not.toMatch(/Conversion Error|\n\s+at /);
    },
  );

  it('a key of the right type still answers (and an unknown one is 404)', async () => {
    expect((await get('/features/customer_churn_features/7')).status).toBe(200);
    expect((await get('/features/customer_churn_features/99999999')).status).toBe(404);
    expect(logged).toEqual([]);
  });
});

describe('a feature value outside the model input range', () => {
  it.each([1e300, -1e300, 3.5e38, Number.MAX_VALUE])('%s: 422 naming the field, no prediction', async (x) => {
    const r = await infer({ total_purchases: x });
    const j = (await r.json()) as ErrorBody & { predictions?: unknown };
    expect(r.status, JSON.stringify(j)).toBe(422);
    expect(j.predictions).toBeUndefined();
    expect(j.error.code).toBe('invalid_feature');
    expect(j.error.details?.field).toBe('inputs[0].total_purchases');
    expect(j.error.message).toContain('inputs[0].total_purchases');
    expect(j.error.message).toContain('float32');
  });

  it('the largest float32 value itself is scored', async () => {
    const r = await infer({ total_purchases: 3.4e38 });
    expect(r.status, await r.clone().text()).toBe(200);
  });
});

describe('a state file broken while serve runs', () => {
  it.each([
    ['truncated', (s: string) => s.slice(0, Math.floor(s.length / 2))],
    ['garbage', () => '\u0000\u0001 not json'],
    ['schema-invalid', () => JSON.stringify({ schemaVersion: 1 })],
  ])('%s: 503 naming the state file on features, query and batch; inference unaffected; recovers', async (_name, corrupt) => {
    const good = readFileSync(served.stateFile, 'utf8');
    // Served once before, so the engines are open on the good state.
    expect((await get('/features/customer_churn_features/7')).status).toBe(200);
    expect((await post('/data-products/query', { sql: 'SELECT count(*) AS n FROM gold.customer_metrics' })).status).toBe(200);
    writeFileSync(served.stateFile, corrupt(good));
    try {
      const answers = {
        features: await get('/features/customer_churn_features/7'),
        query: await post('/data-products/query', { sql: 'SELECT count(*) AS n FROM gold.customer_metrics' }),
        batch: await post('/mlops/inference/batch', {
          model_name: 'customer_churn_predictor',
          input_table: 'gold.customer_metrics',
          output_table: 'gold.customer_churn_predictions',
        }),
      };
      for (const [what, r] of Object.entries(answers)) {
        const j = (await r.json()) as ErrorBody;
        expect(r.status, `${what}: ${JSON.stringify(j)}`).toBe(503);
        expect(j.error.code).toBe('state_unreadable');
        expect(j.error.message).toContain('state file');
        expect(j.error.message).not.toMatch(/\n\s+at /);
      }
      const h = (await (await get('/health')).json()) as { status: string; components: { warehouse: { status: string; message: string } } };
      expect(h.components.warehouse.status).toBe('down');
      expect(h.components.warehouse.message).toContain('state file');
      const inf = await infer();
      expect(inf.status, await inf.clone().text()).toBe(200);
      // The corrupt file was not rewritten by any of these requests.
      expect(readFileSync(served.stateFile, 'utf8')).toBe(corrupt(good));
    } finally {
      writeFileSync(served.stateFile, good);
    }
    expect((await get('/features/customer_churn_features/7')).status).toBe(200);
    expect((await post('/data-products/query', { sql: 'SELECT count(*) AS n FROM gold.customer_metrics' })).status).toBe(200);
    expect(logged).toEqual([]);
  });
});
