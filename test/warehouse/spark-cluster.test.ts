// The real Spark standalone cluster (scripts/spark-cluster.sh: a master and two workers on loopback)
// runs a job through spark-submit that writes an Iceberg v2 table through Iceberg's JDBC catalog
// (SQLite) with S3FileIO on the real S3 server (versitygw): the table's metadata, manifests and
// Parquet data files land in the bucket, and the catalog row points at the newest metadata file.

import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { S3ObjectStore } from '../../src/warehouse/s3-store.js';
import { awsEnv, freshBucket, s3Server, useAwsEnv } from '../helpers/s3.js';
import { sparkCluster } from '../helpers/spark.js';

const ROOT = resolve(import.meta.dirname, '..', '..');
const PY = process.env.ASGARD_SPARK_PYTHON ?? join(ROOT, '.venv', 'bin', 'python');

function run(cmd: string, args: string[], env: Record<string, string>): Promise<{ code: number; out: string }> {
  return new Promise((done) => {
    const p = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (out += d));
    p.on('close', (code) => done({ code: code ?? -1, out }));
  });
}

describe('the Spark standalone cluster writes Iceberg tables on the S3 server', () => {
  let bucket: string;
  beforeAll(async () => {
    useAwsEnv();
    sparkCluster();
    bucket = await freshBucket('spark');
  });

  it('spark-submit on spark://127.0.0.1:7077: JDBC catalog, S3FileIO, partitioned v2 table, two snapshots', async () => {
    const spark = sparkCluster();
    const s3 = s3Server();
    const dir = mkdtempSync(join(tmpdir(), 'asgard-spark-'));
    const catalogDb = join(dir, 'catalog.db');
    const table = `silver.orders_${randomBytes(3).toString('hex')}`;
    const creds = awsEnv();
    // Settings in a properties file, so no credential appears on a command line.
    const props: Record<string, string> = {
      'spark.master': spark.master,
      'spark.jars': spark.jars,
      'spark.ui.enabled': 'false',
      'spark.driver.memory': '512m',
      'spark.executor.memory': '512m',
      'spark.pyspark.python': PY,
      'spark.sql.extensions': 'org.apache.iceberg.spark.extensions.IcebergSparkSessionExtensions',
      'spark.sql.catalog.lake': 'org.apache.iceberg.spark.SparkCatalog',
      'spark.sql.catalog.lake.type': 'jdbc',
      'spark.sql.catalog.lake.uri': `jdbc:sqlite:${catalogDb}`,
      'spark.sql.catalog.lake.jdbc.schema-version': 'V1',
      'spark.sql.catalog.lake.warehouse': `s3://${bucket}/wh`,
      'spark.sql.catalog.lake.io-impl': 'org.apache.iceberg.aws.s3.S3FileIO',
      'spark.sql.catalog.lake.s3.endpoint': s3.endpoint,
      'spark.sql.catalog.lake.s3.path-style-access': 'true',
      'spark.sql.catalog.lake.client.region': 'us-east-1',
      'spark.executorEnv.AWS_ACCESS_KEY_ID': creds.AWS_ACCESS_KEY_ID,
      'spark.executorEnv.AWS_SECRET_ACCESS_KEY': creds.AWS_SECRET_ACCESS_KEY,
      'spark.executorEnv.AWS_REGION': 'us-east-1',
    };
    const propsFile = join(dir, 'spark.properties');
    writeFileSync(
      propsFile,
      Object.entries(props)
        .map(([k, v]) => `${k}=${v}`)
        .join('\n') + '\n',
      { mode: 0o600 },
    );
    const r = await run(
      join(spark.sparkHome, 'bin', 'spark-submit'),
      ['--properties-file', propsFile, join(import.meta.dirname, 'py', 'iceberg_roundtrip.py'), table],
      {
        ...creds,
        ...(spark.javaHome ? { JAVA_HOME: spark.javaHome } : {}),
        SPARK_LOCAL_IP: '127.0.0.1',
      },
    );
    expect(r.code, r.out.slice(-3000)).toBe(0);
    const line = r.out.split('\n').find((l) => l.startsWith('RESULT '));
    expect(JSON.parse(line!.slice(7))).toEqual({
      rows: [
        { country: 'DE', n: 1, total: 5.5 },
        { country: 'NL', n: 2, total: 12.5 },
      ],
      snapshots: 2,
    });
    // The job's executors ran on the cluster's workers, not in the driver.
    expect(r.out).toMatch(/Granted executor ID|Executor added|app-\d+-\d+/);

    // What Spark wrote is an Iceberg v2 table on the S3 server.
    const store = new S3ObjectStore({ bucket, prefix: 'wh' }, { endpoint: s3.endpoint, pathStyle: true });
    const keys = (await store.list('')).map((o) => o.key);
    const tablePath = table.replace('.', '/');
    const metadata = keys.filter((k) => k.startsWith(`${tablePath}/metadata/`) && k.endsWith('.metadata.json')).sort();
    expect(metadata.length).toBeGreaterThanOrEqual(3); // create + two appends
    expect(keys.some((k) => k.startsWith(`${tablePath}/metadata/snap-`) && k.endsWith('.avro'))).toBe(true);
    expect(keys.filter((k) => k.startsWith(`${tablePath}/data/country=NL/`) && k.endsWith('.parquet')).length).toBeGreaterThan(0);

    // The JDBC catalog's row points at the newest metadata file, and that file says format v2.
    const row = execFileSync(
      PY,
      [
        '-c',
        'import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); print(c.execute("select metadata_location from iceberg_tables where table_name=?", (sys.argv[2],)).fetchone()[0])',
        catalogDb,
        table.split('.')[1],
      ],
      { encoding: 'utf8' },
    ).trim();
    const newest = row.replace(`s3://${bucket}/wh/`, '');
    expect(metadata).toContain(newest);
    const meta = JSON.parse((await store.get(newest))!.body.toString('utf8'));
    expect(meta['format-version']).toBe(2);
    expect(meta.location).toBe(`s3://${bucket}/wh/${tablePath}`);
    expect(meta.snapshots).toHaveLength(2);
    expect(meta['partition-specs'][0].fields.map((f: { name: string }) => f.name)).toEqual(['country']);
    store.destroy();
  }, 900_000);
});
