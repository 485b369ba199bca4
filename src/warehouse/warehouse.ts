// The embedded warehouse: every table (`bronze.x`, `silver.x`, `gold.x`, `features.x`) is an Apache
// Iceberg v2 table under `<root>/<layer>/<table>/` (data/ Parquet files, metadata/ JSON and Avro),
// registered in an Iceberg SQL catalog (by default the SQLite file `<root>/catalog.db`), so Spark,
// pyiceberg and Trino read what asgard writes (docs/lakehouse.md).
//
// A write is begin → DuckDB COPY into the pending folder (`copySql`) → commit (or abort). Until the
// catalog commit nothing a reader follows points at the new files; the state file
// (src/planner/state-store.ts) then records the snapshot (id, metadata file, manifest list), and
// asgard's readers read exactly that snapshot's data files. `expire` keeps the snapshots the state
// still references and deletes the rest, files included (what SNAPSHOTS_KEPT asks for).

import type { DuckDBConnection } from '@duckdb/node-api';
import { existsSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import type { ColumnSchema, SnapshotRef } from '../planner/state-store.js';
import { LocalTableStore, type TableStore } from './iceberg/table-store.js';
import { SqliteCatalog, type IcebergCatalog, type TableIdent } from './iceberg/catalog.js';
import {
  DELETE_FILE_PATH_ID,
  DELETE_POS_ID,
  DELETE_ROW_ID,
  IcebergTables,
  tableRelativeKey,
  writeOf,
  type PendingWrite,
  type ScanFile,
  type WrittenFile,
} from './iceberg/table.js';

export type { ScanFile } from './iceberg/table.js';
export { SMALL_WRITE_ROWS, writeOf } from './iceberg/table.js';
import { icebergTypeOf, storageTypeOf } from './iceberg/schema.js';
import { currentSchema } from './iceberg/metadata.js';
import { warmAvro } from './iceberg/avro.js';
import { parseNodeId } from '../ir/address.js';

export interface PendingSnapshot {
  readonly id: string;
  readonly table: string;
  /** Absolute folder DuckDB writes this snapshot's new Parquet files into. */
  readonly dir: string;
  /** COPY options every write into `dir` must carry (format and the columns' Iceberg field ids): `write.copyOptions`. */
  readonly copyOptions: string;
  /** `SELECT <selectList> FROM …` writes the columns as their Iceberg storage types. */
  readonly selectList: string;
  readonly write: PendingWrite;
}

/** What is known of a pending snapshot's rows without reading them (`Warehouse.writtenFacts`). */
export interface WrittenFacts {
  readonly rows: number;
  nulls(column: string): number | undefined;
  /** The least and greatest value of an integer column (undefined for other types, or when a file's report lacks them). */
  range(column: string): { readonly min: bigint; readonly max: bigint } | undefined;
}

export interface WarehouseOptions {
  /** Where objects live (default: the local folder `root`). */
  readonly store?: TableStore;
  /** The Iceberg catalog (default: SQLite at `<root>/catalog.db`). */
  readonly catalog?: IcebergCatalog;
}

/** The SQLite catalog file of a local warehouse root. */
export const CATALOG_FILE = 'catalog.db';

export class Warehouse {
  readonly root: string;
  readonly tables: IcebergTables;
  private commitCheck?: (table: string, rows: number) => void;

  constructor(root: string, baseDir = process.cwd(), opts: WarehouseOptions = {}) {
    this.root = isAbsolute(root) || /^[a-z][a-z0-9+.-]*:\/\//i.test(root) ? root : resolve(baseDir, root);
    const store = opts.store ?? new LocalTableStore(this.root);
    const catalog = opts.catalog ?? new SqliteCatalog(join(this.root, CATALOG_FILE));
    this.tables = new IcebergTables(store, catalog);
  }

  /**
   * The same warehouse, whose commits first pass `check` (table, new row count): what it throws
   * aborts the write before the catalog sees it (apply's row-count guard, src/engine/row-guard.ts).
   */
  withCommitCheck(check: (table: string, rows: number) => void): Warehouse {
    const w = Object.create(Warehouse.prototype) as Warehouse;
    Object.assign(w, this, { commitCheck: check });
    return w;
  }

  /** `bronze.customers` → `<root>/bronze/customers` (the table's location on a local warehouse). */
  tableDir(table: string): string {
    const [layer, name] = splitTable(table);
    return join(this.root, layer, name);
  }

  /**
   * Load what a first write and commit load (the catalog's driver, the Avro library and the
   * manifests' codecs), in steps that each leave the event loop to what is waiting: for a caller
   * with time to spare (a sync waiting for its source to answer). Opens no catalog, writes nothing.
   */
  warmUp(): void {
    const steps = [() => this.tables.catalog.warm?.(), warmAvro];
    const next = (): void => {
      try {
        steps.shift()?.();
      } catch {
        return; // what failed here fails again where it is needed, with its error reported there
      }
      if (steps.length) setImmediate(next);
    };
    setImmediate(next);
  }

  /** Start a new snapshot of `table` with these columns; invisible until `commit`. */
  async begin(
    table: string,
    schema: readonly ColumnSchema[],
    partitionBy: readonly string[] = [],
    now = new Date(),
    opts: { readonly parquet1?: boolean } = {},
  ): Promise<PendingSnapshot> {
    const [layer, name] = splitTable(table);
    const write = await this.tables.prepare({ namespace: layer, name }, `${layer}/${name}`, schema, partitionBy, now, opts);
    return {
      id: write.id,
      table,
      dir: write.dir,
      get copyOptions() {
        return write.copyOptions;
      },
      selectList: write.selectList,
      write,
    };
  }

  /**
   * The COPY statement that writes `sql`'s rows into the pending snapshot (one file, or one per
   * partition; `file`: the name of the one file of an unpartitioned table, when it writes several).
   */
  copySql(p: PendingSnapshot, sql: string, extraOptions = '', file?: string): string {
    const target = file && !p.write.partitionBy.length ? join(p.dir, file) : this.tables.fileTarget(p.write);
    return `COPY (SELECT ${p.selectList} FROM (${sql}) AS asg_rows) TO '${target.replace(/'/g, "''")}' (${p.copyOptions}${extraOptions ? `, ${extraOptions}` : ''})`;
  }

  /**
   * Write `sql`'s rows into the pending snapshot (`copySql`); returns the rows written. DuckDB reports
   * each file's rows, size and column statistics as it writes it, so the commit reads no file back.
   */
  async write(conn: DuckDBConnection, p: PendingSnapshot, sql: string, opts: { readonly options?: string; readonly file?: string } = {}): Promise<number> {
    const reader = await conn.runAndReadAll(this.copySql(p, sql, [opts.options, 'RETURN_STATS true'].filter(Boolean).join(', '), opts.file));
    const report = reader.getRowObjectsJson() as Record<string, unknown>[];
    const rows = this.tables.recordWritten(p.write, report);
    await this.tables.keepReadable(
      conn,
      p.write,
      report.map((r) => String(r.filename)),
    );
    return rows;
  }

  /**
   * Commit what was written into the pending folder as the table's current snapshot. With `base`,
   * the snapshot keeps `base`'s files and adds the new ones (an append), less `remove` (some of
   * `base`'s files, as `files` gives them: a merge that rewrites only those), and with `deletes`
   * (position delete files written with `deleteCopySql`) less some rows of the files it keeps;
   * without `base`, it replaces them.
   */
  async commit(
    p: PendingSnapshot,
    conn: DuckDBConnection,
    opts: {
      readonly base?: SnapshotRef;
      readonly remove?: readonly string[];
      readonly deletes?: readonly { readonly file: string; readonly target: string }[];
      readonly now?: Date;
    } = {},
  ): Promise<SnapshotRef> {
    const now = opts.now ?? new Date();
    const check = this.commitCheck;
    const c = await this.tables.commit(p.write, conn, {
      base: opts.base?.manifestList,
      remove: opts.remove,
      deletes: opts.deletes,
      now,
      check: check && ((rows) => check(p.table, rows)),
    });
    const [layer, name] = splitTable(p.table);
    return {
      id: c.snapshotId,
      path: `${layer}/${name}`,
      rows: c.rows,
      createdAt: now.toISOString(),
      metadataLocation: c.metadataLocation,
      manifestList: c.manifestList,
    };
  }

  /**
   * What DuckDB reported of every file of the pending snapshot (`write`): its row count and each
   * column's NULL count (undefined where a file's report lacks it); undefined when a file has no report.
   */
  writtenFacts(p: PendingSnapshot): WrittenFacts | undefined {
    const files = this.tables.pendingFiles(p.write).map((f) => p.write.written.get(f));
    if (files.some((w) => !w)) return undefined;
    const reports = files as WrittenFile[];
    const sum = (xs: readonly (bigint | undefined)[]): number | undefined =>
      xs.some((x) => x === undefined) ? undefined : Number(xs.reduce((a, b) => a! + b!, 0n));
    const range = (column: string): { min: bigint; max: bigint } | undefined => {
      const type = currentSchema(p.write.metadata).fields.find((f) => f.name === column)?.type;
      if (type !== 'int' && type !== 'long') return undefined;
      let r: { min: bigint; max: bigint } | undefined;
      for (const w of reports) {
        const s = w.columns.get(column);
        // A file of no rows, or of NULLs only, holds no value of the column.
        if (w.rows === 0n || (s?.nulls !== undefined && s.nulls === w.rows)) continue;
        if (!s?.min || !s.max || !INTEGER.test(s.min) || !INTEGER.test(s.max)) return undefined;
        const [lo, hi] = [BigInt(s.min), BigInt(s.max)];
        r = r ? { min: lo < r.min ? lo : r.min, max: hi > r.max ? hi : r.max } : { min: lo, max: hi };
      }
      return r;
    };
    return { rows: sum(reports.map((w) => w.rows))!, nulls: (column) => sum(reports.map((w) => w.columns.get(column)?.nulls)), range };
  }

  /**
   * The COPY that writes a position delete file into the pending snapshot: `positions` is a SELECT
   * of the row positions (column `pos`, 0-based as DuckDB's file_row_number) deleted from the data
   * file `target` (a ScanFile of the base snapshot). Returns the file to pass to `commit`'s `deletes`.
   * `row`: columns of the table that `positions` also selects (the deleted rows' values): the file
   * keeps them in Iceberg's optional `row` column (a struct of some of the table's columns under
   * their field ids), where a reader of the table's changes finds them without reading `target`
   * (`deletedKeys`). Columns the pending schema lacks are left out.
   */
  deleteCopySql(p: PendingSnapshot, target: ScanFile, positions: string, row: readonly string[] = []): { readonly file: string; readonly sql: string } {
    const file = this.tables.deleteTarget(p.write);
    const fields = currentSchema(p.write.metadata).fields;
    const kept = row.flatMap((name) => {
      const f = fields.find((x) => x.name === name);
      return f ? [f] : [];
    });
    const rowSelect = kept.length
      ? `, struct_pack(${kept.map((f) => `${ident(f.name)} := CAST(${ident(f.name)} AS ${storageTypeOf(f.type)})`).join(', ')}) AS row`
      : '';
    const rowIds = kept.length ? `, row: {__duckdb_field_id: ${DELETE_ROW_ID}, ${kept.map((f) => `${ident(f.name)}: ${f.id}`).join(', ')}}` : '';
    const sql = `COPY (SELECT ${literal(target.uri)} AS file_path, CAST(pos AS BIGINT) AS pos${rowSelect} FROM (${positions}) ORDER BY pos) TO ${literal(file)} (FORMAT parquet, FIELD_IDS {file_path: ${DELETE_FILE_PATH_ID}, pos: ${DELETE_POS_ID}${rowIds}})`;
    return { file, sql };
  }

  /**
   * SELECT of the values of `columns` of the rows the position delete files `deletes` name (their
   * `row` column, `deleteCopySql`), or undefined when one of them does not keep all of those
   * columns (another writer's, or written without them): then only the data files know them.
   */
  async deletedKeys(conn: DuckDBConnection, deletes: readonly string[], columns: readonly string[]): Promise<string | undefined> {
    if (!deletes.length) return `SELECT ${columns.map((c) => `NULL AS ${ident(c)}`).join(', ')} WHERE false`;
    // A delete file never changes once written: what it keeps is read once per process.
    const unknown = [...new Set(deletes)].filter((d) => !deleteRowColumns.has(d));
    if (unknown.length) {
      const r = await conn.runAndReadAll(
        `SELECT file_name, list(name) FILTER (WHERE field_id IS NOT NULL) AS names, bool_or(field_id = ${DELETE_ROW_ID}) AS has_row FROM parquet_schema([${unknown.map(literal).join(', ')}]) GROUP BY file_name`,
      );
      const files = r.getRowObjectsJson() as { file_name: string; names: string[] | null; has_row: boolean | null }[];
      if (files.length !== unknown.length) return undefined;
      for (const f of files) {
        if (deleteRowColumns.size > 4096) deleteRowColumns.delete(deleteRowColumns.keys().next().value!);
        deleteRowColumns.set(f.file_name, f.has_row ? (f.names ?? []) : []);
      }
    }
    if (deletes.some((d) => !columns.every((c) => deleteRowColumns.get(d)?.includes(c)))) return undefined;
    return `SELECT ${columns.map((c) => `row.${ident(c)} AS ${ident(c)}`).join(', ')} FROM read_parquet([${deletes.map(literal).join(', ')}])`;
  }

  /** The SELECT that reads what has been written into a pending snapshot so far (its files, `schema`'s types). */
  pendingSelect(p: PendingSnapshot, schema: readonly ColumnSchema[]): string {
    return selectFiles(this.tables.pendingFiles(p.write), schema);
  }

  async abort(p: PendingSnapshot): Promise<void> {
    await this.tables.abort(p.write);
  }

  /** Every object a committed snapshot needs, as keys under the warehouse root (what a remote copy uploads). */
  async snapshotKeys(s: SnapshotRef): Promise<string[]> {
    return this.tables.snapshotKeys(s.metadataLocation, s.manifestList);
  }

  /**
   * The first local path a committed snapshot needs that is not there (its table folder, manifest
   * list, manifests or a data file), or undefined when the snapshot is whole.
   */
  async missingSnapshot(s: SnapshotRef): Promise<string | undefined> {
    return (await this.snapshotPaths(s)).paths.find((p) => !existsSync(p));
  }

  /**
   * The local paths a committed snapshot needs, in the order missingSnapshot looks for them: its
   * table folder, then its manifest list, manifests and data files. `complete` is false when they
   * could not all be known (the folder is gone, or the manifest list unreadable: then only the list).
   */
  async snapshotPaths(s: SnapshotRef): Promise<{ readonly paths: string[]; readonly complete: boolean }> {
    const dir = join(this.root, ...s.path.split('/'));
    if (!existsSync(dir)) return { paths: [dir], complete: false };
    let complete = true;
    const keys = await this.snapshotKeys(s).catch(() => {
      complete = false;
      return [tableRelativeKey(s.manifestList) ?? s.manifestList];
    });
    return { paths: [dir, ...keys.map((key) => join(this.root, ...key.split('/')))], complete };
  }

  /**
   * Local paths of a committed snapshot's data files (sorted): which files a snapshot shares with
   * another. Its rows are `snapshotSelect`'s (a data file's rows may be deleted by delete files).
   */
  async files(s: SnapshotRef): Promise<string[]> {
    return this.tables.dataFiles(s.manifestList);
  }

  /** A committed snapshot's data files with the position delete files that apply to each (sorted). */
  async scan(s: SnapshotRef): Promise<ScanFile[]> {
    return this.tables.scan(s.manifestList);
  }

  /**
   * The SELECT that reads a snapshot: its data files less the rows its delete files name, columns
   * in the recorded order and of the recorded DuckDB types (a snapshot of zero files is an empty
   * relation of those types).
   */
  async snapshotSelect(s: SnapshotRef, schema?: readonly ColumnSchema[]): Promise<string> {
    return selectScan(await this.scan(s), schema, await this.sameColumns(s));
  }

  /**
   * Whether every data file asgard wrote into a committed snapshot's table has the same columns:
   * the table never had another schema (`selectFiles`' `sameColumns`). False when unknown.
   */
  async sameColumns(s: SnapshotRef): Promise<boolean> {
    return this.tables.singleSchema(s.metadataLocation).catch(() => false);
  }

  /** Keep `keep` (and the table's current snapshot); delete older snapshots and unreferenced files. */
  async expire(table: string, keep: readonly SnapshotRef[]): Promise<void> {
    const [layer, name] = splitTable(table);
    await this.tables.expire({ namespace: layer, name }, `${layer}/${name}`, new Set(keep.map((s) => s.id)), new Date(), { keepSnapshots: keep });
  }

  /**
   * Undo a committed snapshot: `to` becomes the table's current snapshot again and every snapshot
   * but `keep` goes, files included. Without `to` (the table had no snapshot before) the table goes.
   */
  async rollback(table: string, to: SnapshotRef | undefined, keep: readonly SnapshotRef[]): Promise<void> {
    if (!to) return this.drop(table);
    const [layer, name] = splitTable(table);
    await this.tables.expire({ namespace: layer, name }, `${layer}/${name}`, new Set([to, ...keep].map((s) => s.id)), new Date(), {
      makeCurrent: to.id,
      keepSnapshots: [to, ...keep],
    });
  }

  /** Remove the table from the catalog and delete its files. */
  async drop(table: string): Promise<void> {
    const [layer, name] = splitTable(table);
    await this.tables.drop({ namespace: layer, name }, `${layer}/${name}`);
  }

  ident(table: string): TableIdent {
    const [namespace, name] = splitTable(table);
    return { namespace, name };
  }
}

/** Per position delete file (local path): the columns of the deleted rows its `row` column keeps (none without one). */
const deleteRowColumns = new Map<string, string[]>();

const INTEGER = /^-?\d+$/;
const ident = (s: string): string => `"${s.replace(/"/g, '""')}"`;
const literal = (s: string): string => `'${s.replace(/'/g, "''")}'`;

/**
 * SELECT over Parquet files; columns cast back to the recorded types where storage widened them.
 * Files of several writes may differ in their columns (a column added since): DuckDB then unifies
 * them by name (`union_by_name`), which opens every file's footer each time the SELECT is bound.
 * The files of one asgard write (a full rebuild's snapshot, a pending write) all have its columns:
 * DuckDB takes them from the first file. So do asgard's files of several writes when the caller
 * knows the table never had another schema (`sameColumns`: Warehouse.sameColumns); files another
 * writer added are unified by name all the same.
 */
export function selectFiles(files: readonly string[], schema?: readonly ColumnSchema[], sameColumns = false): string {
  if (files.length === 0) {
    if (!schema || schema.length === 0) return 'SELECT NULL AS "empty" WHERE false';
    return `SELECT ${schema.map((c) => `CAST(NULL AS ${c.type}) AS ${ident(c.name)}`).join(', ')} WHERE false`;
  }
  const write = writeOf(files[0]);
  const oneWrite = write !== undefined && files.every((f) => writeOf(f) === write);
  const alike = oneWrite || (sameColumns && files.every((f) => writeOf(f) !== undefined));
  return `SELECT ${selectList(schema)} FROM read_parquet([${files.map(literal).join(', ')}]${alike ? '' : ', union_by_name = true'})`;
}

/**
 * SELECT over a snapshot's data files less the rows their position delete files name (merge-on-read,
 * src/warehouse/iceberg/table.ts): the files without deletes in one read, each other file on its own.
 */
export function selectScan(files: readonly ScanFile[], schema?: readonly ColumnSchema[], sameColumns = false): string {
  const plain = files.filter((f) => !f.deletes.length);
  const deleted = files.filter((f) => f.deletes.length);
  if (!deleted.length)
    return selectFiles(
      plain.map((f) => f.path),
      schema,
      sameColumns,
    );
  const parts = deleted.map((f) => `SELECT ${selectList(schema, 't.')} FROM ${liveRows(f)}`);
  if (plain.length)
    parts.unshift(
      selectFiles(
        plain.map((f) => f.path),
        schema,
        sameColumns,
      ),
    );
  return parts.join(schema?.length ? ' UNION ALL ' : ' UNION ALL BY NAME ');
}

/**
 * `read_parquet(file) AS t` less the rows its delete files name, as a FROM item (alias `t`, with
 * DuckDB's `file_row_number`; `extra`: a SELECT of more deleted positions, column `pos`).
 */
export function liveRows(f: ScanFile, extra?: string): string {
  const gone = [
    ...(f.deletes.length ? [`SELECT pos FROM read_parquet([${f.deletes.map(literal).join(', ')}]) WHERE file_path = ${literal(f.uri)}`] : []),
    ...(extra ? [extra] : []),
  ];
  const src = `read_parquet(${literal(f.path)}, file_row_number = true) AS t`;
  return gone.length ? `${src} ANTI JOIN (${gone.join(' UNION ALL ')}) AS asg_gone ON t.file_row_number = asg_gone.pos` : src;
}

/** The select list of `schema` (`*` without one): columns cast back to the recorded types where storage widened them. */
export function selectList(schema?: readonly ColumnSchema[], prefix = ''): string {
  if (!schema || schema.length === 0) return prefix ? `${prefix}* EXCLUDE (file_row_number)` : '*';
  return schema
    .map((c) => {
      let widened = false;
      try {
        widened = !!icebergTypeOf(c).storeAs;
      } catch {
        widened = false;
      }
      return widened ? `CAST(${prefix}${ident(c.name)} AS ${c.type}) AS ${ident(c.name)}` : `${prefix}${ident(c.name)}`;
    })
    .join(', ');
}

function splitTable(table: string): [string, string] {
  const a = parseNodeId(table);
  if (!a) throw new Error(`not a layer.table name: ${table}`);
  return [a.prefix, a.name];
}
