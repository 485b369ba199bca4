// #13's Done-when on the real Spark standalone cluster and S3 server: `asgard apply churn.asg
// --profile cluster --yes`, with pipelines/churn.asg's own cluster profile (its warehouse pointed at
// a fresh bucket), runs the three cleanses on Spark as their compiled SparkApplications and every
// other node embedded; every table is an Iceberg v2 table whose metadata and files are on the S3
// server; pyiceberg and Spark read every table with the rows asgard reads; a second apply does
// nothing (no Spark job, no new snapshot, no new model version). Two first applies started together
// from two working copies: exactly one proceeds, the other exits 1 naming the lock's holder.

import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { S3ObjectStore } from '../../src/warehouse/s3-store.js';
import { Warehouse } from '../../src/warehouse/warehouse.js';
import { LocalTableStore } from '../../src/warehouse/iceberg/table-store.js';
import { currentSnapshot, parseMetadata } from '../../src/warehouse/iceberg/metadata.js';
import type { PipelineState } from '../../src/planner/state-store.js';
import { churnWorkspace, type ChurnWorkspace } from '../helpers/churn.js';
import { awsEnv, freshBucket, useAwsEnv } from '../helpers/s3.js';
import { sparkCluster, sparkReadTables } from '../helpers/spark.js';
import { asgardRows, canonical, pyicebergWith } from '../helpers/pyiceberg.js';
import { tempDir } from '../engine/helpers.js';

const CLEANSES = ['silver.customers_cleaned', 'silver.support_tickets_cleaned', 'silver.transactions_cleaned'];

interface Applied {
  code: number | null;
  stderr: string;
  nodes: Record<string, string>;
}

/** Applications the Spark master has run or runs now for the churn pipeline. */
async function churnApps(): Promise<string[]> {
  const j = (await (await fetch(`http://127.0.0.1:${process.env.ASGARD_SPARK_UI_PORT ?? 58081}/json/`)).json()) as {
    activeapps: { id: string; name: string }[];
    completedapps: { id: string; name: string }[];
  };
  return [...j.activeapps, ...j.completedapps].filter((a) => a.name.startsWith('asgard-churn-')).map((a) => a.id);
}

describe('asgard apply churn.asg --profile cluster: cleanses on Spark, the rest embedded, every table Iceberg on S3', () => {
  let ws: ChurnWorkspace;
  let bucket: string;
  let store: S3ObjectStore;
  // The winner's working copy: either apply of the race below may take the lock.
  let winnerState = '.asgard';
  const localRoot = () => join(ws.dir, winnerState, 's3', bucket, 'churn');
  const apply = async (extra: readonly string[] = []): Promise<Applied> => {
    const r = await ws.asgard(['apply', 'churn.asg', '--profile', 'cluster', '--yes', '--format', 'json', ...extra]);
    let nodes: Record<string, string> = {};
    try {
      nodes = Object.fromEntries((JSON.parse(r.stdout).nodes as { node: string; status: string }[]).map((n) => [n.node, n.status]));
    } catch {
      /* the exit code and stderr say why */
    }
    return { code: r.code, stderr: r.stderr, nodes };
  };
  const remoteState = async (): Promise<PipelineState> => JSON.parse((await store.get('_asgard/state/churn.json'))!.body.toString()) as PipelineState;

  beforeAll(async () => {
    const s3 = useAwsEnv();
    const spark = sparkCluster();
    bucket = await freshBucket('churn-cluster');
    // churn.asg's cluster profile reads these (the workspace's asgard runs with this environment).
    Object.assign(process.env, {
      ASGARD_CLUSTER_WAREHOUSE: `s3://${bucket}/churn`,
      ASGARD_S3_ENDPOINT: s3.endpoint,
      ASGARD_SPARK_MASTER: spark.master,
      ASGARD_SPARK_HOME: spark.sparkHome,
      ASGARD_SPARK_JARS: spark.jars,
      ...(spark.javaHome ? { JAVA_HOME: spark.javaHome } : {}),
    });
    store = new S3ObjectStore({ bucket, prefix: 'churn' }, { endpoint: s3.endpoint, pathStyle: true });
    ws = await churnWorkspace(tempDir('asg-churn-cluster-'), 1500, 11);
  }, 900_000);
  afterAll(async () => {
    await ws?.close();
    store?.destroy();
  });

  it("of two first applies started together one proceeds, the cleanses on Spark; pyiceberg and Spark read every table from S3 with asgard's rows; a second apply does nothing", async () => {
    // Two people (two working copies of the same remote state) apply at once: exactly one takes the
    // lock and runs; the other exits 1 naming the holder, having changed nothing.
    const [a, b] = await Promise.all([apply(), apply(['--state', '.asgard-other'])]);
    expect([a.code, b.code].sort(), `${a.stderr.slice(-2000)}\n---\n${b.stderr.slice(-2000)}`).toEqual([0, 1]);
    const [first, loser] = a.code === 0 ? [a, b] : [b, a];
    if (b.code === 0) winnerState = '.asgard-other';
    expect(loser.stderr).toMatch(/the state is locked: apply by \S+@\S+ \(pid \d+\) since \d{4}-\d\d-\d\dT[^;]*; lock ID [0-9a-f-]{36} at s3:\/\//);
    expect(loser.stderr).not.toMatch(/\n\s+at /);
    expect(Object.entries(first.nodes).filter(([, s]) => s !== 'succeeded')).toEqual([]);
    const state = await remoteState();
    const tables = Object.entries(state.nodes)
      .filter(([, n]) => n.snapshot && n.schema)
      .map(([id, n]) => ({ id, table: n.snapshot!.path.replace('/', '.'), node: n }));
    // bronze ×3, silver ×3, gold ×2, features, the batch predictions.
    expect(tables.length).toBeGreaterThanOrEqual(10);
    for (const c of CLEANSES) expect(tables.map((t) => t.id)).toContain(c);

    // Each table's current metadata is an object in the bucket naming s3:// files; the cleanses'
    // snapshots were committed by Spark (their summary names the application), the rest by asgard.
    for (const t of tables) {
      const location = t.node.snapshot!.metadataLocation;
      // (Spark's commits name the objects s3a://, as the compiled jobs' warehouse does: the same objects.)
      expect(location, t.table).toMatch(new RegExp(`^s3a?://${bucket}/churn/${t.table.replace('.', '/')}/metadata/`));
      const meta = parseMetadata((await store.get(location.replace(/^s3a?:\/\/[^/]+\/churn\//, '')))!.body.toString());
      expect(meta['format-version'], t.table).toBe(2);
      const snap = currentSnapshot(meta)!;
      expect(snap['snapshot-id'], t.table).toBe(t.node.snapshot!.id);
      expect(snap['manifest-list'], t.table).toMatch(CLEANSES.includes(t.id) ? /^s3a:\/\// : /^s3:\/\//);
      expect('spark.app.id' in snap.summary, t.table).toBe(CLEANSES.includes(t.id));
    }

    // pyiceberg and Spark, each through the catalog and from the bucket, read what asgard reads.
    const s3 = useAwsEnv();
    const catalogDb = join(localRoot(), 'catalog.db');
    const wh = new Warehouse(localRoot(), undefined, { store: new LocalTableStore(localRoot(), `s3://${bucket}/churn`) });
    const py = pyicebergWith(
      {
        's3.endpoint': s3.endpoint,
        's3.path-style-access': 'true',
        's3.access-key-id': s3.accessKey,
        's3.secret-access-key': s3.secretKey,
        's3.region': 'us-east-1',
      },
      catalogDb,
      ...tables.map((t) => `${t.table}@${t.node.snapshot!.id}`),
    );
    expect(py.tables).toEqual(tables.map((t) => t.table).sort());
    const work = join(ws.dir, 'spark-read');
    mkdirSync(work, { recursive: true });
    const sp = await sparkReadTables({
      catalogDb,
      warehouse: `s3://${bucket}/churn`,
      s3Endpoint: s3.endpoint,
      aws: awsEnv(),
      tables: tables.map((t) => t.table),
      workDir: work,
    });
    for (const [i, t] of tables.entries()) {
      const ours = canonical(await asgardRows(wh, t.node.snapshot!, t.node.schema!));
      expect(ours.length, t.table).toBe(t.node.snapshot!.rows);
      expect(t.node.snapshot!.rows, t.table).toBeGreaterThan(0);
      expect(
        py.reads[i].schema.map((f) => f.name),
        t.table,
      ).toEqual(t.node.schema!.map((c) => c.name));
      expect(canonical(py.reads[i].rows), `pyiceberg ${t.table}`).toEqual(ours);
      expect(sp[t.table].columns, `spark ${t.table}`).toEqual(t.node.schema!.map((c) => c.name));
      expect(canonical(sp[t.table].rows), `spark ${t.table}`).toEqual(ours);
    }

    // Nothing changed: nothing runs on Spark, no table gets a snapshot, no model a version.
    const apps = (await churnApps()).sort();
    const second = await apply();
    expect(second.code, second.stderr.slice(-4000)).toBe(0);
    // (Sources are synced on every apply; with no new rows their snapshots stay, as checked below.)
    for (const [id, status] of Object.entries(second.nodes)) if (!id.startsWith('bronze.')) expect(status, id).toBe('unchanged');
    // (As a set: an application the master still listed as active is completed by now.)
    expect((await churnApps()).sort()).toEqual(apps);
    const after = await remoteState();
    for (const [id, n] of Object.entries(state.nodes)) {
      expect(after.nodes[id]?.snapshot?.id, id).toBe(n.snapshot?.id);
      expect(after.nodes[id]?.modelVersion, id).toBe(n.modelVersion);
    }
  }, 3_600_000);
});
