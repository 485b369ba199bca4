// V8's WebAssembly flags of every asgard process, set before any of asgard's code is compiled: V8's
// code cache (./code-cache.cts) holds a hash of the flags its data was made under and rejects it under
// others, so flags set after the first chunk is compiled would make every process reject the data
// the process before it kept. bin/asgard.js sets them before it loads the bundle, runProcess
// (./process.ts) again for the unbundled entries (setting a flag to the value it has changes nothing).
// CommonJS (compiled to wasm-flags.cjs), for bin/asgard.js.
//
// Why --liftoff-only: the SQL toolkit (@polyglot-sql/sdk) is a large WebAssembly module. V8 compiles
// it quickly with its baseline compiler, then re-compiles it with TurboFan on background threads,
// and process exit waits for those threads: 10-15 s after a command that transpiled one query, on a
// busy 2-core machine. Baseline code is fast enough for parsing specs; the flag must be set before
// the module is compiled. ASGARD_WASM_TIER_UP=1 leaves the tier-up on.
// Why --wasm-lazy-validation: V8 compiles a function of that module when it is first called, but
// validates all of them (22 MB) when the module loads; a command calls a small part of it. Validated
// on first call instead, loading it and transpiling ten queries cost ~0.3 s of CPU less (under load).

import { setFlagsFromString } from 'node:v8';

export function setWasmFlags(env: Readonly<Record<string, string | undefined>> = process.env): void {
  if (env.ASGARD_WASM_TIER_UP !== '1') setFlagsFromString('--liftoff-only');
  setFlagsFromString('--wasm-lazy-validation');
}
