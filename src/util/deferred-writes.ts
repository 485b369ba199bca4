// Cache writes deferred to the end of a command, so that an entry completed in two steps (a spec's
// checked IR, then its schemas: src/cli/spec-cache.ts) is written once, whole. runCli
// (src/cli/run.ts) runs them when a command returns; the process's exit runs any left (a program
// that loads a spec outside runCli). A failed write is the cache's own business (it never throws).

// One list per process, not per copy of this module: a command whose modules were loaded twice (a
// test's vi.resetModules, then the command's dynamic imports) still writes what either copy deferred.
const KEY = Symbol.for('asgard.deferredWrites');
const shared = globalThis as { [KEY]?: { readonly writes: Set<() => void>; onExit: boolean } };
const state = (shared[KEY] ??= { writes: new Set(), onExit: false });
const writes = state.writes;

/** Run `write` when the command ends (once, however often it is deferred before then). */
export function deferWrite(write: () => void): void {
  writes.add(write);
  if (!state.onExit) {
    state.onExit = true;
    process.once('exit', runDeferredWrites);
  }
}

export function runDeferredWrites(): void {
  for (const w of [...writes]) {
    writes.delete(w);
    w();
  }
}
