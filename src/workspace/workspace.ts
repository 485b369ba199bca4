// The workspace of one spec: the single owner of every location asgard reads or writes for it — the
// state store and its apply lock, the warehouse, the model registry, the caches and scratch space.
// Nothing else builds `.asgard/...` paths or constructs a StateStore, Warehouse or Registry
// (test/architecture/layers.test.ts checks it): commands and the server open a Workspace and ask it.
//
// Layout under the state folder (`--state DIR`, default `.asgard/` beside the spec):
//   state/<pipeline>.json, state/<pipeline>.lock   the applied state and its lock (src/planner/state-store.ts)
//   state/<pipeline>.remote.json                   with an S3 warehouse: what the working copy last synced
//                                                  with the remote state (src/warehouse/remote-state.ts)
//   registry/<model>/...                           the model registry (src/ml/registry.ts)
//   runs/<pipeline>.json                           the last applies, per node start/end (src/planner/runs-log.ts)
//   cache/specs/<spec>.json                        checked IR, diagnostics, schemas (src/cli/spec-cache.ts)
//   cache/plans/<spec>.json                        the last reviewed plan of the spec (src/cli/plan-cache.ts)
//   cache/plans/<spec>.out                         the last plan process's output and its proof (src/cli/plan-replay.cts)
//   cache/sql-analysis.json                        SQL analyses by content hash (src/sql/analyze.ts)
//   cache/schemas.json                             bound SQL schemas by content hash (src/engine/schemas.ts)
//   cache/compile-sql.json                         rendered SQL of targets (src/cli/commands/compile.ts)
//   cache/site.json                                a SQL node's transpiled SQL and column edges (src/docs/site-data.ts)
//   cache/tmp/apply/<pipeline>/                    scratch of an apply: DuckDB spill files, ingest staging
//                                                  (emptied by the next apply once it holds the lock)
// The warehouse is the profile's `warehouse` setting, else the spec's (default
// `./.asgard/warehouse`), relative to the spec's folder. A warehouse on S3 (`s3://bucket/prefix`)
// keeps the state, registry and apply lock beside it (src/warehouse/remote-state.ts); then the
// folders above are a working copy pulled from there, the engine's tables are read and written in
//   s3/<bucket>/<prefix>/                          the local copy of the S3 warehouse's snapshots
// and every state write is pushed back.
//
// Every cache is content-addressed and salted with one build id (./build-id.ts); the state folder and
// the cache files' locations are ./cache-paths.cts and ./caches.ts (which import no store, for
// src/cli/plan-replay.cts). The stores are reached through this class only, so moving one of them
// off the local disk (S3, a remote lock) is a change here and in the store, not in the commands.

import { basename, dirname, join, resolve } from 'node:path';
import type { PipelineIR } from '../ir/types.js';
import type { ColumnSchema } from '../planner/state-store.js';
import { StateStore } from '../planner/state-store.js';
import { RunsLog } from '../planner/runs-log.js';
import { Registry } from '../ml/registry.js';
import { Warehouse } from '../warehouse/warehouse.js';
import { LocalTableStore } from '../warehouse/iceberg/table-store.js';
import { RemoteState } from '../warehouse/remote-state.js';
import { cachesOf, stateDirOf, type WorkspaceCaches } from './caches.js';
import { catalogOf, objectStoreOf, warehouseLocation } from './remote.js';
import type { IcebergCatalog } from '../warehouse/iceberg/catalog.js';

export { STATE_FOLDER, WorkspaceCaches } from './caches.js';

export interface WorkspaceOptions {
  /** `--state DIR` as given (relative to `cwd`); default `.asgard/` beside the spec. */
  readonly stateDir?: string;
  readonly cwd?: string;
  /** The profile whose literal `warehouse` setting overrides the spec's (default `local`). */
  readonly profile?: string;
  /** Salt of every cache (default: this build's id). Tests pass another to play a new build. */
  readonly buildId?: string;
  /** The command's environment: env() in profile settings, AWS credentials (default process.env). */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

export class Workspace {
  /** Absolute path of the spec. */
  readonly specFile: string;
  /** Absolute state folder. */
  readonly stateDir: string;
  readonly profile: string;
  readonly caches: WorkspaceCaches;
  private readonly stores = new Map<string, StateStore>();
  private registryMemo?: Registry;
  private readonly remotes = new Map<string, RemoteState | undefined>();
  private readonly catalogs = new Map<string, IcebergCatalog | undefined>();
  private readonly env: Readonly<Record<string, string | undefined>>;

  private constructor(specFile: string, opts: WorkspaceOptions) {
    const cwd = opts.cwd ?? process.cwd();
    this.specFile = resolve(cwd, specFile);
    this.stateDir = stateDirOf(this.specFile, opts);
    this.profile = opts.profile ?? 'local';
    this.caches = cachesOf(this.stateDir, opts.buildId);
    this.env = opts.env ?? process.env;
  }

  /** The workspace of the spec at `spec` (a path, or a loaded spec's `{file}`). Touches no disk. */
  static open(spec: string | { readonly file: string }, opts: WorkspaceOptions = {}): Workspace {
    return new Workspace(typeof spec === 'string' ? spec : spec.file, opts);
  }

  /** The applied state of the pipeline (and its apply lock); with a remote state, each write is pushed. */
  state(ir: Pick<PipelineIR, 'name' | 'warehouse' | 'profiles'>): StateStore {
    let s = this.stores.get(ir.name);
    if (!s) {
      const remote = this.remote(ir);
      this.stores.set(ir.name, (s = new StateStore(this.stateDir, ir.name, remote ? (w) => remote.schedulePush(w) : undefined)));
    }
    return s;
  }

  /** The run history of the pipeline (what `apply` did, node by node). */
  runs(ir: Pick<PipelineIR, 'name'>): RunsLog {
    return new RunsLog(this.stateDir, ir.name);
  }

  /** The warehouse: the profile's `warehouse` setting, else the spec's; an S3 one's local copy. */
  warehouse(ir: Pick<PipelineIR, 'name' | 'warehouse' | 'profiles'>): Warehouse {
    const remote = this.remote(ir);
    if (remote) return remote.warehouse;
    const catalog = this.catalog(ir);
    return new Warehouse(warehouseLocation(ir, this.profile, this.env), dirname(this.specFile), catalog ? { catalog } : {});
  }

  /** The shared Iceberg catalog the profile names (one per pipeline), or undefined: the warehouse's SQLite file. */
  private catalog(ir: Pick<PipelineIR, 'name' | 'profiles'>): IcebergCatalog | undefined {
    if (!this.catalogs.has(ir.name)) this.catalogs.set(ir.name, catalogOf(ir, this.profile, this.env));
    return this.catalogs.get(ir.name);
  }

  /**
   * The remote state beside an `s3://` warehouse (state, registry, lock), or undefined for a local
   * warehouse. Commands pull it before reading and, for apply, hold its lock.
   */
  remote(ir: Pick<PipelineIR, 'name' | 'warehouse' | 'profiles'>): RemoteState | undefined {
    if (this.remotes.has(ir.name)) return this.remotes.get(ir.name);
    const s3 = objectStoreOf(ir, this.profile, this.env);
    const remote = s3
      ? new RemoteState(s3.store, ir.name, {
          stateFile: new StateStore(this.stateDir, ir.name).file,
          syncFile: join(this.stateDir, 'state', `${ir.name}.remote.json`),
          registryDir: this.registry().root,
          // Iceberg metadata names the objects by their S3 URIs, so Spark and pyiceberg read them there.
          warehouse: ((dir, catalog) =>
            new Warehouse(dir, undefined, {
              store: new LocalTableStore(dir, `s3://${[s3.where.bucket, s3.where.prefix].filter(Boolean).join('/')}`),
              ...(catalog ? { catalog } : {}),
            }))(join(this.stateDir, 's3', s3.where.bucket, ...(s3.where.prefix ? s3.where.prefix.split('/') : [])), this.catalog(ir)),
        })
      : undefined;
    this.remotes.set(ir.name, remote);
    return remote;
  }

  /**
   * The state and warehouse another process of this workspace already resolved (a query-door engine,
   * src/serve/query-door-process.ts, gets the server's locations): opened for reading, no remote pull.
   */
  static reopen(at: { readonly stateDir: string; readonly name: string; readonly warehouseRoot: string; readonly warehouseUri: string }): {
    state: StateStore;
    warehouse: Warehouse;
  } {
    return {
      state: new StateStore(at.stateDir, at.name),
      warehouse: new Warehouse(at.warehouseRoot, undefined, { store: new LocalTableStore(at.warehouseRoot, at.warehouseUri) }),
    };
  }

  registry(): Registry {
    this.registryMemo ??= new Registry(this.stateDir);
    return this.registryMemo;
  }

  /** Scratch space (spill files, staging): removable whenever no apply runs. */
  scratchDir(): string {
    return join(this.stateDir, 'cache', 'tmp');
  }
}
