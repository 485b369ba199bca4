// Feast: `feast apply` on the compiled repository (its FileSources pointed at the embedded gold
// snapshots through ASGARD_<LAYER>_LOCATION), then `get_historical_features` for an entity frame
// of a few thousand customers at several timestamps (exactly at a feature row, inside the TTL,
// past the TTL, before any row), compared row for row with `asgard features historical`.

import { cpSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Toolchain } from './toolchain.js';
import { run } from './proc.js';
import { compareTables, readParquet, readQuery, type Comparison } from './compare.js';
import { snapshotDir, type Workspace } from './workspace.js';
import { tableEnv, warehouseLayout } from './layout.js';
import { asgard } from './asgard.js';
import { literal } from '../../../src/engine/duckdb.js';
import { openDuck } from '../../../src/engine/duckdb.js';
import { repoRoot } from './paths.js';

export interface FeastView {
  readonly view: string;
  readonly from: string;
  readonly joinKey: string;
  readonly timestamp: string;
}

export interface FeastOutcome {
  readonly comparison: Comparison;
  readonly entities: number;
  /** Entity rows Feast's dask store leaves out (no feature row within the TTL). */
  readonly dropped: number;
  readonly seconds: { readonly apply: number; readonly retrieval: number; readonly asgard: number };
}

/**
 * The entity frame: every `stride`-th key of the view's table (at most `max`), each at several
 * times around the table's distinct timestamps.
 */
export async function writeEntityFrame(ws: Workspace, v: FeastView, file: string, max = 2500): Promise<number> {
  const conn = await openDuck();
  try {
    const src = `read_parquet(${literal(join(snapshotDir(ws, v.from), '**', '*.parquet'))}, hive_partitioning = true)`;
    const k = `"${v.joinKey}"`;
    const t = `"${v.timestamp}"`;
    await conn.run(`
      COPY (
        WITH keys AS (
          SELECT ${k} AS key FROM (SELECT DISTINCT ${k} FROM ${src}) ORDER BY key LIMIT ${max}
        ),
        stamps AS (SELECT DISTINCT CAST(${t} AS TIMESTAMP) AS ts FROM ${src}),
        times AS (
          SELECT ts FROM stamps                                          -- exactly at a feature row
          UNION SELECT ts + INTERVAL 6 HOUR FROM stamps                  -- inside the TTL
          UNION SELECT ts + INTERVAL 3 DAY FROM stamps                   -- past the TTL
          UNION SELECT min(ts) - INTERVAL 1 DAY FROM stamps              -- before any row
        )
        SELECT key AS ${k}, CAST(ts AS TIMESTAMPTZ) AS event_timestamp
        FROM keys CROSS JOIN times
        ORDER BY 1, 2
      ) TO ${literal(file)} (FORMAT parquet)`);
    const r = await conn.runAndReadAll(`SELECT count(*) FROM read_parquet(${literal(file)})`);
    return Number(r.getRows()[0][0]);
  } finally {
    conn.closeSync();
  }
}

export async function runFeast(ws: Workspace, tools: Toolchain, v: FeastView): Promise<FeastOutcome> {
  const repo = join(ws.dir, 'feast-repo');
  rmSync(repo, { recursive: true, force: true });
  cpSync(join(ws.compiled, 'feast'), repo, { recursive: true });
  const layout = warehouseLayout(ws);
  const env = { ...tools.env, ...tableEnv(ws, layout), S3_ENDPOINT: '' };

  const applied = await run(join(tools.bin, 'feast'), ['apply'], { cwd: repo, env, log: ws.log, timeoutMs: 10 * 60_000 });

  const entities = join(ws.dir, 'feast-entities.parquet');
  const n = await writeEntityFrame(ws, v, entities);
  const feastOut = join(ws.dir, 'feast-historical.parquet');
  const retrieved = await run(tools.python, [join(repoRoot(), 'test/conformance/py/feast_historical.py'), repo, v.view, entities, feastOut], {
    cwd: repo,
    env,
    log: ws.log,
    timeoutMs: 10 * 60_000,
  });

  const t0 = performance.now();
  const r = await asgard(ws, ['features', 'historical', ws.spec, v.view, '--entities', entities, '--format', 'json', '--state', ws.stateDir]);
  const asgardSeconds = (performance.now() - t0) / 1000;
  const doc = JSON.parse(r.stdout) as { columns: { name: string; type: string }[]; rows: Record<string, unknown>[] };
  const ndjson = join(ws.dir, 'asgard-historical.ndjson');
  writeFileSync(ndjson, doc.rows.map((row) => JSON.stringify(row)).join('\n') + '\n');
  const cols = doc.columns.map((c) => `${literal(c.name)}: ${literal(c.type)}`).join(', ');
  const expected = await readQuery(`SELECT * FROM read_json(${literal(ndjson)}, format = 'newline_delimited', columns = {${cols}})`);
  const actual = await readParquet([feastOut], { hive: false });
  // Feast's file (dask) offline store drops an entity row whose key has feature rows but none
  // within [event_timestamp - ttl, event_timestamp] (its TTL filter runs after the join; only keys
  // with no feature row at all keep a row of NULLs), where asgard, like Feast's SQL offline stores,
  // returns the row with NULL features. Those rows are checked to be all-NULL in asgard's output;
  // every row Feast does return must equal asgard's.
  const keyOf = (r: Record<string, unknown>) => JSON.stringify([r[v.joinKey], r.event_timestamp]);
  const returned = new Set(actual.rows.map(keyOf));
  const features = expected.columns.map((c) => c.name).filter((c) => c !== v.joinKey && c !== 'event_timestamp');
  const dropped = expected.rows.filter((r) => !returned.has(keyOf(r)));
  const droppedWithValues = dropped.filter((r) => features.some((f) => r[f] !== null && r[f] !== undefined));
  let comparison = compareTables(`feast ${v.view}`, { columns: expected.columns, rows: expected.rows.filter((r) => returned.has(keyOf(r))) }, actual, {
    keys: [v.joinKey, 'event_timestamp'],
  });
  if (droppedWithValues.length) {
    comparison = {
      ok: false,
      rows: expected.rows.length,
      message:
        `feast ${v.view}: ${droppedWithValues.length} entity rows are missing from Feast's result although asgard found features for them, e.g. ${droppedWithValues
          .slice(0, 3)
          .map((r) => JSON.stringify(r))
          .join('; ')}` + (comparison.ok ? '' : `\n${comparison.message}`),
    };
  } else if (comparison.ok) {
    comparison = {
      ...comparison,
      rows: expected.rows.length,
      message: `${comparison.message}; ${dropped.length} rows outside the TTL: NULL features in asgard, dropped by Feast's dask offline store`,
    };
  }
  return { comparison, entities: n, dropped: dropped.length, seconds: { apply: applied.seconds, retrieval: retrieved.seconds, asgard: asgardSeconds } };
}
