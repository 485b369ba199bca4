// V8's WebAssembly flags for the SQL toolkit, set before it loads. CommonJS (compiled to
// wasm-flags.cjs), for bin/asgard.js and ./code-cache.cts.
//
// Why --liftoff-only: the SQL toolkit (@polyglot-sql/sdk) is a large WebAssembly module. V8 compiles
// it quickly with its baseline compiler, then re-compiles it with TurboFan on background threads,
// and process exit waits for those threads: 10-15 s after a command that transpiled one query, on a
// busy 2-core machine. Baseline code is fast enough for parsing specs; the flag must be set before
// the module is compiled. ASGARD_WASM_TIER_UP=1 leaves the tier-up on.
// Why --wasm-lazy-validation: V8 compiles a function of that module when it is first called, but
// validates all of them (22 MB) when the module loads; a command calls a small part of it. Validated
// on first call instead, loading it and transpiling ten queries cost ~0.3 s of CPU less (under load).
//
// When: only once the toolkit may load. Any V8 flag set at run time changes V8's hash of its flags,
// and V8 then rejects every code cache made under the old hash: Node's own, embedded for its built-in
// modules (each built-in loaded afterwards is compiled from source: ~45 M instructions of a cold
// 1,000-node plan, which never loads the toolkit; bench/plan.md, session 15), and asgard's
// (./code-cache.cts, which keys its data by wasmFlagsKey() for that reason). The bundle's processes
// defer them (bin/asgard.js): the toolkit is an ES module, and the bundle's chunks reach ES modules
// only through ./code-cache.cts importer(), which sets them first. Other entries (dist/cli/main.js,
// the sources under tsx) set them when the process starts (runProcess, ./process.ts).

import { setFlagsFromString } from 'node:v8';

let deferred = false;
let key = '';

/** Sets the flags (once; later calls change nothing). */
export function setWasmFlags(env: Readonly<Record<string, string | undefined>> = process.env): void {
  if (key) return;
  const tierUp = env.ASGARD_WASM_TIER_UP === '1';
  if (!tierUp) setFlagsFromString('--liftoff-only');
  setFlagsFromString('--wasm-lazy-validation');
  key = tierUp ? 'wasm-tierup' : 'wasm';
}

/** The flags wait for the first ES module import (the bundle: ./code-cache.cts importer()). */
export function deferWasmFlags(): void {
  deferred = true;
}

/** A process's start (runProcess): the flags now, unless deferred. */
export function processWasmFlags(env: Readonly<Record<string, string | undefined>> = process.env): void {
  if (!deferred) setWasmFlags(env);
}

/** The flags set so far, as a name part ('' when none): V8's code cache is only good under the flags it was made under. */
export const wasmFlagsKey = (): string => key;
