// What the checks share: one directory holding the spec, asgard's state and embedded warehouse (after
// `asgard apply`), the compiled artifacts (`asgard compile --profile kubernetes`) and the real tools'
// outputs, plus the logical time the embedded run used.

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

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
  readonly nodes: Record<string, { readonly snapshot?: { readonly path: string; readonly rows: number }; readonly modelVersion?: number }>;
}

export function readState(ws: Workspace): StateFile {
  const f = join(ws.stateDir, 'state', `${ws.pipeline}.json`);
  if (!existsSync(f)) throw new Error(`no state file ${f}: the embedded apply has not run`);
  return JSON.parse(readFileSync(f, 'utf8')) as StateFile;
}

/** The folder of the current snapshot of `layer.table` in the embedded warehouse. */
export function snapshotDir(ws: Workspace, table: string): string {
  const n = readState(ws).nodes[table];
  if (!n?.snapshot) throw new Error(`the embedded state has no snapshot of ${table}`);
  return join(ws.warehouse, n.snapshot.path);
}
