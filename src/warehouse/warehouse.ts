// The embedded warehouse: `<root>/{bronze,silver,gold}/<table>/<snapshotId>/` folders of Parquet.
// A snapshot is written into `<snapshotId>.partial/`, flushed, then renamed into place; the state
// file (src/planner/state-store.ts) is the only pointer readers follow, so nobody ever sees half a
// snapshot. Folders that no state entry points to (a crash mid-write) are removed by `gc`.

import { existsSync, mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { fsyncDir } from '../util/fs-atomic.js';
import type { SnapshotRef } from '../planner/state-store.js';
import { parseNodeId } from '../ir/address.js';

export interface PendingSnapshot {
  readonly id: string;
  readonly table: string;
  /** Absolute folder to write Parquet files into. */
  readonly dir: string;
}

export class Warehouse {
  readonly root: string;

  constructor(root: string, baseDir = process.cwd()) {
    this.root = isAbsolute(root) ? root : resolve(baseDir, root);
  }

  /** `bronze.customers` → `<root>/bronze/customers`. */
  tableDir(table: string): string {
    const [layer, name] = splitTable(table);
    return join(this.root, layer, name);
  }

  /** A fresh folder for a new snapshot of `table`; invisible until `commit`. */
  begin(table: string, now = new Date()): PendingSnapshot {
    const id = `${now.toISOString().replace(/[-:.]/g, '')}-${randomBytes(3).toString('hex')}`;
    const dir = join(this.tableDir(table), `${id}.partial`);
    mkdirSync(dir, { recursive: true });
    return { id, table, dir };
  }

  /** Move a written snapshot into place. The caller then records the returned ref in state. */
  commit(p: PendingSnapshot, rows: number, now = new Date()): SnapshotRef {
    const final = join(this.tableDir(p.table), p.id);
    renameSync(p.dir, final);
    fsyncDir(this.tableDir(p.table));
    const [layer, name] = splitTable(p.table);
    return { id: p.id, path: `${layer}/${name}/${p.id}`, rows, createdAt: now.toISOString() };
  }

  abort(p: PendingSnapshot): void {
    rmSync(p.dir, { recursive: true, force: true });
  }

  /** Absolute folder of a committed snapshot. */
  dir(s: SnapshotRef): string {
    return join(this.root, s.path);
  }

  /** A glob DuckDB's read_parquet understands, covering partitioned sub-folders too. */
  parquetGlob(s: SnapshotRef): string {
    return join(this.root, s.path, '**', '*.parquet');
  }

  /** Remove every snapshot folder of `table` that is not in `keep` (crash leftovers, expired history). */
  gc(table: string, keep: readonly SnapshotRef[]): void {
    const dir = this.tableDir(table);
    if (!existsSync(dir)) return;
    const keepIds = new Set(keep.map((s) => s.id));
    for (const entry of readdirSync(dir)) {
      if (!keepIds.has(entry)) rmSync(join(dir, entry), { recursive: true, force: true });
    }
  }
}

function splitTable(table: string): [string, string] {
  const a = parseNodeId(table);
  if (!a) throw new Error(`not a layer.table name: ${table}`);
  return [a.prefix, a.name];
}
