// Source types → exact DuckDB types, and whether a declared column type can hold a source column.
// Rules: integers keep their width and sign; DECIMAL(p,s) stays DECIMAL(p,s) (p > 38, or a numeric
// without precision, becomes VARCHAR: exact text rather than a rounded number); naive timestamps
// (PostgreSQL `timestamp`, MySQL `DATETIME`) stay naive TIMESTAMP; zoned ones (`timestamptz`, MySQL
// `TIMESTAMP`) become TIMESTAMPTZ, read in UTC; JSON stays JSON; anything exotic is VARCHAR text.

export function postgresToDuck(dataType: string, udt: string, precision: number | null, scale: number | null): string {
  switch (udt) {
    case 'int2':
      return 'SMALLINT';
    case 'int4':
      return 'INTEGER';
    case 'int8':
      return 'BIGINT';
    case 'float4':
      return 'FLOAT';
    case 'float8':
      return 'DOUBLE';
    case 'numeric':
      return precision !== null && precision <= 38 ? `DECIMAL(${precision},${scale ?? 0})` : 'VARCHAR';
    case 'bool':
      return 'BOOLEAN';
    case 'date':
      return 'DATE';
    case 'timestamp':
      return 'TIMESTAMP';
    case 'timestamptz':
      return 'TIMESTAMPTZ';
    case 'time':
      return 'TIME';
    case 'json':
    case 'jsonb':
      return 'JSON';
    case 'uuid':
      return 'UUID';
    case 'text':
    case 'varchar':
    case 'bpchar':
    case 'name':
    case 'citext':
      return 'VARCHAR';
  }
  return dataType === 'USER-DEFINED' || dataType === 'ARRAY' ? 'VARCHAR' : 'VARCHAR';
}

export function mysqlToDuck(dataType: string, columnType: string, precision: number | null, scale: number | null, isJson: boolean): string {
  const unsigned = /unsigned/i.test(columnType);
  switch (dataType.toLowerCase()) {
    case 'tinyint':
      return unsigned ? 'UTINYINT' : 'TINYINT';
    case 'smallint':
      return unsigned ? 'USMALLINT' : 'SMALLINT';
    case 'mediumint':
    case 'int':
    case 'integer':
      return unsigned ? 'UINTEGER' : 'INTEGER';
    case 'bigint':
      return unsigned ? 'UBIGINT' : 'BIGINT';
    case 'decimal':
    case 'numeric':
      return precision !== null && precision <= 38 ? `DECIMAL(${precision},${scale ?? 0})` : 'VARCHAR';
    case 'float':
      return 'FLOAT';
    case 'double':
    case 'real':
      return 'DOUBLE';
    case 'date':
      return 'DATE';
    case 'datetime':
      return 'TIMESTAMP';
    case 'timestamp':
      return 'TIMESTAMPTZ';
    case 'year':
      return 'INTEGER';
    case 'json':
      return 'JSON';
    case 'binary':
    case 'varbinary':
    case 'tinyblob':
    case 'blob':
    case 'mediumblob':
    case 'longblob':
      return 'BLOB';
    case 'longtext':
      return isJson ? 'JSON' : 'VARCHAR';
  }
  return 'VARCHAR';
}

/**
 * The type a text value (CSV, JSON) of a declared column is parsed as: TIMESTAMP (and the coarser
 * TIMESTAMP_MS, TIMESTAMP_S) as TIMESTAMPTZ, so a UTC offset in the text (`2025-05-01T10:00:00+02:00`)
 * is applied rather than dropped (the sync then casts the column to the declared type in UTC; text
 * without an offset is UTC). TIMESTAMP_NS as is: TIMESTAMPTZ holds microseconds. Any other type as
 * is, so a DECIMAL is parsed from its digits, never through a DOUBLE.
 */
export function textReadType(declared: string): string {
  return /^TIMESTAMP(_MS|_S)?$/.test(normalizeType(declared)) ? 'TIMESTAMPTZ' : declared;
}

/** Normalise a DuckDB type name (aliases, spacing, case) for comparison. */
export function normalizeType(t: string): string {
  const u = t
    .trim()
    .toUpperCase()
    .replace(/\s+/g, ' ')
    .replace(/\s*\(\s*/g, '(')
    .replace(/\s*,\s*/g, ',')
    .replace(/\s*\)/g, ')');
  const aliases: Record<string, string> = {
    INT8: 'BIGINT',
    LONG: 'BIGINT',
    INT4: 'INTEGER',
    INT: 'INTEGER',
    SIGNED: 'INTEGER',
    INT2: 'SMALLINT',
    SHORT: 'SMALLINT',
    INT1: 'TINYINT',
    FLOAT8: 'DOUBLE',
    FLOAT4: 'FLOAT',
    REAL: 'FLOAT',
    BOOL: 'BOOLEAN',
    LOGICAL: 'BOOLEAN',
    STRING: 'VARCHAR',
    TEXT: 'VARCHAR',
    CHAR: 'VARCHAR',
    BPCHAR: 'VARCHAR',
    'TIMESTAMP WITH TIME ZONE': 'TIMESTAMPTZ',
    DATETIME: 'TIMESTAMP',
    'TIMESTAMP WITHOUT TIME ZONE': 'TIMESTAMP',
    NUMERIC: 'DECIMAL(18,3)',
    DECIMAL: 'DECIMAL(18,3)',
    BYTEA: 'BLOB',
    BINARY: 'BLOB',
    VARBINARY: 'BLOB',
  };
  if (aliases[u]) return aliases[u];
  const m = /^(?:DECIMAL|NUMERIC)\((\d+)(?:,(\d+))?\)$/.exec(u);
  if (m) return `DECIMAL(${m[1]},${m[2] ?? 0})`;
  if (/^VARCHAR\(\d+\)$/.test(u)) return 'VARCHAR';
  return u;
}

const INT_RANGE: Record<string, [bigint, bigint]> = {
  TINYINT: [-(2n ** 7n), 2n ** 7n - 1n],
  SMALLINT: [-(2n ** 15n), 2n ** 15n - 1n],
  INTEGER: [-(2n ** 31n), 2n ** 31n - 1n],
  BIGINT: [-(2n ** 63n), 2n ** 63n - 1n],
  HUGEINT: [-(2n ** 127n), 2n ** 127n - 1n],
  UTINYINT: [0n, 2n ** 8n - 1n],
  USMALLINT: [0n, 2n ** 16n - 1n],
  UINTEGER: [0n, 2n ** 32n - 1n],
  UBIGINT: [0n, 2n ** 64n - 1n],
};

/**
 * Can a column declared as `declared` hold every value of a source column of type `source`
 * without changing its meaning? Widening integers and decimals is fine, any type fits VARCHAR,
 * numbers fit DOUBLE; naive and zoned timestamps never mix (their meaning differs).
 */
export function declaredAccepts(declared: string, source: string): boolean {
  const d = normalizeType(declared);
  const s = normalizeType(source);
  if (d === s) return true;
  if (d === 'VARCHAR' || (d === 'JSON' && s === 'VARCHAR')) return true;
  const di = INT_RANGE[d];
  const si = INT_RANGE[s];
  if (di && si) return di[0] <= si[0] && di[1] >= si[1];
  const dd = /^DECIMAL\((\d+),(\d+)\)$/.exec(d);
  const sd = /^DECIMAL\((\d+),(\d+)\)$/.exec(s);
  if (dd && sd) return Number(dd[2]) >= Number(sd[2]) && Number(dd[1]) - Number(dd[2]) >= Number(sd[1]) - Number(sd[2]);
  if (dd && si) return BigInt(10) ** BigInt(Number(dd[1]) - Number(dd[2])) > (si[1] > -si[0] ? si[1] : -si[0]);
  if (d === 'DOUBLE' && (si || sd || s === 'FLOAT')) return true;
  if (d === 'FLOAT' && (s === 'TINYINT' || s === 'SMALLINT' || s === 'UTINYINT' || s === 'USMALLINT')) return true;
  if (d === 'TIMESTAMP' && s === 'DATE') return true;
  return false;
}
