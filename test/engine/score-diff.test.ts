// `plan --diff-data` on a change that reaches a model, with a known effect: accounts 0..99 spend
// 0..99 and the label is `spend >= 50`, so the trained model scores low below 50 and high above.
// The edit moves the spend of accounts 0..9 to 60..69 and leaves the other 90 as they were: the
// served model's scores must change for exactly those 10 accounts, each flipping to positive, and
// for no other. Nothing in the warehouse, the state or the registry moves.
import MarkdownIt from 'markdown-it';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { NodeExecutor } from '../../src/engine/executor.js';
import type { NodeKind } from '../../src/ir/types.js';
import { trainExecutor } from '../../src/ml/train-executor.js';
import { compareScores } from '../../src/ml/score-diff.js';
import { Workspace } from '../../src/workspace/workspace.js';
import { cli } from '../cli/helpers.js';
import { services } from '../planner/shop-services.js';
import { treeFingerprint } from './tree-fingerprint.js';

const spec = `pipeline accounts {
  warehouse = "./.asgard/warehouse"

  source db postgres {
    url      = env("ACCOUNTS_DB_URL", "postgres://accounts@127.0.0.1:5432/accounts")
    password = secret("ACCOUNTS_DB_PASSWORD")
    stream accounts {
      primary_key = account_id
      cursor      = updated_at
      columns     = { account_id = "BIGINT"  amount = "BIGINT"  updated_at = "TIMESTAMP" }
    }
  }

  cleanse accounts_clean {
    sql """
      SELECT account_id, amount AS spend, updated_at
      FROM bronze.accounts
    """
  }

  model labels {
    sql """
      SELECT account_id, updated_at AS event_timestamp, CASE WHEN spend >= 50 THEN 1 ELSE 0 END AS big
      FROM silver.accounts_clean
    """
  }

  features account_features {
    entity account { join_key = account_id }
    from      = silver.accounts_clean
    timestamp = updated_at
    feature spend int64 { description = "Spend so far" }
  }

  train spender {
    features  = account_features
    label     = gold.labels.big
    algorithm = gradient_boosting { max_iter = 30 }
    split     = { test = 0.25  seed = 7 }
    leakage   = off
  }
}
`;

const files = (root: string) => treeFingerprint(root, ['state', 'warehouse', 'registry']);

interface Scores {
  version: number;
  rows: number;
  changed: number;
  flipped: number;
  flips: { toPositive: number; toNegative: number };
  before: { mean: number };
  after: { mean: number };
  meanAbsChange: number;
  delta: { min: number; p10: number; p50: number; p90: number; max: number };
}

describe('plan --diff-data: model scores', () => {
  it('scores change for exactly the accounts whose features changed, and each flips', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'asgard-scorediff-'));
    const file = join(dir, 'accounts.asg');
    writeFileSync(file, spec);
    const base = services({ n: 100 }, []);
    const registry = Workspace.open(file).registry();
    const svc = { executors: async (kind: NodeKind) => (kind === 'train' ? (trainExecutor(registry) as NodeExecutor) : base.executors(kind)) };
    const applied = await cli(['apply', 'accounts.asg', '--yes', '--format', 'json'], { cwd: dir, services: svc });
    expect(applied.stderr).not.toContain('error');
    expect(applied.code).toBe(0);
    expect(registry.servingVersion('spender')?.version).toBe(1);

    writeFileSync(file, spec.replace('amount AS spend', 'CASE WHEN amount < 10 THEN amount + 60 ELSE amount END AS spend'));
    const before = files(join(dir, '.asgard'));
    const r = await cli(['plan', 'accounts.asg', '--diff-data', '--format', 'json'], { cwd: dir });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout) as { actions: { node: string; dataDiff?: { scores?: Scores; error?: string } }[] };
    const s = doc.actions.find((a) => a.node === 'train.spender')!.dataDiff!.scores!;
    expect(s).toMatchObject({ version: 1, rows: 100, changed: 10, flipped: 10, flips: { toPositive: 10, toNegative: 0 } });
    // The 90 untouched accounts score exactly as before; the 10 moved ones all rise.
    expect(s.delta.min).toBe(0);
    expect(s.delta.p50).toBe(0);
    expect(s.delta.max).toBeGreaterThan(0);
    expect(s.after.mean).toBeGreaterThan(s.before.mean);
    expect(s.meanAbsChange).toBeCloseTo(s.after.mean - s.before.mean, 5);

    // --sample caps the entities scored, the same ones every time.
    const sampled = async () =>
      JSON.parse((await cli(['plan', 'accounts.asg', '--diff-data', '--sample', '20', '--format', 'json'], { cwd: dir })).stdout) as typeof doc;
    const a = (await sampled()).actions.find((x) => x.node === 'train.spender')!.dataDiff!.scores!;
    expect(a.rows).toBe(20);
    expect((await sampled()).actions.find((x) => x.node === 'train.spender')!.dataDiff!.scores).toEqual(a);

    const md = (await cli(['plan', 'accounts.asg', '--diff-data', '--format', 'markdown'], { cwd: dir })).stdout;
    expect(md).toContain('Model scores (version 1) on 100 entities');
    expect(md).toContain('10 scores change; 10 predictions flip at 0.5000 (10 to positive, 0 to negative)');
    expect(new MarkdownIt({ html: true }).render(md)).toContain('<th>score change</th>');

    expect(files(join(dir, '.asgard'))).toEqual(before);
  }, 300_000);

  it('compareScores counts flips both ways at the threshold and the spread of the change', () => {
    const s = compareScores(Float32Array.from([0.1, 0.6, 0.4, 0.9]), Float32Array.from([0.1, 0.3, 0.7, 0.9]), 0.5, 3);
    expect(s).toMatchObject({ version: 3, rows: 4, changed: 2, flipped: 2, flips: { toPositive: 1, toNegative: 1 }, threshold: 0.5 });
    expect(s.delta.min).toBeCloseTo(-0.3, 5);
    expect(s.delta.max).toBeCloseTo(0.3, 5);
    expect(s.meanAbsChange).toBeCloseTo(0.15, 5);
    expect(s.before.mean).toBeCloseTo(0.5, 5);
  });
});
