// Changing some keys of a table without rewriting the table. The rows of the previous snapshot that
// hold a changed key are found by position (`planMerge`: the file and row number of each); then
// either the files holding them are dropped (Warehouse.commit's `remove`) and their other rows
// written again along with the new rows — ingestion's merge on the primary key
// (src/ingest/source-executor.ts) — or the files stay and a position delete file names those rows
// (Iceberg v2 merge-on-read, src/warehouse/iceberg/table.ts) — derived maintenance (./derived.ts),
// which rewrites a file only once its deletes pass a share of its rows. Every other file is kept as
// it is, so two snapshots differ only in a few files and delete files, and those are what a
// downstream node reads to find its input's changes (`changedRows`).

import type { DuckDBConnection } from '@duckdb/node-api';
import type { ColumnSchema, SnapshotRef } from '../planner/state-store.js';
import { liveRows, selectFiles, selectList, selectScan, writeOf, type ScanFile, type Warehouse } from '../warehouse/warehouse.js';
import { ident, literal } from './quote.js';

export interface MergePlan {
  /** The previous snapshot's files holding a row of a changed key (local paths). */
  readonly hit: readonly string[];
  readonly hitFiles: readonly ScanFile[];
  /** The previous snapshot's other files: the new snapshot keeps them. */
  readonly untouched: readonly ScanFile[];
  /** Per hit file (local path): how many of its rows hold a changed key. */
  readonly hitRows: ReadonlyMap<string, number>;
  /** SELECT of the rows of `hit` files whose key did not change. */
  readonly kept: string;
  /** The same, of some of the hit files. */
  readonly keptOf: (files: readonly ScanFile[]) => string;
  /** SELECT of the previous rows of the changed keys. */
  readonly replaced: string;
  /** SELECT of the positions (column `pos`) of the previous rows of changed keys in one hit file. */
  readonly positions: (file: ScanFile) => string;
  /** The same with those rows' key columns (the table's columns of `on`, as `keyColumns` names them): what a position delete file may keep of each deleted row. */
  readonly deletedKeys: (file: ScanFile) => string;
  readonly keyColumns: readonly string[];
  /**
   * With `hashRows`: SELECT of the fingerprint of `replaced` (columns `n`, its row count, and `h`, its
   * digest as ./same-rows.ts `fingerprintSql` computes it), taken in the same pass that found the rows.
   */
  readonly fingerprint?: string;
}

/** The temp table of (file, position) of the previous rows of changed keys. */
const POSITIONS = 'asg_merge_pos';

/**
 * Plan a merge into a table whose current files are `files` (columns `schema`): `on` pairs a
 * table column with a column of `keysRel`, the relation of changed keys (NULL matches NULL).
 * `hashRows` also hashes each previous row of a changed key (reading every column, not only the
 * key): `fingerprint` then answers what a second pass over `replaced` would. `keepRows` (with
 * `hashRows`) keeps those rows from that pass in a temp table, and `replaced` reads them there: for a
 * caller that reads `replaced` in full (derived.ts's merged groups), not the hit files a second time.
 * `nulls`: whether a key of `keysRel` has a NULL, when the caller knows. `sameColumns`: asgard's
 * files of the table all have the same columns (Warehouse.sameColumns).
 */
export async function planMerge(
  conn: DuckDBConnection,
  files: readonly ScanFile[],
  schema: readonly ColumnSchema[],
  on: readonly (readonly [string, string])[],
  keysRel: string,
  opts: { readonly hashRows?: boolean; readonly keepRows?: boolean; readonly nulls?: boolean; readonly sameColumns?: boolean } = {},
): Promise<MergePlan> {
  const nulls =
    opts.nulls ??
    (await keysWithNull(
      conn,
      keysRel,
      on.map(([, k]) => k),
    ));
  const keep = !!opts.hashRows && !!opts.keepRows;
  const cols = columnNames(schema);
  // The key columns of each row (its other columns too when kept: `replaced` reads them), after (f, pos, h).
  const keyColumns = on.map(([t]) => t).filter((t) => schema.some((c) => c.name === t));
  const stored = keep ? schema : schema.filter((c) => keyColumns.includes(c.name));
  const storedCols = stored.map((c) => `, ${ident(c.name)}`).join('');
  await conn.run(`CREATE OR REPLACE TEMP TABLE ${POSITIONS} (f VARCHAR, pos BIGINT, h UBIGINT${stored.map((c) => `, ${ident(c.name)} ${c.type}`).join('')})`);
  // The hash of a row as `replaced` reads it: the columns of `schema`, cast back where storage widened them.
  const hashed = (rows: string) =>
    opts.hashRows || stored.length
      ? `SELECT __asg_file, file_row_number, ${opts.hashRows ? `hash(${cols})` : 'NULL'}${storedCols} FROM (SELECT __asg_file, file_row_number, ${selectList(schema)} FROM (${rows}))`
      : `SELECT __asg_file, file_row_number, NULL FROM (${rows})`;
  if (files.length) {
    // Only the key columns are read, with the file and row number of each row; deleted rows are not rows.
    const plain = files.filter((f) => !f.deletes.length);
    const sources = [
      ...(plain.length
        ? [`read_parquet([${plain.map((f) => literal(f.path)).join(', ')}], union_by_name = true, filename = '__asg_file', file_row_number = true)`]
        : []),
      ...files.filter((f) => f.deletes.length).map((f) => `(SELECT ${literal(f.path)} AS __asg_file, t.* FROM ${liveRows(f)})`),
    ];
    await conn.run(`INSERT INTO ${POSITIONS} ${sources.map((src) => hashed(withKeys(src, on, keysRel, nulls))).join(' UNION ALL ')}`);
  }
  const r = await conn.runAndReadAll(`SELECT f, count(*) FROM ${POSITIONS} GROUP BY f`);
  const hitRows = new Map(r.getRows().map((row) => [String(row[0]), Number(row[1])]));
  const found = new Set(hitRows.keys());
  const hitFiles = files.filter((f) => found.has(f.path));
  const positions = (f: ScanFile) => `SELECT pos FROM ${POSITIONS} WHERE f = ${literal(f.path)}`;
  const deletedKeys = (f: ScanFile) => `SELECT pos${keyColumns.map((c) => `, ${ident(c)}`).join('')} FROM ${POSITIONS} WHERE f = ${literal(f.path)}`;
  const union = (parts: string[]) => (parts.length ? parts.join(' UNION ALL ') : selectFiles([], schema));
  // A file with no replaced row and no delete file is kept whole: its rows in one read with the
  // other such files (a compaction folds many small ones), not one anti join per file.
  const keptOf = (fs: readonly ScanFile[]) => {
    const whole = fs.filter((f) => !found.has(f.path) && !f.deletes.length).map((f) => f.path);
    const cut = fs.filter((f) => found.has(f.path) || f.deletes.length);
    return union([
      ...(whole.length ? [selectFiles(whole, schema, opts.sameColumns)] : []),
      ...cut.map((f) => `SELECT ${selectList(schema, 't.')} FROM ${liveRows(f, positions(f))}`),
    ]);
  };
  return {
    hit: hitFiles.map((f) => f.path),
    hitFiles,
    untouched: files.filter((f) => !found.has(f.path)),
    hitRows,
    kept: keptOf(hitFiles),
    keptOf,
    replaced: keep
      ? `SELECT ${cols} FROM ${POSITIONS}`
      : union(
          hitFiles.map(
            (f) =>
              `SELECT ${selectList(schema, 't.')} FROM read_parquet(${literal(f.path)}, file_row_number = true) AS t SEMI JOIN (${positions(f)}) AS p ON t.file_row_number = p.pos`,
          ),
        ),
    positions,
    deletedKeys,
    keyColumns,
    ...(opts.hashRows ? { fingerprint: `SELECT count(*) AS n, coalesce(sum(h::HUGEINT), 0) AS h FROM ${POSITIONS}` } : {}),
  };
}

/** `schema`'s columns by name: a select list, and the arguments of `hash(…)` in a row's fingerprint (derived.ts). */
export const columnNames = (schema: readonly ColumnSchema[]): string => schema.map((c) => ident(c.name)).join(', ');

/** Whether a row of `keysRel` has NULL in one of `cols` (NULL is a key value like any other). */
export async function keysWithNull(conn: DuckDBConnection, keysRel: string, cols: readonly string[]): Promise<boolean> {
  const r = await conn.runAndReadAll(`SELECT EXISTS (SELECT 1 FROM ${keysRel} WHERE ${cols.map((c) => `${ident(c)} IS NULL`).join(' OR ')})`);
  return r.getRows()[0]?.[0] === true;
}

/**
 * SELECT of the rows of `relation` whose key (`on`: relation column, `keysRel` column) is in
 * `keysRel`, NULL matching NULL. The keys without NULL match on `=`, which DuckDB pushes into the
 * scan as a min/max filter of the join (Parquet row groups outside the keys' range are skipped);
 * `IS NOT DISTINCT FROM` is not pushed, so it only matches the keys with a NULL (`nulls`: there are some).
 */
export function withKeys(relation: string, on: readonly (readonly [string, string])[], keysRel: string, nulls: boolean): string {
  const eq = on.map(([t, k]) => `t.${ident(t)} = a.${ident(k)}`).join(' AND ');
  const rows = `SELECT t.* FROM ${relation} AS t SEMI JOIN ${keysRel} AS a ON ${eq}`;
  if (!nulls) return rows;
  const nullKeys = `(SELECT * FROM ${keysRel} WHERE ${on.map(([, k]) => `${ident(k)} IS NULL`).join(' OR ')})`;
  const distinct = on.map(([t, k]) => `t.${ident(t)} IS NOT DISTINCT FROM a.${ident(k)}`).join(' AND ');
  return `${rows} UNION ALL SELECT t.* FROM ${relation} AS t SEMI JOIN ${nullKeys} AS a ON ${distinct} WHERE ${on.map(([t]) => `t.${ident(t)} IS NULL`).join(' OR ')}`;
}

export type Changes =
  /** The same files: no row changed. */
  | { readonly kind: 'none' }
  /**
   * SELECT of rows that may differ (columns of the table): every inserted and deleted row and both
   * versions of every updated one are in it; it may also hold rows deleted and written again
   * unchanged (see `changedRows`). Its keys are a superset of the changed keys.
   */
  | { readonly kind: 'rows'; readonly sql: string }
  /** The files that differ do not have the same columns: the rows cannot be compared. */
  | { readonly kind: 'incomparable' };

/**
 * The rows that may differ between two snapshots of one table, read from the data files and delete
 * files that differ only (files are immutable: a file in both snapshots holds the same rows in
 * both). A merge write (above) or an append leaves most files in place, so this reads a few files
 * and the rows newly deleted by position.
 *
 * When no data file left the table (an append, or a merge by position deletes), the rows of the
 * added files and the newly deleted rows are returned as they are, without comparing them: a key
 * recomputed to the same rows is then reported too, which costs its recomputation downstream, never
 * a wrong result — and comparing every column of the deleted rows with the added ones cost 4-6x
 * reading them (bench/apply.md). When files were removed (rewritten, or a full rewrite of the
 * table), most of their rows reappear unchanged in the added files: only the rows that differ are
 * returned (`differingRows`).
 *
 * `signed`: each row with its column SIGN, positive for rows inserted, negative for rows deleted
 * (an updated row: its old version deleted, its new one inserted); of removed files, a row's net
 * count, so a row rewritten unchanged is not returned.
 */
export async function changedRows(
  conn: DuckDBConnection,
  warehouse: Warehouse,
  old: SnapshotRef,
  cur: SnapshotRef,
  schema?: readonly ColumnSchema[],
  opts: { readonly signed?: boolean } = {},
): Promise<Changes> {
  const before = await warehouse.scan(old);
  const after = await warehouse.scan(cur);
  const a = new Map(before.map((f) => [f.path, f]));
  const b = new Map(after.map((f) => [f.path, f]));
  const removed = before.filter((f) => !b.has(f.path));
  const added = after.filter((f) => !a.has(f.path));
  // Rows of a kept file newly named by a delete file.
  const deleted: string[] = [];
  for (const f of after) {
    const o = a.get(f.path);
    if (!o) continue;
    const fresh = f.deletes.filter((d) => !o.deletes.includes(d));
    if (o.deletes.some((d) => !f.deletes.includes(d))) {
      // Deletes gone: compare the file's rows as they were with its rows as they are.
      removed.push(o);
      added.push(f);
    } else if (fresh.length) {
      const read = (ds: readonly string[]) => `SELECT pos FROM read_parquet([${ds.map(literal).join(', ')}]) WHERE file_path = ${literal(f.uri)}`;
      const gone = o.deletes.length ? `${read(fresh)} EXCEPT ${read(o.deletes)}` : read(fresh);
      deleted.push(
        `SELECT ${selectList(schema, 't.')} FROM read_parquet(${literal(f.path)}, file_row_number = true) AS t SEMI JOIN (${gone}) AS g ON t.file_row_number = g.pos`,
      );
    }
  }
  if (!removed.length && !added.length && !deleted.length) return { kind: 'none' };
  // The new files must have the columns the old ones had (one old file stands for them), unless
  // asgard wrote them all into a table that never had another schema.
  const alike = (await warehouse.sameColumns(cur)) && [...removed, ...added].every((f) => writeOf(f.path) !== undefined);
  const sample = removed[0]?.path ?? before[0]?.path;
  if (
    !alike &&
    added.length &&
    sample &&
    (await columnsOf(
      conn,
      added.map((f) => f.path),
    )) !== (await columnsOf(conn, [sample]))
  )
    return { kind: 'incomparable' };
  const x = added.length ? [selectScan(added, schema, alike)] : [];
  if (opts.signed) {
    // Added rows +1, deleted rows -1; when files were removed, each distinct row's net count.
    const sign = ident(SIGN);
    const plus = x.map((q) => `SELECT *, 1 AS ${sign} FROM (${q})`);
    const minus = [...(removed.length ? [selectScan(removed, schema, alike)] : []), ...deleted].map((q) => `SELECT *, -1 AS ${sign} FROM (${q})`);
    const all = [...plus, ...minus].join(' UNION ALL ');
    if (!removed.length) return { kind: 'rows', sql: all };
    return { kind: 'rows', sql: `SELECT * EXCLUDE (${sign}), sum(${sign}) AS ${sign} FROM (${all}) GROUP BY ALL HAVING sum(${sign}) <> 0` };
  }
  if (!removed.length) return { kind: 'rows', sql: [...x, ...deleted].join(' UNION ALL ') };
  const y = [selectScan(removed, schema, alike), ...deleted].join(' UNION ALL ');
  return { kind: 'rows', sql: x.length ? differingRows(x[0], y) : y };
}

/** The column `changedRows` adds with `signed`: +n for a row inserted n times, -n for one deleted n times. */
export const SIGN = '__asg_sign';

/**
 * SELECT of the distinct rows whose count differs between two relations of the same columns (in
 * the same order): empty exactly when they hold the same rows as multisets. One hash aggregate
 * over both, a row's NULLs equal like EXCEPT ALL's; EXCEPT ALL numbers the rows of each side
 * (a window per distinct row) and cost ~5x as much.
 */
export function differingRows(a: string, b: string): string {
  const sign = ident('__asg_sign');
  return `SELECT * EXCLUDE (${sign}) FROM (SELECT *, 1 AS ${sign} FROM (${a}) UNION ALL SELECT *, -1 AS ${sign} FROM (${b})) GROUP BY ALL HAVING sum(${sign}) <> 0`;
}

async function columnsOf(conn: DuckDBConnection, files: readonly string[]): Promise<string> {
  const r = await conn.runAndReadAll(`DESCRIBE SELECT * FROM read_parquet([${files.map(literal).join(', ')}], union_by_name = true)`);
  return JSON.stringify(r.getRows().map((row) => [String(row[0]), String(row[1])]));
}
