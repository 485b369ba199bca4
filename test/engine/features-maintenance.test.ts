// A feature view's online table maintained from its source's changes (src/engine/features-executor.ts),
// property-tested: random batches of inserts, updates and deletes at a source, applied through the
// real apply; after every batch each view's online table equals the latest row per entity computed
// from scratch over the source's rows, and point-in-time retrieval equals it over those rows too.
// The derived source (gold.fs, kept by the entity key) holds several rows per entity and ties in the
// timestamp; a source kept by another key (gold.rows) makes its view a rebuild, as the plan says.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { applyPlan } from '../../src/engine/apply.js';
import { attachWarehouse } from '../../src/engine/catalog.js';
import { openDuck } from '../../src/engine/duckdb.js';
import { costChoice } from '../../src/engine/derived.js';
import { engineExecutors, executorResolver } from '../../src/engine/executors.js';
import { viewChoice } from '../../src/engine/features-executor.js';
import { onlineFeaturesSql, onlineRelation, pointInTimeSql } from '../../src/engine/features.js';
import { differingRows } from '../../src/engine/merge-write.js';
import type { FeaturesNode } from '../../src/ir/types.js';
import { featuresMaintenance, maintenanceText } from '../../src/planner/maintenance.js';
import { buildPlan, priorFromState } from '../../src/planner/plan.js';
import { StateStore } from '../../src/planner/state-store.js';
import { renderSql } from '../../src/sql/transpile.js';
import { Warehouse } from '../../src/warehouse/warehouse.js';
import { body, featureView, ir, model, prng, rowsSelect, source, tableSource, type Row } from './helpers.js';

const A_COLS: [string, string][] = [
  ['id', 'BIGINT'],
  ['ent', 'BIGINT'],
  ['ts', 'TIMESTAMP'],
  ['v', 'INTEGER'],
  ['w', 'DOUBLE'],
];
const guard = { maxDrop: 1, allowEmpty: true };
// Kept by ent (groups by ent): several rows per entity, and per (ent, ts) one per v — ties in ts.
const FS_SQL = 'SELECT ent, ts, v, MAX(w) AS w, COUNT(*) AS n FROM bronze.a WHERE v IS NULL OR v > -2 GROUP BY ent, ts, v';
// Kept by id (row-wise): the view over it is rebuilt.
const ROWS_SQL = 'SELECT id, ent, ts, v, w FROM bronze.a WHERE w IS NOT NULL';

const features: [string, FeaturesNode['features'][number]['dtype']][] = [
  ['v', 'int64'],
  ['w', 'float64'],
];
const byEntity = featureView('by_entity', 'gold.fs', 'ent', 'ts', 2 * 86400, features);
const byRow = featureView('by_row', 'gold.rows', 'ent', 'ts', 0, features);
const VIEWS = [byEntity, byRow];

function pipelineIR() {
  const a = { ...source('a', A_COLS, ['id']), rowGuard: guard };
  return ir([a, model('fs', body(FS_SQL), ['bronze.a'], { rowGuard: guard }), model('rows', body(ROWS_SQL), ['bronze.a'], { rowGuard: guard }), ...VIEWS]);
}

const TIMES = ['2025-01-01 00:00:00', '2025-01-02 00:00:00', '2025-01-03 00:00:00', '2025-01-03 12:00:00'];

function randomBatch(rand: () => number, rows: Row[], next: { id: number }): void {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)];
  // Few entities and timestamps: entities gain, lose and change rows, and ties in ts are common.
  const make = (id: number): Row => ({
    id,
    ent: rand() < 0.05 ? null : Math.floor(rand() * 12),
    ts: rand() < 0.05 ? null : pick(TIMES),
    v: rand() < 0.15 ? null : Math.floor(rand() * 6) - 3,
    w: rand() < 0.15 ? null : Math.floor(rand() * 4) / 2,
  });
  const ops = 1 + Math.floor(rand() * 8);
  for (let i = 0; i < ops; i++) {
    const op = rand();
    if (op < 0.4 || rows.length === 0) rows.push(make(next.id++));
    else if (op < 0.7) {
      const r = pick(rows);
      Object.assign(r, make(r.id as number));
    } else rows.splice(rows.indexOf(pick(rows)), 1);
  }
}

/** Each view's online table (and point-in-time retrieval over `entities`) equals the one computed from scratch over `rows`. */
async function expectRebuilt(
  store: StateStore,
  warehouse: Warehouse,
  spec: ReturnType<typeof pipelineIR>,
  rows: Row[],
  label: string,
  entities?: string,
): Promise<void> {
  // From scratch: the sources' SQL over the rows, then each view's online SQL over that.
  const conn = await openDuck();
  try {
    await attachWarehouse(conn, store.read(), warehouse, { ir: spec });
    await conn.run(`CREATE TABLE exp_a AS ${rowsSelect(rows, A_COLS)}`);
    for (const [name, sql] of [
      ['exp_fs', FS_SQL],
      ['exp_rows', ROWS_SQL],
    ])
      await conn.run(`CREATE TABLE ${name} AS ${renderSql(body(sql), { dialect: 'duckdb', tableRef: () => 'exp_a' }).sql}`);
    for (const view of VIEWS) {
      const expected = view.from === 'gold.fs' ? 'exp_fs' : 'exp_rows';
      const where = `${view.id} (${label})`;
      const online = await conn.runAndReadAll(
        `SELECT count(*) FROM (${differingRows(`SELECT * FROM ${onlineRelation(view)}`, onlineFeaturesSql(view, expected))})`,
      );
      expect(Number(online.getRows()[0][0]), `${where}: online table differs from a rebuild`).toBe(0);
      if (!entities) continue;
      const pit = await conn.runAndReadAll(
        `SELECT count(*) FROM (${differingRows(pointInTimeSql(view, entities), pointInTimeSql(view, entities, { featureRelation: expected }))})`,
      );
      expect(Number(pit.getRows()[0][0]), `${where}: point-in-time retrieval differs`).toBe(0);
    }
  } finally {
    conn.closeSync();
  }
}

describe('feature views maintained from their source’s changes', () => {
  const chosen = { derived: { ...costChoice }, view: { ...viewChoice } };
  afterEach(() => {
    Object.assign(costChoice, chosen.derived);
    Object.assign(viewChoice, chosen.view);
  });

  it('the plan says which view follows its source’s changes and why the other is rebuilt', () => {
    const spec = pipelineIR();
    expect(maintenanceText(featuresMaintenance(byEntity, spec))).toBe('incremental: derived (entities by ent from the changes of gold.fs)');
    expect(maintenanceText(featuresMaintenance(byRow, spec))).toBe('full: gold.rows is maintained by id, not by the entity key ent');
    // A source rebuilt on every run, and a source that is not a table of SQL.
    const ranked = model('fs', body('SELECT ent, ts, v, w, row_number() OVER (ORDER BY id) AS n FROM bronze.a'), ['bronze.a']);
    const a = source('a', A_COLS, ['id']);
    expect(maintenanceText(featuresMaintenance(byEntity, ir([a, ranked, byEntity])))).toBe('full: gold.fs is rebuilt on every run (window without partition)');
    const onBronze = featureView('on_bronze', 'bronze.a', 'ent', 'ts', 0, features);
    expect(maintenanceText(featuresMaintenance(onBronze, ir([a, onBronze])))).toBe('full: bronze.a is not a table rebuilt from its SQL');
  });

  it('an entity whose every source row is deleted leaves the online table (its key read from the delete files)', async () => {
    // Enough rows that the source's merges name the replaced rows in delete files rather than rewrite
    // their files (./compaction.ts): the view then reads the deleted rows' keys from those files.
    // The derived path wherever the plan allows it, whatever the measured costs.
    Object.assign(costChoice, { maxShare: Infinity, byCost: false });
    const spec = pipelineIR();
    const dir = mkdtempSync(join(tmpdir(), 'asgard-features-gone-'));
    const store = new StateStore(join(dir, '.asgard'), spec.name);
    const warehouse = new Warehouse(join(dir, 'wh'));
    const rows: Row[] = [];
    for (let i = 0; i < 600; i++) rows.push({ id: i + 1, ent: i % 200, ts: TIMES[i % 3], v: i % 5, w: (i % 4) / 2 });
    const executors = executorResolver({ ...engineExecutors, source: async () => tableSource({ 'bronze.a': rows }) });
    const maintained: string[] = [];
    for (const batch of [0, 1, 2]) {
      // Batch 1: entity 7 loses every row, entity 3 gains one. Batch 2: entity 11 loses every row.
      if (batch === 1) {
        for (let i = rows.length - 1; i >= 0; i--) if (rows[i].ent === 7) rows.splice(i, 1);
        rows.push({ id: 1001, ent: 3, ts: TIMES[3], v: 4, w: 1.5 });
      }
      if (batch === 2) for (let i = rows.length - 1; i >= 0; i--) if (rows[i].ent === 11) rows.splice(i, 1);
      const state = store.read();
      const plan = buildPlan({ ir: spec, prior: priorFromState(state), stateSerial: state.serial, stateLineage: state.lineage });
      const r = await applyPlan({ ir: spec, plan, store, warehouse, scratchDir: join(dir, 'tmp'), executors, env: {} });
      expect(r.nodes.filter((n) => n.status === 'failed')).toEqual([]);
      maintained.push(r.nodes.find((n) => n.node === 'features.by_entity')?.maintenance ?? '');
      await expectRebuilt(store, warehouse, spec, rows, `batch ${batch}`);
    }
    expect(maintained.slice(1)).toEqual(['incremental: 2 entities recomputed', 'incremental: 1 entities recomputed']);
    // The source's merges kept their files and named the deleted rows in delete files that keep the key.
    const fs = store.read().nodes['gold.fs'].snapshot!;
    const scan = await warehouse.scan(fs);
    const deletes = [...new Set(scan.flatMap((f) => f.deletes))];
    expect(deletes.length).toBeGreaterThan(0);
    const conn = await openDuck();
    try {
      expect(await warehouse.deletedKeys(conn, deletes, ['ent'])).toBeDefined();
    } finally {
      conn.closeSync();
    }
  }, 300_000);

  it.each([1, 2])(
    'random change batches (seed %i): each online table and point-in-time retrieval equal a rebuild after every batch',
    async (seed) => {
      // Every batch takes the derived path wherever the plan allows it: what is tested is its result.
      Object.assign(costChoice, { maxShare: Infinity, byCost: false });
      Object.assign(viewChoice, { maxShare: Infinity });
      const spec = pipelineIR();
      const dir = mkdtempSync(join(tmpdir(), 'asgard-features-'));
      const store = new StateStore(join(dir, '.asgard'), spec.name);
      const warehouse = new Warehouse(join(dir, 'wh'));
      const rand = prng(seed);
      const next = { id: 1 };
      const rows: Row[] = [];
      for (let i = 0; i < 30; i++) rows.push({ id: next.id++, ent: i % 9, ts: TIMES[i % 3], v: (i % 5) - 1, w: i % 4 === 0 ? null : (i % 3) / 2 });
      const data = { 'bronze.a': rows };
      const executors = executorResolver({ ...engineExecutors, source: async () => tableSource(data) });
      const maintained: Record<string, string[]> = {};
      // Entity rows for point-in-time retrieval: every entity at every time and between, NULL included.
      const entities = `(SELECT * FROM (SELECT unnest([NULL, ${[...Array(13).keys()].join(', ')}])::BIGINT AS ent) CROSS JOIN (SELECT unnest([${[...TIMES, '2025-01-02 06:00:00', '2024-12-31 00:00:00', '2025-01-09 00:00:00'].map((t) => `TIMESTAMP '${t}'`).join(', ')}]) AS event_timestamp))`;

      for (let batch = 0; batch < 12; batch++) {
        if (batch > 0) randomBatch(rand, rows, next);
        const state = store.read();
        const plan = buildPlan({ ir: spec, prior: priorFromState(state), stateSerial: state.serial, stateLineage: state.lineage });
        const r = await applyPlan({ ir: spec, plan, store, warehouse, scratchDir: join(dir, 'tmp'), executors, env: {} });
        expect(
          r.nodes.filter((n) => n.status === 'failed'),
          `seed ${seed} batch ${batch}`,
        ).toEqual([]);
        for (const n of r.nodes) if (n.maintenance) (maintained[n.node] ??= []).push(n.maintenance);

        await expectRebuilt(store, warehouse, spec, rows, `seed ${seed}, batch ${batch}`, entities);
      }
      // The entity-keyed view really followed the changes (and wrote merges); the other never did.
      const derived = (maintained['features.by_entity'] ?? []).filter((m) => /^incremental: \d+ entities recomputed$/.test(m));
      expect(derived.length, maintained['features.by_entity']?.join('; ')).toBeGreaterThan(4);
      // The source's merges both recomputed keys and merged groups from inserted rows (derived.ts):
      // the view relies on either writing every row of a key it changes.
      expect(maintained['gold.fs']?.some((m) => m.startsWith('incremental:'))).toBe(true);
      expect(maintained['gold.fs']?.some((m) => /merged from their inserted rows/.test(m))).toBe(true);
      for (const m of maintained['features.by_row'] ?? []) expect(m).toBe('full: gold.rows is maintained by id, not by the entity key ent');
    },
    600_000,
  );
});
