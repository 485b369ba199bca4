// The applied state of one pipeline: `<stateDir>/state/<pipeline>.json`, written atomically
// (temp file + fsync + rename), so a crash never leaves it half-written. A table's current
// snapshot, a source's cursor and a node's fingerprint move together in one write: the cursor
// can never get ahead of the data it describes.

import { existsSync, mkdirSync, openSync, closeSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { readUtf8 } from '../util/read-utf8.js';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { sha256 } from '../util/canonical-json.js';
import { writeFileAtomic } from '../util/fs-atomic.js';
import type { NodeId, NodeKind } from '../ir/types.js';
import { z } from '../util/schema.js';

// 2: tables are Iceberg snapshots (metadataLocation, manifestList); 1 pointed at Parquet folders.
export const STATE_SCHEMA_VERSION = 2;

export interface ColumnSchema {
  readonly name: string;
  /** DuckDB logical type name, e.g. `BIGINT`, `DECIMAL(10,2)`, `TIMESTAMP WITH TIME ZONE`. */
  readonly type: string;
}

/** One Iceberg snapshot of a warehouse table (src/warehouse/warehouse.ts). */
export interface SnapshotRef {
  /** The Iceberg snapshot id (a 63-bit integer, as a decimal string). */
  readonly id: string;
  /** The table's location relative to the warehouse root: `<layer>/<table>`. */
  readonly path: string;
  readonly rows: number;
  readonly createdAt: string;
  /** The table metadata file the commit wrote (what the catalog pointed at after it). */
  readonly metadataLocation: string;
  /** The snapshot's manifest list: readers read the data files it lists. */
  readonly manifestList: string;
  /**
   * The sum of its rows' hashes, a decimal integer (src/engine/same-rows.ts): with `rows`, a
   * fingerprint of its rows as a multiset, which a rebuild compares its rows with. Not every
   * snapshot has one.
   */
  readonly digest?: string;
}

export interface NodeState {
  readonly kind: NodeKind;
  /** Data fingerprint (SQL, settings that change data, parents' data fingerprints). */
  readonly fingerprint: string;
  /** Metadata fingerprint (descriptions, tags): changes it never rebuild a table. */
  readonly metaFingerprint: string;
  /** The canonical definition the fingerprint was made from: lets plan say *what* changed. */
  readonly definition: unknown;
  readonly schema?: readonly ColumnSchema[];
  readonly snapshot?: SnapshotRef;
  /** Previous snapshots kept for retention (newest first). */
  readonly history?: readonly SnapshotRef[];
  /** Snapshot ids of the inputs this node last ran on: a new input snapshot makes it run again. */
  readonly inputSnapshots?: Readonly<Record<NodeId, string>>;
  /** Source nodes: the incremental cursor (the newest cursor value committed), as a string. */
  readonly cursor?: string;
  /** train nodes: the registered model version this run produced or reused. */
  readonly modelVersion?: number;
  /** SQL table nodes: the logical time of the run that built the snapshot (src/engine/derived.ts). */
  readonly logicalTime?: string;
  readonly appliedAt: string;
  /** What the node's last real run produced and took: a plan shows it as the cost of a rebuild. */
  readonly lastRun?: { readonly rows?: number; readonly seconds: number };
  /** SQL table nodes: what maintaining the table cost, for derived maintenance's cost choice (src/engine/derived.ts). */
  readonly costs?: MaintenanceCosts;
  /** File sources: the files the snapshot was read from (src/ingest/file-manifest.ts). */
  readonly files?: FileManifest;
  /** Sources: what the last sync read (src/ingest/source-executor.ts): the same read again holds nothing new. */
  readonly read?: SourceRead;
}

/**
 * Seconds a table node's maintenance took: its last full rebuild, and the fixed part of its last
 * derived run (that run's time less the share of a rebuild its affected keys were).
 */
export interface MaintenanceCosts {
  readonly rebuild?: number;
  readonly derivedFixed?: number;
}

/**
 * A source read: its cursor lower bound (none: everything), the SHA-256 of the rows it staged, and
 * that of the answers it received where the connector hashes them (`Extracted.answers`).
 */
export interface SourceRead {
  readonly from?: string;
  readonly digest: string;
  readonly answers?: string;
}

export interface FileEntry {
  readonly path: string;
  readonly size: number;
  readonly mtimeMs: number;
  readonly sha256: string;
}

/** The files of a file source's snapshot, and a key over the settings that shaped its rows. */
export interface FileManifest {
  readonly key: string;
  readonly files: readonly FileEntry[];
  /** A glob in the file name only: its folder and the folder's mtime when it was listed (no change: same files listed). */
  readonly dir?: { readonly path: string; readonly mtimeMs: number };
}

export interface PipelineState {
  readonly schemaVersion: typeof STATE_SCHEMA_VERSION;
  readonly pipeline: string;
  /** Random id of this state's history; a plan made against another lineage is refused. */
  readonly lineage: string;
  /** Incremented by every write; a saved plan records the serial it was made from. */
  readonly serial: number;
  readonly nodes: Readonly<Record<NodeId, NodeState>>;
}

export class StateError extends Error {}

// What a state file must hold before anything trusts it (a hand-edited or truncated file must be an
// error saying what is wrong, never a crash deep inside apply). Unknown fields are kept.
const snapshotRef = z.object({
  id: z.string(),
  path: z.string().refine((p) => !p.startsWith('/') && !p.split(/[\\/]/).includes('..'), { message: 'a path inside the warehouse (relative, without "..")' }),
  rows: z.number().int().nonnegative(),
  createdAt: z.string(),
  metadataLocation: z.string(),
  manifestList: z.string(),
  digest: z.string().optional(),
});
const nodeState = z.looseObject({
  kind: z.string(),
  fingerprint: z.string(),
  metaFingerprint: z.string(),
  definition: z.unknown(),
  schema: z.array(z.looseObject({ name: z.string(), type: z.string() })).optional(),
  snapshot: snapshotRef.optional(),
  history: z.array(snapshotRef).optional(),
  inputSnapshots: z.record(z.string(), z.string()).optional(),
  cursor: z.string().optional(),
  read: z.object({ from: z.string().optional(), digest: z.string(), answers: z.string().optional() }).optional(),
  modelVersion: z.number().int().positive().optional(),
  logicalTime: z.string().optional(),
  appliedAt: z.string(),
  files: z
    .object({
      key: z.string(),
      files: z.array(z.object({ path: z.string(), size: z.number(), mtimeMs: z.number(), sha256: z.string() })),
      dir: z.object({ path: z.string(), mtimeMs: z.number() }).optional(),
    })
    .optional(),
});
export const pipelineStateSchema = z.looseObject({
  schemaVersion: z.literal(STATE_SCHEMA_VERSION),
  pipeline: z.string(),
  lineage: z.string(),
  serial: z.number().int().nonnegative(),
  nodes: z.record(z.string(), nodeState),
});

/** The first problems of a state document, as `field.path: what was expected` (empty when valid). */
function stateProblems(doc: unknown): string[] {
  const r = pipelineStateSchema.safeParse(doc);
  if (r.success) return [];
  return r.error.issues.slice(0, 5).map((i) => `${i.path.length ? i.path.join('.') : '(top level)'}: ${i.message}`);
}

export class StateStore {
  readonly file: string;
  private readonly lockFile: string;

  constructor(
    readonly stateDir: string,
    readonly pipeline: string,
    /**
     * Called after every write with what was written (a remote state mirrors it: src/warehouse/remote-state.ts).
     * The file is then a working copy of the mirror, the truth: it is written atomically but not fsynced.
     */
    private readonly onWrite?: (written: PipelineState) => void,
  ) {
    this.file = join(stateDir, 'state', `${pipeline}.json`);
    this.lockFile = join(stateDir, 'state', `${pipeline}.lock`);
  }

  /**
   * A hash of the state the last read() returned (of the file's text; `none` for the empty state): what
   * a plan was made from (src/cli/plan-cache.ts).
   */
  lastRead?: string;

  /** The current state, or an empty one (serial 0) when nothing was applied yet. */
  read(): PipelineState {
    this.lastRead = undefined;
    if (!existsSync(this.file)) {
      this.lastRead = 'none';
      return { schemaVersion: STATE_SCHEMA_VERSION, pipeline: this.pipeline, lineage: '', serial: 0, nodes: {} };
    }
    let parsed: PipelineState;
    try {
      const text = readUtf8(this.file);
      parsed = JSON.parse(text) as PipelineState;
      this.lastRead = sha256(text);
    } catch (e) {
      throw new StateError(`state file ${this.file} is not readable JSON: ${(e as Error).message}`);
    }
    if (parsed && typeof parsed === 'object' && (parsed.schemaVersion as number) === 1) {
      throw new StateError(
        `state file ${this.file} was written by an asgard whose warehouse held plain Parquet folders (schemaVersion 1); this one writes Iceberg tables: remove the state folder and the warehouse, then apply again`,
      );
    }
    if (parsed && typeof parsed === 'object' && parsed.schemaVersion !== STATE_SCHEMA_VERSION) {
      throw new StateError(`state file ${this.file} has schemaVersion ${parsed.schemaVersion}; this asgard reads ${STATE_SCHEMA_VERSION}`);
    }
    const problems = stateProblems(parsed);
    if (problems.length) throw new StateError(`state file ${this.file} is not a valid asgard state: ${problems.join('; ')}`);
    return parsed;
  }

  /** Atomically replace the state with `next`, bumping the serial. Returns what was written. */
  write(next: Omit<PipelineState, 'serial' | 'lineage' | 'schemaVersion'>, prev: PipelineState): PipelineState {
    const written: PipelineState = {
      schemaVersion: STATE_SCHEMA_VERSION,
      pipeline: this.pipeline,
      lineage: prev.lineage || randomUUID(),
      serial: prev.serial + 1,
      nodes: next.nodes,
    };
    writeFileAtomic(this.file, JSON.stringify(written, null, 2) + '\n', this.onWrite === undefined);
    this.onWrite?.(written);
    return written;
  }

  /** Apply `update` to one node's entry and commit the whole state in one atomic write. */
  commitNode(nodeId: NodeId, update: NodeState | undefined): PipelineState {
    const prev = this.read();
    const nodes: Record<NodeId, NodeState> = { ...prev.nodes };
    if (update) nodes[nodeId] = update;
    else delete nodes[nodeId];
    return this.write({ pipeline: this.pipeline, nodes }, prev);
  }

  /**
   * Take the apply lock (one apply per pipeline at a time). A lock left by a process that no
   * longer runs (a crash, kill -9) is taken over.
   */
  lock(): () => void {
    mkdirSync(join(this.stateDir, 'state'), { recursive: true });
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        const fd = openSync(this.lockFile, 'wx');
        writeSync(fd, String(process.pid));
        closeSync(fd);
        return () => rmSync(this.lockFile, { force: true });
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
        const pid = Number(readFileSync(this.lockFile, 'utf8'));
        if (pid && isAlive(pid)) {
          throw new StateError(`another asgard apply (pid ${pid}) holds ${this.lockFile}`);
        }
        rmSync(this.lockFile, { force: true });
      }
    }
    throw new StateError(`could not take ${this.lockFile}`);
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
