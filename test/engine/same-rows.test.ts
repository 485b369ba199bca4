// A rebuilt table whose rows equal its previous snapshot's keeps that snapshot and ends "unchanged",
// so nothing downstream runs (src/engine/same-rows.ts, sql-executor.ts writeFull). A wrong
// "unchanged" loses a change: property-tested with random rows (duplicates, NULLs), reorderings,
// changes the SQL filters out and changes of one value, through the real apply.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { applyPlan } from '../../src/engine/apply.js';
import { openDuck } from '../../src/engine/duckdb.js';
import { costChoice } from '../../src/engine/derived.js';
import { engineExecutors, executorResolver } from '../../src/engine/executors.js';
import { columnNames, differingRows } from '../../src/engine/merge-write.js';
import { fingerprintSql } from '../../src/engine/same-rows.js';
import type { PipelineIR } from '../../src/ir/types.js';
import { buildPlan, priorFromState } from '../../src/planner/plan.js';
import { StateStore, type SnapshotRef } from '../../src/planner/state-store.js';
import { renderSql } from '../../src/sql/transpile.js';
import { Warehouse } from '../../src/warehouse/warehouse.js';
import { body, cleanse, ir, model, prng, rowsSelect, source, tableSource, type Row } from './helpers.js';

const COLS: [string, string][] = [
  ['id', 'BIGINT'],
  ['g', 'BIGINT'],
  ['v', 'INTEGER'],
  ['s', 'VARCHAR'],
];
const guard = { maxDrop: 1, allowEmpty: true };
// No key passes through, so the table is rebuilt every time its input moves; its rows repeat.
const PROJ = 'SELECT g, v, s FROM bronze.a WHERE v IS NULL OR v > 0';

function setUp(spec: PipelineIR) {
  const dir = mkdtempSync(join(tmpdir(), 'asgard-same-rows-'));
  const store = new StateStore(join(dir, '.asgard'), spec.name);
  const warehouse = new Warehouse(join(dir, 'wh'));
  const data: Record<string, Row[]> = { 'bronze.a': [] };
  // The source is read whole each time: every apply writes bronze.a anew (a new snapshot, rows in a new order).
  const executors = executorResolver({ ...engineExecutors, source: async () => tableSource(data) });
  const apply = async () => {
    const state = store.read();
    const plan = buildPlan({ ir: spec, prior: priorFromState(state), stateSerial: state.serial, stateLineage: state.lineage });
    const r = await applyPlan({ ir: spec, plan, store, warehouse, scratchDir: join(dir, 'tmp'), executors, env: {} });
    expect(r.nodes.filter((n) => n.status === 'failed')).toEqual([]);
    return r;
  };
  /** The node's SQL over `rows`, from scratch. */
  const expected = (sql: string, rows: readonly Row[]) => renderSql(body(sql), { dialect: 'duckdb', tableRef: () => `(${rowsSelect(rows, COLS)})` }).sql;
  /** Whether the table holds exactly `want`'s rows; and whether its digest, if it has one, is its rows' digest. */
  const holds = async (id: string, want: string): Promise<{ equal: boolean; digestRight: boolean }> => {
    const conn = await openDuck();
    try {
      const ns = store.read().nodes[id];
      const rows = await warehouse.snapshotSelect(ns.snapshot!, ns.schema);
      const differ = await conn.runAndReadAll(`SELECT count(*) FROM (${differingRows(`SELECT * FROM (${rows})`, `SELECT * FROM (${want})`)})`);
      const fp = await conn.runAndReadAll(`SELECT h::VARCHAR FROM (${fingerprintSql(`(${rows})`, columnNames(ns.schema!))})`);
      const digest = ns.snapshot!.digest;
      return { equal: Number(differ.getRows()[0][0]) === 0, digestRight: digest === undefined || digest === String(fp.getRows()[0][0]) };
    } finally {
      conn.closeSync();
    }
  };
  /** Whether two SELECTs hold the same rows. */
  const same = async (a: string, b: string): Promise<boolean> => {
    const conn = await openDuck();
    try {
      return Number((await conn.runAndReadAll(`SELECT count(*) FROM (${differingRows(a, b)})`)).getRows()[0][0]) === 0;
    } finally {
      conn.closeSync();
    }
  };
  return { data, store, warehouse, apply, expected, holds, same };
}

describe('a rebuild that writes the same rows', () => {
  const chosen = { ...costChoice };
  afterEach(() => {
    Object.assign(costChoice, chosen);
  });

  it.each([1, 2])(
    'random rows and changes (seed %i): the same rows keep the snapshot and nothing downstream runs; any other change is written',
    async (seed) => {
      const spec = ir([
        { ...source('a', COLS, ['id']), rowGuard: guard },
        cleanse('proj', body(PROJ), ['bronze.a'], { rowGuard: guard }),
        model('down', body('SELECT g, COUNT(*) AS n FROM silver.proj GROUP BY g'), ['silver.proj'], { rowGuard: guard }),
      ]);
      const t = setUp(spec);
      const rand = prng(seed);
      const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)];
      // Few values: duplicate rows, NULLs.
      const g = () => pick([0, 1, 2, null]);
      const v = () => pick([-1, 0, 1, 2, 3, null]);
      const s = () => pick(['x', 'y', '', null]);
      let next = 1;
      const rows = t.data['bronze.a'];
      for (let i = 0; i < 30; i++) rows.push({ id: next++, g: g(), v: v(), s: s() });
      await t.apply();
      const seen = { kept: 0, written: 0 };
      const kinds = ['reorder', 'rekey', 'filtered', 'duplicate', 'value', 'swap', 'remove'] as const;
      for (let batch = 0; batch < 14; batch++) {
        const before = t.store.read().nodes;
        const was = t.expected(PROJ, rows);
        const kind = kinds[batch % kinds.length];
        const i = Math.floor(rand() * rows.length);
        if (kind === 'reorder') rows.reverse();
        else if (kind === 'rekey') rows[i].id = next++;
        // A row the SQL filters out, changed so that it stays out.
        else if (kind === 'filtered') rows.push({ id: next++, g: g(), v: pick([-1, 0]), s: s() });
        else if (kind === 'duplicate') rows.push({ ...rows[i], id: next++, v: pick([1, 2, null]) });
        else if (kind === 'value') {
          const col = pick(['g', 'v', 's'] as const);
          const old = rows[i][col];
          const fresh = col === 'g' ? g() : col === 'v' ? v() : s();
          rows[i][col] = fresh === old ? (old === null ? 1 : null) : fresh;
        } else if (kind === 'swap') {
          const j = (i + 1 + Math.floor(rand() * (rows.length - 1))) % rows.length;
          [rows[i].g, rows[j].g] = [rows[j].g, rows[i].g];
        } else rows.splice(i, 1);
        const now = t.expected(PROJ, rows);
        const unchanged = await t.same(was, now);
        const r = await t.apply();
        const proj = r.nodes.find((n) => n.node === 'silver.proj')!;
        const down = r.nodes.find((n) => n.node === 'gold.down')!;
        const after = t.store.read().nodes;
        const at = `seed ${seed}, batch ${batch} (${kind})`;
        expect(after['bronze.a'].snapshot!.id, at).not.toBe(before['bronze.a'].snapshot!.id);
        if (unchanged) {
          seen.kept++;
          expect(proj.maintenance, at).toMatch(/; unchanged \(the rebuilt rows equal the previous snapshot's\)$/);
          expect(after['silver.proj'].snapshot!.id, at).toBe(before['silver.proj'].snapshot!.id);
          expect(after['silver.proj'].snapshot!.digest, at).toBeDefined();
          expect(down.status, at).toBe('unchanged');
        } else {
          seen.written++;
          expect(proj.maintenance ?? '', at).not.toMatch(/unchanged/);
          expect(after['silver.proj'].snapshot!.id, at).not.toBe(before['silver.proj'].snapshot!.id);
          expect(down.status, at).toBe('succeeded');
        }
        const h = await t.holds('silver.proj', now);
        expect(h, at).toEqual({ equal: true, digestRight: true });
      }
      // Both outcomes were exercised.
      expect(seen.kept).toBeGreaterThanOrEqual(4);
      expect(seen.written).toBeGreaterThanOrEqual(4);
    },
    300_000,
  );

  it("a digest equal to the new rows' but other rows is confirmed row by row: the change is written", async () => {
    const spec = ir([{ ...source('a', COLS, ['id']), rowGuard: guard }, cleanse('proj', body(PROJ), ['bronze.a'], { rowGuard: guard })]);
    const t = setUp(spec);
    const rows = t.data['bronze.a'];
    for (let i = 1; i <= 12; i++) rows.push({ id: i, g: i % 3, v: (i % 4) + 1, s: i % 2 ? 'x' : null });
    await t.apply();
    rows.reverse();
    await t.apply();
    const kept = t.store.read().nodes['silver.proj'];
    expect(kept.snapshot!.digest).toBeDefined();
    // One value changes (the count stays); the state's digest is made to collide with the new rows'.
    rows[3].s = 'changed';
    const conn = await openDuck();
    let collision: string;
    try {
      const r = await conn.runAndReadAll(`SELECT h::VARCHAR FROM (${fingerprintSql(`(${t.expected(PROJ, rows)})`, columnNames(kept.schema!))})`);
      collision = String(r.getRows()[0][0]);
    } finally {
      conn.closeSync();
    }
    expect(collision).not.toBe(kept.snapshot!.digest);
    const forged: SnapshotRef = { ...kept.snapshot!, digest: collision };
    t.store.commitNode('silver.proj', { ...kept, snapshot: forged });
    const r = await t.apply();
    expect(r.nodes.find((n) => n.node === 'silver.proj')!.maintenance ?? '').not.toMatch(/unchanged/);
    expect(t.store.read().nodes['silver.proj'].snapshot!.id).not.toBe(kept.snapshot!.id);
    expect(await t.holds('silver.proj', t.expected(PROJ, rows))).toEqual({ equal: true, digestRight: true });
  }, 300_000);

  it("a derived merge carries the digest forward: it stays the digest of the table's rows", async () => {
    const sql = 'SELECT id, g, v * 2 AS v2, s FROM bronze.a WHERE v IS NULL OR v > 0';
    const spec = ir([{ ...source('a', COLS, ['id']), rowGuard: guard }, cleanse('rowwise', body(sql), ['bronze.a'], { rowGuard: guard, partitionBy: ['g'] })]);
    const t = setUp(spec);
    const rows = t.data['bronze.a'];
    for (let i = 1; i <= 40; i++) rows.push({ id: i, g: i % 3, v: (i % 5) - 1, s: i % 2 ? 'x' : null });
    await t.apply();
    // A rebuild of the same row count takes the digest (every key counts as too many here)…
    Object.assign(costChoice, { maxShare: -1, byCost: false });
    rows[1].v = 9;
    expect((await t.apply()).nodes.find((n) => n.node === 'silver.rowwise')!.maintenance).toMatch(/^full: /);
    expect(t.store.read().nodes['silver.rowwise'].snapshot!.digest).toBeDefined();
    // …and derived merges (position deletes, inserts, a delete) keep it right.
    Object.assign(costChoice, { maxShare: Infinity, byCost: false });
    const steps: (() => void)[] = [
      () => (rows[3].s = 'y'),
      () => rows.push({ id: 41, g: 1, v: 3, s: 'z' }),
      () => rows.splice(11, 1),
      () => ((rows[2].v = null), (rows[6].g = 2)),
    ];
    for (const [i, step] of steps.entries()) {
      step();
      const m = (await t.apply()).nodes.find((n) => n.node === 'silver.rowwise')!.maintenance;
      expect(m, `step ${i}`).toMatch(/^incremental: \d+ keys recomputed$/);
      expect(t.store.read().nodes['silver.rowwise'].snapshot!.digest, `step ${i}`).toBeDefined();
      expect(await t.holds('silver.rowwise', t.expected(sql, rows)), `step ${i}`).toEqual({ equal: true, digestRight: true });
    }
  }, 300_000);
});
