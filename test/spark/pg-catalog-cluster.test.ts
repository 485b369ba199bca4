// `asgard apply --profile cluster` on the shared PostgreSQL Iceberg catalog (`catalog_uri =
// jdbc:postgresql://…`, user and secret() password), on the real Spark standalone cluster and S3
// server: the Spark drivers open the same PostgreSQL catalog through Iceberg's JdbcCatalog (the
// PostgreSQL JDBC driver among scripts/spark-cluster.sh's jars, the password reaching the driver
// only through its environment), commit the silver tables there, and DuckDB's gold reads them;
// every table is registered in PostgreSQL (none in a SQLite file), pyiceberg reads each from it with
// asgard's rows, the password is in no file or output, and a second apply does nothing.

import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { S3ObjectStore } from '../../src/warehouse/s3-store.js';
import { Warehouse } from '../../src/warehouse/warehouse.js';
import { LocalTableStore } from '../../src/warehouse/iceberg/table-store.js';
import { currentSnapshot, parseMetadata } from '../../src/warehouse/iceberg/metadata.js';
import { SqliteCatalog } from '../../src/warehouse/iceberg/catalog.js';
import type { PipelineState } from '../../src/planner/state-store.js';
import { awsEnv, freshBucket, useAwsEnv } from '../helpers/s3.js';
import { sparkCluster } from '../helpers/spark.js';
import { asgardRows, canonical, pyicebergAt } from '../helpers/pyiceberg.js';
import { filesContaining, services } from '../helpers/services.js';
import { asgardProcess, ordersPipeline, type Proc } from '../helpers/orders-lake.js';

const TABLES = ['bronze.orders', 'gold.revenue_by_country', 'silver.large_orders', 'silver.orders_clean'];

function spec(bucket: string, csv: string): string {
  // Two cleanses: on PostgreSQL apply submits them together, each committing its own table's row.
  const extra = `
  cleanse large_orders {
    sql """ SELECT order_id, amount FROM bronze.orders WHERE amount >= 5 """
  }
`;
  const profiles = `  profile cluster {
    spark_master     = env("ASGARD_SPARK_MASTER", "spark://127.0.0.1:7077")
    spark_image      = "apache/spark:4.0.1-python3"
    spark_version    = "4.0.1"
    warehouse        = "s3://${bucket}/lake"
    s3_endpoint      = env("LAKE_S3_ENDPOINT")
    catalog_uri      = env("LAKE_CATALOG_URI")
    catalog_user     = env("LAKE_CATALOG_USER")
    catalog_password = secret("LAKE_CATALOG_PASSWORD")
    driver           = { memory = "512m" }
    executor         = { instances = 2  cores = 1  memory = "512m" }
  }`;
  return ordersPipeline({ name: 'orders_pg', csv, warehouse: null, extra, profiles });
}

describe('apply --profile cluster on the shared PostgreSQL catalog', () => {
  let admin: pg.Client;
  let cfg: { host: string; port: number; user: string; password: string };
  let db: string;
  let bucket: string;
  let dir: string;
  let store: S3ObjectStore;
  let env: Record<string, string>;
  const asgard = (args: string[]): Promise<Proc> => asgardProcess([...args, '--profile', 'cluster'], { cwd: dir, env });
  const statuses = (r: Proc) => Object.fromEntries((JSON.parse(r.stdout).nodes as { node: string; status: string }[]).map((n) => [n.node, n.status]));
  const remoteState = async (): Promise<PipelineState> => JSON.parse((await store.get('_asgard/state/orders_pg.json'))!.body.toString()) as PipelineState;
  const catalogRows = async (): Promise<Record<string, string>> => {
    const c = new pg.Client({ ...cfg, database: db });
    await c.connect();
    try {
      const rows = (await c.query('SELECT catalog_name, table_namespace, table_name, metadata_location FROM iceberg_tables ORDER BY 2, 3')).rows;
      expect(rows.every((r) => r.catalog_name === 'iceberg')).toBe(true);
      return Object.fromEntries(rows.map((r) => [`${r.table_namespace}.${r.table_name}`, r.metadata_location as string]));
    } finally {
      await c.end();
    }
  };

  beforeAll(async () => {
    const s = services();
    const base = new URL(s.CUSTOMER_DB_URL);
    cfg = { host: base.hostname, port: Number(base.port), user: decodeURIComponent(base.username), password: s.CUSTOMER_DB_PASSWORD };
    admin = new pg.Client({ ...cfg, database: 'postgres' });
    await admin.connect();
    db = `lake_spark_${Math.random().toString(16).slice(2, 10)}`;
    await admin.query(`CREATE DATABASE "${db}"`);
    const s3 = useAwsEnv();
    const spark = sparkCluster();
    bucket = await freshBucket('pgcat');
    dir = mkdtempSync(join(tmpdir(), 'asgard-pg-cluster-'));
    const csv = join(dir, 'orders.csv');
    writeFileSync(
      csv,
      'order_id,country,amount,placed_at\n1,nl,10,2025-01-01 10:00:00\n2,de,5,2025-01-01 11:00:00\n3,nl,-1,2025-01-01 12:00:00\n4,fr,7.5,2025-01-02 09:00:00\n5,nl,2.5,2025-01-02 10:00:00\n',
    );
    writeFileSync(join(dir, 'p.asg'), spec(bucket, csv));
    store = new S3ObjectStore({ bucket, prefix: 'lake' }, { endpoint: s3.endpoint, pathStyle: true });
    env = {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      ...awsEnv(),
      LAKE_S3_ENDPOINT: s3.endpoint,
      LAKE_CATALOG_URI: `jdbc:postgresql://${cfg.host}:${cfg.port}/${db}`,
      LAKE_CATALOG_USER: cfg.user,
      LAKE_CATALOG_PASSWORD: cfg.password,
      ASGARD_SPARK_MASTER: spark.master,
      ASGARD_SPARK_HOME: spark.sparkHome,
      ASGARD_SPARK_JARS: spark.jars,
      ...(spark.javaHome ? { JAVA_HOME: spark.javaHome } : {}),
    };
  }, 900_000);
  afterAll(async () => {
    store?.destroy();
    if (db) await admin?.query(`DROP DATABASE IF EXISTS "${db}" WITH (FORCE)`);
    await admin?.end();
  });

  it('Spark commits the silver tables to the PostgreSQL catalog, gold reads them, pyiceberg reads every table there; no password anywhere; a second apply does nothing', async () => {
    const r = await asgard(['apply', 'p.asg', '--yes', '--format', 'json']);
    expect(r.code, r.stderr.slice(-4000)).toBe(0);
    expect(statuses(r)).toEqual(Object.fromEntries(TABLES.map((t) => [t, 'succeeded'])));

    // Every table is registered in PostgreSQL, at a metadata object in the bucket; the silver
    // snapshots were committed by Spark (their summary names the application), the others by asgard.
    const catalog = await catalogRows();
    expect(Object.keys(catalog)).toEqual(TABLES);
    const state = await remoteState();
    for (const [table, location] of Object.entries(catalog)) {
      expect(location, table).toBe(state.nodes[table].snapshot!.metadataLocation);
      expect(location, table).toMatch(new RegExp(`^s3a?://${bucket}/lake/${table.replace('.', '/')}/metadata/`));
      const meta = parseMetadata((await store.get(location.replace(/^s3a?:\/\/[^/]+\/lake\//, '')))!.body.toString());
      expect(meta['format-version'], table).toBe(2);
      const current = currentSnapshot(meta)!;
      expect(current['snapshot-id'], table).toBe(state.nodes[table].snapshot!.id);
      expect('spark.app.id' in current.summary, table).toBe(table.startsWith('silver.'));
    }
    // No SQLite catalog took any table.
    const local = join(dir, '.asgard', 's3', bucket, 'lake');
    if (existsSync(join(local, 'catalog.db'))) expect(await new SqliteCatalog(join(local, 'catalog.db')).list()).toEqual([]);

    // pyiceberg, through the same PostgreSQL catalog and from the bucket, reads asgard's rows.
    const s3 = useAwsEnv();
    const props = {
      's3.endpoint': s3.endpoint,
      's3.path-style-access': 'true',
      's3.access-key-id': s3.accessKey,
      's3.secret-access-key': s3.secretKey,
      's3.region': 'us-east-1',
    };
    const py = pyicebergAt(
      `postgresql+psycopg2://${cfg.user}:${encodeURIComponent(cfg.password)}@${cfg.host}:${cfg.port}/${db}`,
      props,
      ...TABLES.map((t) => `${t}@${state.nodes[t].snapshot!.id}`),
    );
    expect(py.tables).toEqual(TABLES);
    const wh = new Warehouse(local, undefined, { store: new LocalTableStore(local, `s3://${bucket}/lake`) });
    for (const [i, t] of TABLES.entries()) {
      const n = state.nodes[t];
      expect(canonical(py.reads[i].rows), t).toEqual(canonical(await asgardRows(wh, n.snapshot!, n.schema!)));
    }
    const byTable = Object.fromEntries(py.reads.map((x) => [x.table, x]));
    expect(byTable['silver.orders_clean'].rows.map((x) => x.order_id).sort()).toEqual([1, 2, 4, 5]);
    expect(byTable['silver.large_orders'].rows.map((x) => x.order_id).sort()).toEqual([1, 2, 4]);
    expect(byTable['gold.revenue_by_country'].rows.sort((a, b) => String(a.country).localeCompare(String(b.country)))).toEqual([
      { country: 'DE', orders: 1, revenue: 5 },
      { country: 'FR', orders: 1, revenue: 7.5 },
      { country: 'NL', orders: 2, revenue: 12.5 },
    ]);

    // The password reached the drivers through their environment only: no file (driver logs,
    // compiled jobs, state, properties) and no output holds it.
    expect(filesContaining(dir, cfg.password)).toEqual([]);
    expect(r.stdout + r.stderr).not.toContain(cfg.password);

    // Same plan, same state, same catalog: nothing changed, nothing runs.
    const again = await asgard(['apply', 'p.asg', '--yes', '--format', 'json']);
    expect(again.code, again.stderr.slice(-2000)).toBe(0);
    const st = statuses(again);
    for (const t of TABLES.filter((x) => !x.startsWith('bronze.'))) expect(st[t], t).toBe('unchanged');
    expect(await catalogRows()).toEqual(catalog);
  }, 1_800_000);
});
