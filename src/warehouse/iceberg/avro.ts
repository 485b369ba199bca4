// Manifest lists and manifests: Avro object container files with the schemas of the Iceberg table
// spec (format version 2), every field carrying its `field-id`, written and read through avsc.
// Avro longs are BigInt here (snapshot ids use all 63 bits; a JS number would round them).

import type avro from 'avsc';
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import type * as zlibModule from 'node:zlib';
import type { IcebergPrimitive } from './schema.js';

// avsc (CommonJS) loads when a manifest is first written or read: a command that touches no table,
// such as `plan --base`, never pays for it (test/cli/startup.test.ts).
let loaded: { avsc: typeof avro; long: avro.Type } | undefined;
function avsc(): { avsc: typeof avro; long: avro.Type } {
  if (loaded) return loaded;
  const lib = createRequire(import.meta.url)('avsc') as typeof avro;
  return (loaded = { avsc: lib, long: longAsBigInt(lib) });
}

// node:zlib (the blocks' deflate codec) likewise: its start-up is ~12 M instructions, a tenth of an
// empty Node's, paid by every command that imports the warehouse (a cold `plan` reads no manifest).
let zlibMemo: typeof zlibModule | undefined;
const zlib = (): typeof zlibModule => (zlibMemo ??= createRequire(import.meta.url)('node:zlib') as typeof zlibModule);

const longAsBigInt = (lib: typeof avro): avro.Type =>
  lib.types.LongType.__with({
    fromBuffer: (buf: Buffer) => buf.readBigInt64LE(),
    toBuffer: (n: bigint) => {
      const b = Buffer.alloc(8);
      b.writeBigInt64LE(BigInt(n));
      return b;
    },
    fromJSON: (n: unknown) => BigInt(n as number),
    toJSON: (n: bigint) => Number(n),
    isValid: (n: unknown) => typeof n === 'bigint',
    compare: (a: bigint, b: bigint) => (a < b ? -1 : a > b ? 1 : 0),
  });

// Building an avsc Type generates code for its readers and writers (milliseconds for a manifest
// entry's schema): one Type per distinct schema, kept for the life of the process.
const types = new Map<string, avro.Type>();
const typeOf = (schema: object, key = JSON.stringify(schema)): avro.Type => {
  let t = types.get(key);
  if (!t) {
    // A long with a logical type (timestamp-micros, time-micros: partition values) is written as
    // `{ type: 'long', … }`, which the registry's name does not reach: the hook makes it BigInt too.
    const long = avsc().long;
    const typeHook = (s: avro.Schema): avro.Type | undefined => (typeof s === 'object' && (s as { type?: unknown }).type === 'long' ? long : undefined);
    t = avsc().avsc.Type.forSchema(schema as avro.Schema, { registry: { long } as never, typeHook } as never);
    if (types.size > 256) types.delete(types.keys().next().value!);
    types.set(key, t);
  }
  return t;
};

const opt = (type: unknown) => ['null', type];
const intMap = (name: string, keyId: number, valueId: number, value: string) => ({
  type: 'array',
  logicalType: 'map',
  items: {
    type: 'record',
    name,
    fields: [
      { name: 'key', type: 'int', 'field-id': keyId },
      { name: 'value', type: value, 'field-id': valueId },
    ],
  },
});

// The manifest list (one per snapshot): spec, "Manifest Lists".
export const MANIFEST_FILE_SCHEMA = {
  type: 'record',
  name: 'manifest_file',
  fields: [
    { name: 'manifest_path', type: 'string', 'field-id': 500 },
    { name: 'manifest_length', type: 'long', 'field-id': 501 },
    { name: 'partition_spec_id', type: 'int', 'field-id': 502 },
    { name: 'content', type: 'int', 'field-id': 517 },
    { name: 'sequence_number', type: 'long', 'field-id': 515 },
    { name: 'min_sequence_number', type: 'long', 'field-id': 516 },
    { name: 'added_snapshot_id', type: 'long', 'field-id': 503 },
    { name: 'added_files_count', type: 'int', 'field-id': 504 },
    { name: 'existing_files_count', type: 'int', 'field-id': 505 },
    { name: 'deleted_files_count', type: 'int', 'field-id': 506 },
    { name: 'added_rows_count', type: 'long', 'field-id': 512 },
    { name: 'existing_rows_count', type: 'long', 'field-id': 513 },
    { name: 'deleted_rows_count', type: 'long', 'field-id': 514 },
    {
      name: 'partitions',
      type: opt({
        type: 'array',
        'element-id': 508,
        items: {
          type: 'record',
          name: 'r508',
          fields: [
            { name: 'contains_null', type: 'boolean', 'field-id': 509 },
            { name: 'contains_nan', type: opt('boolean'), default: null, 'field-id': 518 },
            { name: 'lower_bound', type: opt('bytes'), default: null, 'field-id': 510 },
            { name: 'upper_bound', type: opt('bytes'), default: null, 'field-id': 511 },
          ],
        },
      }),
      default: null,
      'field-id': 507,
    },
    { name: 'key_metadata', type: opt('bytes'), default: null, 'field-id': 519 },
  ],
};

export interface FieldSummary {
  readonly contains_null: boolean;
  readonly contains_nan: boolean | null;
  readonly lower_bound: Buffer | null;
  readonly upper_bound: Buffer | null;
}

export interface ManifestFile {
  readonly manifest_path: string;
  readonly manifest_length: bigint;
  readonly partition_spec_id: number;
  readonly content: number;
  readonly sequence_number: bigint;
  readonly min_sequence_number: bigint;
  readonly added_snapshot_id: bigint;
  readonly added_files_count: number;
  readonly existing_files_count: number;
  readonly deleted_files_count: number;
  readonly added_rows_count: bigint;
  readonly existing_rows_count: bigint;
  readonly deleted_rows_count: bigint;
  readonly partitions: readonly FieldSummary[] | null;
  readonly key_metadata: Buffer | null;
}

/** One partition field of a manifest's `partition` struct: its spec field id and Iceberg type. */
export interface PartitionFieldType {
  readonly name: string;
  readonly fieldId: number;
  readonly type: IcebergPrimitive;
}

const AVRO_OF: Partial<Record<string, unknown>> = {
  boolean: 'boolean',
  int: 'int',
  long: 'long',
  float: 'float',
  double: 'double',
  string: 'string',
  binary: 'bytes',
  date: { type: 'int', logicalType: 'date' },
  time: { type: 'long', logicalType: 'time-micros' },
  timestamp: { type: 'long', logicalType: 'timestamp-micros', 'adjust-to-utc': false },
  timestamptz: { type: 'long', logicalType: 'timestamp-micros', 'adjust-to-utc': true },
};

/** The manifest entry schema (spec, "Manifests") for a partition spec's fields. */
export function manifestEntrySchema(partition: readonly PartitionFieldType[]): object {
  return {
    type: 'record',
    name: 'manifest_entry',
    fields: [
      { name: 'status', type: 'int', 'field-id': 0 },
      { name: 'snapshot_id', type: opt('long'), default: null, 'field-id': 1 },
      { name: 'sequence_number', type: opt('long'), default: null, 'field-id': 3 },
      { name: 'file_sequence_number', type: opt('long'), default: null, 'field-id': 4 },
      {
        name: 'data_file',
        'field-id': 2,
        type: {
          type: 'record',
          name: 'r2',
          fields: [
            { name: 'content', type: 'int', 'field-id': 134 },
            { name: 'file_path', type: 'string', 'field-id': 100 },
            { name: 'file_format', type: 'string', 'field-id': 101 },
            {
              name: 'partition',
              'field-id': 102,
              type: {
                type: 'record',
                name: 'r102',
                fields: partition.map((f) => ({ name: f.name, type: opt(avroPrimitive(f.type)), default: null, 'field-id': f.fieldId })),
              },
            },
            { name: 'record_count', type: 'long', 'field-id': 103 },
            { name: 'file_size_in_bytes', type: 'long', 'field-id': 104 },
            { name: 'column_sizes', type: opt(intMap('k117_v118', 117, 118, 'long')), default: null, 'field-id': 108 },
            { name: 'value_counts', type: opt(intMap('k119_v120', 119, 120, 'long')), default: null, 'field-id': 109 },
            { name: 'null_value_counts', type: opt(intMap('k121_v122', 121, 122, 'long')), default: null, 'field-id': 110 },
            { name: 'nan_value_counts', type: opt(intMap('k138_v139', 138, 139, 'long')), default: null, 'field-id': 137 },
            { name: 'lower_bounds', type: opt(intMap('k126_v127', 126, 127, 'bytes')), default: null, 'field-id': 125 },
            { name: 'upper_bounds', type: opt(intMap('k129_v130', 129, 130, 'bytes')), default: null, 'field-id': 128 },
            { name: 'key_metadata', type: opt('bytes'), default: null, 'field-id': 131 },
            { name: 'split_offsets', type: opt({ type: 'array', items: 'long', 'element-id': 133 }), default: null, 'field-id': 132 },
            { name: 'equality_ids', type: opt({ type: 'array', items: 'int', 'element-id': 136 }), default: null, 'field-id': 135 },
            { name: 'sort_order_id', type: opt('int'), default: null, 'field-id': 140 },
          ],
        },
      },
    ],
  };
}

function avroPrimitive(t: IcebergPrimitive): unknown {
  const a = AVRO_OF[t];
  if (a !== undefined) return a;
  if (t === 'uuid') return { type: 'fixed', name: 'uuid_fixed', size: 16, logicalType: 'uuid' };
  throw new Error(`Iceberg type ${t} cannot be a partition value here`);
}

/** A partition value as stored in a manifest: number/bigint/string/boolean/Buffer, or null. */
export type PartitionValue = number | bigint | string | boolean | Buffer | null;

/** A bound of a manifest entry's column (field id → the value in single-value binary form). */
export interface ColumnBound {
  readonly key: number;
  readonly value: Buffer;
}

/** A data file (content 0) or a position delete file (content 1: rows of (file_path, pos)). */
export interface DataFile {
  readonly content: 0 | 1;
  readonly file_path: string;
  readonly file_format: 'PARQUET';
  readonly partition: Readonly<Record<string, PartitionValue>>;
  readonly record_count: bigint;
  readonly file_size_in_bytes: bigint;
  readonly column_sizes: null;
  readonly value_counts: null;
  readonly null_value_counts: null;
  readonly nan_value_counts: null;
  readonly lower_bounds: readonly ColumnBound[] | null;
  readonly upper_bounds: readonly ColumnBound[] | null;
  readonly key_metadata: null;
  readonly split_offsets: null;
  readonly equality_ids: null;
  readonly sort_order_id: null;
}

/** Manifest entry status: 0 existing, 1 added, 2 deleted. */
export type EntryStatus = 0 | 1 | 2;

export interface ManifestEntry {
  readonly status: EntryStatus;
  readonly snapshot_id: bigint | null;
  readonly sequence_number: bigint | null;
  readonly file_sequence_number: bigint | null;
  readonly data_file: DataFile;
}

// Avro object container files (Avro spec, "Object Container Files"): a header (magic, the file
// metadata map with avro.schema and avro.codec, a 16-byte sync marker), then blocks of (record
// count, byte size, records deflated, the sync marker). Written as one block, read block by block,
// synchronously: a manifest is small, and avsc's streams cost more than the records.
const MAGIC = Buffer.from('Obj\x01', 'latin1');
const header = (): avro.Type =>
  typeOf({
    type: 'record',
    name: 'org.apache.avro.file.Header',
    fields: [
      { name: 'magic', type: { type: 'fixed', name: 'Magic', size: 4 } },
      { name: 'meta', type: { type: 'map', values: 'bytes' } },
      { name: 'sync', type: { type: 'fixed', name: 'Sync', size: 16 } },
    ],
  });

/** Block counts and sizes: Avro longs as numbers. */
let plainLongType: avro.Type | undefined;
const plainLong = (): avro.Type => (plainLongType ??= avsc().avsc.Type.forSchema('long'));

/**
 * Load avsc and make the Types a first commit of an unpartitioned table makes (manifest list,
 * manifest entries, container header): for a caller with time to spare, such as a sync waiting for
 * its source to answer. Touches no file.
 */
export function warmAvro(): void {
  zlib();
  typeOf(MANIFEST_FILE_SCHEMA);
  typeOf(manifestEntrySchema([]));
  header();
  plainLong();
}

/** An Avro object container file of `records`, with the given file metadata (string values). */
export async function writeAvro(schema: object, records: readonly object[], metadata: Readonly<Record<string, string>>): Promise<Buffer> {
  const schemaJson = JSON.stringify(schema);
  const type = typeOf(schema, schemaJson);
  // The header carries the schema object as given (with the `field-id` attributes Iceberg readers
  // need; a Type's own schema would drop them).
  const meta: Record<string, Buffer> = { 'avro.schema': Buffer.from(schemaJson), 'avro.codec': Buffer.from('deflate') };
  for (const [k, v] of Object.entries(metadata)) meta[k] = Buffer.from(v);
  const sync = randomBytes(16);
  const head = header().toBuffer({ magic: MAGIC, meta, sync });
  const body = zlib().deflateRawSync(Buffer.concat(records.map((r) => type.toBuffer(r))));
  const longs = plainLong();
  return Buffer.concat([head, longs.toBuffer(records.length), longs.toBuffer(body.length), body, sync]);
}

/** The records of an Avro object container file, read with the writer's schema (longs as BigInt). */
export async function readAvro<T>(buf: Buffer): Promise<T[]> {
  const head = header().decode(buf, 0) as { value: { magic: Buffer; meta: Record<string, Buffer>; sync: Buffer }; offset: number };
  if (head.offset < 0 || !head.value.magic.equals(MAGIC)) throw new Error('not an Avro object container file');
  const { meta, sync } = head.value;
  const codec = meta['avro.codec']?.toString() ?? 'null';
  if (codec !== 'null' && codec !== 'deflate') throw new Error(`Avro codec ${codec} is not supported (null, deflate)`);
  const schemaJson = meta['avro.schema'].toString();
  const type = typeOf(JSON.parse(schemaJson) as object, schemaJson);
  const longs = plainLong();
  const out: T[] = [];
  let pos = head.offset;
  while (pos < buf.length) {
    const count = longs.decode(buf, pos) as { value: number; offset: number };
    const size = longs.decode(buf, count.offset) as { value: number; offset: number };
    if (count.offset < 0 || size.offset < 0) throw new Error('truncated Avro block header');
    const end = size.offset + size.value;
    if (end + 16 > buf.length || !buf.subarray(end, end + 16).equals(sync)) throw new Error('Avro block does not end with the sync marker');
    const raw = buf.subarray(size.offset, end);
    const data = codec === 'deflate' ? zlib().inflateRawSync(raw) : raw;
    let at = 0;
    for (let i = 0; i < count.value; i++) {
      const r = type.decode(data, at) as { value: T; offset: number };
      if (r.offset < 0) throw new Error('truncated Avro record');
      out.push(r.value);
      at = r.offset;
    }
    pos = end + 16;
  }
  return out;
}
