// Which files of a table a merge (./derived.ts `mergeFresh`) rewrites rather than keeps: the
// compaction that keeps reads of a table maintained by many small merges fast, spread over the runs
// so that no run pays for all of it at once.
//
// Delete-heavy files. A merge names the previous rows it replaces in position delete files, which
// every reader applies; a data file is rewritten (its live rows written again with the merge's rows)
// once its deleted rows would pass REWRITE_SHARE of its rows. Random keys spread deletes evenly, so
// a table's files pass that share together: a run rewrites one of them (the most deleted) and
// besides only the files past twice the share or with MAX_DELETE_FILES delete files.
//
// Small files. A merge adds a file to each partition it writes to. A file holding less than
// SMALL_SHARE of its partition's live rows is small, and a partition's small files are folded into
// one (into the merge's write). A table whose merges touch every partition makes every partition
// gain a small file each run: folding each once it has COMPACT_AT small files would fold all of them
// in the same run. Instead a run folds at most ceil(P / (COMPACT_AT - 1)) partitions (P: those with
// a small file), those with the most small files first, each with 2 or more: each partition is
// folded every few runs and keeps at most COMPACT_AT small files. Over 25 partitions that gain a
// file a run, a run folds a third of them; the folds rewrite ~15% more rows over time than folding
// at COMPACT_AT did, with the largest run's fold a third of its (test/engine/compaction.test.ts). A
// table of fewer than COMPACT_AT - 1 such partitions folds a partition at COMPACT_AT small files. A
// folded file is small again only while it is under SMALL_SHARE of its partition, so a row is
// rewritten a few times at most.

import type { ScanFile } from '../warehouse/warehouse.js';

const REWRITE_SHARE = 0.2;
const MAX_DELETE_FILES = 8;
const SMALL_SHARE = 1 / 8;
const COMPACT_AT = 4;

/**
 * The previous snapshot's files a merge rewrites: of `hit` (the files holding a row it replaces,
 * `hitRows` of them by path) the delete-heavy ones, and of all `files` the small files it folds.
 */
export function filesToRewrite(files: readonly ScanFile[], hit: readonly ScanFile[], hitRows: ReadonlyMap<string, number>): ScanFile[] {
  const deleted = (f: ScanFile) => (f.deletedRows + (hitRows.get(f.path) ?? 0)) / Math.max(1, f.rows);
  const heavy = hit
    .filter((f) => deleted(f) > REWRITE_SHARE || f.deletes.length >= MAX_DELETE_FILES)
    .sort((a, b) => deleted(b) - deleted(a) || a.path.localeCompare(b.path));
  const due = heavy.filter((f) => f.deletes.length >= MAX_DELETE_FILES || deleted(f) > 2 * REWRITE_SHARE);
  const next = heavy.find((f) => !due.includes(f));
  return [...new Set([...due, ...(next ? [next] : []), ...smallFilesToFold(files)])];
}

/** The small files of `files` folded by this run: whole partitions' worth, a bounded number of partitions. */
export function smallFilesToFold(files: readonly ScanFile[]): ScanFile[] {
  const partitions = new Map<string, ScanFile[]>();
  for (const f of files) partitions.set(f.partition, [...(partitions.get(f.partition) ?? []), f]);
  const live = (f: ScanFile) => f.rows - f.deletedRows;
  const small: { partition: string; files: ScanFile[]; rows: number }[] = [];
  for (const [partition, fs] of partitions) {
    const all = fs.reduce((n, f) => n + live(f), 0);
    const s = fs.filter((f) => live(f) < SMALL_SHARE * all);
    if (s.length) small.push({ partition, files: s, rows: s.reduce((n, f) => n + live(f), 0) });
  }
  const spread = small.length >= COMPACT_AT - 1;
  const quota = spread ? Math.ceil(small.length / (COMPACT_AT - 1)) : Infinity;
  return small
    .filter((p) => p.files.length >= (spread ? 2 : COMPACT_AT))
    .sort((a, b) => b.files.length - a.files.length || b.rows - a.rows || a.partition.localeCompare(b.partition))
    .slice(0, quota)
    .flatMap((p) => p.files);
}
