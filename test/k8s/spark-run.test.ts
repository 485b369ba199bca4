// The SparkApplications and dbt Jobs `compile --profile kubernetes` writes, run as compiled by the
// stand-in's runners (./stand-in.ts runSparkApplication and runJob, the ones `apply --profile
// kubernetes` tests get): the cleanses on the REAL Spark standalone cluster and S3 server (arguments,
// sparkConf, job files fetched from the bucket), then the gold model's dbt Job with the .venv's dbt,
// DuckDB and pyiceberg (its project mounted from its ConfigMap; silver read from and gold written to
// the Iceberg catalog, no DuckDB extension downloaded); each container's env resolved from the Secret
// and ConfigMap the tree's README lists. No API server is needed for this; test/k8s/apply.test.ts runs
// the same through one.
// The profile names an Iceberg JDBC catalog (a SQLite file: the stand-in's driver runs on this
// machine, so it reaches it); bronze is Parquet under <warehouse>/bronze/<stream>/, where Airbyte's
// S3 destination lands a stream (Airbyte is played, so the test puts it there).

import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { load, loadAll } from 'js-yaml';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { awsEnv, freshBucket, rawClient, useAwsEnv } from '../helpers/s3.js';
import { pyicebergWith } from '../helpers/pyiceberg.js';
import { openDuck } from '../../src/engine/duckdb.js';
import { cli } from '../cli/helpers.js';
import { ORDERS_STREAM } from '../helpers/orders-lake.js';
import { resolveContainerEnv, runJob, runSparkApplication } from './stand-in.js';

function spec(bucket: string, endpoint: string, catalog: string): string {
  return `pipeline shop {
  warehouse = "./.asgard/warehouse"
  logical_time = env("ASGARD_LOGICAL_TIME", "2025-02-01T00:00:00Z")

  source shop_db postgres {
    url      = env("SHOP_DB_URL", "postgres://shop@127.0.0.1:55432/shop")
    password = secret("SHOP_DB_PASSWORD")
    ${ORDERS_STREAM}
  }

  cleanse orders_clean {
    sql """ SELECT order_id, UPPER(country) AS country, amount, placed_at FROM bronze.orders WHERE amount > 0 """
    check not_null(order_id)
  }

  cleanse big_orders {
    sql """ SELECT order_id, country, amount FROM silver.orders_clean WHERE amount > 100 """
  }

  model country_totals {
    materialized = table
    sql """ SELECT country, COUNT(*) AS orders, SUM(amount) AS total FROM silver.orders_clean GROUP BY country """
    check unique(country)
  }

  profile kubernetes {
    namespace     = "shop"
    spark_image   = "apache/spark:4.0.1-python3"
    spark_version = "4.0.1"
    warehouse     = "s3a://${bucket}/lake"
    s3_endpoint   = env("SHOP_S3_ENDPOINT", "http://minio.shop.svc:9000")
    catalog_type  = "jdbc"
    catalog_uri   = "jdbc:sqlite:${catalog}"
  }
}
`;
}

describe("compiled SparkApplications and dbt Jobs run as compiled (the stand-in's runners)", { timeout: 1_800_000 }, () => {
  it("both cleanses on the Spark cluster, then the gold model's dbt Job, in DAG order: Iceberg tables in the profile's catalog, their files on the S3 server", async () => {
    const s3 = useAwsEnv();
    const aws = awsEnv();
    const bucket = await freshBucket('k8s-spark');
    const dir = mkdtempSync(join(tmpdir(), 'asgard-k8s-spark-'));
    const catalog = join(dir, 'catalog.db');
    writeFileSync(join(dir, 'shop.asg'), spec(bucket, s3.endpoint, catalog));
    const compiled = await cli(['compile', 'shop.asg', '--profile', 'kubernetes', '--out', 'out'], { cwd: dir, env: { SHOP_DB_PASSWORD: 'x' } });
    expect(compiled.code, compiled.stderr).toBe(0);

    const client = rawClient();
    try {
      // The job files where the applications name them (what apply uploads before the first run).
      const put = (key: string, body: Buffer | string) => client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
      await put('lake/_asgard/shop/spark/runner.py', readFileSync(join(dir, 'out', 'spark', 'runner.py')));
      for (const f of readdirSync(join(dir, 'out', 'spark', 'jobs')))
        await put(`lake/_asgard/shop/spark/jobs/${f}`, readFileSync(join(dir, 'out', 'spark', 'jobs', f)));
      // Bronze as Airbyte's S3 destination lands a stream: Parquet files in the stream's folder.
      const file = join(dir, 'orders.parquet');
      const duck = await openDuck();
      try {
        await duck.run(`COPY (SELECT * FROM (VALUES
          (1::BIGINT, 'se', 50.0::DOUBLE, TIMESTAMP '2025-01-01 10:00:00'),
          (2::BIGINT, 'no', 250.0::DOUBLE, TIMESTAMP '2025-01-02 10:00:00'),
          (3::BIGINT, 'dk', -5.0::DOUBLE, TIMESTAMP '2025-01-03 10:00:00'),
          (4::BIGINT, 'fi', 101.5::DOUBLE, TIMESTAMP '2025-01-04 10:00:00')
        ) AS t(order_id, country, amount, placed_at)) TO '${file}' (FORMAT parquet)`);
      } finally {
        duck.closeSync();
      }
      await put('lake/bronze/orders/2025_01_05_0_0.parquet', readFileSync(file));
    } finally {
      client.destroy();
    }

    // What the tree's README tells the deployer to create: the Secret and the ConfigMap of env() values.
    const secrets: Record<string, string> = { AWS_ACCESS_KEY_ID: aws.AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY: aws.AWS_SECRET_ACCESS_KEY };
    const configMap: Record<string, string> = { SHOP_S3_ENDPOINT: s3.endpoint };
    for (const name of ['orders_clean', 'big_orders']) {
      const app = load(readFileSync(join(dir, 'out', 'spark', 'applications', `${name}.yaml`), 'utf8')) as any;
      const env = await resolveContainerEnv(app.spec.driver.env, async (kind, ref, key) => {
        expect(ref).toBe(kind === 'Secret' ? 'shop-secrets' : 'shop-env');
        return (kind === 'Secret' ? secrets : configMap)[key];
      });
      const r = await runSparkApplication(app, env);
      expect(r.code, `${name}:\n${r.tail}`).toBe(0);
    }

    // The gold model's dbt Job: its project from the ConfigMap beside it, silver from the catalog.
    const dbt = loadAll(readFileSync(join(dir, 'out', 'dbt', 'jobs.yaml'), 'utf8')) as any[];
    const project = dbt.find((o) => o.kind === 'ConfigMap');
    const job = dbt.find((o) => o.kind === 'Job' && o.metadata.labels['asgard.io/node'] === 'gold.country_totals');
    const jobEnv = await resolveContainerEnv(
      job.spec.template.spec.containers[0].env,
      async (kind, ref, key) => (kind === 'Secret' ? secrets : configMap)[key],
    );
    const ran = await runJob(job, jobEnv, async (name) => (name === project.metadata.name ? project.data : undefined));
    expect(ran.code, ran.tail).toBe(0);

    const py = pyicebergWith(
      {
        's3.endpoint': s3.endpoint,
        's3.path-style-access': 'true',
        's3.access-key-id': aws.AWS_ACCESS_KEY_ID,
        's3.secret-access-key': aws.AWS_SECRET_ACCESS_KEY,
        's3.region': 'us-east-1',
      },
      catalog,
      'silver.orders_clean',
      'silver.big_orders',
      'gold.country_totals',
    );
    expect(py.tables).toEqual(['gold.country_totals', 'silver.big_orders', 'silver.orders_clean']);
    const [clean, big, totals] = py.reads;
    expect(clean.rows.map((x) => [x.order_id, x.country, x.amount]).sort()).toEqual([
      [1, 'SE', 50],
      [2, 'NO', 250],
      [4, 'FI', 101.5],
    ]);
    expect(big.rows.map((x) => [x.order_id, x.country, x.amount]).sort()).toEqual([
      [2, 'NO', 250],
      [4, 'FI', 101.5],
    ]);
    expect(totals.rows.map((x) => [x.country, x.orders, x.total]).sort()).toEqual([
      ['FI', 1, 101.5],
      ['NO', 1, 250],
      ['SE', 1, 50],
    ]);
  });
});
