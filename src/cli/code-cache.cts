// V8's code cache for the bundle's CommonJS chunks (dist/bundle/*.cjs, scripts/bundle-cjs.mjs), kept
// between processes in the user's cache folder. Without it every process compiles the code it runs
// from source: the chunks' top levels when loaded, then each function the first time it is called
// (~11% of a cold 1,000-node plan's main thread, bench/plan.md session 13). Node 20 keeps no compile
// cache for modules (Node 22's module.enableCompileCache), but a script compiled with vm.Script
// takes V8's cached data, and `createCachedData()` after the work holds every function compiled so
// far: a later process starts with that bytecode instead of compiling it again. The cache is of the
// program, not of a spec (like Python's .pyc files): a plan of any spec in a new folder uses it.
//
// bin/asgard.js calls install() before it requires the bundle. A chunk is then compiled here, with
// its cached data when some was kept for this very file (its name, size and modification time) and
// this Node (version, architecture, flags); V8 checks the rest and rejects data it cannot use (the
// chunk is then compiled from source, as without a cache). At exit, each chunk compiled without
// usable data leaves its data for the next process (written to a temporary file and renamed: a
// process never reads a half-written file). Anything that fails here (no cache folder, no space)
// only costs the compilation the cache would have saved.
//
// ASGARD_CODE_CACHE sets the folder (default: $XDG_CACHE_HOME/asgard/code, else ~/.cache/asgard/code:
// ../workspace/cache-paths.cts); ASGARD_CODE_CACHE=off keeps no cache.
//
// A chunk's `import()` (of an ES module: a package, a chunk that stays an ES module) goes through
// importer(): a script compiled here cannot call Node's module loader itself without an experimental
// option that prints a warning. It is also where the SQL toolkit (an ES module) can come in: importer()
// sets V8's WebAssembly flags (./wasm-flags.cts) before the first ES module loads. V8's data holds a
// hash of the flags it was made under, so the data of a chunk compiled after that is kept under
// another name (wasmFlagsKey()), and a chunk compiled before it leaves no data in that process (its
// data would be made under the new flags, and rejected by the next process, which loads the chunk
// before any flag is set).

import Module = require('node:module');
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Script } from 'node:vm';
import { codeCacheFolder } from '../workspace/cache-paths.cjs';
import { setWasmFlags, wasmFlagsKey } from './wasm-flags.cjs';

interface CommonJsModule {
  exports: unknown;
}
type Loader = (module: CommonJsModule, filename: string) => void;
const extensions = (Module as unknown as { _extensions: Record<string, Loader> })._extensions;

/** Kept data older than this (by modification time) is removed when a process writes new data. */
const MAX_AGE_MS = 30 * 24 * 3600 * 1000;

/**
 * The cached data's file for a chunk: its name, size and modification time (a rebuilt chunk gets
 * another file), and the WebAssembly flags set when it is compiled (`flags`: wasmFlagsKey()).
 */
function dataFile(folder: string, filename: string, flags: string): string {
  const st = statSync(filename);
  return join(folder, `${filename.slice(filename.lastIndexOf(sep) + 1)}-${st.size}-${Math.trunc(st.mtimeMs)}${flags && `-${flags}`}.v8`);
}

let installed: string | undefined;

/**
 * Compiles the CommonJS files below `dir` (the bundle's folder) with V8's code cache from now on in
 * this process; other CommonJS files load as before. Returns whether the cache is on.
 */
export function install(dir: string, env: Readonly<Record<string, string | undefined>> = process.env): boolean {
  const folder = codeCacheFolder(env);
  if (!folder || installed) return installed !== undefined;
  installed = folder;
  const prefix = dir.endsWith(sep) ? dir : dir + sep;
  // Node's loader for .js files loads .cjs files too (it has none of its own; adding one would change
  // what an extension-less require() finds).
  const fallback = extensions['.js'];
  const pending: { script: Script; file: string; flags: string }[] = [];
  extensions['.js'] = (module, filename) => {
    if (!filename.startsWith(prefix) || !filename.endsWith('.cjs')) return fallback(module, filename);
    let file: string | undefined;
    let cachedData: Buffer | undefined;
    const flags = wasmFlagsKey();
    try {
      file = dataFile(folder, filename, flags);
      cachedData = readFileSync(file);
    } catch {
      // No data yet (or the chunk cannot be stat'ed: the read below reports it).
    }
    const source = readFileSync(filename, 'utf8');
    // The wrapper on a line of its own: the chunk's lines and columns are the file's.
    const script = new Script(`(function (exports, require, module, __filename, __dirname) {\n${source}\n})`, {
      filename,
      lineOffset: -1,
      cachedData,
    });
    if (file && (!cachedData || script.cachedDataRejected)) pending.push({ script, file, flags });
    const run = script.runInThisContext() as (...args: unknown[]) => void;
    run.call(module.exports, module.exports, Module.createRequire(filename), module, filename, dirname(filename));
  };
  process.once('exit', () => save(folder, pending));
  return true;
}

/**
 * Writes each script's cached data (what V8 compiled of it by now) when the flags are still those it
 * was compiled under; old files are removed when some were written.
 */
function save(folder: string, pending: readonly { script: Script; file: string; flags: string }[]): void {
  const flags = wasmFlagsKey();
  const kept = pending.filter((p) => p.flags === flags);
  if (kept.length === 0) return;
  try {
    mkdirSync(folder, { recursive: true });
    for (const { script, file } of kept) {
      const tmp = `${file}.${process.pid}.tmp`;
      writeFileSync(tmp, script.createCachedData());
      renameSync(tmp, file);
    }
    const old = Date.now() - MAX_AGE_MS;
    for (const name of readdirSync(folder)) {
      const p = join(folder, name);
      if (statSync(p).mtimeMs < old) rmSync(p, { force: true });
    }
  } catch {
    // A cache that cannot be written costs only the compilations it would have saved.
  }
}

/**
 * The `import()` of a chunk at `filename` (the bundle's chunks call it where their ES module source
 * had `import(specifier)`): a CommonJS file (.cjs, a chunk or one of asgard's CommonJS modules) or a
 * Node built-in by require(), as an ES module sees it (its exports, and the built-in's as `default`);
 * anything else by Node's ES module loader, relative specifiers from the chunk's own place, once
 * the WebAssembly flags are set (the SQL toolkit, or an ES module chunk that imports it).
 */
export function importer(filename: string): (specifier: string) => Promise<unknown> {
  const req = Module.createRequire(filename);
  const base = pathToFileURL(filename);
  return (specifier) => {
    if (specifier.endsWith('.cjs')) return Promise.resolve().then(() => req(specifier));
    if (specifier.startsWith('node:')) return Promise.resolve().then(() => builtinNamespace(req(specifier)));
    setWasmFlags();
    return import(specifier.startsWith('.') ? new URL(specifier, base).href : specifier);
  };
}

/**
 * A built-in module as `import()` gives it: its exports and `default`. Each name reads the export
 * when it is read: some exports are getters that load more of Node (Node 24's `http.WebSocket` and
 * its siblings load undici, ~20 ms), and a copy of them all would call every one of them.
 */
function builtinNamespace(exports: Record<string, unknown>): Record<string, unknown> {
  const ns: Record<string, unknown> = { default: exports };
  for (const key of Object.keys(exports)) if (key !== 'default') Object.defineProperty(ns, key, { enumerable: true, get: () => exports[key] });
  return ns;
}
