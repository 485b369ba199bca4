// `asgard docs` on a pipeline other than churn (test/fixtures/valid/shop.asg: two source systems,
// a cleanse, models, a feature view, a gradient-boosting model, batch serving), applied with fake
// executors in-process: the page data holds every node, the run, the SQL per target, the checks
// and the column edges down to the model's inputs; bad input is refused with exit 2.

import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { NodeExecutor } from '../../src/engine/executor.js';
import type { NodeKind } from '../../src/ir/types.js';
import { outputTable } from '../../src/ir/types.js';
import type { SiteData } from '../../src/docs/site-data.js';
import { cli, repoRoot } from '../cli/helpers.js';

const executors = async (kind: NodeKind): Promise<NodeExecutor> => ({
  kind,
  async run(ctx) {
    const table = outputTable(ctx.node);
    if (!table) return kind === 'train' ? { modelVersion: 1 } : {};
    const p = ctx.warehouse.begin(table);
    writeFileSync(join(p.dir, 'data.parquet'), '');
    return { rows: 3, snapshot: ctx.warehouse.commit(p, 3) };
  },
});

function shop(): string {
  const dir = mkdtempSync(join(tmpdir(), 'asgard-docs-'));
  copyFileSync(join(repoRoot, 'test/fixtures/valid/shop.asg'), join(dir, 'shop.asg'));
  return dir;
}

const pageData = (index: string): SiteData => JSON.parse(/<script id="asgard-data" type="application\/json">([\s\S]*?)<\/script>/.exec(readFileSync(index, 'utf8'))![1]) as SiteData;

describe('asgard docs', () => {
  it('writes the page data of an applied non-churn pipeline: nodes, run, SQL per target, checks, column edges', async () => {
    const dir = shop();
    const env = { DB_PASSWORD: 'pw' };
    const applied = await cli(['apply', 'shop.asg', '--yes'], { cwd: dir, env, services: { executors } });
    expect(applied.code, applied.stderr).toBe(0);
    const r = await cli(['docs', 'shop.asg', '--out', 'site', '--format', 'json'], { cwd: dir, env });
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: true, files: ['index.html', 'app.js', 'app.css'], runs: 1 });
    const data = pageData(join(dir, 'site', 'index.html'));

    const graph = JSON.parse((await cli(['graph', 'shop.asg', '--format', 'json'], { cwd: dir })).stdout) as { nodes: { id: string }[]; edges: { from: string; to: string }[] };
    const ids = data.nodes.map((n) => n.id);
    expect(ids.sort()).toEqual([...graph.nodes.map((n) => n.id), 'source:db', 'source:events'].sort());
    for (const e of graph.edges) expect(data.edges).toContainEqual(e);
    expect(data.edges).toContainEqual({ from: 'source:events', to: 'bronze.clicks' });

    expect(data.runs).toHaveLength(1);
    expect(data.runs[0].nodes.map((n) => n.node).sort()).toEqual(graph.nodes.map((n) => n.id).sort());
    expect(data.runs[0].nodes.every((n) => n.status === 'succeeded' && n.end >= n.start)).toBe(true);

    const clean = data.nodes.find((n) => n.id === 'silver.customers_clean')!;
    expect(clean.description).toBe('Customers with a normalised email');
    expect(clean.sql!.targets.map((t) => t.dialect)).toEqual(['duckdb', 'spark']);
    expect(clean.sql!.targets[0].sql).toMatch(/LOWER\(email\)/i);
    expect(clean.sql!.spec.startsWith('SELECT customer_id')).toBe(true); // dedented
    expect(clean.checks).toEqual(['not_null(customer_id)', 'unique(customer_id)', expect.stringMatching(/^accepted_values\(country/)]);
    expect(clean.state?.snapshot?.rows).toBe(3);

    expect(data.columns['silver.customers_clean'].email).toEqual([['bronze.customers', 'email']]);
    expect(data.columns['bronze.customers'].email).toEqual([['source:db', 'email']]);
    expect(data.columns['features.customer_features'].orders).toEqual([['gold.customer_stats', 'orders']]);
    expect(data.columns['train.churn'].orders).toEqual([['features.customer_features', 'orders']]);
    expect(data.models.map((m) => m.name)).toEqual(['churn']);
  });

  it('refuses a missing --out and a plan of another pipeline (exit 2, nothing written)', async () => {
    const dir = shop();
    const noOut = await cli(['docs', 'shop.asg'], { cwd: dir });
    expect(noOut.code).toBe(2);
    expect(noOut.stderr).toContain('--out DIR is required');
    writeFileSync(join(dir, 'other.asg'), readFileSync(join(dir, 'shop.asg'), 'utf8').replace('pipeline shop {', 'pipeline other {'));
    const plan = await cli(['plan', 'other.asg', '--out', 'plan.json'], { cwd: dir });
    expect([0, 3], plan.stderr).toContain(plan.code);
    const other = await cli(['docs', 'shop.asg', '--out', 'site', '--plan', 'plan.json'], { cwd: dir });
    expect(other.code).toBe(2);
    expect(other.stderr).toContain('plan of pipeline other');
  });
});
