// The second pipeline (pipelines/bikeshare.asg) end to end, as a user runs it: files (CSV, Parquet,
// JSON lines by glob) and a paged HTTP API with a token (demo/bikeshare/) → cleanses → an incremental
// gold model with lookback → features → gradient boosting → serving and batch scoring → compile.
// Counts are checked against counts computed independently from the generated data. Each step is a
// separate `it` so a later change (e.g. entity lookup in serving) adds a step without touching these.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { load } from 'js-yaml';
import { errorsOf, validators } from '../targets/schemas.js';
import { join, resolve } from 'node:path';
import { bikeshareData, writeBikeshareFiles, type BikeshareData, type Ride } from '../../demo/bikeshare/data.js';
import { startRidesApi, type RidesApi } from '../../demo/bikeshare/api.js';
import { cli, type CliRun } from '../cli/helpers.js';
import { tempDir } from './helpers.js';

const ROOT = resolve(import.meta.dirname, '..', '..');
const ENGINE_NODES = [
  'bronze.stations',
  'bronze.weather',
  'bronze.maintenance',
  'bronze.rides',
  'silver.stations_cleaned',
  'silver.rides_cleaned',
  'silver.weather_cleaned',
  'gold.station_daily',
  'gold.station_metrics',
  'gold.busy_labels',
  'features.station_features',
];

let data: BikeshareData;
let rides: Ride[];
let api: RidesApi;
let dir: string;
let env: Record<string, string>;

const run = (args: string[]): Promise<CliRun> => cli(args, { cwd: dir, env });
const json = (r: CliRun) => {
  expect(r.code, r.stderr.slice(-2000)).toBe(0);
  return JSON.parse(r.stdout);
};
const statusOf = (doc: { nodes: { node: string; status: string }[] }) => Object.fromEntries(doc.nodes.map((n) => [n.node, n.status]));
async function scalar(sql: string): Promise<number> {
  const doc = json(await run(['query', 'bikeshare.asg', sql, '--format', 'json']));
  return Number(Object.values(doc.rows[0])[0]);
}

/** Independent of asgard: rides that count, per station and day, from the generated list. */
function expectedDaily(): Map<string, number> {
  const known = new Set(
    data.stations
      .trim()
      .split('\n')
      .slice(1)
      .map((l) => Number(l.split(',')[0])),
  );
  const out = new Map<string, number>();
  for (const r of rides) {
    if (r.station_id === null || !known.has(r.station_id) || !(r.ended_at > r.started_at)) continue;
    const k = `${r.station_id}|${r.started_at.slice(0, 10)}`;
    out.set(k, (out.get(k) ?? 0) + 1);
  }
  return out;
}

beforeAll(async () => {
  data = bikeshareData();
  rides = [...data.rides];
  dir = tempDir('asg-bikeshare-e2e-');
  await writeBikeshareFiles(join(dir, 'data'), data);
  api = await startRidesApi({ rides: () => rides, token: 'bike-token' });
  copyFileSync(join(ROOT, 'pipelines/bikeshare.asg'), join(dir, 'bikeshare.asg'));
  env = { RIDES_API_URL: api.url, RIDES_API_TOKEN: 'bike-token', ASGARD_CACHE_DIR: tempDir('asg-cache-') };
}, 120_000);

afterAll(async () => {
  await api?.close();
});

describe('bikeshare end to end', () => {
  it('validates, and plans every node as a create', async () => {
    expect(json(await run(['validate', 'bikeshare.asg', '--format', 'json']))).toMatchObject({ ok: true });
    const plan = json(await run(['plan', 'bikeshare.asg', '--format', 'json']));
    expect(plan.summary.create).toBe(13);
  }, 300_000);

  it('applies: every node succeeds, dirt is cleaned and counts match the generated data', async () => {
    const doc = json(await run(['apply', 'bikeshare.asg', '--yes', '--format', 'json']));
    const st = statusOf(doc);
    for (const id of [...ENGINE_NODES, 'train.busy_predictor', 'serve.station_api']) expect(st[id], id).toBe('succeeded');
    // stations.csv holds station 3 twice: the primary key keeps the newer row.
    expect(await scalar('SELECT count(*) FROM bronze.stations')).toBe(30);
    expect(await scalar('SELECT capacity FROM silver.stations_cleaned WHERE station_id = 3')).toBe(40);
    expect(await scalar("SELECT count(*) FROM silver.stations_cleaned WHERE city NOT IN ('Oslo', 'Bergen', 'Trondheim') OR name = ''")).toBe(0);
    expect(await scalar('SELECT count(*) FROM bronze.rides')).toBe(rides.length);
    const daily = expectedDaily();
    expect(await scalar('SELECT count(*) FROM gold.station_daily')).toBe(daily.size);
    expect(await scalar('SELECT sum(rides) FROM gold.station_daily')).toBe([...daily.values()].reduce((a, b) => a + b, 0));
    expect(await scalar('SELECT count(*) FROM bronze.maintenance')).toBe(data.maintenance.length);
    expect(await scalar('SELECT count(*) FROM features.station_features')).toBe(30); // the latest row per station
    expect(await scalar('SELECT count(*) FROM gold.station_busy_predictions')).toBe(30); // the latest row per station
  }, 900_000);

  it('a second apply changes nothing', async () => {
    const plan = await run(['plan', 'bikeshare.asg', '--detailed-exitcode', '--format', 'json']);
    expect(plan.code, plan.stdout).toBe(0);
    const st = statusOf(json(await run(['apply', 'bikeshare.asg', '--yes', '--format', 'json'])));
    // Sources are always synced (and find nothing new); everything after them is left alone.
    for (const id of ENGINE_NODES.filter((n) => !n.startsWith('bronze.'))) expect(st[id], id).toBe('unchanged');
  }, 900_000);

  it('late rides flow incrementally: the newest day and one two days back are merged into station_daily', async () => {
    const last = data.lastDay;
    const twoBack = new Date(Date.parse(`${last}T00:00:00Z`) - 2 * 86_400_000).toISOString().slice(0, 10);
    let id = rides.length + 1;
    for (const day of [last, last, twoBack]) {
      rides.push({ ride_id: id++, station_id: 5, end_station_id: 6, started_at: `${day} 12:00:00`, ended_at: `${day} 12:20:00`, member: true, distance_km: 4 });
    }
    const doc = json(await run(['apply', 'bikeshare.asg', '--yes', '--format', 'json']));
    const st = statusOf(doc);
    expect(st['bronze.rides']).toBe('succeeded');
    expect(st['gold.station_daily']).toBe('succeeded');
    expect(st['silver.stations_cleaned']).toBe('unchanged');
    expect(st['silver.weather_cleaned']).toBe('unchanged');
    const daily = expectedDaily();
    for (const day of [last, twoBack]) {
      expect(await scalar(`SELECT rides FROM gold.station_daily WHERE station_id = 5 AND ride_day = DATE '${day}'`), day).toBe(daily.get(`5|${day}`));
    }
    expect(await scalar('SELECT sum(rides) FROM gold.station_daily')).toBe([...daily.values()].reduce((a, b) => a + b, 0));
  }, 900_000);

  it('lineage, features and models answer for the new pipeline', async () => {
    const lin = json(await run(['lineage', 'bikeshare.asg', 'gold.station_daily.avg_duration_min', '--format', 'json']));
    expect(JSON.stringify(lin.upstream)).toContain('"table":"bronze.rides","column":"ended_at"');
    writeFileSync(join(dir, 'entities.csv'), 'station_id,event_timestamp\n5,2025-06-30 00:00:00\n6,2025-06-30 00:00:00\n');
    const feats = json(await run(['features', 'historical', 'bikeshare.asg', 'station_features', '--entities', 'entities.csv', '--format', 'json']));
    expect(feats.rows).toHaveLength(2);
    expect(feats.rows[0].rides_7d).toBeGreaterThan(0);
    const models = json(await run(['models', 'list', 'bikeshare.asg', '--format', 'json']));
    expect(models.models[0]).toMatchObject({ name: 'station_busy_predictor' });
    expect(models.models[0].versions[0].metrics.roc_auc).toBeGreaterThanOrEqual(0.7);
  }, 600_000);

  it('serves online and batch predictions', async () => {
    const child: ChildProcess = spawn(
      process.execPath,
      ['--import', 'tsx', join(ROOT, 'src', 'cli', 'main.ts'), 'serve', join(dir, 'bikeshare.asg'), '--port', '0', '--format', 'json'],
      {
        cwd: ROOT,
        env: { ...process.env, ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    try {
      const started = await new Promise<{ port: number }>((ok, fail) => {
        let out = '';
        child.stdout!.on('data', (d) => {
          out += d;
          try {
            ok(JSON.parse(out));
          } catch {
            // not complete yet
          }
        });
        child.once('exit', (c) => fail(new Error(`serve exited ${c}`)));
      });
      const base = `http://127.0.0.1:${started.port}`;
      const features = { capacity: 20, rides_7d: 60, rides_28d: 230, avg_duration_min: 20, member_share: 0.6, rain_mm_7d: 3, maintenance_28d: 0 };
      const res = await fetch(`${base}/mlops/inference`, {
        method: 'POST',
        body: JSON.stringify({ model_name: 'station_busy_predictor', inputs: [features, { ...features, rides_7d: 2, rides_28d: 9 }] }),
      });
      expect(res.status).toBe(200);
      const body = (await res.json()) as { predictions: Record<string, number | string>[] };
      expect(body.predictions).toHaveLength(2);
      const p = (x: Record<string, number | string>) => Number(Object.entries(x).find(([k]) => /probability/.test(k))![1]);
      expect(p(body.predictions[0])).toBeGreaterThan(p(body.predictions[1]));
      const batch = await fetch(`${base}/mlops/inference/batch`, {
        method: 'POST',
        body: JSON.stringify({ model_name: 'station_busy_predictor', input_table: 'gold.station_metrics', output_table: 'gold.station_busy_predictions' }),
      });
      expect(batch.status, await batch.clone().text()).toBe(200);
      expect(JSON.stringify(await batch.json())).toMatch(/completed|succeeded/);
    } finally {
      child.kill('SIGTERM');
    }
  }, 600_000);

  it("compiles for kubernetes, the file source included (Airbyte's S3 source, one glob a stream); validate --profile kubernetes agrees", async () => {
    const v = await run(['validate', 'bikeshare.asg', '--profile', 'kubernetes', '--format', 'json']);
    expect(JSON.parse(v.stdout).diagnostics.filter((d: { severity: string }) => d.severity === 'error')).toEqual([]);
    const r = await run(['compile', 'bikeshare.asg', '--out', 'out', '--profile', 'kubernetes', '--format', 'json']);
    expect(r.code).toBe(0);
    const source = load(readFileSync(join(dir, 'out', 'airbyte', 'sources', 'files.yaml'), 'utf8')) as {
      configuration: { sourceType: string; bucket: string; streams: { name: string; globs: string[]; format: { filetype: string } }[] };
    };
    // The official source-s3 schema of the Airbyte API accepts it.
    const check = validators().airbyte('source-s3', { $ref: '#/components/schemas/source-s3' });
    expect(check(source.configuration), errorsOf(check)).toBe(true);
    expect(source.configuration.bucket).toBe('bikeshare-lake');
    expect(source.configuration.streams.map((s) => [s.name, s.globs, s.format.filetype])).toEqual([
      ['maintenance', ['warehouse/_asgard/bikeshare/files/files/maintenance/*.json'], 'jsonl'],
      ['stations', ['warehouse/_asgard/bikeshare/files/files/stations.csv'], 'csv'],
      ['weather', ['warehouse/_asgard/bikeshare/files/files/weather.parquet'], 'parquet'],
    ]);
    expect(readFileSync(join(dir, 'out', 'airbyte', 'README.md'), 'utf8')).toContain(
      'source `files`: to `s3://bikeshare-lake/warehouse/_asgard/bikeshare/files/files/`',
    );
  }, 300_000);
});
