// Column types for dbt model contracts. Schemas are inferred in DuckDB type names; each adapter
// spells some of them differently, and a contract compares against the adapter's own names.

export type Adapter = 'duckdb' | 'spark' | 'trino';

export function adapterType(duck: string, adapter: Adapter): string {
  const t = duck.trim().toUpperCase();
  if (adapter === 'duckdb') return t;
  const dec = /^DECIMAL\s*\((\d+)\s*,\s*(\d+)\)$/.exec(t);
  if (dec) return `decimal(${dec[1]},${dec[2]})`;
  const spark: Record<string, string> = {
    BOOLEAN: 'boolean',
    TINYINT: 'tinyint',
    SMALLINT: 'smallint',
    INTEGER: 'int',
    BIGINT: 'bigint',
    HUGEINT: 'decimal(38,0)',
    FLOAT: 'float',
    REAL: 'float',
    DOUBLE: 'double',
    VARCHAR: 'string',
    DATE: 'date',
    TIMESTAMP: 'timestamp',
    TIMESTAMPTZ: 'timestamp',
    'TIMESTAMP WITH TIME ZONE': 'timestamp',
    BLOB: 'binary',
    DECIMAL: 'decimal(18,3)',
  };
  const trino: Record<string, string> = {
    BOOLEAN: 'boolean',
    TINYINT: 'tinyint',
    SMALLINT: 'smallint',
    INTEGER: 'integer',
    BIGINT: 'bigint',
    HUGEINT: 'decimal(38,0)',
    FLOAT: 'real',
    REAL: 'real',
    DOUBLE: 'double',
    VARCHAR: 'varchar',
    DATE: 'date',
    TIMESTAMP: 'timestamp(6)',
    TIMESTAMPTZ: 'timestamp(6) with time zone',
    'TIMESTAMP WITH TIME ZONE': 'timestamp(6) with time zone',
    BLOB: 'varbinary',
    DECIMAL: 'decimal(18,3)',
  };
  return (adapter === 'spark' ? spark : trino)[t] ?? t.toLowerCase();
}

/**
 * The `data_type` of a contract column: the DuckDB name when every adapter agrees (up to case),
 * else a Jinja expression dbt renders per target (schema YAML is rendered; `target` is in scope).
 */
export function contractType(duck: string): string {
  const d = adapterType(duck, 'duckdb');
  const s = adapterType(duck, 'spark');
  const t = adapterType(duck, 'trino');
  if (s.toUpperCase() === d && t.toUpperCase() === d) return d;
  return `{{ {'spark': '${s}', 'trino': '${t}'}.get(target.type, '${d}') }}`;
}
