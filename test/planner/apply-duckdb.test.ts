// apply end to end on the embedded engine: the real SQL executor (src/engine/sql-executor.ts) for
// cleanses and models, a stand-in source executor that writes real Parquet with DuckDB, and the CLI
// on top. What runs on a rerun, after a SQL edit and after a comment edit is asserted on the state
// and on the rows in the warehouse.
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli } from '../cli/helpers.js';
import { count, services, shop } from './shop-services.js';

describe('apply on the embedded engine', () => {
  it('builds, reruns only what changed, and keeps comment edits free', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'asgard-e2e-'));
    copyFileSync(join(shop, 'base.asg'), join(dir, 'shop.asg'));
    const rows = { n: 10 };
    const ran: string[] = [];
    const apply = async () => {
      ran.length = 0;
      const r = await cli(['apply', 'shop.asg', '--yes', '--format', 'json'], { cwd: dir, services: services(rows, ran) });
      expect(r.stderr).not.toContain('failed');
      expect(r.code).toBe(0);
      return Object.fromEntries((JSON.parse(r.stdout).nodes as { node: string; status: string }[]).map((n) => [n.node, n.status]));
    };

    expect(Object.values(await apply())).toEqual(Array(6).fill('succeeded'));
    expect(await count(dir, 'silver.orders_clean')).toBe(9); // amount > 0 drops i = 0
    expect(await count(dir, 'gold.order_counts')).toBe(9);

    // Nothing new at the sources: they sync, nothing else runs.
    expect(await apply()).toMatchObject({ 'silver.orders_clean': 'unchanged', 'gold.revenue': 'unchanged' });
    expect(ran.sort()).toEqual(['bronze.customers', 'bronze.orders']);

    // A comment and reformatting: plan is clean, nothing runs.
    const text = readFileSync(join(dir, 'shop.asg'), 'utf8');
    writeFileSync(join(dir, 'shop.asg'), text.replace('WHERE amount > 0', '-- positive only\n      WHERE   amount > 0'));
    const plan = JSON.parse((await cli(['plan', 'shop.asg', '--format', 'json'], { cwd: dir })).stdout);
    expect(plan.summary).toEqual({ create: 0, update: 0, replace: 0, delete: 0, noop: 6 });

    // A SQL edit: that cleanse and its downstream run, the other branch does not.
    writeFileSync(join(dir, 'shop.asg'), text.replace('WHERE amount > 0', 'WHERE amount > 4'));
    // Planned against the state: the filter is a breaking change, and the cost of the rebuild is
    // what the last run of each node produced and took.
    const edited = JSON.parse((await cli(['plan', 'shop.asg', '--format', 'json'], { cwd: dir })).stdout);
    const clean = edited.actions.find((a: { node: string }) => a.node === 'silver.orders_clean');
    expect(clean.category).toBe('breaking');
    expect(clean.sqlDiff).toEqual([
      { scope: 'query', clause: 'filter', change: 'removed', before: 'amount > 0' },
      { scope: 'query', clause: 'filter', change: 'added', after: 'amount > 4' },
    ]);
    expect(clean.cost.rows).toBe(9);
    expect(clean.cost.seconds).toBeGreaterThanOrEqual(0);
    const md = (await cli(['plan', 'shop.asg', '--format', 'markdown'], { cwd: dir })).stdout;
    expect(md).toMatch(/\| `silver\.orders_clean` \| cleanse \| ~ update \| 🔴 breaking \| [^|]+ \| 9 rows, \d+\.\d s \|/);
    await apply();
    expect(ran.filter((id) => !id.startsWith('bronze.')).sort()).toEqual(['gold.order_counts', 'gold.revenue', 'silver.orders_clean']);
    expect(await count(dir, 'silver.orders_clean')).toBe(5);

    // New source rows flow downstream.
    rows.n = 20;
    const s = await apply();
    expect(s['gold.revenue']).toBe('succeeded');
    expect(await count(dir, 'silver.orders_clean')).toBe(15);
  }, 120_000);
});
