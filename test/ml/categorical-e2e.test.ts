// A card-fraud pipeline (not churn) whose model trains on a string feature, end to end through the
// CLI: validate accepts the string feature (it was ASG2105), apply trains a gradient-boosting model
// on it (the registry's feature schema lists the vocabulary, sorted), batch scoring writes its
// table, and `asgard serve` scores the raw strings online — by inputs and by entity key — with the
// same probabilities as batch scoring; a category the model never saw scores as NULL does (the
// unknown bucket), and a number where the category belongs is 422 naming the field.

import { beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { cli, type CliRun } from '../cli/helpers.js';
import { tempDir } from '../engine/helpers.js';
import { cardTransactions, MERCHANT_CATEGORIES, type CardTxn } from './card-fraud.js';

const ROOT = resolve(import.meta.dirname, '..', '..');
const SPEC = `pipeline cards {
  warehouse = "./.asgard/warehouse"

  source card_files file {
    path = "./data"
    stream transactions {
      path        = "transactions.csv"
      primary_key = txn_id
      columns     = { txn_id = "BIGINT"  merchant_category = "VARCHAR"  card_present = "BOOLEAN"  amount = "DOUBLE"  hour = "INTEGER"  ts = "TIMESTAMP"  is_fraud = "INTEGER" }
    }
  }

  cleanse transactions_clean {
    sql """ SELECT txn_id, merchant_category, card_present, amount, hour, ts, is_fraud FROM bronze.transactions """
  }

  model txn_features {
    sql """ SELECT txn_id, ts, merchant_category, card_present, amount, hour FROM silver.transactions_clean """
  }

  model fraud_labels {
    sql """ SELECT txn_id, ts AS event_timestamp, is_fraud FROM silver.transactions_clean """
  }

  features txn_view {
    entity txn { join_key = txn_id }
    from      = gold.txn_features
    timestamp = ts
    ttl       = 1d
    feature merchant_category string
    feature card_present      bool
    feature amount            float64
    feature hour              int32
  }

  train fraud_model {
    features  = txn_view
    label     = gold.fraud_labels.is_fraud
    algorithm = gradient_boosting { max_iter = 60  learning_rate = 0.2 }
    split     = { test = 0.25  stratify = true  seed = 7 }
    register  = "card_fraud"
  }

  serve fraud_api {
    model  = fraud_model
    fields = { probability = "fraud_probability" }
    batch { from = gold.txn_features  to = gold.fraud_scores }
  }
}
`;

let dir: string;
let rows: CardTxn[];
const env = () => ({ ASGARD_CACHE_DIR: join(dir, 'cache') });
const run = (args: string[]): Promise<CliRun> => cli(args, { cwd: dir, env: env() });
const json = (r: CliRun) => {
  expect(r.code, r.stdout.slice(-2000) + r.stderr.slice(-2000)).toBe(0);
  return JSON.parse(r.stdout);
};

function findFile(root: string, name: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(root, { withFileTypes: true, recursive: true })) if (e.isFile() && e.name === name) out.push(join(e.parentPath, e.name));
  return out;
}

beforeAll(() => {
  dir = tempDir('asg-categorical-e2e-');
  rows = cardTransactions(4000, 11);
  mkdirSync(join(dir, 'data'));
  const start = Date.UTC(2025, 0, 1);
  const csv = rows.map((r) =>
    [
      r.txn_id,
      r.merchant_category ?? '',
      r.card_present,
      r.amount,
      r.hour,
      new Date(start + r.txn_id * 60_000).toISOString().replace('T', ' ').slice(0, 19),
      r.is_fraud,
    ].join(','),
  );
  writeFileSync(join(dir, 'data', 'transactions.csv'), ['txn_id,merchant_category,card_present,amount,hour,ts,is_fraud', ...csv].join('\n') + '\n');
  writeFileSync(join(dir, 'cards.asg'), SPEC);
});

describe('a string feature end to end (card fraud)', () => {
  it('validates: a string feature of a trained view is no longer an error', async () => {
    expect(json(await run(['validate', 'cards.asg', '--format', 'json']))).toMatchObject({ ok: true });
  }, 300_000);

  it('applies: trains on the category and records the sorted training vocabulary', async () => {
    const doc = json(await run(['apply', 'cards.asg', '--yes', '--format', 'json']));
    const st = Object.fromEntries((doc.nodes as { node: string; status: string }[]).map((n) => [n.node, n.status]));
    expect(st['train.fraud_model']).toBe('succeeded');
    expect(st['serve.fraud_api']).toBe('succeeded');
    const [schemaFile] = findFile(dir, 'features.json');
    const schema = JSON.parse(readFileSync(schemaFile, 'utf8')) as { features: { name: string; onnxType: string; categories?: string[]; dtype: string }[] };
    const cat = schema.features.find((f) => f.name === 'merchant_category')!;
    expect(cat).toMatchObject({ dtype: 'string', onnxType: 'string' });
    expect(cat.categories).toEqual([...MERCHANT_CATEGORIES].sort());
    expect(schema.features.find((f) => f.name === 'card_present')).toMatchObject({ dtype: 'bool', onnxType: 'float32' });
    const models = json(await run(['models', 'list', 'cards.asg', '--format', 'json']));
    expect(models.models[0].versions[0].metrics.roc_auc).toBeGreaterThan(0.7);
  }, 600_000);

  it('serves the raw strings online with the probabilities batch scoring wrote', async () => {
    const picked = [
      rows.find((r) => r.merchant_category === 'crypto_exchange')!,
      rows.find((r) => r.merchant_category === 'grocery')!,
      rows.find((r) => r.merchant_category === null)!,
    ];
    const ids = picked.map((r) => r.txn_id);
    const q = json(
      await run([
        'query',
        'cards.asg',
        `SELECT txn_id, fraud_probability FROM gold.fraud_scores WHERE txn_id IN (${ids.join(', ')}) ORDER BY txn_id`,
        '--format',
        'json',
      ]),
    );
    const batch = new Map((q.rows as { txn_id: number; fraud_probability: number }[]).map((r) => [Number(r.txn_id), Number(r.fraud_probability)]));
    expect(batch.size).toBe(3);

    const child: ChildProcess = spawn(
      process.execPath,
      ['--import', 'tsx', join(ROOT, 'src', 'cli', 'main.ts'), 'serve', join(dir, 'cards.asg'), '--port', '0', '--format', 'json'],
      {
        cwd: ROOT,
        env: { ...process.env, ...env() },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    try {
      const started = await new Promise<{ port: number }>((ok, fail) => {
        let out = '';
        let err = '';
        child.stderr!.on('data', (d) => (err += d));
        child.stdout!.on('data', (d) => {
          out += d;
          try {
            ok(JSON.parse(out));
          } catch {
            // not complete yet
          }
        });
        child.once('exit', (c) => fail(new Error(`serve exited ${c}: ${err.slice(-2000)}`)));
      });
      const post = async (body: unknown) => {
        const res = await fetch(`http://127.0.0.1:${started.port}/mlops/inference`, { method: 'POST', body: JSON.stringify(body) });
        return {
          status: res.status,
          body: (await res.json()) as { predictions: { fraud_probability: number }[]; error?: { code: string; details?: { field?: string } } },
        };
      };
      const input = (r: CardTxn, category = r.merchant_category) => ({
        merchant_category: category,
        card_present: r.card_present,
        amount: r.amount,
        hour: r.hour,
      });
      // The NULL row is sent with a category the model never saw: the same unknown bucket.
      const online = await post({ model_name: 'card_fraud', inputs: picked.map((r) => input(r, r.merchant_category ?? 'a-merchant-type-never-seen')) });
      expect(online.status, JSON.stringify(online.body)).toBe(200);
      const byEntity = await post({ model_name: 'card_fraud', entities: ids.map((txn_id) => ({ txn_id })) });
      expect(byEntity.status, JSON.stringify(byEntity.body)).toBe(200);
      picked.forEach((r, i) => {
        expect(online.body.predictions[i].fraud_probability).toBeCloseTo(batch.get(r.txn_id)!, 5);
        expect(byEntity.body.predictions[i].fraud_probability).toBeCloseTo(batch.get(r.txn_id)!, 5);
      });
      expect(online.body.predictions[0].fraud_probability).toBeGreaterThan(online.body.predictions[1].fraud_probability);

      const wrong = await post({ model_name: 'card_fraud', inputs: [{ ...input(picked[0]), merchant_category: 7 }] });
      expect(wrong.status).toBe(422);
      expect(wrong.body.error).toMatchObject({ code: 'invalid_feature', details: { field: 'inputs[0].merchant_category' } });
    } finally {
      child.kill('SIGTERM');
    }
  }, 600_000);
});
