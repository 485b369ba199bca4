// Conformance on the real format for the second pipeline (pipelines/bikeshare.asg: files, a paged
// HTTP API, three cleanses, one of which checks a relationship to another's output): asgard writes
// bronze and silver as Iceberg tables on the S3 server, pyiceberg reads every one of them with
// asgard's rows, and every compiled SparkApplication job runs as compiled (Iceberg JDBC catalog,
// S3FileIO, bronze from the catalog) and commits a silver snapshot that asgard reads back equal to
// its own, row for row (test/conformance/lib/spark.ts). churn's three cleanses take the same route
// in tools.test.ts.

import { copyFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bikeshareData, writeBikeshareFiles } from '../../demo/bikeshare/data.js';
import { startRidesApi, type RidesApi } from '../../demo/bikeshare/api.js';
import { requireToolchain } from './lib/toolchain.js';
import { runSpark, type LakeWorkspace } from './lib/spark.js';
import { repoRoot } from './lib/paths.js';

const tools = requireToolchain();

describe.skipIf(!tools)("bikeshare on Iceberg on S3: pyiceberg and Spark read asgard's tables, asgard reads Spark's, rows equal", () => {
  let api: RidesApi;
  let ws: LakeWorkspace;

  beforeAll(async () => {
    const data = bikeshareData();
    const dir = mkdtempSync(join(tmpdir(), 'asgard-spark-lake-'));
    await writeBikeshareFiles(join(dir, 'data'), data);
    api = await startRidesApi({ rides: () => data.rides, token: 'bike-token' });
    copyFileSync(join(repoRoot(), 'pipelines', 'bikeshare.asg'), join(dir, 'bikeshare.asg'));
    const log = join(dir, 'tools.log');
    writeFileSync(log, '');
    ws = {
      dir,
      spec: join(dir, 'bikeshare.asg'),
      pipeline: 'bikeshare',
      env: {
        ...process.env,
        RIDES_API_URL: api.url,
        RIDES_API_TOKEN: 'bike-token',
        ASGARD_LOGICAL_TIME: '2025-06-30T00:00:00Z',
        ASGARD_CACHE_DIR: join(dir, '.cache'),
        TZ: 'UTC',
      },
      log,
    };
  }, 300_000);
  afterAll(async () => {
    await api?.close();
  });

  it("every table asgard wrote reads the same in pyiceberg; every compiled Spark job commits asgard's silver rows", async () => {
    const outcomes = await runSpark(ws, tools!);
    const failed = outcomes.filter((o) => !o.comparison.ok).map((o) => `${o.check}: ${o.comparison.message}`);
    expect(failed, `${failed.join('\n\n')}\n(log: ${ws.log})`).toEqual([]);
    expect(outcomes.map((o) => o.check).sort()).toEqual([
      'pyiceberg bronze.maintenance',
      'pyiceberg bronze.rides',
      'pyiceberg bronze.stations',
      'pyiceberg bronze.weather',
      'pyiceberg silver.rides_cleaned',
      'pyiceberg silver.stations_cleaned',
      'pyiceberg silver.weather_cleaned',
      'spark silver.rides_cleaned',
      'spark silver.stations_cleaned',
      'spark silver.weather_cleaned',
    ]);
    for (const o of outcomes) expect(o.comparison.rows, o.check).toBeGreaterThan(0);
  }, 3_600_000);
});
