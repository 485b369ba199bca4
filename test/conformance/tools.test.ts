// Proof against the real tools: what `asgard compile` writes runs on Spark (against Iceberg tables on
// the S3 server, test/conformance/lib/spark.ts),
// dbt (dbt-duckdb), Feast, scikit-learn and MLflow over the same data as the embedded
// `asgard apply`, and agrees with it row for row. In CI (CI=true) a missing tool fails the suite;
// elsewhere a machine without the Python toolchain skips it with a loud message.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireToolchain } from './lib/toolchain.js';
import { prepareWorkspace, type Prepared } from './lib/prepare.js';
import { dbtRows, featureView, feastRows, trainingRows, sparkRows, type CheckRow } from './lib/suite.js';
import type { FeastView } from './lib/feast.js';

const tools = requireToolchain();
const MIN = 60_000;

/** Fails with every failing check's detail (the first differing rows). */
function expectAllPass(rows: readonly CheckRow[], atLeast: number): void {
  expect(rows.length).toBeGreaterThanOrEqual(atLeast);
  const failed = rows.filter((r) => !r.ok).map((r) => `${r.check} [${r.engine}]:\n${r.detail}`);
  expect(failed, failed.join('\n\n')).toEqual([]);
}

describe.skipIf(!tools).sequential('compiled artifacts on the real tools agree with the embedded run', () => {
  let prep: Prepared;
  let view: FeastView;

  beforeAll(async () => {
    prep = await prepareWorkspace();
    view = await featureView(prep.ws);
  }, 30 * MIN);
  afterAll(async () => {
    await prep?.close();
  });

  it(
    "Spark on the real format: asgard writes bronze and silver as Iceberg on the S3 server, pyiceberg reads each; every SparkApplication job runs as compiled (JDBC catalog, S3FileIO) and its silver snapshot equals asgard's",
    async () => {
      const rows = await sparkRows(prep.ws, tools!);
      expectAllPass(rows, 9);
      const spark = rows.filter((r) => r.check.startsWith('spark '));
      expect(spark.map((r) => r.check).sort()).toEqual([
        'spark silver.customers_cleaned',
        'spark silver.support_tickets_cleaned',
        'spark silver.transactions_cleaned',
      ]);
      for (const r of spark) expect(r.rows).toBeGreaterThan(1000);
      expect(
        rows
          .filter((r) => r.check.startsWith('pyiceberg '))
          .map((r) => r.check.split(' ')[1].split('.')[0])
          .sort(),
      ).toEqual(['bronze', 'bronze', 'bronze', 'silver', 'silver', 'silver']);
    },
    30 * MIN,
  );

  it(
    'dbt: dbt build on dbt-duckdb passes models, contracts and the spec checks, and writes the embedded gold tables',
    async () => {
      const rows = await dbtRows(prep.ws, tools!);
      expectAllPass(rows, 3);
      expect(rows[0].check).toMatch(/\(2 models, contracts, [1-9]\d* tests\)/);
    },
    30 * MIN,
  );

  it(
    'Feast: feast apply + get_historical_features equals asgard features historical',
    async () => {
      const rows = await feastRows(prep.ws, tools!, view);
      expectAllPass(rows, 1);
      expect(rows[0].rows).toBeGreaterThan(5000);
    },
    30 * MIN,
  );

  it(
    'Training: scikit-learn run logged and registered in MLflow, its ONNX served by asgard serve; asgard within 0.01 ROC AUC on the same split',
    async () => {
      const rows = await trainingRows(prep.ws, tools!, view);
      expectAllPass(rows, 2);
    },
    30 * MIN,
  );
});
