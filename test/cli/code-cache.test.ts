// The bundle's chunks as CommonJS (scripts/bundle-cjs.mjs) and V8's code cache they load with
// (src/cli/code-cache.cts): which chunks can be CommonJS, what a converted chunk does, and that a
// process keeps the data a later one uses, replaces data V8 rejects, and keeps none when told not to.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as esbuild from 'esbuild';
import { afterAll, describe, expect, it } from 'vitest';
import { chunkAsCommonJs, commonJsOutputs, renameChunkImports } from '../../scripts/bundle-cjs.mjs';
import { repoRoot } from './helpers.js';
import { generateSpec } from '../../bench/gen-spec.js';

type Outputs = Record<string, { imports: { path: string; kind: string; external?: boolean }[] }>;
const outputsOf = commonJsOutputs as (outputs: Outputs, keepEsm: string[], cjs: (path: string) => boolean) => Set<string>;
const convert = chunkAsCommonJs as (e: typeof esbuild, code: string, codeCache: string) => Promise<string>;
const codeCacheModule = join(repoRoot, 'dist', 'cli', 'code-cache.cjs');

const dirs: string[] = [];
const tempDir = (prefix: string) => {
  const d = mkdtempSync(join(tmpdir(), prefix));
  dirs.push(d);
  return d;
};
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('bundle: which chunks are CommonJS', () => {
  const imp = (path: string, kind = 'import-statement', external = false) => ({ path, kind, external });
  it('a chunk stays an ES module when it, or a chunk it imports statically, imports an ES module or must stay one', () => {
    const outputs: Outputs = {
      'b/main.js': { imports: [imp('b/a.js', 'dynamic-import'), imp('b/e.js', 'dynamic-import')] },
      'b/a.js': { imports: [imp('b/c.js'), imp('node:fs', 'import-statement', true), imp('../cli/x.cjs', 'import-statement', true)] },
      'b/c.js': { imports: [imp('cjs-pkg', 'import-statement', true), imp('b/e.js', 'dynamic-import')] },
      'b/e.js': { imports: [imp('b/f.js')] },
      'b/f.js': { imports: [imp('esm-pkg', 'import-statement', true)] },
      'b/g.js': { imports: [imp('b/h.js')] },
      'b/h.js': { imports: [] },
      'b/entry.js': { imports: [imp('b/c.js')] },
      'b/map.js.map': { imports: [] },
    };
    const cjs = outputsOf(outputs, ['b/h.js', 'b/entry.js'], (p) => p !== 'esm-pkg');
    // e imports f (an ES module package) statically; g imports h, kept; a dynamic import decides nothing.
    expect([...cjs].sort()).toEqual(['b/a.js', 'b/c.js', 'b/main.js']);
  });

  it('renames the imports of the chunks made CommonJS only', () => {
    expect(renameChunkImports('import{a}from"./chunk-A.js";import("./chunk-B.js");const s="./chunk-A.jsx";', new Set(['chunk-A.js']))).toBe(
      'import{a}from"./chunk-A.cjs";import("./chunk-B.js");const s="./chunk-A.jsx";',
    );
  });
});

describe('bundle: a chunk converted to CommonJS', () => {
  it('keeps its exports live, imports CommonJS by require() and ES modules by import(), and knows its own URL', async () => {
    const dir = tempDir('asgard-cjs-chunk-');
    mkdirSync(join(dir, 'b'));
    writeFileSync(join(dir, 'esm.mjs'), 'export const kind = "esm";\n');
    writeFileSync(join(dir, 'b', 'dep.cjs'), 'exports.twice = (x) => 2 * x;\n');
    const code = [
      'import{twice}from"./dep.cjs";',
      'let n=0;function bump(){n++;return n}',
      'const here=import.meta.url;',
      'async function load(){const e=await import("../esm.mjs");const d=await import("./dep.cjs");const os=await import("node:os");return[e.kind,d.twice(4),typeof os.default.cpus,typeof os.cpus]}',
      'function strict(){return (function(){return this})()===undefined}',
      'export{bump,n,here,load,twice,strict};',
    ].join('');
    writeFileSync(join(dir, 'b', 'chunk.cjs'), await convert(esbuild, code, codeCacheModule));
    writeFileSync(
      join(dir, 'run.cjs'),
      'const c=require("./b/chunk.cjs");c.bump();c.bump();c.load().then((l)=>console.log(JSON.stringify([c.n,c.here,c.twice(3),c.strict(),l])));\n',
    );
    const r = spawnSync(process.execPath, [join(dir, 'run.cjs')], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toEqual([2, `file://${join(dir, 'b', 'chunk.cjs')}`, 6, true, ['esm', 8, 'function', 'function']]);
  });

  it('fails on text that looks like an import() it cannot tell from one', async () => {
    await expect(convert(esbuild, 'const s=\'import("x")\';export{s};', codeCacheModule)).rejects.toThrow(/0 import\(\) calls in a chunk, 1 converted/);
    await expect(convert(esbuild, 'const d=import.meta.dirname;export{d};', codeCacheModule)).rejects.toThrow(/import\.meta beyond/);
  });
});

describe('V8 code cache of the bundle (asgard processes)', () => {
  const cached = (folder: string) =>
    readdirSync(folder, { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile())
      .map((e) => join(e.parentPath, e.name));
  const plan = (dir: string, cache: string, state: string) =>
    spawnSync(process.execPath, [join(repoRoot, 'bin', 'asgard.js'), 'plan', 'a.asg', '--state', state, '--format', 'json'], {
      cwd: dir,
      encoding: 'utf8',
      env: { ...process.env, ASGARD_CODE_CACHE: cache },
    });

  it('a first process keeps the data of each chunk it loaded, a later one uses it (rewrites nothing) and plans the same; rejected data is replaced', () => {
    const dir = tempDir('asgard-code-cache-');
    const cache = join(dir, 'code');
    writeFileSync(join(dir, 'a.asg'), generateSpec({ sources: 2, sqlNodes: 6 }));
    const first = plan(dir, cache, 's1');
    expect(first.status, first.stderr).toBe(0);
    const files = cached(cache);
    expect(
      files.some((f) => /\/main\.cjs-\d+-\d+\.v8$/.test(f)),
      'no data for the bundle: run npm run build',
    ).toBe(true);
    expect(files.some((f) => /\/chunk-\w+\.cjs-\d+-\d+\.v8$/.test(f))).toBe(true);
    const times = new Map(files.map((f) => [f, statSync(f).mtimeMs]));

    // A new state: the plan is made again (not replayed), with the kept data.
    const second = plan(dir, cache, 's2');
    expect(second.status, second.stderr).toBe(0);
    expect(second.stdout).toBe(first.stdout);
    expect(cached(cache)).toEqual(files);
    for (const f of files) expect(statSync(f).mtimeMs, f).toBe(times.get(f));

    // Data V8 rejects (here cut short) is compiled from source and replaced.
    const main = files.find((f) => /\/main\.cjs-/.test(f)) as string;
    const good = readFileSync(main);
    writeFileSync(main, good.subarray(0, 64));
    const third = plan(dir, cache, 's3');
    expect(third.status, third.stderr).toBe(0);
    expect(third.stdout).toBe(first.stdout);
    expect(readFileSync(main).length).toBeGreaterThan(64);
  });

  it('ASGARD_CODE_CACHE=off keeps none', () => {
    const dir = tempDir('asgard-code-cache-off-');
    writeFileSync(join(dir, 'a.asg'), generateSpec({ sources: 2, sqlNodes: 6 }));
    const r = spawnSync(process.execPath, [join(repoRoot, 'bin', 'asgard.js'), 'plan', 'a.asg', '--format', 'json'], {
      cwd: dir,
      encoding: 'utf8',
      env: { ...process.env, ASGARD_CODE_CACHE: 'off', XDG_CACHE_HOME: join(dir, 'xdg'), HOME: dir },
    });
    expect(r.status, r.stderr).toBe(0);
    expect(readdirSync(dir).sort()).toEqual(['.asgard', 'a.asg']);
  });
});
