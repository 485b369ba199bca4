// The workspace owns every location (src/workspace/workspace.ts): `--state DIR` moves every cache
// with the state, and every cache is salted with the build id, so another build never reads them.
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cachedSpec } from '../../src/cli/spec-cache.js';
import { inferSchemas, loadSpec } from '../../src/cli/spec.js';
import { Workspace } from '../../src/workspace/workspace.js';
import { buildId, buildIdOf, buildParts, codeMemoOf, rememberBesideCode } from '../../src/workspace/build-id.js';
import { cli, repoRoot } from '../cli/helpers.js';

const shop = join(__dirname, '..', 'planner', 'cases', 'sql-edit-cascades', 'base.asg');
const tmp = (p: string) => mkdtempSync(join(tmpdir(), p));

/** Every file below `dir`, relative, sorted. */
function tree(dir: string, prefix = ''): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? tree(join(dir, e.name), `${prefix}${e.name}/`) : [`${prefix}${e.name}`]))
    .sort();
}

describe('--state', () => {
  it('is honoured by every cache: nothing is written beside the spec or in a user cache folder', async () => {
    const dir = tmp('asg-ws-spec-');
    const state = join(tmp('asg-ws-state-'), 'st');
    const userCache = tmp('asg-ws-usercache-');
    copyFileSync(shop, join(dir, 'shop.asg'));
    copyFileSync(join(repoRoot, 'pipelines', 'churn.asg'), join(dir, 'churn.asg'));
    const env = { ASGARD_CACHE_DIR: userCache, HOME: userCache, PATH: process.env.PATH };
    for (const args of [
      ['validate', 'shop.asg'],
      ['plan', 'shop.asg', '--format', 'json'],
      ['lineage', 'shop.asg', 'gold.revenue.revenue'],
      ['compile', 'churn.asg', '--profile', 'kubernetes', '--out', join(dir, 'out')],
    ]) {
      const r = await cli([...args, '--state', state], { cwd: dir, env });
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBeLessThanOrEqual(2);
    }
    expect(existsSync(join(dir, '.asgard'))).toBe(false);
    expect(tree(userCache)).toEqual([]);
    const files = tree(state);
    for (const f of ['cache/specs/shop.asg.json', 'cache/specs/churn.asg.json', 'cache/sql-analysis.json', 'cache/schemas.json', 'cache/compile-sql.json'])
      expect(files).toContain(f);
  }, 120_000);
});

describe('build id', () => {
  it('names the parser, SQL toolkit, DuckDB and asgard versions and the code', () => {
    const parts = buildParts();
    for (const tool of ['asgard', 'chevrotain', '@polyglot-sql/sdk', '@duckdb/node-api']) {
      const line = parts.find((p) => p.startsWith(`${tool}: `));
      expect(line, tool).toMatch(/: \d+\.\d+/);
    }
    expect(parts.some((p) => p.includes('workspace/workspace.'))).toBe(true);
    expect(buildId()).toMatch(/^[0-9a-f]{64}$/);
  });

  it("is remembered under the code files' sizes and times, and hashed again when one changes", () => {
    const code = join(tmp('asg-build-id-'), 'dist');
    mkdirSync(join(code, 'sub'), { recursive: true });
    writeFileSync(join(code, 'a.js'), 'export const a = 1;\n');
    writeFileSync(join(code, 'sub', 'b.js'), 'export const b = 2;\n');
    const memoFile = join(code, '..', 'cache', 'build-id.json');
    const first = buildIdOf(code, memoFile);
    expect(first).toBe(buildIdOf(code)); // the memo changes nothing but speed
    // Unchanged files: the memo answers (a planted id proves the files were not hashed again).
    const memo = JSON.parse(readFileSync(memoFile, 'utf8')) as { tree: unknown; id: string };
    writeFileSync(memoFile, JSON.stringify({ ...memo, id: 'planted' }));
    expect(buildIdOf(code, memoFile)).toBe('planted');
    // Same size, new content and time: hashed again, and the new id is remembered.
    writeFileSync(join(code, 'sub', 'b.js'), 'export const b = 3;\n');
    utimesSync(join(code, 'sub', 'b.js'), new Date(2001, 1, 1), new Date(2001, 1, 1));
    const second = buildIdOf(code, memoFile);
    expect(second).not.toBe(first);
    expect(second).toBe(buildIdOf(code));
    expect(buildIdOf(code, memoFile)).toBe(second);
    // A new file changes it too, and so does its removal (a folder's names, not its time: the same clock tick).
    writeFileSync(join(code, 'c.ts'), 'export {};\n');
    const third = buildIdOf(code, memoFile);
    expect(third).not.toBe(second);
    rmSync(join(code, 'c.ts'));
    expect(buildIdOf(code, memoFile)).toBe(second);
    // A new folder of code, whatever its files' times.
    mkdirSync(join(code, 'sub', 'deeper'));
    writeFileSync(join(code, 'sub', 'deeper', 'd.js'), 'export const d = 4;\n');
    utimesSync(join(code, 'sub', 'deeper', 'd.js'), new Date(2001, 1, 1), new Date(2001, 1, 1));
    expect(buildIdOf(code, memoFile)).not.toBe(second);
  });

  it('is remembered beside built code by the build, so a new workspace does not hash the files again', () => {
    const code = join(tmp('asg-build-id-'), 'dist');
    mkdirSync(code, { recursive: true });
    writeFileSync(join(code, 'a.js'), 'export const a = 1;\n');
    const codeMemo = codeMemoOf(code);
    expect(codeMemo).toBe(join(code, '.build-id.json'));
    expect(codeMemoOf(join(code, '..', 'src'))).toBeUndefined();
    const first = rememberBesideCode(code);
    expect(first).toBe(buildIdOf(code));
    // A new workspace is answered by the memo beside the code (a planted id proves it), and remembers it.
    const memo = JSON.parse(readFileSync(codeMemo!, 'utf8')) as { id: string };
    writeFileSync(codeMemo!, JSON.stringify({ ...memo, id: 'planted' }));
    const ws = join(code, '..', 'ws', 'build-id.json');
    expect(buildIdOf(code, ws, codeMemo)).toBe('planted');
    expect(JSON.parse(readFileSync(ws, 'utf8')).id).toBe('planted');
    // A changed file: hashed again; the memo beside the code is only read.
    writeFileSync(join(code, 'a.js'), 'export const a = 22;\n');
    const second = buildIdOf(code, join(code, '..', 'ws2', 'build-id.json'), codeMemo);
    expect(second).toBe(buildIdOf(code));
    expect(second).not.toBe(first);
    expect(JSON.parse(readFileSync(codeMemo!, 'utf8')).id).toBe('planted');
  });

  it('a schema cache written by another build is not served', async () => {
    const dir = tmp('asg-ws-build-');
    const file = join(dir, 'shop.asg');
    copyFileSync(shop, file);
    const spec = await loadSpec('shop.asg', dir);
    const ir = spec.ir!;
    const at = (build: string) => Workspace.open(file, { buildId: build });
    // No spec text: only the bound-schema cache is used, not the spec's compile cache.
    const first = await inferSchemas(ir, undefined, { file, workspace: at('build-a') });
    const cacheFile = join(dir, '.asgard', 'cache', 'schemas.json');
    const doc = JSON.parse(readFileSync(cacheFile, 'utf8')) as { salt: string; entries: Record<string, unknown> };
    expect(doc.salt).toBe('build-a');
    expect(Object.keys(doc.entries).length).toBeGreaterThan(0);
    // Play what an old transpiler or DuckDB would have left: other columns under the same keys.
    const stale = [{ name: 'stale_column', type: 'INTEGER' }];
    for (const k of Object.keys(doc.entries)) doc.entries[k] = stale;
    writeFileSync(cacheFile, JSON.stringify(doc));
    const sameBuild = await inferSchemas(ir, undefined, { file, workspace: at('build-a') });
    expect(sameBuild.schemas?.get('silver.customers_clean')).toEqual(stale);
    const newBuild = await inferSchemas(ir, undefined, { file, workspace: at('build-b') });
    expect(newBuild.schemas?.get('silver.customers_clean')).toEqual(first.schemas?.get('silver.customers_clean'));
    expect(newBuild.schemas?.get('silver.customers_clean')).not.toEqual(stale);
  });

  it('the spec compile cache of another build is not served', async () => {
    const dir = tmp('asg-ws-build-');
    const file = join(dir, 'shop.asg');
    copyFileSync(shop, file);
    const text = readFileSync(file, 'utf8');
    mkdirSync(join(dir, '.asgard'), { recursive: true });
    await loadSpec('shop.asg', dir);
    expect(cachedSpec(file, text)?.ir?.name).toBe('shop');
    expect(cachedSpec(file, text, Workspace.open(file, { buildId: 'another-build' }).caches)).toBeUndefined();
  });
});
