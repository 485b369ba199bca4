// The run history of one pipeline: the last RUNS_KEPT applies, newest last, each with its nodes'
// start and end offsets (so a timeline can show what ran in parallel), rows and errors. Written by
// apply (src/engine/apply.ts) once at the end of a run, atomically; the state file stays the one
// record of what is current, this is only history. It lives in the root it is handed
// (`<stateDir>/runs/<pipeline>.json`; the workspace, src/workspace/workspace.ts, hands it out).

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../util/fs-atomic.js';
import type { NodeId } from '../ir/types.js';

export const RUNS_SCHEMA_VERSION = 1;
/** Applies kept in the log (older ones are dropped). */
export const RUNS_KEPT = 20;

export interface RunNode {
  readonly node: NodeId;
  readonly status: 'succeeded' | 'skipped' | 'failed' | 'unchanged';
  /** Seconds from the run's start to the node's start and end. */
  readonly start: number;
  readonly end: number;
  readonly rows?: number;
  readonly error?: string;
}

export interface RunRecord {
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly ok: boolean;
  /** Nodes run at once. */
  readonly concurrency: number;
  readonly nodes: readonly RunNode[];
}

interface RunsFile {
  readonly schemaVersion: typeof RUNS_SCHEMA_VERSION;
  readonly pipeline: string;
  readonly runs: readonly RunRecord[];
}

export class RunsLog {
  readonly file: string;

  constructor(
    stateDir: string,
    readonly pipeline: string,
  ) {
    this.file = join(stateDir, 'runs', `${pipeline}.json`);
  }

  /** The recorded applies, oldest first (none when the log does not exist or is of another version). */
  read(): RunRecord[] {
    if (!existsSync(this.file)) return [];
    try {
      const doc = JSON.parse(readFileSync(this.file, 'utf8')) as RunsFile;
      return doc.schemaVersion === RUNS_SCHEMA_VERSION && Array.isArray(doc.runs) ? [...doc.runs] : [];
    } catch {
      return []; // history only: a damaged log never stops an apply
    }
  }

  append(run: RunRecord): void {
    const doc: RunsFile = { schemaVersion: RUNS_SCHEMA_VERSION, pipeline: this.pipeline, runs: [...this.read(), run].slice(-RUNS_KEPT) };
    writeFileAtomic(this.file, JSON.stringify(doc) + '\n', false); // history only (see read): not fsynced
  }
}
