// What the checks share: one directory holding the spec, asgard's state and embedded warehouse (after
// `asgard apply`), the compiled artifacts (`asgard compile --profile kubernetes`) and the real tools'
// outputs, plus the logical time the embedded run used.

import { existsSync, mkdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { Warehouse } from '../../../src/warehouse/warehouse.js';
import type { SnapshotRef } from '../../../src/planner/state-store.js';

export interface Workspace {
  readonly dir: string;
  /** The spec file applied and compiled. */
  readonly spec: string;
  readonly pipeline: string;
  /** --state DIR of the embedded run (holds state/, registry/). */
  readonly stateDir: string;
  /** The embedded warehouse root (.asgard/warehouse beside the spec). */
  readonly warehouse: string;
  /** `asgard compile --out` directory. */
  readonly compiled: string;
  /** ISO-8601 logical time of the embedded run (the spec's ASGARD_LOGICAL_TIME). */
  readonly logicalTime: string;
  /** Environment of the embedded run (source URLs and passwords): the tools get the same. */
  readonly env: NodeJS.ProcessEnv;
  /** Where tool output is logged. */
  readonly log: string;
}

interface StateFile {
  readonly nodes: Record<string, { readonly snapshot?: SnapshotRef; readonly modelVersion?: number }>;
}

export function readState(ws: Workspace): StateFile {
  const f = join(ws.stateDir, 'state', `${ws.pipeline}.json`);
  if (!existsSync(f)) throw new Error(`no state file ${f}: the embedded apply has not run`);
  return JSON.parse(readFileSync(f, 'utf8')) as StateFile;
}

/**
 * A folder holding (links to) exactly the data files of the current Iceberg snapshot of
 * `layer.table`, in their hive-style partition folders: what a tool reading plain Parquet sees.
 * linkCurrentSnapshots makes them after each embedded apply.
 */
export function snapshotDir(ws: Workspace, table: string): string {
  const n = readState(ws).nodes[table];
  if (!n?.snapshot) throw new Error(`the embedded state has no snapshot of ${table}`);
  const dir = join(ws.dir, 'current', ...n.snapshot.path.split('/'), n.snapshot.id);
  if (!existsSync(dir)) throw new Error(`${dir} does not exist: run linkCurrentSnapshots after the embedded apply`);
  return dir;
}

/** `<ws>/current/<layer>/<table>/<snapshot id>/…` → the data files of each table's current snapshot. */
export async function linkCurrentSnapshots(ws: Workspace): Promise<void> {
  const root = join(ws.dir, 'current');
  rmSync(root, { recursive: true, force: true });
  const wh = new Warehouse(ws.warehouse);
  for (const n of Object.values(readState(ws).nodes)) {
    if (!n.snapshot) continue;
    const dir = join(root, ...n.snapshot.path.split('/'), n.snapshot.id);
    mkdirSync(dir, { recursive: true });
    const data = join(ws.warehouse, n.snapshot.path, 'data');
    const scan = await wh.scan(n.snapshot);
    if (scan.some((f) => f.deletes.length))
      throw new Error(`${n.snapshot.path}: its current snapshot has position delete files, which a plain Parquet reader does not apply`);
    for (const f of scan.map((x) => x.path)) {
      // data/<write id>/<partition folders>/<file> → <partition folders>/<write id>-<file>: the
      // layout of one Parquet folder per table, hive partitions directly under it.
      const [writeId, ...rest] = relative(data, f).split(sep);
      const link = join(dir, ...rest.slice(0, -1), `${writeId}-${rest[rest.length - 1]}`);
      mkdirSync(dirname(link), { recursive: true });
      symlinkSync(f, link);
    }
  }
}
