// What a plan re-does (issue #16, plans at scale): a plan of an unchanged spec loads neither the SQL
// toolkit nor DuckDB (it is served by the spec cache); a plan after one edited SQL body analyses and
// binds that body only (the per-node caches in the state folder, keyed by content); and a cache
// written by another build (another build id) is never read.
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { cli, repoRoot } from './helpers.js';
import { generateSpec } from '../../bench/gen-spec.js';

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

const entries = (dir: string, file: string): { salt: string; keys: string[] } => {
  const doc = JSON.parse(readFileSync(join(dir, '.asgard', 'cache', file), 'utf8')) as { salt: string; entries: Record<string, unknown> };
  return { salt: doc.salt, keys: Object.keys(doc.entries) };
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
    expect(warm.some((u) => u.includes('/src/cli/') || u.includes('/dist/cli/'))).toBe(true); // the log works
    expect(warm.filter((u) => u.includes('@polyglot-sql') || u.includes('@duckdb'))).toEqual([]);
    writeFileSync(spec, text.replace(EDIT_FROM, 'WHERE amount > 1'));
    const edited = planProcess(dir);
    // The edited body is analysed and typed again (the next test counts the cache entries), without
    // polyglot or DuckDB: every body of this spec is in the fast analyser's subset (src/sql/fast-analyze.ts)
    // and typed by its rules (src/sql/fast-types.ts).
    expect(edited.filter((u) => u.includes('@polyglot-sql') || u.includes('@duckdb'))).toEqual([]);
  }, 300_000);

  it('a plan after one edited SQL body analyses and types that body only', async () => {
    const { dir, spec, text } = workspace();
    expect((await cli(['plan', 'shop.asg', '--format', 'json'], { cwd: dir })).code).toBe(0);
    const analysed = entries(dir, 'sql-analysis.json').keys;
    const bound = entries(dir, 'schemas.json').keys;
    expect(analysed.length).toBeGreaterThanOrEqual(3);
    writeFileSync(spec, text.replace(EDIT_FROM, 'WHERE amount > 1'));
    const r = await cli(['plan', 'shop.asg', '--format', 'json'], { cwd: dir });
    expect(r.code).toBe(0);
    // Each analysis or binding done (a miss) adds its entry; hits add nothing.
    expect(entries(dir, 'sql-analysis.json').keys.filter((k) => !analysed.includes(k))).toHaveLength(1);
    expect(entries(dir, 'schemas.json').keys.filter((k) => !bound.includes(k))).toHaveLength(1);
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
    writeFileSync(spec, edited);
    const warm = { plan: await run(['plan']), validate: await run(['validate']) };
    // The other blocks came from the block cache: its file holds the blocks of both texts.
    expect(entries(dir, 'blocks.json').keys.length).toBeGreaterThan(30);
    rmSync(join(dir, '.asgard'), { recursive: true, force: true });
    expect(await run(['plan'])).toBe(warm.plan);
    expect(await run(['validate'])).toBe(warm.validate);
  });
});
