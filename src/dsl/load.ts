// The dsl's entry points with the SQL toolkit and the reference parser loaded up front, for
// synchronous callers (tests, tools). The commands load specs through src/dsl/load-lazy.ts, which
// loads the toolkit only when a SQL body outside the fast path's subset needs it
// (src/sql/fast-analyze.ts), and the reference parser only when the fast one declines a text.

import '../sql/transpile.js';
import './syntax-reference.js';

export * from './load-core.js';
