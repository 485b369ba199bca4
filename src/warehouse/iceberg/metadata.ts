// Table metadata JSON (Iceberg table spec, format version 2): the pure part — building the next
// metadata from the previous one — with no I/O. src/warehouse/iceberg/table.ts writes it.
//
// Snapshot ids are 63-bit integers that JSON numbers cannot hold exactly in JavaScript: they are
// decimal strings in memory and plain JSON numbers in the file (parseMetadata/serializeMetadata).

import { randomBytes, randomUUID } from 'node:crypto';
import { evolveSchema, sameFields, type DuckColumn, type IcebergField, type IcebergSchema } from './schema.js';

export interface PartitionField {
  readonly name: string;
  readonly transform: string;
  readonly 'source-id': number;
  readonly 'field-id': number;
}

export interface PartitionSpec {
  readonly 'spec-id': number;
  readonly fields: readonly PartitionField[];
}

export interface Snapshot {
  readonly 'snapshot-id': string;
  readonly 'parent-snapshot-id'?: string;
  readonly 'sequence-number': number;
  readonly 'timestamp-ms': number;
  readonly 'manifest-list': string;
  readonly summary: Readonly<Record<string, string>>;
  readonly 'schema-id'?: number;
}

export interface TableMetadata {
  readonly 'format-version': 2;
  readonly 'table-uuid': string;
  readonly location: string;
  readonly 'last-sequence-number': number;
  readonly 'last-updated-ms': number;
  readonly 'last-column-id': number;
  readonly 'current-schema-id': number;
  readonly schemas: readonly IcebergSchema[];
  readonly 'default-spec-id': number;
  readonly 'partition-specs': readonly PartitionSpec[];
  readonly 'last-partition-id': number;
  readonly 'default-sort-order-id': number;
  readonly 'sort-orders': readonly { readonly 'order-id': number; readonly fields: readonly unknown[] }[];
  readonly properties: Readonly<Record<string, string>>;
  readonly 'current-snapshot-id'?: string | null;
  readonly refs?: Readonly<Record<string, { readonly 'snapshot-id': string; readonly type: string }>>;
  readonly snapshots?: readonly Snapshot[];
  readonly 'snapshot-log'?: readonly { readonly 'timestamp-ms': number; readonly 'snapshot-id': string }[];
  readonly 'metadata-log'?: readonly { readonly 'timestamp-ms': number; readonly 'metadata-file': string }[];
}

/** Old metadata files listed in `metadata-log` (Iceberg's write.metadata.previous-versions-max). */
export const PREVIOUS_VERSIONS_MAX = 10;

const ID_KEYS = /"((?:current-|parent-)?snapshot-id)"(\s*):(\s*)(-?\d+)/g;
const QUOTED_ID_KEYS = /"((?:current-|parent-)?snapshot-id)"(\s*):(\s*)"(-?\d+)"/g;

export function parseMetadata(text: string): TableMetadata {
  const m = JSON.parse(text.replace(ID_KEYS, '"$1"$2:$3"$4"')) as TableMetadata;
  if (m['format-version'] !== 2 && (m['format-version'] as number) !== 1) throw new Error(`unsupported Iceberg format-version ${String(m['format-version'])}`);
  return m;
}

export function serializeMetadata(m: TableMetadata): string {
  return JSON.stringify(m, null, 2).replace(QUOTED_ID_KEYS, '"$1"$2:$3$4') + '\n';
}

/** A new positive 63-bit snapshot id, as iceberg-java makes them. */
export function newSnapshotId(): string {
  let id = 0n;
  while (id === 0n) id = BigInt.asUintN(63, randomBytes(8).readBigUInt64LE());
  return id.toString();
}

export function currentSchema(m: TableMetadata): IcebergSchema {
  const s = m.schemas.find((x) => x['schema-id'] === m['current-schema-id']);
  if (!s) throw new Error(`table metadata has no schema ${m['current-schema-id']}`);
  return s;
}

export function specById(m: TableMetadata, id: number): PartitionSpec {
  const s = m['partition-specs'].find((x) => x['spec-id'] === id);
  if (!s) throw new Error(`table metadata has no partition spec ${id}`);
  return s;
}

export function snapshotById(m: TableMetadata, id: string): Snapshot | undefined {
  return m.snapshots?.find((s) => s['snapshot-id'] === id);
}

export function currentSnapshot(m: TableMetadata): Snapshot | undefined {
  const id = m['current-snapshot-id'];
  return id === undefined || id === null || id === '-1' ? undefined : snapshotById(m, id);
}

/** A table with no snapshot yet. */
export function emptyMetadata(location: string, now: number, properties: Readonly<Record<string, string>> = {}): TableMetadata {
  return {
    'format-version': 2,
    'table-uuid': randomUUID(),
    location,
    'last-sequence-number': 0,
    'last-updated-ms': now,
    'last-column-id': 0,
    'current-schema-id': 0,
    schemas: [{ type: 'struct', 'schema-id': 0, fields: [] }],
    'default-spec-id': 0,
    'partition-specs': [{ 'spec-id': 0, fields: [] }],
    'last-partition-id': 999,
    'default-sort-order-id': 0,
    'sort-orders': [{ 'order-id': 0, fields: [] }],
    properties,
    'current-snapshot-id': null,
    refs: {},
    snapshots: [],
    'snapshot-log': [],
    'metadata-log': [],
  };
}

/**
 * Make `columns` the current schema and identity partitions on `partitionBy` the default spec,
 * reusing an identical schema or spec already in the metadata (their ids stay stable).
 */
export function withSchemaAndSpec(m: TableMetadata, columns: readonly DuckColumn[], partitionBy: readonly string[]): TableMetadata {
  const evolved = evolveSchema(columns, currentSchema(m), m['last-column-id']);
  let schemas = m.schemas;
  let schemaId = m.schemas.find((s) => sameFields(s.fields, evolved.fields))?.['schema-id'];
  if (schemaId === undefined) {
    schemaId = Math.max(...m.schemas.map((s) => s['schema-id'])) + 1;
    schemas = [...m.schemas, { type: 'struct', 'schema-id': schemaId, fields: evolved.fields }];
  }
  const fields = evolved.fields;
  const wanted = partitionBy.map((name) => {
    const f = fields.find((x) => x.name === name);
    if (!f) throw new Error(`partition column \`${name}\` is not a column of the table`);
    return f;
  });
  const same = (s: PartitionSpec) =>
    s.fields.length === wanted.length && s.fields.every((pf, i) => pf.transform === 'identity' && pf['source-id'] === wanted[i].id);
  let specs = m['partition-specs'];
  let lastPartitionId = m['last-partition-id'];
  let specId = specs.find(same)?.['spec-id'];
  if (specId === undefined) {
    specId = Math.max(...specs.map((s) => s['spec-id'])) + 1;
    const pf = wanted.map((f) => ({ name: f.name, transform: 'identity', 'source-id': f.id, 'field-id': ++lastPartitionId }));
    specs = [...specs, { 'spec-id': specId, fields: pf }];
  }
  return {
    ...m,
    'last-column-id': evolved.lastColumnId,
    schemas,
    'current-schema-id': schemaId,
    'partition-specs': specs,
    'default-spec-id': specId,
    'last-partition-id': lastPartitionId,
  };
}

/** Add `snapshot` as the table's current snapshot (branch `main`), recording the previous metadata file. */
export function withSnapshot(m: TableMetadata, snapshot: Snapshot, previousMetadataFile: string | undefined, now: number): TableMetadata {
  const metadataLog = previousMetadataFile
    ? [...(m['metadata-log'] ?? []), { 'timestamp-ms': m['last-updated-ms'], 'metadata-file': previousMetadataFile }]
    : [...(m['metadata-log'] ?? [])];
  return {
    ...m,
    'last-sequence-number': snapshot['sequence-number'],
    'last-updated-ms': now,
    'current-snapshot-id': snapshot['snapshot-id'],
    refs: { ...(m.refs ?? {}), main: { 'snapshot-id': snapshot['snapshot-id'], type: 'branch' } },
    snapshots: [...(m.snapshots ?? []), snapshot],
    'snapshot-log': [...(m['snapshot-log'] ?? []), { 'timestamp-ms': snapshot['timestamp-ms'], 'snapshot-id': snapshot['snapshot-id'] }],
    'metadata-log': metadataLog.slice(-PREVIOUS_VERSIONS_MAX),
  };
}

/**
 * Drop every snapshot but `keep` and the current one (and the refs pointing elsewhere). Returns
 * undefined when nothing would change.
 */
export function withoutSnapshots(m: TableMetadata, keep: ReadonlySet<string>, previousMetadataFile: string, now: number): TableMetadata | undefined {
  const current = m['current-snapshot-id'];
  const kept = (id: string) => keep.has(id) || id === current;
  const snapshots = (m.snapshots ?? []).filter((s) => kept(s['snapshot-id']));
  if (snapshots.length === (m.snapshots ?? []).length) return undefined;
  const refs = Object.fromEntries(Object.entries(m.refs ?? {}).filter(([, r]) => kept(r['snapshot-id'])));
  return {
    ...m,
    'last-updated-ms': now,
    refs,
    snapshots,
    'snapshot-log': (m['snapshot-log'] ?? []).filter((e) => kept(e['snapshot-id'])),
    'metadata-log': [...(m['metadata-log'] ?? []), { 'timestamp-ms': m['last-updated-ms'], 'metadata-file': previousMetadataFile }].slice(
      -PREVIOUS_VERSIONS_MAX,
    ),
  };
}

/** Make `snapshotId` (already in the metadata) the current snapshot again: Iceberg's rollback. */
export function withCurrent(m: TableMetadata, snapshotId: string, now: number): TableMetadata {
  if (!snapshotById(m, snapshotId)) throw new Error(`snapshot ${snapshotId} is not in the table metadata`);
  return {
    ...m,
    'last-updated-ms': now,
    'current-snapshot-id': snapshotId,
    refs: { ...(m.refs ?? {}), main: { 'snapshot-id': snapshotId, type: 'branch' } },
    'snapshot-log': [...(m['snapshot-log'] ?? []), { 'timestamp-ms': now, 'snapshot-id': snapshotId }],
  };
}

export function schemaById(m: TableMetadata, id: number | undefined): IcebergSchema {
  const s = m.schemas.find((x) => x['schema-id'] === (id ?? m['current-schema-id']));
  if (!s) throw new Error(`table metadata has no schema ${id}`);
  return s;
}

export type { IcebergField };
