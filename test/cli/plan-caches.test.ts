// What a plan re-does (issue #16, plans at scale): a plan of an unchanged spec loads neither the SQL
// toolkit nor DuckDB (it is served by the spec cache); a plan after one edited SQL body analyses and
// binds that body only (the per-node caches in the state folder, keyed by content); a cache
// written by another build (another build id) is never read; and the last plan is replayed only
// while the spec, the state and the warehouse's snapshots are what it was made from.
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { cli, editCachedPlan, repoRoot, SHOP_SPEC, shopFolder } from './helpers.js';
import { generateSpec } from '../../bench/gen-spec.js';
import { loaded, runLoggingModules } from '../helpers/loaded-modules.js';

const shop = join(__dirname, '..', 'planner', 'cases', 'sql-edit-cascades', 'base.asg');
// The shop's silver cleanse reads bronze.orders: its filter is the edited body.
const EDIT_FROM = 'WHERE amount > 0';

function workspace(): { dir: string; spec: string; text: string } {
  const dir = mkdtempSync(join(tmpdir(), 'asgard-plan-caches-'));
  const spec = join(dir, 'shop.asg');
  copyFileSync(shop, spec);
  const text = readFileSync(spec, 'utf8');
  expect(text).toContain(EDIT_FROM);
  return { dir, spec, text };
}

/** A cache file's salt and keys: its first line's entries and the lines appended since (src/util/json-cache.ts). */
const entries = (dir: string, file: string): { salt: string; keys: string[] } => {
  const [head, ...added] = readFileSync(join(dir, '.asgard', 'cache', file), 'utf8')
    .trimEnd()
    .split('\n');
  const doc = JSON.parse(head) as { salt: string; entries: Record<string, unknown> };
  return { salt: doc.salt, keys: [...Object.keys(doc.entries), ...added.map((line) => (JSON.parse(line) as [string, unknown])[0])] };
};

/** `asgard plan` as a fresh process; returns the module URLs it resolved. */
function planProcess(dir: string): string[] {
  const log = join(dir, `modules-${Date.now()}.log`);
  const hooks = `import { appendFileSync } from 'node:fs';
export async function resolve(spec, ctx, next) { const r = await next(spec, ctx); appendFileSync(${JSON.stringify(log)}, r.url + '\\n'); return r; }`;
  const preload = join(dir, 'record-modules.mjs');
  writeFileSync(preload, `import { register } from 'node:module';\nregister(${JSON.stringify(`data:text/javascript,${encodeURIComponent(hooks)}`)});\n`);
  const r = spawnSync(process.execPath, ['--import', pathToFileURL(preload).href, join(repoRoot, 'bin', 'asgard.js'), 'plan', 'shop.asg', '--format', 'json'], {
    cwd: dir,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '' },
    encoding: 'utf8',
    timeout: 150_000,
  });
  expect(r.status, r.stderr).toBe(0);
  expect(JSON.parse(r.stdout).summary.create).toBe(6);
  return readFileSync(log, 'utf8').split('\n');
}

describe('plan caches', () => {
  it('a plan of an unchanged spec loads neither the SQL toolkit nor DuckDB; after an edit neither does (every body of the shop is typed without DuckDB)', async () => {
    const { dir, spec, text } = workspace();
    // Fills the caches (a process: the build id, which keys them, is that of the code it runs). The
    // shop's bodies are all typed by src/sql/fast-types.ts: not even this cold plan loads DuckDB.
    expect(planProcess(dir).filter((u) => u.includes('@polyglot-sql') || u.includes('@duckdb'))).toEqual([]);
    const warm = planProcess(dir);
    // The log works: the entry was resolved through it (a replayed plan loads its CommonJS modules, src/cli/plan-replay.cts, by require).
    expect(warm.some((u) => u.endsWith('/bin/asgard.js'))).toBe(true);
    expect(warm.filter((u) => u.includes('@polyglot-sql') || u.includes('@duckdb'))).toEqual([]);
    writeFileSync(spec, text.replace(EDIT_FROM, 'WHERE amount > 1'));
    const edited = planProcess(dir);
    // The edited body is analysed and typed again (the next test counts the cache entries), without
    // polyglot or DuckDB: every body of this spec is in the fast analyser's subset (src/sql/fast-analyze.ts)
    // and typed by its rules (src/sql/fast-types.ts).
    expect(edited.filter((u) => u.includes('@polyglot-sql') || u.includes('@duckdb'))).toEqual([]);
  }, 300_000);

  it('a plan after one edited SQL body analyses that body only and binds nothing', async () => {
    const { dir, spec, text } = workspace();
    expect((await cli(['plan', 'shop.asg', '--format', 'json'], { cwd: dir })).code).toBe(0);
    const analysed = entries(dir, 'sql-analysis.json').keys;
    const bound = entries(dir, 'schemas.json').keys;
    expect(analysed.length).toBeGreaterThanOrEqual(3);
    writeFileSync(spec, text.replace(EDIT_FROM, 'WHERE amount > 1'));
    const r = await cli(['plan', 'shop.asg', '--format', 'json'], { cwd: dir });
    expect(r.code).toBe(0);
    // Each analysis done (a miss) adds its entry; hits add nothing: the edited body only.
    expect(entries(dir, 'sql-analysis.json').keys.filter((k) => !analysed.includes(k))).toHaveLength(1);
    // After an edit the edited body is typed by the fast rules (src/sql/fast-types.ts) before the bind
    // cache is asked (b8bf7bf): nothing is bound, so the cache keeps exactly its entries — none added,
    // none pruned as unused (fe77576). That only the edit's downstream is typed again is
    // test/engine/schemas-reuse.test.ts's.
    expect(entries(dir, 'schemas.json').keys.sort()).toEqual([...bound].sort());
  });

  it('a cache written by another build is not read: every body is analysed again', async () => {
    const { dir, spec, text } = workspace();
    expect((await cli(['plan', 'shop.asg', '--format', 'json'], { cwd: dir })).code).toBe(0);
    const before = entries(dir, 'sql-analysis.json');
    // The same entries under another build id, each answer planted: read, they would be served.
    const file = join(dir, '.asgard', 'cache', 'sql-analysis.json');
    const doc = JSON.parse(readFileSync(file, 'utf8')) as { salt: string; entries: Record<string, unknown> };
    const planted = Object.fromEntries(Object.keys(doc.entries).map((k) => [k, { ok: false, message: 'planted', start: 0, end: 1 }]));
    writeFileSync(file, JSON.stringify({ salt: doc.salt.replace(/[^\n]*$/, 'another-build'), entries: planted }));
    // Without the spec cache the edited spec is loaded in full (not patched: src/dsl/patch.ts), every body through the cache.
    rmSync(join(dir, '.asgard', 'cache', 'specs'), { recursive: true, force: true });
    writeFileSync(spec, text.replace(EDIT_FROM, 'WHERE amount > 1'));
    const r = await cli(['plan', 'shop.asg', '--format', 'json'], { cwd: dir });
    expect(r.code, r.stdout).toBe(0);
    const after = entries(dir, 'sql-analysis.json');
    expect(after.salt).toBe(before.salt);
    expect(after.keys.length).toBe(before.keys.length);
  });

  it('a plan after one edit, served by the caches, equals a cold plan of the edited spec', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'asgard-plan-caches-'));
    const spec = join(dir, 'generated.asg');
    const text = generateSpec({ sources: 6, sqlNodes: 30 });
    const at = text.indexOf('WHERE amount > ');
    // The edit adds a line, so every block after it starts one line further down.
    const edited = `${text.slice(0, at)}-- edited\n      WHERE amount > 5 AND ${text.slice(at + 'WHERE '.length)}`;
    const run = async (argv: string[]) => {
      const r = await cli([...argv, 'generated.asg', '--format', 'json'], { cwd: dir });
      expect(r.code, r.stderr).toBe(0);
      return r.stdout;
    };
    writeFileSync(spec, text);
    await run(['plan']);
    const blocks = entries(dir, 'blocks.json').keys.length;
    writeFileSync(spec, edited);
    // Patched from the last checked spec (src/dsl/patch.ts): the block cache is not even read.
    const patched = { plan: await run(['plan']), validate: await run(['validate']) };
    expect(entries(dir, 'blocks.json').keys.length).toBe(blocks);
    // Without the spec cache: the other blocks come from the block cache, whose file then holds the blocks of both texts.
    writeFileSync(spec, text);
    await run(['plan']);
    rmSync(join(dir, '.asgard', 'cache', 'specs'), { recursive: true, force: true });
    writeFileSync(spec, edited);
    const replayed = { plan: await run(['plan']), validate: await run(['validate']) };
    expect(entries(dir, 'blocks.json').keys.length).toBeGreaterThan(blocks);
    rmSync(join(dir, '.asgard'), { recursive: true, force: true });
    expect(await run(['plan'])).toBe(patched.plan);
    expect(await run(['validate'])).toBe(patched.validate);
    expect(replayed).toEqual(patched);
  });

  it('a repeated plan is the last one replayed; a moved state, an edit or a missing snapshot makes it again, equal to a plan without caches', async () => {
    const dir = shopFolder('asgard-plan-memo-');
    const text = SHOP_SPEC;
    writeFileSync(join(dir, 'shop.asg'), text);
    const plan = async () => {
      const r = await cli(['plan', 'shop.asg', '--format', 'json'], { cwd: dir });
      expect(r.code, r.stderr).toBe(0);
      return r.stdout;
    };
    // The same plan made with no cache at all (the state and warehouse stay).
    const uncached = async () => {
      rmSync(join(dir, '.asgard', 'cache'), { recursive: true, force: true });
      return plan();
    };
    const memo = join(dir, '.asgard', 'cache', 'plans', 'shop.asg.json');
    const plant = (node?: string) =>
      editCachedPlan(memo, (actions) => {
        const a = node === undefined ? actions[0] : actions.find((x) => x.node === node)!;
        a.reasons = ['planted'];
      });
    const first = await plan();
    expect(existsSync(memo)).toBe(true);
    // Replayed without even the checked spec (its cache removed): a plan planted under the same key
    // is what the next plan shows.
    rmSync(join(dir, '.asgard', 'cache', 'specs'), { recursive: true, force: true });
    plant();
    expect(await plan()).toContain('"planted"');
    expect(await uncached()).toBe(first);
    // In text, the replayed plan prints what the plan made from the spec prints.
    const textPlan = async () => {
      const r = await cli(['plan', 'shop.asg'], { cwd: dir });
      expect(r.code, r.stderr).toBe(0);
      return `${r.stdout}\n--- stderr\n${r.stderr}`;
    };
    const replayedText = await textPlan();
    rmSync(join(dir, '.asgard', 'cache'), { recursive: true, force: true });
    expect(await textPlan()).toBe(replayedText);

    // The state moved.
    plant();
    const applied = await cli(['apply', 'shop.asg', '--yes'], { cwd: dir });
    expect(applied.code, applied.stderr).toBe(0);
    const noop = await plan();
    expect(noop).not.toContain('planted');
    expect(JSON.parse(noop).summary.noop).toBe(3);
    expect(await uncached()).toBe(noop);

    // A snapshot the state points to is gone from the warehouse.
    plant();
    const state = JSON.parse(readFileSync(join(dir, '.asgard', 'state', 'shop.json'), 'utf8')) as { nodes: Record<string, { snapshot: { path: string } }> };
    rmSync(join(dir, '.asgard', 'warehouse', ...state.nodes['silver.orders_clean'].snapshot.path.split('/')), { recursive: true, force: true });
    const missing = await plan();
    expect(missing).not.toContain('planted');
    expect(missing).toContain('snapshot missing');
    expect(await uncached()).toBe(missing);

    // The spec was edited (the model, whose snapshot is still there): its action is made again, the
    // others are the last plan's (src/planner/plan.ts replannedAfterEdit), a planted one too.
    plant('gold.store_sales');
    writeFileSync(join(dir, 'shop.asg'), text.replace('count(*) AS orders', 'count(order_id) AS orders'));
    const edited = await plan();
    expect(edited).not.toContain('planted');
    expect(edited).toContain('sql changed');
    expect(await uncached()).toBe(edited);
    plant('bronze.orders');
    writeFileSync(join(dir, 'shop.asg'), text.replace('count(*) AS orders', 'count(DISTINCT order_id) AS orders'));
    const kept = JSON.parse(await plan()) as { actions: { node: string; reasons: string[] }[] };
    const source = kept.actions.find((a) => a.node === 'bronze.orders')!;
    expect(source.reasons).toEqual(['planted']);
    source.reasons = (JSON.parse(edited) as typeof kept).actions.find((a) => a.node === 'bronze.orders')!.reasons;
    expect(JSON.stringify(kept)).toBe(JSON.stringify(JSON.parse(await uncached())));
  }, 300_000);

  it('a repeated plan as a process reads neither the checked spec nor loads the parser or DuckDB, and prints the same plan', () => {
    const { dir } = workspace();
    const argv = ['plan', 'shop.asg', '--format', 'json'];
    const first = runLoggingModules(argv, dir);
    expect(first.code, first.stderr).toBe(0);
    // The checked spec's cache removed: a plan made again would parse the spec (chevrotain).
    rmSync(join(dir, '.asgard', 'cache', 'specs'), { recursive: true, force: true });
    const again = runLoggingModules(argv, dir);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toBe(first.stdout);
    expect(loaded(again.packages, ['chevrotain', '@duckdb/node-api', '@polyglot-sql/sdk'])).toEqual([]);
  }, 300_000);
});
