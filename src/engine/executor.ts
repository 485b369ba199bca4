// The contract between apply (src/engine/apply.ts) and the code that touches the world. Building
// the plan and its stages does no I/O; executors are the only code that reads sources, runs SQL,
// trains or writes the warehouse, and tests can swap them.

import type { NodeKind, PipelineIR, PipelineNode, Resolvable, Span } from '../ir/types.js';
import type { MaintenanceCache } from '../planner/maintenance.js';
import type { RenderCache } from './render.js';
import type { ColumnSchema, FileManifest, MaintenanceCosts, PipelineState, SnapshotRef, SourceRead } from '../planner/state-store.js';
import type { Warehouse } from '../warehouse/warehouse.js';

export interface Progress {
  readonly rows: number;
  readonly message?: string;
}

export interface RunContext<N extends PipelineNode = PipelineNode> {
  readonly ir: PipelineIR;
  readonly node: N;
  /** The state as committed before this node started (read-only). */
  readonly state: PipelineState;
  readonly warehouse: Warehouse;
  /** A local folder for temporary files (spill, staging), owned by the workspace (src/workspace/). */
  readonly scratchDir: string;
  /** The run's logical time: substituted for CURRENT_DATE / CURRENT_TIMESTAMP. */
  readonly logicalTime: Date;
  /** Resolve an env()/secret() reference. Throws NodeError naming the variable (never a value). */
  resolve(v: Resolvable): string | number | boolean;
  progress(p: Progress): void;
  warn(message: string): void;
  readonly signal: AbortSignal;
  /** How SQL nodes are maintained, analysed by earlier processes (src/planner/maintenance.ts). */
  readonly maintenanceCache?: MaintenanceCache;
  /** SQL bodies rendered by earlier processes (./render.ts). */
  readonly renderCache?: RenderCache;
}

export interface NodeResult {
  readonly rows?: number;
  /** A new committed snapshot of the node's table (sources, cleanses, models, batch serve). */
  readonly snapshot?: SnapshotRef;
  readonly schema?: readonly ColumnSchema[];
  readonly cursor?: string;
  readonly modelVersion?: number;
  /** How a table node was maintained: `incremental: 12 keys recomputed`, `full: LIMIT` (src/engine/derived.ts). */
  readonly maintenance?: string;
  /** The logical time the node's SQL ran at (ISO-8601), for derived maintenance's next run. */
  readonly logicalTime?: string;
  /** SQL table nodes: what maintaining the table cost, this run included (src/engine/derived.ts). */
  readonly costs?: MaintenanceCosts;
  /** File sources: the files the snapshot holds (src/ingest/file-manifest.ts). */
  readonly files?: FileManifest;
  /** Sources: what this sync read (its digest), recorded so that the same read next time costs no rewrite. */
  readonly read?: SourceRead;
}

export interface NodeExecutor<N extends PipelineNode = PipelineNode> {
  readonly kind: NodeKind;
  run(ctx: RunContext<N>): Promise<NodeResult>;
}

/** A failure the user can act on: printed without a stack trace, attributed to the node. */
export class NodeError extends Error {
  constructor(
    message: string,
    readonly span?: Span,
  ) {
    super(message);
  }
}
