// The SQL toolkit (@polyglot-sql/sdk, a 22 MB WebAssembly module: ~0.5 s of CPU to load) for the
// modules a plan may or may not need (the SQL analysis of bodies outside the fast path's subset,
// derived maintenance, SQL diffs, column lineage). They take it from here instead of importing it,
// so a plan whose nodes did not change, or whose changed bodies are all in the subset
// (src/sql/fast-analyze.ts), never loads it: `loadSpec` (src/cli/spec.ts) loads it only when the
// analysis asks (SqlToolkitNotLoaded), `makePlan` (src/cli/planning.ts) only when some node changed,
// and every other command path awaits it before using them. The transpiler imports it directly and
// hands it over here, so it is never loaded twice.

import type * as Polyglot from '@polyglot-sql/sdk';

/** The dialect users write SQL bodies in. */
export const SQL_DIALECT = 'spark';

export type SqlToolkit = typeof Polyglot;

let toolkit: SqlToolkit | undefined;
let loading: Promise<SqlToolkit> | undefined;

/** Loads the toolkit (once per process), with the transpiler that renders bodies for binding. */
export function loadSqlToolkit(): Promise<SqlToolkit> {
  if (toolkit) return Promise.resolve(toolkit);
  return (loading ??= import('./transpile.js').then(() => import('@polyglot-sql/sdk')).then((m) => (toolkit ??= m)));
}

/** Thrown by `sqlToolkit()` before the toolkit is loaded: a synchronous caller that can wait loads it and tries again. */
export class SqlToolkitNotLoaded extends Error {
  constructor() {
    super('internal error: the SQL toolkit is used before it was loaded (await loadSqlToolkit() first)');
  }
}

/** A module that imported the toolkit statically hands it over. */
export function provideSqlToolkit(m: SqlToolkit): void {
  toolkit ??= m;
}

/** Whether this process has loaded the toolkit (tests check that a plan did not). */
export const sqlToolkitLoaded = (): boolean => toolkit !== undefined;

/** The loaded toolkit; calling this before `loadSqlToolkit()` resolved is a bug in the caller. */
export function sqlToolkit(): SqlToolkit {
  if (!toolkit) throw new SqlToolkitNotLoaded();
  return toolkit;
}
