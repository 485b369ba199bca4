// `asgard docs` on a pipeline other than churn (test/fixtures/valid/shop.asg: two source systems,
// a cleanse, models, a feature view, a gradient-boosting model, batch serving), applied with fake
// executors in-process: the page data holds every node, the run, the SQL per target, the checks
// and the column edges down to the model's inputs; bad input is refused with exit 2.

import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { NodeExecutor } from '../../src/engine/executor.js';
import type { NodeKind } from '../../src/ir/types.js';
import { outputTable } from '../../src/ir/types.js';
import type { SiteData } from '../../src/docs/site-data.js';
import { boxWidth } from '../../src/docs/graph-layout.js';
import { cli, repoRoot } from '../cli/helpers.js';
import { generateSpec } from '../../bench/gen-spec.js';
import { commitRows } from '../helpers/warehouse.js';

const executors = async (kind: NodeKind): Promise<NodeExecutor> => ({
  kind,
  async run(ctx) {
    const table = outputTable(ctx.node);
    if (!table) return kind === 'train' ? { modelVersion: 1 } : {};
    return { rows: 3, snapshot: await commitRows(ctx.warehouse, table, 3) };
  },
});

function shop(): string {
  const dir = mkdtempSync(join(tmpdir(), 'asgard-docs-'));
  copyFileSync(join(repoRoot, 'test/fixtures/valid/shop.asg'), join(dir, 'shop.asg'));
  return dir;
}

/** `asgard ARGV` as a process: its exit code, stderr and the packages it loaded (test/helpers/module-log.mjs). */
function asgardProcess(argv: string[], cwd: string): { code: number; stderr: string; packages: Set<string> } {
  const log = join(mkdtempSync(join(tmpdir(), 'asgard-docs-modules-')), 'modules.txt');
  writeFileSync(log, '');
  const r = spawnSync(process.execPath, ['--import', join(repoRoot, 'test', 'helpers', 'module-log.mjs'), join(repoRoot, 'bin', 'asgard.js'), ...argv], {
    cwd,
    encoding: 'utf8',
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ASGARD_TEST_MODULE_LOG: log },
  });
  const packages = new Set([...readFileSync(log, 'utf8').matchAll(/\/node_modules\/((?:@[^/]+\/)?[^/]+)\//g)].map((m) => m[1]));
  return { code: r.status ?? -1, stderr: r.stderr, packages };
}

/** The data embedded in index.html, as it is (without the nodes' details). */
const indexData = (index: string): SiteData =>
  JSON.parse(/<script id="asgard-data" type="application\/json">([\s\S]*?)<\/script>/.exec(readFileSync(index, 'utf8'))![1]) as SiteData;

/** The page data with each node's details read from the file its `details` names (src/docs/site-details.ts). */
function pageData(index: string): SiteData {
  const data = indexData(index);
  const files = new Map<number, Record<string, object>>();
  const file = (k: number): Record<string, object> => {
    if (!files.has(k)) {
      const text = readFileSync(join(dirname(index), 'nodes', `${k}.js`), 'utf8');
      const m = /^asgardNodeDetails\((\d+), ([\s\S]*)\);\n$/.exec(text)!;
      expect(Number(m[1])).toBe(k);
      files.set(k, JSON.parse(m[2]) as Record<string, object>);
    }
    return files.get(k)!;
  };
  return { ...data, nodes: data.nodes.map((n) => ({ ...n, ...(n.details === undefined ? {} : file(n.details)[n.id]) })) };
}

describe('asgard docs', () => {
  it('writes the page data of an applied non-churn pipeline: nodes, run, SQL per target, checks, column edges', async () => {
    const dir = shop();
    const env = { DB_PASSWORD: 'pw' };
    const applied = await cli(['apply', 'shop.asg', '--yes'], { cwd: dir, env, services: { executors } });
    expect(applied.code, applied.stderr).toBe(0);
    const r = await cli(['docs', 'shop.asg', '--out', 'site', '--format', 'json'], { cwd: dir, env });
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: true, files: ['index.html', 'app.js', 'app.css', 'nodes/0.js'], runs: 1 });
    const data = pageData(join(dir, 'site', 'index.html'));
    // index.html holds what the graph draws; each node's SQL, schema and checks are in the file its page loads.
    const inIndex = indexData(join(dir, 'site', 'index.html'));
    expect(inIndex.nodes.filter((n) => 'sql' in n || 'schema' in n || 'checks' in n).map((n) => n.id)).toEqual([]);
    expect(inIndex.nodes.every((n) => n.details === 0)).toBe(true);
    expect(readFileSync(join(dir, 'site', 'index.html'), 'utf8')).not.toContain('LOWER(email)');

    const graph = JSON.parse((await cli(['graph', 'shop.asg', '--format', 'json'], { cwd: dir })).stdout) as {
      nodes: { id: string }[];
      edges: { from: string; to: string }[];
    };
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

    // The graph arrives laid out (src/docs/graph-layout.ts): a box per node, an edge per edge, each
    // edge running left to right, and every stage in a column right of the stages before it.
    expect(Object.keys(data.layout.nodes).sort()).toEqual(ids.sort());
    expect(data.layout.edges.map((e) => `${e.from}>${e.to}`).sort()).toEqual(data.edges.map((e) => `${e.from}>${e.to}`).sort());
    for (const e of data.layout.edges) {
      expect(data.layout.nodes[e.to].x, `${e.from} -> ${e.to}`).toBeGreaterThan(data.layout.nodes[e.from].x);
      expect(e.points.length).toBeGreaterThanOrEqual(2);
    }
    const xOf = (kind: string) => data.nodes.filter((n) => n.kind === kind).map((n) => data.layout.nodes[n.id].x);
    expect(Math.max(...xOf('system'))).toBeLessThan(Math.min(...xOf('source')));
    expect(Math.max(...xOf('source'))).toBeLessThan(Math.min(...xOf('cleanse')));
    expect(Math.max(...xOf('train'))).toBeLessThan(Math.min(...xOf('serve')));
    for (const n of data.nodes) expect(data.layout.nodes[n.id].w).toBe(boxWidth(n.name));
    expect(data.layout.width).toBeGreaterThan(0);

    // A second build lays nothing out again: the layout comes from the workspace's cache, unchanged.
    const cacheFile = join(dir, '.asgard', 'cache', 'site-layout.json');
    const planted = JSON.parse(readFileSync(cacheFile, 'utf8')) as { entries: Record<string, { width: number }> };
    const [key] = Object.keys(planted.entries);
    planted.entries[key].width = 123456;
    writeFileSync(cacheFile, JSON.stringify(planted));
    expect((await cli(['docs', 'shop.asg', '--out', 'site', '--format', 'json'], { cwd: dir, env })).code).toBe(0);
    expect(pageData(join(dir, 'site', 'index.html')).layout.width).toBe(123456);
  });

  it('after a plan, shows the SQL a cold build shows; a second build loads neither the SQL toolkit nor dagre', () => {
    const dir = shop();
    // A logical-time function: the plan's analysis renders it at its bind time, the site must not show that.
    const spec = join(dir, 'shop.asg');
    writeFileSync(spec, readFileSync(spec, 'utf8').replace('WHERE email IS NOT NULL', 'WHERE email IS NOT NULL AND updated_at <= CURRENT_TIMESTAMP'));
    const plan = asgardProcess(['plan', 'shop.asg'], dir);
    expect([0, 3], plan.stderr).toContain(plan.code);
    const afterPlan = asgardProcess(['docs', 'shop.asg', '--out', 'site'], dir);
    expect(afterPlan.code, afterPlan.stderr).toBe(0);
    // The same spec with nothing cached (another state folder): the SQL is rendered from scratch.
    const cold = asgardProcess(['docs', 'shop.asg', '--out', 'site-cold', '--state', join(dir, 'fresh-state')], dir);
    expect(cold.code, cold.stderr).toBe(0);
    const sqlOf = (site: string) =>
      Object.fromEntries(
        pageData(join(dir, site, 'index.html'))
          .nodes.filter((n) => n.sql)
          .map((n) => [n.id, n.sql!.targets]),
      );
    expect(sqlOf('site')).toEqual(sqlOf('site-cold'));
    const clean = sqlOf('site')['silver.customers_clean'].find((t) => t.dialect === 'duckdb')!.sql;
    expect(clean).toMatch(/CURRENT_TIMESTAMP/i);
    expect(clean).not.toContain('2000-01-01');

    const first = readFileSync(join(dir, 'site', 'index.html'), 'utf8');
    const warm = asgardProcess(['docs', 'shop.asg', '--out', 'site'], dir);
    expect(warm.code, warm.stderr).toBe(0);
    expect(['@polyglot-sql/sdk', '@dagrejs/dagre'].filter((p) => warm.packages.has(p))).toEqual([]);
    expect(readFileSync(join(dir, 'site', 'index.html'), 'utf8')).toBe(first);
  }, 600_000);

  it("after a plan of a pipeline whose SQL is all in the fast parser's subset, the first build renders it without loading the SQL toolkit", () => {
    // bench/gen-spec.ts: the bodies of the 1,000-node bench spec; src/sql/fast-analyze.ts renders them for both targets.
    const dir = mkdtempSync(join(tmpdir(), 'asgard-docs-fast-'));
    writeFileSync(join(dir, 'synthetic.asg'), generateSpec(60));
    const plan = asgardProcess(['plan', 'synthetic.asg'], dir);
    expect([0, 3], plan.stderr).toContain(plan.code);
    const docs = asgardProcess(['docs', 'synthetic.asg', '--out', 'site'], dir);
    expect(docs.code, docs.stderr).toBe(0);
    expect(docs.packages.has('@polyglot-sql/sdk')).toBe(false);
    const sql = pageData(join(dir, 'site', 'index.html')).nodes.filter((n) => n.sql);
    expect(sql.length).toBe(57);
    for (const n of sql) expect(n.sql!.targets.map((t) => t.dialect)).toEqual(['duckdb', 'spark']);
  }, 600_000);

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
