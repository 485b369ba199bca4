// Table schemas: DuckDB column types ↔ Iceberg types, and field ids that survive schema changes.
//
// A column keeps its field id for as long as a column of that name exists (Iceberg resolves data
// files' columns by field id, never by position or name): an added column takes the next unused id
// (`last-column-id` + 1), a dropped one retires its id for good.
//
// DuckDB types without an Iceberg twin are stored as the nearest wider one (`storeAs`, a cast before
// the Parquet write): TINYINT/SMALLINT as int, UINTEGER as long, HUGEINT/UBIGINT as decimal, enums
// and JSON as string, second/milli/nanosecond timestamps as microsecond ones. Readers cast back to
// the DuckDB type the state recorded, so asgard's own results keep their types.

export type IcebergPrimitive =
  | 'boolean'
  | 'int'
  | 'long'
  | 'float'
  | 'double'
  | 'date'
  | 'time'
  | 'timestamp'
  | 'timestamptz'
  | 'string'
  | 'uuid'
  | 'binary'
  | `decimal(${number}, ${number})`;

export interface IcebergField {
  readonly id: number;
  readonly name: string;
  readonly required: boolean;
  readonly type: IcebergPrimitive;
}

export interface IcebergSchema {
  readonly type: 'struct';
  readonly 'schema-id': number;
  readonly fields: readonly IcebergField[];
}

export interface DuckColumn {
  readonly name: string;
  /** DuckDB logical type name as DESCRIBE prints it. */
  readonly type: string;
}

/** A DuckDB type asgard cannot store in an Iceberg table. */
export class UnsupportedType extends Error {}

const DIRECT: Record<string, IcebergPrimitive> = {
  BOOLEAN: 'boolean',
  INTEGER: 'int',
  BIGINT: 'long',
  FLOAT: 'float',
  DOUBLE: 'double',
  DATE: 'date',
  TIME: 'time',
  TIMESTAMP: 'timestamp',
  'TIMESTAMP WITH TIME ZONE': 'timestamptz',
  VARCHAR: 'string',
  UUID: 'uuid',
  BLOB: 'binary',
};

const WIDENED: Record<string, { type: IcebergPrimitive; storeAs: string }> = {
  TINYINT: { type: 'int', storeAs: 'INTEGER' },
  SMALLINT: { type: 'int', storeAs: 'INTEGER' },
  UTINYINT: { type: 'int', storeAs: 'INTEGER' },
  USMALLINT: { type: 'int', storeAs: 'INTEGER' },
  UINTEGER: { type: 'long', storeAs: 'BIGINT' },
  UBIGINT: { type: 'decimal(20, 0)', storeAs: 'DECIMAL(20,0)' },
  HUGEINT: { type: 'decimal(38, 0)', storeAs: 'DECIMAL(38,0)' },
  JSON: { type: 'string', storeAs: 'VARCHAR' },
  TIMESTAMP_S: { type: 'timestamp', storeAs: 'TIMESTAMP' },
  TIMESTAMP_MS: { type: 'timestamp', storeAs: 'TIMESTAMP' },
  TIMESTAMP_NS: { type: 'timestamp', storeAs: 'TIMESTAMP' },
};

// DuckDB's other names for the same types (declared stream columns may use them).
const ALIASES: Record<string, string> = {
  BOOL: 'BOOLEAN',
  LOGICAL: 'BOOLEAN',
  INT: 'INTEGER',
  INT4: 'INTEGER',
  SIGNED: 'INTEGER',
  INT8: 'BIGINT',
  LONG: 'BIGINT',
  INT2: 'SMALLINT',
  SHORT: 'SMALLINT',
  INT1: 'TINYINT',
  REAL: 'FLOAT',
  FLOAT4: 'FLOAT',
  FLOAT8: 'DOUBLE',
  'DOUBLE PRECISION': 'DOUBLE',
  STRING: 'VARCHAR',
  TEXT: 'VARCHAR',
  CHAR: 'VARCHAR',
  BPCHAR: 'VARCHAR',
  BYTEA: 'BLOB',
  BINARY: 'BLOB',
  VARBINARY: 'BLOB',
  DATETIME: 'TIMESTAMP',
  TIMESTAMP_US: 'TIMESTAMP',
  TIMESTAMPTZ: 'TIMESTAMP WITH TIME ZONE',
  DECIMAL: 'DECIMAL(18,3)',
  NUMERIC: 'DECIMAL(18,3)',
};

function canonical(type: string): string {
  const t = type.trim().toUpperCase().replace(/\s+/g, ' ');
  if (ALIASES[t]) return ALIASES[t];
  if (/^(VARCHAR|CHAR|BPCHAR|STRING|TEXT)\s*\(\d+\)$/.test(t)) return 'VARCHAR';
  const num = /^(?:NUMERIC|DECIMAL)\s*\((\d+)\s*(?:,\s*(\d+))?\)$/.exec(t);
  if (num) return `DECIMAL(${num[1]},${num[2] ?? 0})`;
  return t;
}

/** The Iceberg type of a DuckDB column, and the DuckDB type its values are written as when not its own. */
export function icebergTypeOf(col: DuckColumn): { type: IcebergPrimitive; storeAs?: string } {
  const t = canonical(col.type);
  const direct = DIRECT[t];
  if (direct) return { type: direct };
  const widened = WIDENED[t];
  if (widened) return widened;
  const dec = /^DECIMAL\((\d+),\s*(\d+)\)$/.exec(t);
  if (dec) return { type: `decimal(${Number(dec[1])}, ${Number(dec[2])})` };
  if (t.startsWith('ENUM(')) return { type: 'string', storeAs: 'VARCHAR' };
  throw new UnsupportedType(
    `column \`${col.name}\` has type ${col.type}, which has no Iceberg equivalent asgard writes (booleans, integers, floats, decimals, strings, blobs, UUIDs, dates, times and timestamps); cast it in the SQL`,
  );
}

/** The DuckDB type an Iceberg type is stored as (the inverse of `icebergTypeOf` for a column written without `storeAs`). */
export function storageTypeOf(type: IcebergPrimitive): string {
  const dec = /^decimal\((\d+),\s*(\d+)\)$/.exec(type);
  if (dec) return `DECIMAL(${dec[1]},${dec[2]})`;
  const t = Object.entries(DIRECT).find(([, v]) => v === type)?.[0];
  if (!t) throw new UnsupportedType(`Iceberg type ${type} has no DuckDB type asgard writes`);
  return t;
}

/**
 * The schema for `columns` given the table's current schema: same-named columns keep their ids,
 * new ones take ids after `lastColumnId`. Returns the schema (its id is the caller's) and the new
 * last column id.
 */
export function evolveSchema(
  columns: readonly DuckColumn[],
  current: IcebergSchema | undefined,
  lastColumnId: number,
): { fields: IcebergField[]; lastColumnId: number } {
  const byName = new Map((current?.fields ?? []).map((f) => [f.name, f]));
  let last = lastColumnId;
  const seen = new Set<string>();
  const fields = columns.map((c) => {
    if (seen.has(c.name)) throw new UnsupportedType(`column \`${c.name}\` appears twice; Iceberg column names are unique`);
    seen.add(c.name);
    const { type } = icebergTypeOf(c);
    const id = byName.get(c.name)?.id ?? ++last;
    return { id, name: c.name, required: false, type };
  });
  return { fields, lastColumnId: last };
}

export function sameFields(a: readonly IcebergField[], b: readonly IcebergField[]): boolean {
  return a.length === b.length && a.every((f, i) => f.id === b[i].id && f.name === b[i].name && f.type === b[i].type && f.required === b[i].required);
}

/** DuckDB COPY's `FIELD_IDS {...}` option value: each column's Iceberg field id. */
export function fieldIdsOption(fields: readonly IcebergField[]): string {
  return `{${fields.map((f) => `${duckIdent(f.name)}: ${f.id}`).join(', ')}}`;
}

/** The SELECT list that writes `columns` as their Iceberg storage types. */
export function storageSelectList(columns: readonly DuckColumn[]): string {
  return columns
    .map((c) => {
      const { storeAs } = icebergTypeOf(c);
      return storeAs ? `CAST(${duckIdent(c.name)} AS ${storeAs}) AS ${duckIdent(c.name)}` : duckIdent(c.name);
    })
    .join(', ');
}

const duckIdent = (s: string): string => `"${s.replace(/"/g, '""')}"`;
