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

  // Any V8 flag set at run time makes V8 reject the code cache made under the flags before it, Node's
  // own for its built-ins included (src/cli/wasm-flags.cts): the WebAssembly flags wait for the SQL
  // toolkit. A preload logs each flag set and each WebAssembly compile.
  const withFlagLog = (dir: string, cache: string, argv: string[]) => {
    const log = join(dir, `flags-${argv[0]}.txt`);
    const hook = join(dir, 'flag-log.cjs');
    writeFileSync(
      hook,
      `const fs = require('node:fs'), v8 = require('node:v8'), log = (s) => fs.appendFileSync(${JSON.stringify(log)}, s + '\\n');
const set = v8.setFlagsFromString;
v8.setFlagsFromString = (f) => { log('flag ' + f); return set(f); };
for (const k of ['compile', 'instantiate', 'compileStreaming', 'instantiateStreaming']) { const f = WebAssembly[k]; WebAssembly[k] = (...a) => { log('wasm'); return f(...a); }; }
`,
    );
    writeFileSync(log, '');
    const r = spawnSync(process.execPath, ['-r', hook, join(repoRoot, 'bin', 'asgard.js'), ...argv], {
      cwd: dir,
      encoding: 'utf8',
      env: { ...process.env, ASGARD_CODE_CACHE: cache },
    });
    return { ...r, log: readFileSync(log, 'utf8').split('\n').filter(Boolean) };
  };

  // A spec `compile` can compile (its dbt project's SQL is laid out by the SQL toolkit).
  const compilable = () =>
    generateSpec({ sources: 2, sqlNodes: 6 }).replace(
      /\}\s*$/,
      '  profile kubernetes {\n    namespace = "asgard"\n    image = "ghcr.io/asgard-data/asgard:0.1.0"\n    spark_image = "apache/spark:4.0.1-python3"\n    spark_version = "4.0.1"\n    warehouse = "s3a://bucket/warehouse"\n  }\n}\n',
    );
  const compileArgs = (dir: string) => ['compile', 'a.asg', '--out', join(dir, 'out'), '--profile', 'kubernetes'];

  it('a plan of SQL the fast path reads sets no V8 flag; a command that loads the SQL toolkit sets them before compiling it', () => {
    const dir = tempDir('asgard-wasm-flags-');
    const cache = join(dir, 'code');
    writeFileSync(join(dir, 'a.asg'), compilable());
    const plan = withFlagLog(dir, cache, ['plan', 'a.asg', '--format', 'json']);
    expect(plan.status, plan.stderr).toBe(0);
    expect(plan.log).toEqual([]);
    const compile = withFlagLog(dir, cache, compileArgs(dir));
    expect(compile.status, compile.stderr).toBe(0);
    expect(compile.log[0]).toBe('flag --liftoff-only');
    expect(compile.log[1]).toBe('flag --wasm-lazy-validation');
    expect(compile.log.slice(2)).toContain('wasm');
  });

  it('processes with and without the WebAssembly flags do not replace each other’s data', () => {
    const dir = tempDir('asgard-code-cache-flags-');
    const cache = join(dir, 'code');
    writeFileSync(join(dir, 'a.asg'), compilable());
    const compile = () => {
      const r = spawnSync(process.execPath, [join(repoRoot, 'bin', 'asgard.js'), ...compileArgs(dir)], {
        cwd: dir,
        encoding: 'utf8',
        env: { ...process.env, ASGARD_CODE_CACHE: cache },
      });
      expect(r.status, r.stderr).toBe(0);
    };
    expect(plan(dir, cache, 's1').status).toBe(0);
    compile();
    const times = () => new Map(cached(cache).map((f) => [f, statSync(f).mtimeMs]));
    const before = times();
    // Each kind of process again: each finds its data (V8 accepts it) and rewrites nothing.
    expect(plan(dir, cache, 's2').status).toBe(0);
    compile();
    expect(times()).toEqual(before);
    // The chunks compiled after the flags were set keep their data apart.
    expect([...before.keys()].some((f) => /-wasm\.v8$/.test(f))).toBe(true);
  });

  it('a built-in imported through importer() reads each export when it is read, not all of them at once', () => {
    // node:fs's `promises` is a getter that loads Node's fs/promises module (Node 24's node:http has
    // such getters that load undici): a namespace made by copying every export called each getter.
    const script = `const ns = require(${JSON.stringify(codeCacheModule)}).importer(__filename);
const loaded = () => process.moduleLoadList.includes('NativeModule internal/fs/promises');
ns('node:fs').then((fs) => {
  const before = loaded();
  const works = typeof fs.readFileSync === 'function' && fs.default === require('node:fs') && Object.keys(fs).includes('promises');
  const promises = typeof fs.promises.readFile === 'function';
  process.stdout.write(JSON.stringify({ before, works, promises, after: loaded() }));
});`;
    const file = join(tempDir('asgard-importer-'), 'import-fs.cjs');
    writeFileSync(file, script);
    const r = spawnSync(process.execPath, [file], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ before: false, works: true, promises: true, after: true });
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
