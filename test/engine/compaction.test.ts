// Compaction spread over the runs (src/engine/compaction.ts): which files a merge rewrites. The
// merges' results with compaction are tested against a rebuild in derived.test.ts.
import { describe, expect, it } from 'vitest';
import { filesToRewrite, smallFilesToFold } from '../../src/engine/compaction.js';
import type { ScanFile } from '../../src/warehouse/warehouse.js';

let serial = 0;
const file = (partition: string, rows: number, extra: Partial<ScanFile> = {}): ScanFile => {
  const path = `/wh/t/data/f${++serial}.parquet`;
  return { path, uri: `file://${path}`, rows, deletes: [], deletedRows: 0, partition, ...extra };
};

/**
 * Runs of merges that each add a small file to every partition (a 1% run over a table partitioned by
 * month); a partition's folded files become one. Per run: the partitions folded and their files.
 */
function runs(partitions: number, count: number): { folded: string[][]; small: number[] } {
  let files: ScanFile[] = [];
  for (let p = 0; p < partitions; p++) files.push(file(`p${p}`, 29_000));
  const folded: string[][] = [];
  const small: number[] = [];
  for (let run = 0; run < count; run++) {
    for (let p = 0; p < partitions; p++) files.push(file(`p${p}`, 285));
    const fold = smallFilesToFold(files);
    const touched = [...new Set(fold.map((f) => f.partition))];
    folded.push(touched);
    files = files.filter((f) => !fold.includes(f));
    for (const p of touched)
      files.push(
        file(
          p,
          fold.filter((f) => f.partition === p).reduce((n, f) => n + f.rows, 0),
        ),
      );
    // The most small files (under 1/8 of the partition's rows) a partition holds after the run.
    const most = Math.max(
      ...[...new Set(files.map((f) => f.partition))].map((p) => {
        const fs = files.filter((f) => f.partition === p);
        const rows = fs.reduce((n, f) => n + f.rows, 0);
        return fs.filter((f) => f.rows < rows / 8).length;
      }),
    );
    small.push(most);
  }
  return { folded, small };
}

describe('compaction', () => {
  it('folds a few partitions a run when every merge adds a file to each, never all at once', () => {
    const r = runs(25, 30);
    // Folding each partition at its 4th small file folded all 25 in one run, every 3 runs.
    for (const ps of r.folded) expect(ps.length).toBeLessThanOrEqual(9);
    // Every partition is folded in every 4 runs, so each keeps at most 4 small files.
    for (let run = 3; run < 30; run++) expect(new Set(r.folded.slice(run - 3, run + 1).flat()).size, `runs ${run - 3}-${run}`).toBe(25);
    expect(Math.max(...r.small)).toBeLessThanOrEqual(4);
  });

  it('folds one partition of a table whose merges touch few partitions at its 4th small file', () => {
    const r = runs(1, 12);
    expect(r.folded.map((ps) => ps.length)).toEqual([0, 0, 0, 1, 0, 0, 1, 0, 0, 1, 0, 0]);
  });

  it('rewrites one delete-heavy file a run, and besides only those past twice the share or with 8 delete files', () => {
    const a = file('', 1000, { deletedRows: 230 });
    const b = file('', 1000, { deletedRows: 260 });
    const c = file('', 1000, { deletedRows: 100 });
    const d = file('', 1000, { deletedRows: 390 });
    const e = file('', 1000, { deletedRows: 10, deletes: Array.from({ length: 8 }, (_, i) => `/d${i}`) });
    const hit = [a, b, c, d, e];
    const hitRows = new Map([[d.path, 20]]);
    // d passes 40% with this merge's rows, e has 8 delete files; of a and b (over 20%) the more deleted.
    expect(new Set(filesToRewrite(hit, hit, hitRows))).toEqual(new Set([d, e, b]));
    expect(filesToRewrite([a, c], [a, c], new Map())).toEqual([a]);
    expect(filesToRewrite([c], [c], new Map())).toEqual([]);
  });
});
