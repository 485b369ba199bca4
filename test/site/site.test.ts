// The site of `asgard docs` in a real browser (Debian's Chromium through puppeteer-core), built from
// pipelines/churn.asg after a real apply on small data: the graph shows every node, a click on
// gold.customer_metrics opens its page with its schema and a column's lineage, the model page draws
// its curves, the runs page its timeline, a saved plan colours the graph, and `asgard serve` serves
// the same site at /. No console error, and no request leaves the machine. Screenshots go to
// test-artifacts/site/ (gitignored; looked at, never compared pixel by pixel).

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser } from 'puppeteer-core';
import { churnWorkspace, ROOT, type ChurnWorkspace } from '../helpers/churn.js';
import { launchChromium, watchedPage, type WatchedPage } from './browser.js';

const ARTIFACTS = join(ROOT, 'test-artifacts', 'site');
let ws: ChurnWorkspace;
let browser: Browser;
let w: WatchedPage;
let siteUrl: string;

const json = <T>(text: string): T => JSON.parse(text) as T;

async function open(url: string): Promise<void> {
  await w.page.goto(url, { waitUntil: 'load' });
}

async function shot(name: string, fullPage = false): Promise<void> {
  await w.page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage });
}

beforeAll(async () => {
  rmSync(ARTIFACTS, { recursive: true, force: true });
  mkdirSync(ARTIFACTS, { recursive: true });
  execFileSync(process.execPath, [join(ROOT, 'site', 'build.mjs')], { stdio: 'inherit' }); // the bundle of this checkout
  ws = await churnWorkspace(mkdtempSync(join(tmpdir(), 'asg-site-')));
  const applied = await ws.asgard(['apply', ws.spec, '--yes', '--format', 'json']);
  expect(applied.code, applied.stderr.slice(-2000)).toBe(0);
  const docs = await ws.asgard(['docs', ws.spec, '--out', join(ARTIFACTS, 'churn'), '--format', 'json']);
  expect(docs.code, docs.stderr).toBe(0);
  expect(json<{ files: string[] }>(docs.stdout).files.sort()).toEqual(['app.css', 'app.js', 'index.html', 'nodes/0.js']);
  siteUrl = pathToFileURL(join(ARTIFACTS, 'churn', 'index.html')).href;
  browser = await launchChromium();
  w = await watchedPage(browser);
}, 900_000);

afterAll(async () => {
  await browser?.close();
  await ws?.close();
});

describe('asgard docs in Chromium', () => {
  it('the graph shows every node of the pipeline, and search finds one', async () => {
    const graph = json<{ nodes: { id: string }[] }>((await ws.asgard(['graph', ws.spec, '--format', 'json'])).stdout);
    await open(siteUrl);
    await w.page.waitForSelector('svg.graph g.node');
    const shown = await w.page.$$eval('svg.graph g.node', (els) => els.map((e) => (e as SVGGElement).dataset.id ?? ''));
    for (const n of graph.nodes) expect(shown, n.id).toContain(n.id);
    const systems = shown.filter((id) => !graph.nodes.some((n) => n.id === id));
    expect(systems.sort()).toEqual(['source:customer_db', 'source:support_api', 'source:transaction_system']);
    // Every node has a box of its own (laid out, not stacked on another).
    const boxes = await w.page.$$eval('svg.graph g.node', (els) => els.map((e) => e.getAttribute('transform')));
    expect(new Set(boxes).size).toBe(shown.length);
    await shot('graph');

    await w.page.type('input.search', 'customer_metrics');
    expect(await w.page.$$eval('svg.graph g.node.match', (els) => els.map((e) => (e as SVGGElement).dataset.id))).toEqual(['gold.customer_metrics']);
    await shot('graph-search');
  });

  it('a click on gold.customer_metrics opens its page with its schema, and a column its lineage', async () => {
    await open(siteUrl);
    await w.page.waitForSelector('g.node[data-id="gold.customer_metrics"]');
    await w.page.click('g.node[data-id="gold.customer_metrics"]');
    await w.page.waitForSelector('table.schema');
    expect(decodeURIComponent(await w.page.evaluate(() => location.hash))).toBe('#/node/gold.customer_metrics');
    expect(await w.page.$eval('h1', (e) => e.textContent)).toContain('gold.customer_metrics');
    const state = json<{ nodes: Record<string, { schema: { name: string; type: string }[] }> }>(
      readFileSync(join(ws.dir, '.asgard', 'state', 'churn.json'), 'utf8'),
    );
    const rows = await w.page.$$eval('table.schema tbody tr', (trs) => trs.map((tr) => [...tr.querySelectorAll('td')].slice(0, 2).map((td) => td.textContent)));
    expect(rows).toEqual(state.nodes['gold.customer_metrics'].schema.map((c) => [c.name, c.type]));
    expect(await w.page.$$eval('pre.sql', (p) => p.length)).toBe(1);
    await shot('node', true);

    // Lineage of one column, compared with `asgard lineage` (the same facts through the CLI).
    const cli = json<{ upstream: Tree[]; downstream: Tree[] }>(
      (await ws.asgard(['lineage', ws.spec, 'gold.customer_metrics.total_purchases', '--format', 'json'])).stdout,
    );
    await w.page.click('table.schema a[href$="/total_purchases"]');
    await w.page.waitForSelector('#lineage ul.tree');
    const [up, down] = await w.page.$$eval('#lineage .grid > div', (cols) =>
      cols.map((c) => [...c.querySelectorAll('a')].map((a) => decodeURIComponent(a.getAttribute('href') ?? ''))),
    );
    for (const t of flatten(cli.upstream).filter((x) => !x.startsWith('source:'))) expect(up, t).toContain(`#/node/${t.replace(/\.(\w+)$/, '/$1')}`);
    expect(up.some((h) => h.startsWith('#/node/source:transaction_system/'))).toBe(true);
    for (const t of flatten(cli.downstream)) expect(down, t).toContain(`#/node/${t.replace(/\.(\w+)$/, '/$1')}`);
    expect(down).toContain('#/node/train.churn_predictor/total_purchases'); // the model's input
    await shot('lineage');
  });

  it('the model page draws its ROC and precision-recall curves and its confusion matrix', async () => {
    const index = json<{ versions: { version: number; metrics: { confusion_matrix: number[][] } }[] }>(
      readFileSync(join(ws.dir, '.asgard', 'registry', 'customer_churn_predictor', 'index.json'), 'utf8'),
    );
    const v = index.versions.at(-1)!;
    await open(`${siteUrl}#/models/customer_churn_predictor/${v.version}`);
    await w.page.waitForSelector('#roc svg');
    for (const id of ['roc', 'pr']) {
      const d = await w.page.$$eval(`#${id} svg [aria-label="line"] path`, (ps) => ps.map((p) => p.getAttribute('d') ?? ''));
      const points = Math.max(...d.map((x) => (x.match(/[ML]/g) ?? []).length));
      expect(points, `${id} curve points`).toBeGreaterThan(5);
    }
    const cells = await w.page.$$eval('#confusion svg text', (ts) => ts.map((t) => t.textContent));
    for (const n of v.metrics.confusion_matrix.flat()) expect(cells).toContain(n.toLocaleString('en-US'));
    expect(await w.page.$$eval('#importance svg [aria-label="bar"] rect', (r) => r.length)).toBeGreaterThan(0);
    expect(await w.page.$$eval('#serving svg [aria-label="bar"] rect', (r) => r.length)).toBeGreaterThan(0);
    await shot('model', true);
  });

  it('the runs page draws a bar per node that ran', async () => {
    const runs = json<{ runs: { nodes: { node: string; status: string }[] }[] }>(readFileSync(join(ws.dir, '.asgard', 'runs', 'churn.json'), 'utf8'));
    const ran = runs.runs.at(-1)!.nodes.filter((n) => n.status !== 'unchanged');
    expect(ran.length).toBeGreaterThan(5);
    await open(`${siteUrl}#/runs`);
    await w.page.waitForSelector('svg [aria-label="bar"]');
    expect(await w.page.$$eval('#timeline [aria-label="bar"] rect', (r) => r.length)).toBe(ran.length);
    expect(await w.page.$$eval('#running [aria-label="area"] path', (p) => p.length)).toBe(1);
    await shot('runs', true);
  });

  it('with --plan, each node is coloured by its action and a breaking change is marked', async () => {
    const spec = readFileSync(ws.spec, 'utf8');
    writeFileSync(ws.spec, spec.replace('        co.email,\n', ''));
    try {
      const plan = await ws.asgard(['plan', ws.spec, '--out', join(ws.dir, 'plan.json')]);
      expect([0, 3]).toContain(plan.code);
      const saved = json<{ actions: { node: string; action: string; category?: string; schemaChanges: { breaking: boolean }[] }[] }>(
        readFileSync(join(ws.dir, 'plan.json'), 'utf8'),
      );
      const metrics = saved.actions.find((a) => a.node === 'gold.customer_metrics')!;
      expect(metrics.action).not.toBe('noop');
      const docs = await ws.asgard(['docs', ws.spec, '--out', join(ARTIFACTS, 'plan'), '--plan', join(ws.dir, 'plan.json')]);
      expect(docs.code, docs.stderr).toBe(0);
      await open(pathToFileURL(join(ARTIFACTS, 'plan', 'index.html')).href);
      await w.page.waitForSelector('svg.graph g.node');
      const classes = Object.fromEntries(
        await w.page.$$eval('svg.graph g.node', (els) => els.map((e) => [(e as SVGGElement).dataset.id, e.getAttribute('class') ?? ''])),
      );
      for (const a of saved.actions) {
        expect(classes[a.node], a.node).toContain(`act-${a.action}`);
        const breaking = a.category === 'breaking' || a.schemaChanges.some((c) => c.breaking);
        expect(classes[a.node].split(' ').includes('breaking'), `${a.node} breaking`).toBe(breaking);
      }
      expect(classes['gold.customer_metrics']).toContain('breaking'); // a column was removed
      await shot('plan');
    } finally {
      writeFileSync(ws.spec, spec);
    }
  });

  it('two versions compared: metrics side by side, both curves, importance bars of each version from zero', async () => {
    const spec = readFileSync(ws.spec, 'utf8');
    expect(spec).toContain('n_estimators = 100');
    writeFileSync(ws.spec, spec.replace('n_estimators = 100', 'n_estimators = 30'));
    try {
      const retrained = await ws.asgard(['apply', ws.spec, '--yes', '--select', 'train.churn_predictor+']);
      expect(retrained.code, retrained.stderr.slice(-2000)).toBe(0);
      const docs = await ws.asgard(['docs', ws.spec, '--out', join(ARTIFACTS, 'compare')]);
      expect(docs.code, docs.stderr).toBe(0);
    } finally {
      writeFileSync(ws.spec, spec);
    }
    await open(`${pathToFileURL(join(ARTIFACTS, 'compare', 'index.html')).href}#/models/customer_churn_predictor/compare/1/2`);
    await w.page.waitForSelector('table.compare');
    expect(await w.page.$$eval('table.compare thead th', (ths) => ths.map((t) => t.textContent))).toEqual(['metric', 'v1', 'v2', 'change']);
    const strokes = await w.page.$$eval('main svg [aria-label="line"] path', (ps) => new Set(ps.map((p) => p.getAttribute('stroke'))).size);
    expect(strokes).toBeGreaterThanOrEqual(2); // one colour per version
    // Each bar starts at zero (bars of two versions side by side, never stacked on each other).
    const bars = await w.page.$$eval('#importance svg [aria-label="bar"] rect', (rs) =>
      rs.map((r) => [Number(r.getAttribute('x')), Number(r.getAttribute('width'))]),
    );
    const zero = await w.page.$eval('#importance svg [aria-label="rule"] line', (l) => Number(l.getAttribute('x1')));
    expect(bars.length).toBeGreaterThan(2);
    for (const [x, width] of bars) expect(Math.min(Math.abs(x - zero), Math.abs(x + width - zero))).toBeLessThan(1);
    await shot('compare', true);
  });

  it('asgard serve serves the same site at /', async () => {
    const child: ChildProcess = spawn(
      process.execPath,
      [
        '--import',
        pathToFileURL(join(ROOT, 'node_modules/tsx/dist/loader.mjs')).href,
        join(ROOT, 'src/cli/main.ts'),
        'serve',
        ws.spec,
        '--port',
        '0',
        '--format',
        'json',
      ],
      {
        cwd: ws.dir,
        env: { ...process.env, ...ws.env },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    try {
      const url = await new Promise<string>((resolve, reject) => {
        let out = '';
        child.stdout!.on('data', (d) => {
          out += String(d);
          const m = /"url":\s*"([^"]+)"/.exec(out);
          if (m) resolve(m[1]);
        });
        child.on('exit', (code) => reject(new Error(`serve exited ${code}`)));
      });
      const index = await fetch(`${url}/`);
      expect(index.status).toBe(200);
      expect(index.headers.get('content-type')).toContain('text/html');
      expect((await fetch(`${url}/app.js`)).status).toBe(200);
      await open(`${url}/`);
      await w.page.waitForSelector('svg.graph g.node');
      const shown = await w.page.$$eval('svg.graph g.node', (els) => els.length);
      const fromFile = json<{ nodes: unknown[] }>(
        /<script id="asgard-data" type="application\/json">([\s\S]*?)<\/script>/.exec(readFileSync(join(ARTIFACTS, 'churn', 'index.html'), 'utf8'))![1],
      );
      expect(shown).toBe(fromFile.nodes.length);
      // Read-only: the site's paths answer GET only.
      expect((await fetch(`${url}/`, { method: 'POST', body: '{}' })).status).toBe(405);
    } finally {
      child.kill('SIGTERM');
    }
  });

  it('no page logged an error, and no request left the machine', () => {
    expect(w.requests.length).toBeGreaterThan(5);
    expect(w.errors).toEqual([]);
    expect(w.external).toEqual([]);
  });
});

interface Tree {
  table: string;
  column: string;
  children: Tree[];
}

const flatten = (ts: readonly Tree[]): string[] => ts.flatMap((t) => [`${t.table}.${t.column}`, ...flatten(t.children)]);
