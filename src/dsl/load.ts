// The dsl's entry points with the SQL toolkit loaded up front, for synchronous callers (tests,
// tools). The commands load specs through src/dsl/load-lazy.ts, which loads the toolkit only when
// a SQL body outside the fast path's subset needs it (src/sql/fast-analyze.ts).

import '../sql/transpile.js';

export * from './load-core.js';
