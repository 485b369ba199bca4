// A no-op apply of a pipeline whose file sources did not change (issue #10: < 1 s): a CSV, a
// Parquet file and a glob of NDJSON files (200,000 + 200,000 + 4 × 25,000 rows) → a cleanse → a
// model. After one full apply, each further apply finds the files unchanged by size and mtime
// (src/ingest/file-manifest.ts) and reads no row. Two figures: the apply in a warm process (asgard's
// own work: plan, file checks, state) and the built CLI (dist/, built first: bin/asgard.js would run
// the TypeScript sources through tsx when dist/ is older than src/, and time the transpiler) as a
// child process (Node and module start-up included).
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Figure } from './run.js';
import { cli } from '../test/cli/helpers.js';
import { openDuck } from '../src/engine/duckdb.js';
import { buildDist } from './build-dist.js';
import { median } from './stats.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const RUNS = 5;

const SPEC = `pipeline cards {
  source card_files file {
    path = "./data"
    stream transactions { path = "transactions.csv"  primary_key = txn_id
      columns = { txn_id = "BIGINT"  card_id = "BIGINT"  amount = "DOUBLE"  ts = "TIMESTAMP" } }
    stream cards { path = "cards.parquet"  primary_key = card_id }
    stream disputes { path = "disputes/*.json"  primary_key = dispute_id
      columns = { dispute_id = "BIGINT"  txn_id = "BIGINT"  reason = "VARCHAR" } }
  }
  cleanse transactions_clean {
    sql """ SELECT txn_id, card_id, amount, ts FROM bronze.transactions WHERE amount > 0 """
  }
  model card_spend {
    sql """ SELECT t.card_id, c.country, count(*) AS txns, sum(t.amount) AS spend, count(d.dispute_id) AS disputes
            FROM silver.transactions_clean t JOIN bronze.cards c USING (card_id)
            LEFT JOIN bronze.disputes d USING (txn_id) GROUP BY t.card_id, c.country """
  }
}
`;

async function makeFiles(dir: string): Promise<void> {
  mkdirSync(join(dir, 'data', 'disputes'), { recursive: true });
  const d = (f: string) => join(dir, 'data', f).replace(/'/g, "''");
  const c = await openDuck();
  try {
    await c.run(`COPY (SELECT range AS txn_id, hash(range) % 20000 AS card_id, round((hash(range, 1) % 100000) / 100.0, 2) AS amount,
      TIMESTAMP '2025-01-01' + INTERVAL (range) SECOND AS ts FROM range(200000)) TO '${d('transactions.csv')}' (HEADER)`);
    await c.run(
      `COPY (SELECT range AS card_id, ['DE', 'FR', 'US', 'BR'][1 + range % 4] AS country FROM range(200000)) TO '${d('cards.parquet')}' (FORMAT parquet)`,
    );
    for (let k = 0; k < 4; k++) {
      await c.run(`COPY (SELECT ${k} * 25000 + range AS dispute_id, (hash(range, ${k}) % 200000) AS txn_id, 'chargeback' AS reason FROM range(25000))
        TO '${d(`disputes/part-${k}.json`)}' (FORMAT json)`);
    }
  } finally {
    c.closeSync();
  }
}

async function applyInProcess(cwd: string): Promise<number> {
  const t = performance.now();
  const r = await cli(['apply', 'cards.asg', '--yes', '--format', 'json'], { cwd });
  if (r.code !== 0) throw new Error(`asgard apply exited ${r.code}: ${r.stderr.slice(-2000)}`);
  return (performance.now() - t) / 1000;
}

export async function run(): Promise<Figure[]> {
  const dir = mkdtempSync(join(tmpdir(), 'asg-bench-files-'));
  writeFileSync(join(dir, 'cards.asg'), SPEC);
  await makeFiles(dir);
  const full = await applyInProcess(dir);
  process.stderr.write(`files.bench: full apply ${full.toFixed(2)} s\n`);
  const warm: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    warm.push(await applyInProcess(dir));
    process.stderr.write(`files.bench: no-op apply in process ${warm[i].toFixed(2)} s\n`);
  }
  buildDist(ROOT);
  const fresh: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t = performance.now();
    const r = spawnSync(process.execPath, [join(ROOT, 'dist/cli/main.js'), 'apply', 'cards.asg', '--yes', '--format', 'json'], { cwd: dir, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`asgard apply exited ${r.status}: ${r.stderr.slice(-2000)}`);
    const doc = JSON.parse(r.stdout) as { nodes: { node: string; status: string }[] };
    if (doc.nodes.some((n) => n.status === 'succeeded' && !n.node.startsWith('bronze.'))) throw new Error(`a no-op apply rebuilt: ${r.stdout}`);
    fresh.push((performance.now() - t) / 1000);
    process.stderr.write(`files.bench: no-op \`asgard apply\` ${fresh[i].toFixed(2)} s\n`);
  }
  return [
    { name: 'apply.files_noop.seconds', value: median(warm), unit: 's', goal: '< 1', runs: RUNS },
    { name: 'apply.files_noop.cli.seconds', value: median(fresh), unit: 's', runs: RUNS },
    { name: 'apply.files_full.seconds', value: full, unit: 's', runs: 1 },
  ];
}
