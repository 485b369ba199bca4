// Writing and reading Iceberg v2 tables: DuckDB writes the Parquet data files (with the columns'
// Iceberg field ids), this module writes the manifests, the manifest list and the table metadata
// JSON through a TableStore (./table-store.ts), and commits with a compare-and-swap in the catalog. Until that swap,
// nothing a reader follows points at the new files; if it fails, the files are removed and the
// table's current snapshot is untouched.
//
// A write is `prepare` (read the table's current metadata, fix the schema and its field ids, give
// DuckDB a folder and the COPY options) → DuckDB COPY → `commit` (or `abort`). `base` makes the
// commit an append: the base snapshot's manifests are kept as they are and one manifest of the new
// files is added. Without it the commit overwrites: the files live until then are recorded as
// deleted. Files that the new snapshot drops relative to the catalog's current snapshot are always
// recorded as deleted, whatever the base.
//
// Row-level deletes (Iceberg v2 position deletes, merge-on-read): a commit may add position delete
// files, each a Parquet file of (file_path, pos) naming rows of one data file of the base snapshot
// (its path is both the entry's lower and upper bound of file_path, as iceberg-java writes them). A
// reader applies a delete file to the data files of lower or equal sequence number whose path it
// names (`scan`); a data file the commit removes takes its delete files with it.
//
// `expire` keeps the given snapshots (and the current one), drops the others from the metadata, and
// deletes every object under the table's location that the retained snapshots and metadata files
// no longer reference (expired snapshots' files, crash leftovers).

import type { DuckDBConnection } from '@duckdb/node-api';
import { mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { join, relative, resolve as resolvePath, sep } from 'node:path';
import { randomBytes, randomUUID } from 'node:crypto';
import type { TableStore } from './table-store.js';
import {
  manifestEntrySchema,
  MANIFEST_FILE_SCHEMA,
  readAvro,
  writeAvro,
  type DataFile,
  type FieldSummary,
  type ManifestEntry,
  type ManifestFile,
  type PartitionFieldType,
  type PartitionValue,
} from './avro.js';
import { CommitConflict, type IcebergCatalog, type TableIdent } from './catalog.js';
import {
  currentSchema,
  currentSnapshot,
  emptyMetadata,
  newSnapshotId,
  parseMetadata,
  serializeMetadata,
  specById,
  withoutSnapshots,
  withSchemaAndSpec,
  withCurrent,
  withSnapshot,
  type PartitionSpec,
  type Snapshot,
  type TableMetadata,
} from './metadata.js';
import { fieldIdsOption, storageSelectList, type DuckColumn, type IcebergField, type IcebergPrimitive } from './schema.js';
import { inParallel } from '../../util/parallel.js';

/** What a committed snapshot is known by (the state records it). */
export interface CommittedSnapshot {
  readonly snapshotId: string;
  readonly metadataLocation: string;
  readonly manifestList: string;
  readonly rows: number;
}

export interface PendingWrite {
  readonly table: TableIdent;
  /** Key prefix of the table's location in the store, e.g. `silver/customers_cleaned`. */
  readonly prefix: string;
  readonly id: string;
  /** Local folder DuckDB writes the Parquet files into (partitioned writes: hive sub-folders). */
  readonly dir: string;
  /**
   * COPY options for DuckDB: `FORMAT parquet, FIELD_IDS {...}`, `PARQUET_VERSION V2` unless the
   * table writes Parquet 1 (`keepReadable`), and the partitioning.
   */
  copyOptions: string;
  /** Set by `keepReadable` when a file had to be written again as Parquet 1: the commit records it in the table's properties. */
  parquet1?: boolean;
  /** `SELECT <this> FROM relation` writes the columns as their Iceberg storage types. */
  readonly selectList: string;
  readonly partitionBy: readonly string[];
  readonly metadata: TableMetadata;
  /** The catalog's metadata location when the write began (the commit's compare-and-swap value). */
  readonly baseLocation?: string;
  /** What DuckDB reported of the files it wrote into `dir` (`recordWritten`), by local path. */
  readonly written: Map<string, WrittenFile>;
}

/**
 * What DuckDB's `COPY … (RETURN_STATS)` reported of one Parquet file it wrote: the commit takes the
 * file's row count, size and partition values from here instead of reading the files again.
 */
export interface WrittenFile {
  readonly rows: bigint;
  readonly bytes: number;
  /** Per partition column: its one value in the file, as DuckDB prints it (null: NULL). */
  readonly partition: ReadonlyMap<string, string | null>;
  /** Per column: the file's minimum and maximum (as printed) and its NULL count, when DuckDB wrote them. */
  readonly columns: ReadonlyMap<string, { readonly min?: string; readonly max?: string; readonly nulls?: bigint }>;
}

export interface CommitOptions {
  /** Append: keep this snapshot's files (its manifest list) and add the new ones. */
  readonly base?: string;
  /**
   * With `base`: of the base's files, drop these (local paths, as `dataFiles` gives them). The
   * commit is then a merge that rewrites only some files: the base's manifests that list none of
   * them are kept as they are, the others are rewritten with their remaining files as existing.
   */
  readonly remove?: readonly string[];
  readonly now?: Date;
  /** Called with the new snapshot's row count before anything is committed; what it throws aborts the write as is. */
  readonly check?: (rows: number) => void;
  /**
   * Position delete files written into the pending folder (`deleteTarget`), each with the rows of
   * one live data file of `base` that are deleted (`target`: its local path, as `scan` gives it).
   */
  readonly deletes?: readonly { readonly file: string; readonly target: string }[];
}

/** One data file of a snapshot as a reader reads it: its rows less those its delete files name. */
export interface ScanFile {
  /** Local path. */
  readonly path: string;
  /** The file's location as the manifests (and position delete files) name it. */
  readonly uri: string;
  readonly rows: number;
  /** Local paths of the position delete files that apply to it (each may name other files' rows too). */
  readonly deletes: readonly string[];
  /** Rows those delete files hold (the file's deleted rows when each names only this file, as asgard writes them). */
  readonly deletedRows: number;
  /** Its partition (spec id and values) as a string: files with equal strings hold rows of one partition. */
  readonly partition: string;
}

/** The Iceberg reserved field ids of a position delete file's columns (spec, "Position Delete Files"). */
export const DELETE_FILE_PATH_ID = 2147483546;
export const DELETE_POS_ID = 2147483545;
/** …and of its optional `row` column: a struct of (some of) the deleted row's columns, under the table's field ids. */
export const DELETE_ROW_ID = 2147483544;

/** A committed table's storage went wrong or changed underneath: the message names the table. */
export class IcebergError extends Error {}

const DATA = 'data';
/** Sub-folder of a pending write's folder for its position delete files (partition folders are `k=v`). */
const DELETES = 'deletes';
const METADATA = 'metadata';

export class IcebergTables {
  private readonly pending = new Set<string>();

  constructor(
    readonly store: TableStore,
    readonly catalog: IcebergCatalog,
  ) {}

  /** The table's current metadata and its location, or undefined when the catalog has no such table. */
  async current(table: TableIdent): Promise<{ metadata: TableMetadata; location: string } | undefined> {
    const location = await this.catalog.load(table);
    if (!location) return undefined;
    return { metadata: await this.readMetadata(location, table), location };
  }

  /** `parquet1`: the write is Parquet 1 whatever the table (`keepReadable`; a source's sync: src/ingest/source-executor.ts). */
  async prepare(
    table: TableIdent,
    prefix: string,
    columns: readonly DuckColumn[],
    partitionBy: readonly string[],
    now = new Date(),
    opts: { readonly parquet1?: boolean } = {},
  ): Promise<PendingWrite> {
    const cur = await this.current(table);
    const base = cur?.metadata ?? emptyMetadata(this.store.uri(prefix), now.getTime());
    const metadata = withSchemaAndSpec(base, columns, partitionBy);
    const fields = currentSchema(metadata).fields;
    const id = newWriteId(now);
    const dir = this.store.stagingPath(`${prefix}/${DATA}/${id}`);
    mkdirSync(dir, { recursive: true });
    this.pending.add(`${prefix}/${DATA}/${id}/`);
    const parts = partitionBy.map((c) => `"${c.replace(/"/g, '""')}"`).join(', ');
    const v2 = opts.parquet1 || metadata.properties[PARQUET_VERSION_PROPERTY] === '1' ? '' : PARQUET_2;
    const copyOptions =
      `FORMAT parquet, FIELD_IDS ${fieldIdsOption(fields)}${v2}` +
      (partitionBy.length ? `, PARTITION_BY (${parts}), WRITE_PARTITION_COLUMNS true, FILENAME_PATTERN '${id}_{i}', OVERWRITE_OR_IGNORE true` : '');
    return {
      table,
      prefix,
      id,
      dir,
      copyOptions,
      selectList: storageSelectList(columns),
      partitionBy,
      metadata,
      baseLocation: cur?.location,
      written: new Map(),
    };
  }

  /**
   * Record the rows of a `COPY … (RETURN_STATS)` into `p` (one per file written: filename, count,
   * file_size_bytes, column_statistics, partition_keys, as `getRowObjectsJson` gives them). Returns
   * the rows written. A file written again under the same name replaces its record.
   */
  recordWritten(p: PendingWrite, rows: readonly Record<string, unknown>[]): number {
    let total = 0n;
    for (const r of rows) {
      const columns = new Map<string, { min?: string; max?: string; nulls?: bigint }>();
      for (const { key, value } of (r.column_statistics ?? []) as { key: string; value: { key: string; value: string | null }[] }[]) {
        const name = /^"((?:[^"]|"")*)"$/.exec(key)?.[1]?.replace(/""/g, '"');
        if (name === undefined) continue;
        const stat = new Map(value.map((kv) => [kv.key, kv.value]));
        const nulls = stat.get('null_count');
        columns.set(name, {
          min: stat.get('min') ?? undefined,
          max: stat.get('max') ?? undefined,
          nulls: nulls === undefined || nulls === null ? undefined : BigInt(nulls),
        });
      }
      const partition = new Map(((r.partition_keys ?? []) as { key: string; value: string | null }[]).map((kv) => [kv.key, kv.value] as const));
      const count = BigInt(String(r.count));
      total += count;
      p.written.set(resolvePath(String(r.filename)), { rows: count, bytes: Number(r.file_size_bytes), partition, columns });
    }
    return Number(total);
  }

  /**
   * Parquet 2 (docs/lakehouse.md): DuckDB delta-encodes integers and timestamps, which keeps ids,
   * keys and timestamps in a few bits a value, but a string or floating column that does not fit
   * a dictionary it writes as DELTA_LENGTH_BYTE_ARRAY or BYTE_STREAM_SPLIT, which Iceberg's
   * vectorized Parquet reader (Spark's) cannot read. Of `files` (just written into `p`) those with
   * such a column are written again as Parquet 1 in their place, and so is every later write of
   * the table (`parquet1`: a table property from the commit on).
   */
  async keepReadable(conn: DuckDBConnection, p: PendingWrite, files: readonly string[]): Promise<void> {
    if (!p.copyOptions.includes(PARQUET_2) || !files.length) return;
    const fields = currentSchema(p.metadata).fields;
    if (fields.every((f) => DELTA_ONLY.test(String(f.type)))) return;
    const r = await conn.runAndReadAll(
      `SELECT DISTINCT file_name FROM parquet_metadata([${files.map(sql).join(', ')}]) WHERE regexp_matches(encodings, 'DELTA_LENGTH_BYTE_ARRAY|DELTA_BYTE_ARRAY|BYTE_STREAM_SPLIT')`,
    );
    const unreadable = r.getRows().map((row) => String(row[0]));
    if (!unreadable.length) return;
    p.copyOptions = p.copyOptions.replace(PARQUET_2, '');
    p.parquet1 = true;
    for (const f of unreadable) {
      const path = resolvePath(f);
      const again = `${path}.parquet1`;
      const w = await conn.runAndReadAll(
        `COPY (SELECT * FROM read_parquet(${sql(path)}, hive_partitioning = false)) TO ${sql(again)} (FORMAT parquet, FIELD_IDS ${fieldIdsOption(fields)}, RETURN_STATS true)`,
      );
      renameSync(again, path);
      const bytes = Number((w.getRowObjectsJson()[0] as { file_size_bytes?: unknown } | undefined)?.file_size_bytes);
      const known = p.written.get(path);
      if (known && Number.isFinite(bytes)) p.written.set(path, { ...known, bytes });
    }
  }

  /** The single file an unpartitioned COPY writes to. */
  fileTarget(p: PendingWrite): string {
    return p.partitionBy.length ? p.dir : join(p.dir, `${p.id}.parquet`);
  }

  /** The Parquet data files written into `p` so far (local paths, sorted). */
  pendingFiles(p: PendingWrite): string[] {
    return walk(p.dir, DELETES);
  }

  /** A new local path for a position delete file of `p` (written by DuckDB, then passed to `commit`). */
  deleteTarget(p: PendingWrite): string {
    const dir = join(p.dir, DELETES);
    mkdirSync(dir, { recursive: true });
    return join(dir, `${p.id}-${randomBytes(4).toString('hex')}-deletes.parquet`);
  }

  async abort(p: PendingWrite): Promise<void> {
    const written = await this.store.list(`${p.prefix}/${DATA}/${p.id}`).catch(() => []);
    await this.store.delete(written);
    rmSync(p.dir, { recursive: true, force: true });
    this.pending.delete(`${p.prefix}/${DATA}/${p.id}/`);
  }

  /** Commit the files DuckDB wrote into `p.dir` as the table's new current snapshot. */
  async commit(p: PendingWrite, conn: DuckDBConnection, opts: CommitOptions = {}): Promise<CommittedSnapshot> {
    const now = (opts.now ?? new Date()).getTime();
    const m = p.metadata;
    const schema = currentSchema(m);
    const spec = specById(m, m['default-spec-id']);
    const partType = partitionType(spec, schema.fields);
    const written: string[] = [];
    let refused: unknown;
    try {
      const local = this.pendingFiles(p);
      const stats = await fileStats(conn, local, partType, p.written);
      const added: DataFile[] = [];
      const dataKeys: string[] = [];
      // The files become objects together (local: each synced; a remote store: uploaded), in order.
      const keys = local.map((f) => dataKey(p, f));
      const sizes = await inParallel(keys, 8, async (key, i) => {
        await this.store.putFile(key, local[i]);
        return p.written.get(local[i])?.bytes ?? this.store.size(key);
      });
      keys.forEach((key, i) => {
        dataKeys.push(key);
        const s = stats.get(local[i])!;
        added.push(dataFile(this.store.uri(key), s.rows, BigInt(sizes[i]), s.partition));
      });

      const snapshotId = newSnapshotId();
      const seq = m['last-sequence-number'] + 1;
      const sid = BigInt(snapshotId);
      const current = p.baseLocation ? currentSnapshot(m) : undefined;
      let baseManifests = opts.base ? await this.manifestList(opts.base) : [];
      if (opts.base && opts.remove?.length) baseManifests = await this.withoutFiles(p, baseManifests, new Set(opts.remove), sid, seq, written);
      const kept = await this.liveEntries(baseManifests);
      const keptDeletes = await this.liveEntries(baseManifests, 1);
      const keptPaths = new Set([...kept, ...keptDeletes].map((e) => e.entry.data_file.file_path));
      const currentManifests = current ? await this.manifestList(current['manifest-list']) : [];
      const currentLive = [...(await this.liveEntries(currentManifests)), ...(await this.liveEntries(currentManifests, 1))];
      const deleted = currentLive.filter((e) => !keptPaths.has(e.entry.data_file.file_path));

      // The position delete files: each names rows of one data file the new snapshot keeps.
      const addedDeletes: { file: DataFile; specId: number }[] = [];
      if (opts.deletes?.length) {
        if (!opts.base) throw new IcebergError('position deletes need the snapshot they apply to');
        const locals = await Promise.all(kept.map((e) => this.store.localFile(this.keyOf(e.entry.data_file.file_path))));
        const targets = new Map(kept.map((e, i) => [locals[i], e]));
        const rows = await deleteFileRows(
          conn,
          opts.deletes.map((d) => d.file),
        );
        const delKeys = opts.deletes.map((d) => dataKey(p, d.file));
        const sizes = await inParallel(delKeys, 8, async (key, i) => {
          await this.store.putFile(key, opts.deletes![i].file);
          return this.store.size(key);
        });
        opts.deletes.forEach((d, i) => {
          const t = targets.get(d.target);
          if (!t)
            throw new IcebergError(
              `iceberg table ${p.table.namespace}.${p.table.name}: position deletes of ${d.target}, which is not a data file of the base snapshot`,
            );
          dataKeys.push(delKeys[i]);
          const bound = [{ key: DELETE_FILE_PATH_ID, value: Buffer.from(t.entry.data_file.file_path, 'utf8') }];
          addedDeletes.push({
            specId: t.specId,
            file: {
              ...dataFile(this.store.uri(delKeys[i]), rows.get(d.file) ?? 0n, BigInt(sizes[i]), t.entry.data_file.partition),
              content: 1,
              lower_bounds: bound,
              upper_bounds: bound,
            },
          });
        });
      }

      const manifests: ManifestFile[] = [];
      if (added.length) {
        const entries: ManifestEntry[] = added.map((d) => ({ status: 1, snapshot_id: sid, sequence_number: null, file_sequence_number: null, data_file: d }));
        manifests.push(await this.writeManifest(p, entries, spec, schema.fields, partType, sid, seq, written));
      }
      // One manifest per partition spec and content (data, deletes) of the entries it records.
      const groups = new Map<string, { specId: number; content: 0 | 1; entries: ManifestEntry[] }>();
      const group = (specId: number, content: 0 | 1, e: ManifestEntry): void => {
        const k = `${specId}/${content}`;
        if (!groups.has(k)) groups.set(k, { specId, content, entries: [] });
        groups.get(k)!.entries.push(e);
      };
      for (const d of addedDeletes) group(d.specId, 1, { status: 1, snapshot_id: sid, sequence_number: null, file_sequence_number: null, data_file: d.file });
      for (const e of deleted)
        group(e.specId, e.entry.data_file.content, {
          status: 2,
          snapshot_id: sid,
          sequence_number: e.sequence,
          file_sequence_number: e.fileSequence,
          data_file: e.entry.data_file,
        });
      for (const g of groups.values()) {
        const oldSpec = specById(m, g.specId);
        const oldType = partitionType(oldSpec, allFields(m));
        manifests.push(await this.writeManifest(p, g.entries, oldSpec, schema.fields, oldType, sid, seq, written, g.content));
      }
      manifests.push(...baseManifests);

      const keptRows = sum(kept.map((e) => e.entry.data_file.record_count));
      const addedRows = sum(added.map((d) => d.record_count));
      const livePositions = sum([...keptDeletes.map((e) => e.entry.data_file), ...addedDeletes.map((d) => d.file)].map((d) => d.record_count));
      const deletedData = deleted.filter((e) => e.entry.data_file.content === 0);
      const deletedDeletes = deleted.filter((e) => e.entry.data_file.content === 1);
      try {
        opts.check?.(Number(addedRows + keptRows - livePositions));
      } catch (e) {
        refused = e;
        throw e;
      }
      const listKey = `${p.prefix}/${METADATA}/snap-${snapshotId}-1-${randomUUID()}.avro`;
      const listBody = await writeAvro(MANIFEST_FILE_SCHEMA, manifests, {
        'snapshot-id': snapshotId,
        'parent-snapshot-id': current?.['snapshot-id'] ?? 'null',
        'sequence-number': String(seq),
        'format-version': '2',
      });
      await this.store.put(listKey, listBody);
      written.push(listKey);

      const liveFiles = added.length + kept.length;
      const summary: Record<string, string> = {
        operation: deleted.length || addedDeletes.length ? (liveFiles ? 'overwrite' : 'delete') : 'append',
        'added-data-files': String(added.length),
        'added-records': String(addedRows),
        'added-files-size': String(sum([...added, ...addedDeletes.map((d) => d.file)].map((d) => d.file_size_in_bytes))),
        'deleted-data-files': String(deletedData.length),
        'deleted-records': String(sum(deletedData.map((e) => e.entry.data_file.record_count))),
        'removed-files-size': String(sum(deleted.map((e) => e.entry.data_file.file_size_in_bytes))),
        'added-delete-files': String(addedDeletes.length),
        'added-position-delete-files': String(addedDeletes.length),
        'added-position-deletes': String(sum(addedDeletes.map((d) => d.file.record_count))),
        'removed-delete-files': String(deletedDeletes.length),
        'removed-position-delete-files': String(deletedDeletes.length),
        'removed-position-deletes': String(sum(deletedDeletes.map((e) => e.entry.data_file.record_count))),
        'total-data-files': String(liveFiles),
        'total-records': String(addedRows + keptRows),
        'total-delete-files': String(keptDeletes.length + addedDeletes.length),
        'total-position-deletes': String(livePositions),
        'total-equality-deletes': '0',
        'changed-partition-count': '0',
      };
      if (!deleted.length && !added.length && !addedDeletes.length) summary.operation = 'append';
      const snapshot: Snapshot = {
        'snapshot-id': snapshotId,
        ...(current ? { 'parent-snapshot-id': current['snapshot-id'] } : {}),
        'sequence-number': seq,
        'timestamp-ms': now,
        'manifest-list': this.store.uri(listKey),
        summary,
        'schema-id': schema['schema-id'],
      };
      const next = withSnapshot(p.parquet1 ? { ...m, properties: { ...m.properties, [PARQUET_VERSION_PROPERTY]: '1' } } : m, snapshot, p.baseLocation, now);
      const metadataLocation = await this.writeMetadata(p.prefix, next, p.baseLocation, written);
      await this.store.flush([...written, ...dataKeys]);
      if (p.baseLocation) await this.catalog.commit(p.table, p.baseLocation, metadataLocation);
      else await this.catalog.create(p.table, metadataLocation);
      this.pending.delete(`${p.prefix}/${DATA}/${p.id}/`);
      return { snapshotId, metadataLocation, manifestList: snapshot['manifest-list'], rows: Number(addedRows + keptRows - livePositions) };
    } catch (e) {
      await this.store.delete(written).catch(() => undefined);
      await this.abort(p).catch(() => undefined);
      if (e === refused || e instanceof CommitConflict || e instanceof IcebergError) throw e;
      throw new IcebergError(`iceberg table ${p.table.namespace}.${p.table.name}: ${(e as Error).message.split('\n')[0]}`);
    }
  }

  /**
   * `manifests` without the data files at these local paths, and without the position delete files
   * that name only them: a manifest listing none of them is kept as it is; one listing some is
   * rewritten with its other live files as existing entries (their sequence numbers kept). Every
   * path must be a live data file of `manifests`.
   */
  private async withoutFiles(
    p: PendingWrite,
    manifests: readonly ManifestFile[],
    remove: ReadonlySet<string>,
    sid: bigint,
    seq: number,
    written: string[],
  ): Promise<ManifestFile[]> {
    const out: (ManifestFile | undefined)[] = [...manifests];
    let found = 0;
    const removedUris = new Set<string>();
    const rewrite = async (i: number, live: readonly LiveEntry[], rest: readonly LiveEntry[]): Promise<void> => {
      const mf = manifests[i];
      if (rest.length === live.length) return;
      if (!rest.length) {
        out[i] = undefined;
        return;
      }
      const spec = specById(p.metadata, mf.partition_spec_id);
      const entries: ManifestEntry[] = rest.map((e) => ({
        status: 0,
        snapshot_id: e.entry.snapshot_id ?? BigInt(mf.added_snapshot_id),
        sequence_number: e.sequence,
        file_sequence_number: e.fileSequence,
        data_file: e.entry.data_file,
      }));
      out[i] = await this.writeManifest(
        p,
        entries,
        spec,
        currentSchema(p.metadata).fields,
        partitionType(spec, allFields(p.metadata)),
        sid,
        seq,
        written,
        mf.content === 1 ? 1 : 0,
      );
    };
    // The data manifests first: they give the removed files' locations, which delete files name.
    for (const [i, mf] of manifests.entries()) {
      if (mf.content !== 0) continue;
      const live = await this.liveEntries([mf]);
      const local = await Promise.all(live.map((e) => this.store.localFile(this.keyOf(e.entry.data_file.file_path))));
      const rest = live.filter((e, j) => {
        if (!remove.has(local[j])) return true;
        removedUris.add(e.entry.data_file.file_path);
        return false;
      });
      found += live.length - rest.length;
      await rewrite(i, live, rest);
    }
    for (const [i, mf] of manifests.entries()) {
      if (mf.content !== 1) continue;
      const live = await this.liveEntries([mf], 1);
      await rewrite(
        i,
        live,
        live.filter((e) => !removedUris.has(namedFile(e.entry.data_file) ?? '')),
      );
    }
    if (found !== remove.size)
      throw new IcebergError(`iceberg table ${p.table.namespace}.${p.table.name}: ${remove.size - found} file(s) to remove are not in the base snapshot`);
    return out.filter((m): m is ManifestFile => m !== undefined);
  }

  /** Keys of every object one snapshot needs: its metadata file, manifest list, manifests and data files. */
  async snapshotKeys(metadataLocation: string, manifestList: string): Promise<string[]> {
    const manifests = await this.manifestList(manifestList);
    const keys = [this.keyOf(metadataLocation), this.keyOf(manifestList), ...manifests.map((m) => this.keyOf(m.manifest_path))];
    for (const e of [...(await this.liveEntries(manifests)), ...(await this.liveEntries(manifests, 1))]) keys.push(this.keyOf(e.entry.data_file.file_path));
    return keys.sort();
  }

  /**
   * The data files of the snapshot with this manifest list, each with the position delete files
   * that apply to it (sorted by path). Equality deletes are refused: asgard does not read them.
   */
  async scan(manifestList: string): Promise<ScanFile[]> {
    let cached = scanCache.get(manifestList);
    if (!cached) {
      const manifests = await this.manifestList(manifestList);
      const dels = await this.liveEntries(manifests, 1);
      for (const d of dels) {
        if (d.entry.data_file.content !== 1)
          throw new IcebergError(`${d.entry.data_file.file_path} holds equality deletes, which asgard does not read; compact the table first`);
      }
      // Delete files that name one data file (as asgard and iceberg-java write them), by that file; the others apply to any.
      const named = new Map<string, LiveEntry[]>();
      const unnamed: LiveEntry[] = [];
      for (const d of dels) {
        const t = namedFile(d.entry.data_file);
        if (t === undefined) unnamed.push(d);
        else named.set(t, [...(named.get(t) ?? []), d]);
      }
      cached = (await this.liveEntries(manifests)).map((e) => {
        const uri = e.entry.data_file.file_path;
        // A delete file applies to data files of a lower or equal data sequence number (spec, "Scan Planning").
        const applies = [...(named.get(uri) ?? []), ...unnamed].filter((d) => d.sequence >= e.sequence);
        return {
          key: this.keyOf(uri),
          uri,
          rows: Number(e.entry.data_file.record_count),
          deletes: applies.map((d) => this.keyOf(d.entry.data_file.file_path)),
          deletedRows: Number(sum(applies.map((d) => d.entry.data_file.record_count))),
          partition: JSON.stringify([e.specId, e.entry.data_file.partition], (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v)),
        };
      });
      if (scanCache.size > 512) scanCache.delete(scanCache.keys().next().value!);
      scanCache.set(manifestList, cached);
    }
    const out: ScanFile[] = [];
    for (const f of cached) {
      const deletes: string[] = [];
      for (const k of f.deletes) deletes.push(await this.store.localFile(k));
      out.push({ path: await this.store.localFile(f.key), uri: f.uri, rows: f.rows, deletes, deletedRows: f.deletedRows, partition: f.partition });
    }
    return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  }

  /** Local paths of the data files of the snapshot with this manifest list (sorted). */
  async dataFiles(manifestList: string): Promise<string[]> {
    // Cached as keys, not local paths: two working copies of one S3 warehouse (an apply and a
    // server in one process) share manifest URIs but not folders.
    let keys = filesCache.get(manifestList);
    if (!keys) {
      keys = (await this.liveEntries(await this.manifestList(manifestList))).map((e) => this.keyOf(e.entry.data_file.file_path));
      if (filesCache.size > 512) filesCache.delete(filesCache.keys().next().value!);
      filesCache.set(manifestList, keys);
    }
    const out: string[] = [];
    for (const k of keys) out.push(await this.store.localFile(k));
    return out.sort();
  }

  /**
   * Keep the snapshots `keep` (and the current one); delete the others and every object under the
   * table's location that is referenced by neither the retained snapshots nor the metadata files
   * still listed. Writes in flight in this process are left alone.
   */
  async expire(
    table: TableIdent,
    prefix: string,
    keep: ReadonlySet<string>,
    now = new Date(),
    opts: { readonly makeCurrent?: string; readonly keepSnapshots?: readonly { readonly metadataLocation: string; readonly manifestList: string }[] } = {},
  ): Promise<void> {
    // Snapshots the caller keeps that this table's metadata does not list (one a remote copy pulled
    // from another checkout, whose catalog this one has not seen) keep their objects too.
    const kept = new Set<string>();
    for (const s of opts.keepSnapshots ?? []) for (const k of await this.snapshotKeys(s.metadataLocation, s.manifestList).catch(() => [])) kept.add(k);
    const cur = await this.current(table);
    if (!cur) {
      const orphans = (await this.store.list(prefix)).filter((k) => !kept.has(k) && !this.inFlight(k));
      await this.store.delete(orphans);
      return;
    }
    let { metadata, location } = cur;
    // A rollback first makes the wanted snapshot current again, so the newer one can expire.
    const rolled =
      opts.makeCurrent && metadata['current-snapshot-id'] !== opts.makeCurrent ? withCurrent(metadata, opts.makeCurrent, now.getTime()) : undefined;
    const next = withoutSnapshots(rolled ?? metadata, keep, location, now.getTime()) ?? rolled;
    if (next) {
      const written: string[] = [];
      const nextLocation = await this.writeMetadata(prefix, next, location, written);
      try {
        await this.store.flush(written);
        await this.catalog.commit(table, location, nextLocation);
      } catch (e) {
        await this.store.delete(written);
        throw e;
      }
      metadata = next;
      location = nextLocation;
    }
    const referenced = new Set<string>([location, ...(metadata['metadata-log'] ?? []).map((x) => x['metadata-file'])].map((u) => this.keyOf(u)));
    for (const s of metadata.snapshots ?? []) {
      referenced.add(this.keyOf(s['manifest-list']));
      const manifests = await this.manifestList(s['manifest-list']);
      for (const mf of manifests) referenced.add(this.keyOf(mf.manifest_path));
      for (const e of [...(await this.liveEntries(manifests)), ...(await this.liveEntries(manifests, 1))])
        referenced.add(this.keyOf(e.entry.data_file.file_path));
    }
    for (const k of kept) referenced.add(k);
    const unreferenced = (await this.store.list(prefix)).filter((k) => !referenced.has(k) && !this.inFlight(k));
    await this.store.delete(unreferenced);
  }

  /** Remove the table from the catalog and delete every object under its location. */
  async drop(table: TableIdent, prefix: string): Promise<void> {
    await this.catalog.drop(table);
    await this.store.delete(await this.store.list(prefix));
  }

  private inFlight(key: string): boolean {
    for (const p of this.pending) if (key.startsWith(p)) return true;
    return false;
  }

  private keyOf(uri: string): string {
    const k = this.store.keyOf(uri) ?? tableRelativeKey(uri);
    if (k === undefined) throw new IcebergError(`${uri} is outside the warehouse ${this.store.rootUri}`);
    return k;
  }

  /**
   * Whether the table whose metadata is at `location` never had another schema than its current
   * one (besides the empty schema a new table starts with, which no file was written with): then
   * every data file asgard wrote into it has the same columns (every write writes all of them,
   * partition columns included). Metadata files never change: cached by location.
   */
  async singleSchema(location: string): Promise<boolean> {
    let one = schemaCountCache.get(location);
    if (one === undefined) {
      const m = parseMetadata((await this.store.get(this.keyOf(location))).toString('utf8'));
      one = m.schemas.every((x) => x['schema-id'] === m['current-schema-id'] || x.fields.length === 0);
      if (schemaCountCache.size > 512) schemaCountCache.delete(schemaCountCache.keys().next().value!);
      schemaCountCache.set(location, one);
    }
    return one;
  }

  private async readMetadata(location: string, table: TableIdent): Promise<TableMetadata> {
    try {
      return parseMetadata((await this.store.get(this.keyOf(location))).toString('utf8'));
    } catch (e) {
      throw new IcebergError(`iceberg table ${table.namespace}.${table.name}: cannot read its metadata ${location}: ${(e as Error).message.split('\n')[0]}`);
    }
  }

  private async writeMetadata(prefix: string, m: TableMetadata, previous: string | undefined, written: string[]): Promise<string> {
    const version = previous ? Number(/(\d+)-[^/]*\.metadata\.json$/.exec(previous)?.[1] ?? '0') + 1 : 0;
    const key = `${prefix}/${METADATA}/${String(version).padStart(5, '0')}-${randomUUID()}.metadata.json`;
    await this.store.put(key, serializeMetadata(m));
    written.push(key);
    return this.store.uri(key);
  }

  private async writeManifest(
    p: PendingWrite,
    entries: readonly ManifestEntry[],
    spec: PartitionSpec,
    fields: readonly IcebergField[],
    partType: readonly PartitionFieldType[],
    snapshotId: bigint,
    seq: number,
    written: string[],
    content: 0 | 1 = 0,
  ): Promise<ManifestFile> {
    const key = `${p.prefix}/${METADATA}/${randomUUID()}-m${written.length}.avro`;
    const schemaJson = JSON.stringify({ type: 'struct', 'schema-id': currentSchema(p.metadata)['schema-id'], fields });
    const body = await writeAvro(manifestEntrySchema(partType), entries, {
      schema: schemaJson,
      'schema-id': String(currentSchema(p.metadata)['schema-id']),
      'partition-spec': JSON.stringify(spec.fields),
      'partition-spec-id': String(spec['spec-id']),
      'format-version': '2',
      content: content === 1 ? 'deletes' : 'data',
    });
    await this.store.put(key, body);
    written.push(key);
    const count = (s: number) => entries.filter((e) => e.status === s);
    const live = entries.filter((e) => e.status !== 2);
    const seqs = entries.map((e) => (e.status === 1 ? BigInt(seq) : (e.sequence_number ?? BigInt(seq))));
    return {
      manifest_path: this.store.uri(key),
      manifest_length: BigInt(body.length),
      partition_spec_id: spec['spec-id'],
      content,
      sequence_number: BigInt(seq),
      min_sequence_number: seqs.reduce((a, b) => (b < a ? b : a), BigInt(seq)),
      added_snapshot_id: snapshotId,
      added_files_count: count(1).length,
      existing_files_count: count(0).length,
      deleted_files_count: count(2).length,
      added_rows_count: sum(count(1).map((e) => e.data_file.record_count)),
      existing_rows_count: sum(count(0).map((e) => e.data_file.record_count)),
      deleted_rows_count: sum(count(2).map((e) => e.data_file.record_count)),
      partitions: partType.length
        ? summaries(
            partType,
            live.map((e) => e.data_file),
          )
        : [],
      key_metadata: null,
    };
  }

  private async manifestList(uri: string): Promise<ManifestFile[]> {
    let list = listCache.get(uri);
    if (!list) {
      list = await readAvro<ManifestFile>(await this.store.get(this.keyOf(uri)));
      if (listCache.size > 512) listCache.delete(listCache.keys().next().value!);
      listCache.set(uri, list);
    }
    return list;
  }

  /** Live (added or existing) entries of the data (content 0) or delete (1) manifests, with their inherited sequence numbers. */
  private async liveEntries(manifests: readonly ManifestFile[], content: 0 | 1 = 0): Promise<LiveEntry[]> {
    const out: LiveEntry[] = [];
    for (const mf of manifests) {
      if (mf.content !== content) continue;
      let entries = manifestCache.get(mf.manifest_path);
      if (!entries) {
        entries = await readAvro<ManifestEntry>(await this.store.get(this.keyOf(mf.manifest_path)));
        if (manifestCache.size > 2048) manifestCache.delete(manifestCache.keys().next().value!);
        manifestCache.set(mf.manifest_path, entries);
      }
      for (const e of entries) {
        if (e.status === 2) continue;
        const inherited = BigInt(mf.sequence_number);
        out.push({
          entry: e,
          specId: mf.partition_spec_id,
          sequence: e.sequence_number ?? inherited,
          fileSequence: e.file_sequence_number ?? inherited,
        });
      }
    }
    return out;
  }
}

/**
 * The key of an object written under another warehouse root (a copy of the warehouse made
 * elsewhere, e.g. a remote state's working copy on another checkout): `<root>/<ns>/<table>/{data,
 * metadata}/…` → `<ns>/<table>/{data,metadata}/…`, taking the last such table folder in the path
 * (partition folders are `k=v`, never `data` or `metadata`).
 */
export function tableRelativeKey(uri: string): string | undefined {
  const m = /^.*\/([^/]+\/[^/]+\/(?:data|metadata)\/.+)$/.exec(uri);
  return m?.[1];
}

interface LiveEntry {
  readonly entry: ManifestEntry;
  readonly specId: number;
  readonly sequence: bigint;
  readonly fileSequence: bigint;
}

// Manifests and manifest lists never change once written: their contents are cached by location.
const manifestCache = new Map<string, ManifestEntry[]>();
const listCache = new Map<string, ManifestFile[]>();
const filesCache = new Map<string, string[]>();
const scanCache = new Map<string, { key: string; uri: string; rows: number; deletes: string[]; deletedRows: number; partition: string }[]>();
const schemaCountCache = new Map<string, boolean>();

/** A new write's id (its UTC time to the millisecond, 8 random hex digits): its folder is `data/<id>/`. */
const newWriteId = (now: Date): string => `${now.toISOString().replace(/[-:.]/g, '')}-${randomBytes(4).toString('hex')}`;

/** A `newWriteId` as the folder of a data file's path. */
const WRITE_ID = /[/\\]data[/\\](\d{8}T\d{9}Z-[0-9a-f]{8})[/\\]/;

/**
 * The id of the asgard write that made a data file (from its local path), or undefined for a file
 * another engine wrote. Every file of one write has the write's columns, in its order.
 */
export function writeOf(file: string): string | undefined {
  return WRITE_ID.exec(file)?.[1];
}

/** The store key of a file written into a pending write's folder (local path). */
const dataKey = (p: PendingWrite, file: string): string => `${p.prefix}/${DATA}/${p.id}/${relative(p.dir, file).split(sep).join('/')}`;

/** The one data file a position delete file names (its file_path bounds are equal), if it names one. */
function namedFile(d: DataFile): string | undefined {
  const lo = d.lower_bounds?.find((b) => b.key === DELETE_FILE_PATH_ID)?.value;
  const hi = d.upper_bounds?.find((b) => b.key === DELETE_FILE_PATH_ID)?.value;
  return lo && hi && lo.equals(hi) ? lo.toString('utf8') : undefined;
}

function allFields(m: TableMetadata): IcebergField[] {
  const byId = new Map<number, IcebergField>();
  for (const s of m.schemas) for (const f of s.fields) byId.set(f.id, f);
  return [...byId.values()];
}

function partitionType(spec: PartitionSpec, fields: readonly IcebergField[]): PartitionFieldType[] {
  return spec.fields.map((pf) => {
    const src = fields.find((f) => f.id === pf['source-id']);
    if (!src) throw new IcebergError(`partition field ${pf.name} refers to a column that does not exist`);
    if (pf.transform !== 'identity') throw new IcebergError(`partition transform ${pf.transform} is not supported`);
    return { name: pf.name, fieldId: pf['field-id'], type: src.type };
  });
}

/** The Parquet files under `dir` (sorted), less those in its sub-folder `skip`. */
/** The COPY option that writes Parquet 2 (`keepReadable`). */
const PARQUET_2 = ', PARQUET_VERSION V2';
/**
 * Fewer rows than one DuckDB row group: a write this small is Parquet 1 whatever the table (a
 * caller that knows passes `parquet1`). Parquet 2 saves ~7% of a write's work and half its bytes,
 * in proportion to its rows, but `keepReadable` then reads back the footer of every file it wrote
 * (~0.3 ms each): for a few thousand rows over many partitions, more than Parquet 2 saves.
 */
export const SMALL_WRITE_ROWS = 122_880;
/** The table property of a table written as Parquet 1 (`keepReadable`). */
export const PARQUET_VERSION_PROPERTY = 'asgard.parquet-version';
/** Iceberg types DuckDB's Parquet 2 writes as integers (delta-encoded or in a dictionary), which Iceberg's vectorized reader reads. */
const DELTA_ONLY = /^(int|long|date|time|timestamp|timestamptz|boolean|decimal\((\d|1[0-8]),\s*\d+\))$/;

function walk(dir: string, skip?: string): string[] {
  const out: string[] = [];
  const rec = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory() && d === dir && e.name === skip) continue;
      if (e.isDirectory()) rec(p);
      else if (e.name.endsWith('.parquet')) out.push(p);
    }
  };
  rec(dir);
  return out.sort();
}

const sql = (s: string) => `'${s.replace(/'/g, "''")}'`;
const q = (s: string) => `"${s.replace(/"/g, '""')}"`;

/** A partition value in its manifest form (spec, Appendix on single values), computed by DuckDB. */
function partitionExpr(f: PartitionFieldType): string {
  const c = q(f.name);
  switch (f.type) {
    case 'int':
    case 'long':
      return `CAST(${c} AS BIGINT)`;
    case 'date':
      return `CAST(datediff('day', DATE '1970-01-01', ${c}) AS BIGINT)`;
    case 'timestamp':
    case 'timestamptz':
      return `epoch_us(${c})`;
    case 'time':
      return `CAST(epoch(${c}) * 1000000 AS BIGINT)`;
    case 'float':
    case 'double':
      return `CAST(${c} AS DOUBLE)`;
    case 'string':
    case 'boolean':
      return c;
    default:
      throw new IcebergError(
        `partition column \`${f.name}\` has Iceberg type ${f.type}; asgard partitions by boolean, integer, float, string, date, time and timestamp columns`,
      );
  }
}

/**
 * Each file's row count and partition values: from what DuckDB reported when it wrote the file
 * (`known`), else read from the files (their footers; for partition values, a scan of those columns).
 */
async function fileStats(
  conn: DuckDBConnection,
  all: readonly string[],
  part: readonly PartitionFieldType[],
  known: ReadonlyMap<string, WrittenFile>,
): Promise<Map<string, { rows: bigint; partition: Record<string, PartitionValue> }>> {
  const out = new Map<string, { rows: bigint; partition: Record<string, PartitionValue> }>();
  const files: string[] = [];
  for (const f of all) {
    const w = known.get(f);
    const values = w && part.map((pf) => writtenPartitionValue(pf, w));
    if (values?.every((v) => v !== undefined)) out.set(f, { rows: w!.rows, partition: Object.fromEntries(part.map((pf, i) => [pf.name, values[i]!])) });
    else files.push(f);
  }
  if (!files.length) return out;
  const list = `[${files.map(sql).join(', ')}]`;
  const meta = await conn.runAndReadAll(`SELECT file_name, num_rows FROM parquet_file_metadata(${list})`);
  for (const [name, rows] of meta.getRows()) out.set(String(name), { rows: BigInt(rows as bigint), partition: {} });
  if (part.length) {
    const exprs = part.map((f, i) => `${partitionExpr(f)} AS p${i}`).join(', ');
    const r = await conn.runAndReadAll(`SELECT DISTINCT filename, ${exprs} FROM read_parquet(${list}, filename = true, hive_partitioning = false)`);
    for (const row of r.getRows()) {
      const name = String(row[0]);
      const s = out.get(name)!;
      if (Object.keys(s.partition).length) throw new IcebergError(`${name} holds rows of more than one partition`);
      part.forEach((f, i) => {
        const v = row[i + 1];
        s.partition[f.name] = v === null || v === undefined ? null : f.type === 'int' || f.type === 'date' ? Number(v) : (v as PartitionValue);
      });
    }
  }
  return out;
}

/**
 * A partition value in its manifest form (as `partitionExpr` computes it) from what DuckDB reported
 * of the file: the partition key it wrote, confirmed by the column's statistics (minimum = maximum =
 * that value, or every row NULL). Undefined when they do not say it exactly (the file is then read).
 */
export function writtenPartitionValue(f: PartitionFieldType, w: WrittenFile): PartitionValue | undefined {
  const key = w.partition.get(f.name);
  const s = w.columns.get(f.name);
  if (key === undefined || !s) return undefined;
  if (key === null) return s.nulls === w.rows ? null : undefined;
  // Parquet statistics print booleans as 1 and 0.
  const stat = f.type === 'boolean' ? ({ true: '1', false: '0' } as Record<string, string>)[key] : key;
  if (s.nulls !== 0n || s.min !== stat || s.max !== stat) return undefined;
  const int = /^-?\d+$/;
  switch (f.type) {
    case 'int':
      return int.test(key) ? Number(key) : undefined;
    case 'long':
      return int.test(key) ? BigInt(key) : undefined;
    case 'string':
      return key;
    case 'boolean':
      return key === 'true' ? true : key === 'false' ? false : undefined;
    case 'date': {
      const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(key);
      return m && Number(m[1]) >= 1000 ? Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])) / 86_400_000 : undefined;
    }
    case 'timestamp': {
      const m = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?$/.exec(key);
      if (!m || Number(m[1]) < 1000) return undefined;
      const ms = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]));
      return BigInt(ms) * 1000n + BigInt((m[7] ?? '').padEnd(6, '0'));
    }
    default:
      return undefined;
  }
}

/** Rows of each position delete file (from its Parquet footer). */
async function deleteFileRows(conn: DuckDBConnection, files: readonly string[]): Promise<Map<string, bigint>> {
  const out = new Map<string, bigint>();
  const meta = await conn.runAndReadAll(`SELECT file_name, num_rows FROM parquet_file_metadata([${files.map(sql).join(', ')}])`);
  for (const [name, rows] of meta.getRows()) out.set(String(name), BigInt(rows as bigint));
  return out;
}

function dataFile(path: string, rows: bigint, size: bigint, partition: Record<string, PartitionValue>): DataFile {
  return {
    content: 0,
    file_path: path,
    file_format: 'PARQUET',
    partition,
    record_count: rows,
    file_size_in_bytes: size,
    column_sizes: null,
    value_counts: null,
    null_value_counts: null,
    nan_value_counts: null,
    lower_bounds: null,
    upper_bounds: null,
    key_metadata: null,
    split_offsets: null,
    equality_ids: null,
    sort_order_id: null,
  };
}

const sum = (xs: readonly bigint[]): bigint => xs.reduce((a, b) => a + b, 0n);

/** Per partition field: nulls present and the lower/upper bound in single-value binary form. */
function summaries(part: readonly PartitionFieldType[], files: readonly DataFile[]): FieldSummary[] {
  return part.map((f) => {
    const values = files.map((d) => d.partition[f.name]);
    const present = values.filter((v): v is Exclude<PartitionValue, null> => v !== null);
    const nan = present.some((v) => typeof v === 'number' && Number.isNaN(v));
    const ordered = present.filter((v) => !(typeof v === 'number' && Number.isNaN(v))).map((v) => singleValue(f.type, v));
    ordered.sort((a, b) => compareSingle(f.type, a, b));
    return {
      contains_null: present.length < values.length,
      contains_nan: f.type === 'float' || f.type === 'double' ? nan : null,
      lower_bound: ordered[0] ?? null,
      upper_bound: ordered[ordered.length - 1] ?? null,
    };
  });
}

function singleValue(t: IcebergPrimitive, v: Exclude<PartitionValue, null>): Buffer {
  const b8 = Buffer.alloc(8);
  const b4 = Buffer.alloc(4);
  switch (t) {
    case 'boolean':
      return Buffer.from([v ? 1 : 0]);
    case 'int':
    case 'date':
      b4.writeInt32LE(Number(v));
      return b4;
    case 'long':
    case 'timestamp':
    case 'timestamptz':
    case 'time':
      b8.writeBigInt64LE(BigInt(v as bigint));
      return b8;
    case 'float':
      b4.writeFloatLE(Number(v));
      return b4;
    case 'double':
      b8.writeDoubleLE(Number(v));
      return b8;
    default:
      return Buffer.from(String(v), 'utf8');
  }
}

function compareSingle(t: IcebergPrimitive, a: Buffer, b: Buffer): number {
  switch (t) {
    case 'int':
    case 'date':
      return a.readInt32LE() - b.readInt32LE();
    case 'long':
    case 'timestamp':
    case 'timestamptz':
    case 'time': {
      const x = a.readBigInt64LE();
      const y = b.readBigInt64LE();
      return x < y ? -1 : x > y ? 1 : 0;
    }
    case 'float':
      return a.readFloatLE() - b.readFloatLE();
    case 'double':
      return a.readDoubleLE() - b.readDoubleLE();
    default:
      return Buffer.compare(a, b);
  }
}
