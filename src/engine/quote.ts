// DuckDB quoting: src/sql/quote.ts (in the sql layer, which the compile targets may import too).
export { ident, literal } from '../sql/quote.js';
