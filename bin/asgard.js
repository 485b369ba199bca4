#!/usr/bin/env node
// The `asgard` command: runs the compiled CLI (npm ci builds dist/ via `prepare`), or the
// TypeScript sources through tsx when dist/ is missing or older than a source file (a checkout
// being edited), so the command never runs stale code.
//
// CommonJS (bin/package.json): a repeated `asgard plan` is answered from its record here
// (dist/cli/plan-replay.cjs, CommonJS too) before Node's ES module loader starts, which cost a
// replayed plan more than its own work (bench/plan.md, session 10).
'use strict';
const { existsSync, readdirSync, statSync } = require('node:fs');
const { join, sep } = require('node:path');
const { pathToFileURL } = require('node:url');

const root = join(__dirname, '..');
const dist = join(root, 'dist', 'cli');
const built = join(dist, 'main.js');
// The same modules bundled (scripts/bundle-packages.mjs, after tsc): used when made after them (a
// tsc alone leaves an older bundle, which must not run). Its entry is CommonJS, loaded with V8's code
// cache (src/cli/code-cache.cts).
const bundleDir = join(root, 'dist', 'bundle');
const bundled = join(bundleDir, 'main.cjs');
const bundleFresh = () => existsSync(bundled) && statSync(bundled).mtimeMs >= statSync(built).mtimeMs;
function runBundle() {
  // V8's WebAssembly flags wait until the bundle imports an ES module (the SQL toolkit can be one):
  // a flag set now would make V8 reject Node's code cache of its built-ins (src/cli/wasm-flags.cts).
  require(join(dist, 'wasm-flags.cjs')).deferWasmFlags();
  require(join(dist, 'code-cache.cjs')).install(bundleDir);
  require(bundled);
}

// Paths joined by hand: path.join normalises each one, which cost this walk about half its CPU.
function newestSource(dir) {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = dir + sep + e.name;
    newest = Math.max(newest, e.isDirectory() ? newestSource(p) : statSync(p).mtimeMs);
  }
  return newest;
}

const src = join(root, 'src');
if (existsSync(built) && (!existsSync(src) || statSync(built).mtimeMs >= newestSource(src))) {
  if (process.argv[2] !== 'plan' || !require(join(dist, 'plan-replay.cjs')).replayProcess()) {
    if (bundleFresh()) runBundle();
    else import(pathToFileURL(built).href);
  }
} else {
  // Both of tsx's loaders: the CommonJS modules (src/**/*.cts) require each other.
  require('tsx/cjs/api').register();
  import('tsx/esm/api').then(({ register }) => {
    register();
    return import(pathToFileURL(join(src, 'cli', 'main.ts')).href);
  });
}
