// The training Job `compile --profile kubernetes` writes (training/<model>/job.yaml), run to the end
// as compiled by the stand-in's Job runner (./stand-in.ts runJob: the container's command with the
// .venv's tools, its ConfigMap volumes — the script and the Feast repository — written out, its env
// resolved from the Secret and ConfigMap the tree's README lists): the feature view's table and the
// label table read from the profile's Iceberg SQL catalog on the S3 server (their current snapshots:
// each was overwritten once, so a read of the data folders would see stale rows too), the point-in-
// time join through Feast, scikit-learn, the run and a registered version on a real MLflow tracking
// server, and the ONNX version in asgard's registry beside the S3 warehouse. Then `asgard serve
// --profile kubernetes` — the serving Deployment's command — answers with that version.
// Twice: a small non-churn pipeline (a categorical feature), and churn's own feature view and train
// node (pipelines/churn.asg with a test profile). The upstream tables are not computed here: they are
// written into the catalog as the cleanse and model jobs would (test/k8s/spark-run.test.ts runs those).

import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadAll } from 'js-yaml';
import { awsEnv, freshBucket, useAwsEnv } from '../helpers/s3.js';
import { openDuck } from '../../src/engine/duckdb.js';
import { cli } from '../cli/helpers.js';
import { ensureToolchain } from '../conformance/lib/toolchain.js';
import { startAsgardServe, startMlflow } from '../conformance/lib/servers.js';
import { CHURN_INPUT } from '../targets/churn.js';
import { resolveContainerEnv, runJob } from './stand-in.js';

const ROOT = resolve(import.meta.dirname, '..', '..');
const SEED = join(import.meta.dirname, 'py', 'seed_iceberg.py');

function profile(bucket: string, catalog: string): string {
  return `  profile kubernetes {
    namespace     = "mlops"
    image         = "ghcr.io/asgard-data/asgard:0.1.0"
    spark_image   = "apache/spark:4.0.1-python3"
    spark_version = "4.0.1"
    warehouse     = "s3a://${bucket}/lake"
    s3_endpoint   = env("LAKE_S3_ENDPOINT", "http://minio.mlops.svc:9000")
    catalog_type  = "jdbc"
    catalog_uri   = "jdbc:sqlite:${catalog}"
  }
`;
}

/** A subscriptions pipeline: not churn's tables, columns, entity or algorithm settings; a string feature. */
function shopSpec(bucket: string, catalog: string): string {
  return `pipeline subs {
  source app_db postgres {
    url      = env("APP_DB_URL", "postgres://app@127.0.0.1:55432/app")
    password = secret("APP_DB_PASSWORD")
    stream accounts {
      primary_key = account_id
      cursor      = seen_at
      columns     = { account_id = "BIGINT"  plan = "VARCHAR"  sessions = "BIGINT"  spend = "DOUBLE"  upgraded = "INTEGER"  seen_at = "TIMESTAMP" }
    }
  }
  cleanse accounts_clean {
    sql """ SELECT account_id, plan, sessions, spend, upgraded, seen_at FROM bronze.accounts """
  }
  model account_activity {
    materialized = table
    sql """ SELECT account_id, plan, sessions, spend, seen_at AS observed_at FROM silver.accounts_clean """
  }
  model upgrade_labels {
    materialized = table
    sql """ SELECT account_id, seen_at + INTERVAL 1 HOUR AS labelled_at, upgraded FROM silver.accounts_clean """
  }
  features account_signals {
    entity account { join_key = account_id }
    from      = gold.account_activity
    timestamp = observed_at
    ttl       = 1d
    feature plan     string
    feature sessions int64
    feature spend    float64
  }
  train upgrade_model {
    features  = account_signals
    label     = gold.upgrade_labels.upgraded
    label_timestamp = labelled_at
    algorithm = random_forest { n_estimators = 30  max_depth = 6 }
    split     = { test = 0.25  stratify = true  seed = 7 }
    gate      = "roc_auc >= 0.8"
    register  = "upgrade_model"
  }
  serve upgrades {
    model = upgrade_model
  }
${profile(bucket, catalog)}}
`;
}

/** pipelines/churn.asg with its kubernetes profile swapped for the test's (bucket, SQLite catalog). */
function churnSpec(bucket: string, catalog: string): string {
  const text = readFileSync(join(ROOT, 'pipelines', 'churn.asg'), 'utf8');
  const start = text.indexOf('  profile kubernetes {');
  const end = text.indexOf('\n  }\n', start) + '\n  }\n'.length;
  if (start < 0 || end < start) throw new Error('pipelines/churn.asg has no `profile kubernetes` block');
  return text.slice(0, start) + profile(bucket, catalog) + text.slice(end);
}

interface Case {
  readonly name: string;
  readonly spec: (bucket: string, catalog: string) => string;
  readonly specFile: string;
  /** The train node's name (training/<name>/job.yaml), the model it registers, the Job's name. */
  readonly train: string;
  readonly model: string;
  readonly job: string;
  /** Rows per table, as DuckDB SELECTs: a stale version first, then the current one. */
  readonly tables: Record<string, { readonly stale: string; readonly current: string }>;
  /** The current label table's row count (what training must have read, no more). */
  readonly labelRows: number;
  readonly secrets: Record<string, string>;
  /** One inference input for the served model. */
  readonly input: Record<string, unknown>;
}

const N = 400;
const cases: Case[] = [
  {
    name: 'a non-churn pipeline (subscriptions, a categorical feature)',
    spec: shopSpec,
    specFile: 'subs.asg',
    train: 'upgrade_model',
    model: 'upgrade_model',
    job: 'subs-train-upgrade-model',
    tables: {
      'gold.account_activity': {
        stale: `SELECT i::BIGINT AS account_id, 'stale' AS plan, 0::BIGINT AS sessions, 0.0::DOUBLE AS spend, TIMESTAMP '2025-01-01' AS observed_at FROM range(${N * 2}) t(i)`,
        current: `SELECT i::BIGINT AS account_id, ['free','pro','team'][i % 3 + 1] AS plan, (i * 7 % 20)::BIGINT AS sessions, (i % 50) * 1.5 AS spend,
                  TIMESTAMP '2025-01-01' + INTERVAL (i % 5) DAY AS observed_at FROM range(${N}) t(i)`,
      },
      'gold.upgrade_labels': {
        stale: `SELECT i::BIGINT AS account_id, TIMESTAMP '2025-01-01 01:00:00' AS labelled_at, 0::INTEGER AS upgraded FROM range(${N * 2}) t(i)`,
        current: `SELECT i::BIGINT AS account_id, TIMESTAMP '2025-01-01 01:00:00' + INTERVAL (i % 5) DAY AS labelled_at,
                  CASE WHEN i * 7 % 20 >= 10 THEN 1 ELSE 0 END::INTEGER AS upgraded FROM range(${N}) t(i)`,
      },
    },
    labelRows: N,
    secrets: { APP_DB_PASSWORD: 'unused' },
    input: { plan: 'pro', sessions: 15, spend: 30 },
  },
  {
    name: "churn's feature view and train node (pipelines/churn.asg)",
    spec: churnSpec,
    specFile: 'churn.asg',
    train: 'churn_predictor',
    model: 'customer_churn_predictor',
    job: 'churn-train-churn-predictor',
    tables: {
      'gold.customer_metrics': {
        stale: `SELECT i::BIGINT AS customer_id, 0::BIGINT AS total_purchases, 0.0 AS customer_lifetime_value, 0.0 AS avg_purchase_value,
                0::BIGINT AS days_since_last_purchase, 0.0 AS purchase_frequency, 0::BIGINT AS account_age_days, 0::BIGINT AS support_tickets,
                0.0 AS avg_support_resolution_hours, TIMESTAMP '2025-01-01' AS updated_at FROM range(${N * 2}) t(i)`,
        current: `SELECT i::BIGINT AS customer_id, (i % 30)::BIGINT AS total_purchases, (i % 30) * 42.5 AS customer_lifetime_value, 42.5 AS avg_purchase_value,
                  (i * 13 % 120)::BIGINT AS days_since_last_purchase, (i % 30) / 12.0 AS purchase_frequency, (200 + i % 300)::BIGINT AS account_age_days,
                  (i % 4)::BIGINT AS support_tickets, (i % 7) * 3.0 AS avg_support_resolution_hours, TIMESTAMP '2025-01-01' AS updated_at
                  FROM range(${N}) t(i)`,
      },
      'gold.churn_labels': {
        stale: `SELECT i::BIGINT AS customer_id, TIMESTAMP '2025-01-01 06:00:00' AS event_timestamp, 0::INTEGER AS churned FROM range(${N * 2}) t(i)`,
        current: `SELECT i::BIGINT AS customer_id, TIMESTAMP '2025-01-01 06:00:00' AS event_timestamp,
                  CASE WHEN i * 13 % 120 > 60 THEN 1 ELSE 0 END::INTEGER AS churned FROM range(${N}) t(i)`,
      },
    },
    labelRows: N,
    secrets: { CUSTOMER_DB_PASSWORD: 'unused', TRANSACTIONS_DB_PASSWORD: 'unused', SUPPORT_API_TOKEN: 'unused' },
    input: CHURN_INPUT,
  },
];

/** Writes each table into the catalog twice (stale, then current: an overwrite keeps the stale files in data/). */
async function seed(dir: string, catalog: string, warehouse: string, tables: Case['tables'], props: Record<string, string>): Promise<void> {
  const tc = ensureToolchain();
  if (!tc.ok) throw new Error(tc.reason);
  const duck = await openDuck();
  const files: Record<'stale' | 'current', string[]> = { stale: [], current: [] };
  try {
    for (const [table, rows] of Object.entries(tables)) {
      for (const which of ['stale', 'current'] as const) {
        const file = join(dir, `${table}.${which}.parquet`);
        await duck.run(`COPY (${rows[which]}) TO '${file}' (FORMAT parquet)`);
        files[which].push(`${table}=${file}`);
      }
    }
  } finally {
    duck.closeSync();
  }
  for (const which of ['stale', 'current'] as const) {
    const r = spawnSync(tc.tools.python, [SEED, `sqlite:///${catalog}`, warehouse, ...files[which]], {
      encoding: 'utf8',
      env: { ...tc.tools.env, ASGARD_PYICEBERG_PROPS: JSON.stringify(props) },
    });
    if (r.status !== 0) throw new Error(`seed_iceberg.py failed: ${r.stderr.slice(-3000)}`);
  }
}

describe('the compiled training Job runs to the end (the stand-in runs it as compiled)', { timeout: 1_800_000 }, () => {
  for (const c of cases) {
    it(`${c.name}: inputs from the Iceberg catalog on S3, the version in MLflow and in the registry that \`asgard serve --profile kubernetes\` serves`, async () => {
      const s3 = useAwsEnv();
      const aws = awsEnv();
      const tc = ensureToolchain();
      if (!tc.ok) throw new Error(tc.reason);
      const bucket = await freshBucket('k8s-train');
      const dir = mkdtempSync(join(tmpdir(), 'asgard-k8s-train-'));
      const catalog = join(dir, 'catalog.db');
      writeFileSync(join(dir, c.specFile), c.spec(bucket, catalog));
      const compiled = await cli(['compile', c.specFile, '--profile', 'kubernetes', '--out', 'out'], { cwd: dir, env: c.secrets });
      expect(compiled.code, compiled.stderr).toBe(0);

      const props = {
        's3.endpoint': s3.endpoint,
        's3.access-key-id': aws.AWS_ACCESS_KEY_ID,
        's3.secret-access-key': aws.AWS_SECRET_ACCESS_KEY,
        's3.region': 'us-east-1',
      };
      await seed(dir, catalog, `s3a://${bucket}/lake`, c.tables, props);

      const mlflow = await startMlflow(tc.tools, join(dir, 'mlflow'));
      try {
        // The objects as compiled: the Job, its script's ConfigMap, and the Feast repository's (feast/configmap.yaml).
        const docs = [
          ...(loadAll(readFileSync(join(dir, 'out', 'training', c.train, 'job.yaml'), 'utf8')) as any[]),
          ...(loadAll(readFileSync(join(dir, 'out', 'feast', 'configmap.yaml'), 'utf8')) as any[]),
        ];
        const job = docs.find((o) => o.kind === 'Job');
        expect(job.metadata.name).toBe(c.job);
        const command = job.spec.template.spec.containers[0].command.join(' ');
        expect(command).not.toMatch(/pip install/);
        const maps = new Map(docs.filter((o) => o.kind === 'ConfigMap').map((o) => [o.metadata.name, o.data]));
        // What the tree's README tells the deployer to create: the Secret and the ConfigMap of env() values.
        const secrets: Record<string, string> = { AWS_ACCESS_KEY_ID: aws.AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY: aws.AWS_SECRET_ACCESS_KEY };
        const configMap: Record<string, string> = { LAKE_S3_ENDPOINT: s3.endpoint, MLFLOW_TRACKING_URI: mlflow.url };
        const env = await resolveContainerEnv(job.spec.template.spec.containers[0].env, async (kind, ref, key) =>
          kind === 'Secret' ? secrets[key] : configMap[key],
        );
        const ran = await runJob(job, env, async (name) => maps.get(name));
        expect(ran.code, ran.tail).toBe(0);
        const report = JSON.parse(ran.tail.slice(ran.tail.indexOf('\n{') + 1)) as {
          model: string;
          mlflow_run: string;
          mlflow_version: string;
          asgard_version: number;
          promoted: boolean;
          metrics: Record<string, number>;
        };
        expect(report.model).toBe(c.model);
        expect(report.promoted, JSON.stringify(report.metrics)).toBe(true);

        // MLflow: the run with its metrics and row counts (the current snapshots only), a READY registered version.
        const api = async (path: string) => {
          const r = await fetch(`${mlflow.url}/api/2.0/mlflow/${path}`);
          expect(r.status, path).toBe(200);
          return (await r.json()) as any;
        };
        const run = (await api(`runs/get?run_id=${report.mlflow_run}`)).run;
        expect(run.info.status).toBe('FINISHED');
        const params = Object.fromEntries(run.data.params.map((p: { key: string; value: string }) => [p.key, Number(p.value)]));
        expect(params.train_rows + params.test_rows).toBe(c.labelRows);
        expect(run.data.metrics.map((m: { key: string }) => m.key)).toContain('roc_auc');
        const mv = (await api(`model-versions/get?name=${c.model}&version=${report.mlflow_version}`)).model_version;
        expect(mv).toMatchObject({ status: 'READY', run_id: report.mlflow_run });

        // Where serving reads it: `asgard serve SPEC --profile kubernetes` (the serving Deployment's
        // command) pulls the registry beside the S3 warehouse and answers with the trained version.
        const serve = await startAsgardServe(
          [join(ROOT, 'bin', 'asgard.js'), 'serve', c.specFile, '--profile', 'kubernetes'],
          { ...process.env, ...aws, ...c.secrets, LAKE_S3_ENDPOINT: s3.endpoint },
          dir,
          join(dir, 'serve.log'),
        );
        try {
          const r = await fetch(`${serve.url}/mlops/inference`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ model_name: c.model, inputs: [c.input] }),
          });
          const body = (await r.json()) as { model_version?: number; predictions?: unknown[] };
          expect(r.status, JSON.stringify(body)).toBe(200);
          expect(body.model_version).toBe(report.asgard_version);
          expect(body.predictions).toHaveLength(1);
        } finally {
          await serve.stop();
        }
      } finally {
        await mlflow.stop();
      }
    });
  }
});
