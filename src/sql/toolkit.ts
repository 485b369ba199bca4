// The SQL toolkit (@polyglot-sql/sdk, a 22 MB WebAssembly module: ~0.5 s of CPU to load) for the
// modules a plan may or may not need (derived maintenance, SQL diffs, column lineage). They take it
// from here instead of importing it, so a plan whose nodes did not change never loads it:
// `makePlan` (src/cli/planning.ts) awaits `loadSqlToolkit()` only when some node changed, and every
// other command path awaits it before using them. Modules that always need the toolkit (the SQL
// analysis, the transpiler) import it directly and hand it over here, so it is never loaded twice.

import type * as Polyglot from '@polyglot-sql/sdk';

/** The dialect users write SQL bodies in. */
export const SQL_DIALECT = 'spark';

export type SqlToolkit = typeof Polyglot;

let toolkit: SqlToolkit | undefined;
let loading: Promise<SqlToolkit> | undefined;

/** Loads the toolkit (once per process). */
export function loadSqlToolkit(): Promise<SqlToolkit> {
  if (toolkit) return Promise.resolve(toolkit);
  return (loading ??= import('@polyglot-sql/sdk').then((m) => (toolkit = m)));
}

/** A module that imported the toolkit statically hands it over. */
export function provideSqlToolkit(m: SqlToolkit): void {
  toolkit ??= m;
}

/** Whether this process has loaded the toolkit (tests check that a plan did not). */
export const sqlToolkitLoaded = (): boolean => toolkit !== undefined;

/** The loaded toolkit; calling this before `loadSqlToolkit()` resolved is a bug in the caller. */
export function sqlToolkit(): SqlToolkit {
  if (!toolkit) throw new Error('internal error: the SQL toolkit is used before it was loaded (await loadSqlToolkit() first)');
  return toolkit;
}
