// A feature view's compiled Kubernetes Job (feast/jobs.yaml, src/targets/feast/jobs.ts) run as compiled
// by the stand-in's Job runner (./stand-in.ts runJob: the container's command on this machine with
// the .venv's DuckDB and pyiceberg, its ConfigMap mounted, its env resolved from the Secret and
// ConfigMap the tree's README lists): the view's source read from the profile's Iceberg SQL catalog
// (a SQLite file here) with its data on the REAL S3 server, the online table — the latest row per
// entity, as the embedded engine materialises it — written back to the catalog. No API server is
// needed; test/k8s/churn-apply.test.ts runs the same Job through one.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadAll } from 'js-yaml';
import { awsEnv, freshBucket, useAwsEnv } from '../helpers/s3.js';
import { pyicebergWith } from '../helpers/pyiceberg.js';
import { ensureToolchain } from '../conformance/lib/toolchain.js';
import { cli } from '../cli/helpers.js';
import { resolveContainerEnv, runJob } from './stand-in.js';

function spec(bucket: string, endpoint: string, catalog: string): string {
  return `pipeline shop {
  warehouse = "./.asgard/warehouse"

  source shop_db postgres {
    url      = env("SHOP_DB_URL", "postgres://shop@127.0.0.1:55432/shop")
    password = secret("SHOP_DB_PASSWORD")
    stream orders {
      primary_key = order_id
      cursor      = placed_at
      columns     = { order_id = "BIGINT"  customer_id = "BIGINT"  amount = "DOUBLE"  placed_at = "TIMESTAMP" }
    }
  }

  model customer_stats {
    materialized = table
    sql """ SELECT customer_id, CAST(placed_at AS DATE) AS day, COUNT(*) AS orders, SUM(amount) AS spent, MAX(placed_at) AS as_of FROM bronze.orders GROUP BY 1, 2 """
  }

  features customer_features {
    entity customer { join_key = customer_id }
    from      = gold.customer_stats
    timestamp = as_of
    feature orders int64
    feature spent  float64
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

/** gold.customer_stats as its dbt Job would have left it: written to the catalog with pyiceberg. */
function seedGold(catalog: string, props: Record<string, string>, warehouse: string): void {
  const tc = ensureToolchain();
  if (!tc.ok) throw new Error(tc.reason);
  const code = `
import datetime as dt, json, os, sys
import pyarrow as pa
from pyiceberg.catalog.sql import SqlCatalog
c = SqlCatalog("iceberg", uri="sqlite:///" + sys.argv[1], warehouse=sys.argv[2], **json.loads(os.environ["PROPS"]))
c.create_namespace_if_not_exists("gold")
t = lambda s: dt.datetime.fromisoformat(s)
data = pa.table({
    "customer_id": pa.array([1, 1, 2, 2, 2, 3, None], pa.int64()),
    "day": pa.array([dt.date(2025, 1, 1)] * 7),
    "orders": pa.array([1, 4, 2, 5, 3, 7, 9], pa.int64()),
    "spent": pa.array([10.0, 40.0, 20.0, 50.0, 30.0, 70.0, 90.0]),
    "as_of": pa.array([t("2025-01-01T00:00:00"), t("2025-03-01T00:00:00"), t("2025-02-01T00:00:00"), t("2025-02-01T00:00:00"), t("2025-01-15T00:00:00"), None, t("2025-03-01T00:00:00")], pa.timestamp("us")),
})
table = c.create_table(("gold", "customer_stats"), schema=data.schema, location=sys.argv[2] + "/gold/customer_stats")
table.append(data)
`;
  const r = spawnSync(tc.tools.python, ['-c', code, catalog, warehouse], { encoding: 'utf8', env: { ...tc.tools.env, PROPS: JSON.stringify(props) } });
  if (r.status !== 0) throw new Error(r.stderr.slice(-2000));
}

describe("a feature view's compiled Job runs as compiled (the stand-in's runner)", { timeout: 600_000 }, () => {
  it('reads its source through the Iceberg catalog and writes the latest row per entity back to it; without its source it fails naming it', async () => {
    const s3 = useAwsEnv();
    const aws = awsEnv();
    const bucket = await freshBucket('k8s-features');
    const dir = mkdtempSync(join(tmpdir(), 'asgard-k8s-features-'));
    const catalog = join(dir, 'catalog.db');
    writeFileSync(join(dir, 'shop.asg'), spec(bucket, s3.endpoint, catalog));
    const compiled = await cli(['compile', 'shop.asg', '--profile', 'kubernetes', '--out', 'out'], { cwd: dir, env: { SHOP_DB_PASSWORD: 'x' } });
    expect(compiled.code, compiled.stderr).toBe(0);

    const docs = loadAll(readFileSync(join(dir, 'out', 'feast', 'jobs.yaml'), 'utf8')) as any[];
    const runner = docs.find((o) => o.kind === 'ConfigMap');
    const job = docs.find((o) => o.kind === 'Job');
    expect(runner.metadata.labels['asgard.io/node']).toBeUndefined(); // the pipeline's own object
    expect(job.metadata.labels['asgard.io/node']).toBe('features.customer_features');
    const secrets: Record<string, string> = { AWS_ACCESS_KEY_ID: aws.AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY: aws.AWS_SECRET_ACCESS_KEY };
    const env = await resolveContainerEnv(job.spec.template.spec.containers[0].env, async (kind, _ref, key) =>
      kind === 'Secret' ? secrets[key] : key === 'SHOP_S3_ENDPOINT' ? s3.endpoint : undefined,
    );
    const run = () => runJob(job, env, async (name) => (name === runner.metadata.name ? runner.data : undefined));

    // Before its source has run: the Job fails and says which table is missing.
    const early = await run();
    expect(early.code).toBe(1);
    expect(early.tail).toContain('asgard-features: gold.customer_stats is not in the Iceberg catalog: its node has not run yet');

    const props = {
      's3.endpoint': s3.endpoint,
      's3.path-style-access': 'true',
      's3.access-key-id': aws.AWS_ACCESS_KEY_ID,
      's3.secret-access-key': aws.AWS_SECRET_ACCESS_KEY,
      's3.region': 'us-east-1',
    };
    seedGold(catalog, props, `s3://${bucket}/lake`);
    const ran = await run();
    expect(ran.code, ran.tail).toBe(0);
    expect(ran.tail).toContain('asgard-features: features.customer_features written to the catalog: 2 rows');

    const py = pyicebergWith(props, catalog, 'features.customer_features');
    expect(py.tables).toEqual(['features.customer_features', 'gold.customer_stats']);
    const [online] = py.reads;
    // Key, timestamp, then the features with their declared dtypes (orders BIGINT, spent DOUBLE).
    expect(online.schema.map((f) => [f.name, f.type])).toEqual([
      ['customer_id', 'long'],
      ['as_of', 'timestamp'],
      ['orders', 'long'],
      ['spent', 'double'],
    ]);
    // The latest row per entity; a tie on the timestamp goes to the greatest features (customer 2);
    // rows without a key or a timestamp are no entity's (customer 3, the NULL key).
    expect(online.rows.sort((a, b) => Number(a.customer_id) - Number(b.customer_id))).toEqual([
      { customer_id: 1, as_of: '2025-03-01 00:00:00.000000', orders: 4, spent: 40 },
      { customer_id: 2, as_of: '2025-02-01 00:00:00.000000', orders: 5, spent: 50 },
    ]);
    // Its data files on the S3 server under the warehouse, where the catalog says.
    expect(readFileSync(join(dir, 'out', 'feast', 'jobs.yaml'), 'utf8')).toContain(`s3a://${bucket}/lake`);
  });
});
