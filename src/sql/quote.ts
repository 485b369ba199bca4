// Quoting for DuckDB SQL, apart from src/engine/duckdb.ts so that code which only writes SQL text (the
// engine's schema binding on a cache hit, src/sql/features-sql.ts) does not load DuckDB's native module.

/** Quote an identifier or a string literal for DuckDB. */
export const ident = (s: string): string => `"${s.replace(/"/g, '""')}"`;
export const literal = (s: string): string => `'${s.replace(/'/g, "''")}'`;
