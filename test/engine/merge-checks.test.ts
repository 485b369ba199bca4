// The checks of a derived run's merge (src/engine/checks.ts with a CheckDelta): what the merge knows
// (the new table's row count, the write's report of the rows it wrote) answers row_count and not_null
// without reading the table, and a violation is still found and reported.
import { describe, expect, it } from 'vitest';
import { readsWholeTable, runChecks } from '../../src/engine/checks.js';
import { openDuck } from '../../src/engine/duckdb.js';
import { join } from 'node:path';
import { applyPlan } from '../../src/engine/apply.js';
import { costChoice } from '../../src/engine/derived.js';
import { engineExecutors, executorResolver } from '../../src/engine/executors.js';
import { buildPlan, priorFromState } from '../../src/planner/plan.js';
import { StateStore } from '../../src/planner/state-store.js';
import { Warehouse } from '../../src/warehouse/warehouse.js';
import { body, check, cleanse, ir, source, tableSource, tempDir, type Row } from './helpers.js';

const opts = { tableRef: (id: string) => id, logicalTime: new Date('2025-01-01T00:00:00Z') };
const checks = [check('not_null', { column: 'k' }), check('row_count', { min: 1, max: 5 })];

describe('checks of a merge', () => {
  it('answers row_count and not_null from the counts and the write report, without reading the table', async () => {
    const conn = await openDuck();
    try {
      await conn.run('CREATE TABLE added AS SELECT * FROM (VALUES (1), (2)) AS t(k)');
      // The whole table is never read: it does not even exist.
      const delta = { added: 'added', key: 'k', rows: 4 };
      const known = { rows: 2, nulls: (c: string) => (c === 'k' ? 0 : undefined), range: () => undefined };
      expect(await runChecks(conn, 'missing_table', checks, { ...opts, delta, known })).toEqual([]);
    } finally {
      conn.closeSync();
    }
  });

  // The merge binds a view of the whole table (every one of its files) only for the checks that read it.
  it('knows which checks of a merge read the whole table', () => {
    const delta = { added: 'added', key: 'k', rows: 4 };
    const whole = (c: ReturnType<typeof check>) => readsWholeTable(c, delta);
    expect(whole(check('not_null', { column: 'v' }))).toBe(false);
    expect(whole(check('unique', { column: 'k' }))).toBe(false);
    expect(whole(check('accepted_values', { column: 'v', values: [1] }))).toBe(false);
    expect(whole(check('row_count', { min: 1 }))).toBe(false);
    expect(whole(check('unique', { column: 'v' }))).toBe(true);
    expect(whole(check('sql', { name: 'x', sql: { text: 'SELECT 1', normalized: 'SELECT 1', reads: [], span: checks[0].span } }))).toBe(true);
  });

  it('still fails a merge whose new row count or written rows break a check', async () => {
    const conn = await openDuck();
    try {
      await conn.run('CREATE TABLE added AS SELECT * FROM (VALUES (1), (NULL)) AS t(k)');
      await conn.run('CREATE TABLE whole AS SELECT * FROM range(6) AS t(k) UNION ALL SELECT k FROM added');
      const delta = { added: 'added', key: 'k', rows: 8 };
      const known = { rows: 2, nulls: (c: string) => (c === 'k' ? 1 : undefined), range: () => undefined };
      const failures = await runChecks(conn, 'whole', checks, { ...opts, delta, known });
      expect(failures.map((f) => [f.name, f.message])).toEqual([
        ['not_null(k)', '1 row(s) have a NULL k'],
        ['row_count()', '8 row(s), more than the maximum 5'],
      ]);
    } finally {
      conn.closeSync();
    }
  });
});

// Through the executor: a derived run's merge whose new row count breaks row_count fails the node,
// and the failure counts the new table's rows. The count was taken from the node's own table as
// attached when the run began, its previous snapshot: 5 rows, within the maximum, so the merge that
// made 6 passed.
describe('a derived run whose merge breaks row_count', () => {
  it('fails the node with the new row count', async () => {
    costChoice.byCost = false;
    try {
      const cols: [string, string][] = [
        ['id', 'BIGINT'],
        ['v', 'INTEGER'],
      ];
      const guard = { maxDrop: 1, allowEmpty: true };
      const node = cleanse('capped', body('SELECT id, v FROM bronze.a'), ['bronze.a'], { rowGuard: guard, checks: [check('row_count', { max: 5 })] });
      const spec = ir([{ ...source('a', cols, ['id']), rowGuard: guard }, node]);
      const dir = tempDir();
      const store = new StateStore(join(dir, '.asgard'), spec.name);
      const warehouse = new Warehouse(join(dir, 'wh'));
      const data: Record<string, Row[]> = { 'bronze.a': [1, 2, 3, 4, 5].map((id) => ({ id, v: id })) };
      const executors = executorResolver({ ...engineExecutors, source: async () => tableSource(data, { on: true }) });
      const apply = async () => {
        const state = store.read();
        const plan = buildPlan({ ir: spec, prior: priorFromState(state), stateSerial: state.serial, stateLineage: state.lineage });
        const r = await applyPlan({ ir: spec, plan, store, warehouse, scratchDir: join(dir, 'tmp'), executors, env: {} });
        return r.nodes.find((n) => n.node === 'silver.capped')!;
      };
      expect((await apply()).status).not.toBe('failed');
      data['bronze.a'].push({ id: 6, v: 6 });
      const r = await apply();
      expect(r.status).toBe('failed');
      expect(r.error).toMatch(/check row_count\(\) failed: 6 row\(s\), more than the maximum 5/);
      expect(store.read().nodes['silver.capped'].snapshot!.rows).toBe(5);
    } finally {
      costChoice.byCost = true;
    }
  }, 120_000);
});
