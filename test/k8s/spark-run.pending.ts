// The SparkApplications `compile --profile kubernetes` writes, run as compiled on the REAL Spark
// standalone cluster and S3 server by the stand-in's runner (./stand-in.ts runSparkApplication, the
// one `apply --profile kubernetes` tests get): arguments, sparkConf, job files fetched from the
// bucket, the container env resolved from the Secret and ConfigMap the tree's README lists. No API
// server is needed for this; test/k8s/apply.test.ts runs the same through one.
// The profile names an Iceberg JDBC catalog (a SQLite file: the stand-in's driver runs on this
// machine, so it reaches it); bronze is Parquet under <warehouse>/bronze/<stream>/, where Airbyte's
// S3 destination lands a stream (Airbyte is played, so the test puts it there).

import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { load } from 'js-yaml';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { awsEnv, freshBucket, rawClient, useAwsEnv } from '../helpers/s3.js';
import { pyicebergWith } from '../helpers/pyiceberg.js';
import { openDuck } from '../../src/engine/duckdb.js';
import { cli } from '../cli/helpers.js';
import { resolveContainerEnv, runSparkApplication } from './stand-in.js';

function spec(bucket: string, endpoint: string, catalog: string): string {
  return `pipeline shop {
  warehouse = "./.asgard/warehouse"

  source shop_db postgres {
    url      = env("SHOP_DB_URL", "postgres://shop@127.0.0.1:55432/shop")
    password = secret("SHOP_DB_PASSWORD")
    stream orders {
      primary_key = order_id
      cursor      = placed_at
      columns     = { order_id = "BIGINT"  country = "VARCHAR"  amount = "DOUBLE"  placed_at = "TIMESTAMP" }
    }
  }

  cleanse orders_clean {
    sql """ SELECT order_id, UPPER(country) AS country, amount, placed_at FROM bronze.orders WHERE amount > 0 """
    check not_null(order_id)
  }

  cleanse big_orders {
    sql """ SELECT order_id, country, amount FROM silver.orders_clean WHERE amount > 100 """
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

describe('compiled SparkApplications run on the Spark cluster (the stand-in\'s runner)', { timeout: 1_800_000 }, () => {
  it('both cleanses run as compiled, in DAG order: Iceberg tables in the profile\'s catalog, their files on the S3 server', async () => {
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
      for (const f of readdirSync(join(dir, 'out', 'spark', 'jobs'))) await put(`lake/_asgard/shop/spark/jobs/${f}`, readFileSync(join(dir, 'out', 'spark', 'jobs', f)));
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

    const py = pyicebergWith(
      { 's3.endpoint': s3.endpoint, 's3.path-style-access': 'true', 's3.access-key-id': aws.AWS_ACCESS_KEY_ID, 's3.secret-access-key': aws.AWS_SECRET_ACCESS_KEY, 's3.region': 'us-east-1' },
      catalog,
      'silver.orders_clean',
      'silver.big_orders',
    );
    expect(py.tables).toEqual(['silver.big_orders', 'silver.orders_clean']);
    const [clean, big] = py.reads;
    expect(clean.rows.map((x) => [x.order_id, x.country, x.amount]).sort()).toEqual([
      [1, 'SE', 50],
      [2, 'NO', 250],
      [4, 'FI', 101.5],
    ]);
    expect(big.rows.map((x) => [x.order_id, x.country, x.amount]).sort()).toEqual([
      [2, 'NO', 250],
      [4, 'FI', 101.5],
    ]);
  });
});
