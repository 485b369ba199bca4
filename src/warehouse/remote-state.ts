// Remote state, registry and warehouse beside an object-store warehouse (`warehouse = "s3://…"`).
// The object store is the truth; the local state folder (`--state`, default `.asgard/` beside the
// spec) is a working copy that every command first brings up to date (`pull`). Layout under the
// warehouse root (the workspace, src/workspace/workspace.ts, opens it):
//
//   <layer>/<table>/{data,metadata}/…        the Iceberg tables (the same keys as the local warehouse)
//   _asgard/state/<pipeline>.json             the state (src/planner/state-store.ts), compare-and-swap
//   _asgard/registry/<model>/…                the model registry (src/ml/registry.ts)
//   _asgard/locks/<pipeline>.lock             the apply lock (./lock.ts)
//
// Ordering makes a crash safe: a snapshot's files are uploaded before the state that points to
// them, and the state is replaced only with `If-Match` on the ETag this run last read or wrote, so
// a run that lost its lock cannot overwrite a newer state. Snapshots no state points to are
// removed after the state moved past them (expiry, or leftovers of a crash).
//
// A no-op costs only the lock and a few small requests: the working copy records what it last
// synced (`LocalCopy.syncFile`: the state's ETag and the MD5 of its body, each registry file's size,
// mtime, MD5 and remote ETag), so the state is read with `If-None-Match` (304: nothing fetched),
// snapshots already in the working copy are neither listed nor downloaded, unchanged registry files
// are not hashed again, and only registry files this run wrote are uploaded (no second listing).

import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import type { PipelineState, SnapshotRef } from '../planner/state-store.js';
import { writeFileAtomic } from '../util/fs-atomic.js';
import { ObjectLock } from './lock.js';
import { PreconditionFailed, type ObjectStore } from './object-store.js';
import type { Warehouse } from './warehouse.js';
import { tableRelativeKey } from './iceberg/table.js';
import { inParallel } from '../util/parallel.js';

/** The folder beside the tables that holds state, registry and locks (as the compiled jobs' `_asgard/`). */
export const REMOTE_DIR = '_asgard';

/** The local working copy a remote state is pulled into (the workspace's own locations). */
export interface LocalCopy {
  /** The local state file (src/planner/state-store.ts reads and writes it). */
  readonly stateFile: string;
  /** The local registry root (src/ml/registry.ts). */
  readonly registryDir: string;
  /** The local copy of the warehouse that the engine reads and writes. */
  readonly warehouse: Warehouse;
  /** What the working copy last synced with the remote (a JSON file the remote state alone writes). */
  readonly syncFile: string;
}

/** The contents of `LocalCopy.syncFile`. */
interface SyncRecord {
  /** The remote state's ETag and the MD5 of the body it was for (the local state file's, when untouched since). */
  state?: { readonly etag: string; readonly md5: string };
  /** Registry files by path under the registry root: the local copy's size, mtime and MD5, and the remote ETag. */
  registry: Record<string, { readonly size: number; readonly mtimeMs: number; readonly md5: string; readonly etag: string }>;
}

/** The remote state changed underneath this run (another writer, or a broken lock). */
export class RemoteStateConflict extends Error {}

export class RemoteState {
  /** ETag of the remote state this run last saw; undefined = none exists. */
  private etag: string | undefined;
  private pushed = new Set<string>();
  /** Snapshot ids live at the last push (or pull): their tables need no sweep. */
  private swept = new Set<string>();
  /** Tables (`<layer>/<table>`) with a snapshot in the state last pulled or pushed. */
  private tables = new Set<string>();
  private queue: Promise<void> = Promise.resolve();
  private failure: unknown;
  private sync?: SyncRecord;

  constructor(
    readonly store: ObjectStore,
    readonly pipeline: string,
    readonly local: LocalCopy,
  ) {}

  get warehouse(): Warehouse {
    return this.local.warehouse;
  }

  get stateKey(): string {
    return `${REMOTE_DIR}/state/${this.pipeline}.json`;
  }

  lock(spec: string): ObjectLock {
    return new ObjectLock(this.store, `${REMOTE_DIR}/locks/${this.pipeline}.lock`, spec);
  }

  /**
   * Bring the working copy up to date: the state (or none), the registry, and every snapshot the
   * state points to (unless `data` is false: a plan needs the state only). Returns the remote
   * state, or undefined when nothing was applied yet. The local state file is written last, so a
   * reader of the working copy (`asgard serve`) never sees a state whose snapshots are not there.
   */
  async pull(opts: { readonly data?: boolean } = {}): Promise<PipelineState | undefined> {
    const [got] = await Promise.all([this.fetchState(), opts.data === false ? undefined : this.pullRegistry()]);
    const state = got.body ? (JSON.parse(got.body.toString('utf8')) as PipelineState) : undefined;
    this.tables = new Set((state ? snapshotsOf(state) : []).map(tableOf));
    if (state && opts.data !== false) {
      for (const s of snapshotsOf(state)) {
        await this.pullSnapshot(s);
        this.pushed.add(s.id);
      }
      this.swept = new Set(snapshotsOf(state).map((s) => s.id));
    }
    const sync = this.syncRecord();
    if (got.changed) {
      if (got.body) writeFileAtomic(this.local.stateFile, got.body, false);
      else rmSync(this.local.stateFile, { force: true });
      sync.state = got.body && got.etag ? { etag: got.etag, md5: md5(got.body) } : undefined;
    }
    this.etag = got.etag;
    this.saveSync();
    return state;
  }

  /**
   * The remote state's body and ETag (none: no state yet), and whether it differs from the local
   * file. When the local file is the one last synced, the read is conditional on its ETag and an
   * unchanged state is not transferred.
   */
  private async fetchState(): Promise<{ readonly body?: Buffer; readonly etag?: string; readonly changed: boolean }> {
    const sync = this.syncRecord();
    const file = this.local.stateFile;
    const local = existsSync(file) ? readFileSync(file) : undefined;
    const known = local && sync.state && sync.state.md5 === md5(local) ? sync.state.etag : undefined;
    const got = known ? await this.store.getIfChanged(this.stateKey, known) : await this.store.get(this.stateKey);
    if (got === 'unchanged') return { body: local, etag: known, changed: false };
    if (!got) return { changed: local !== undefined };
    return { body: got.body, etag: got.etag, changed: true };
  }

  /** Whether a snapshot is in the working copy or, failing that, in the bucket (a plan pulls no data). */
  async hasSnapshot(s: SnapshotRef): Promise<boolean> {
    if (!(await this.warehouse.missingSnapshot(s))) return true;
    const listKey = tableRelativeKey(s.manifestList);
    return !!listKey && (await this.store.head(listKey)) !== undefined;
  }

  /** Called after every local state write: uploads new snapshots, then the state (in order, one at a time). */
  schedulePush(state: PipelineState): void {
    this.queue = this.queue.then(async () => {
      if (this.failure) return;
      try {
        await this.push(state);
      } catch (e) {
        this.failure = e;
      }
    });
  }

  /** Wait for the scheduled pushes; throws the first failure since the last flush. */
  async flush(): Promise<void> {
    await this.queue;
    const failure = this.failure;
    this.failure = undefined;
    if (failure) throw failure;
  }

  private async push(state: PipelineState): Promise<void> {
    const live = snapshotsOf(state);
    for (const s of live) {
      if (this.pushed.has(s.id)) continue;
      await this.pushSnapshot(s);
      this.pushed.add(s.id);
    }
    const body = JSON.stringify(state, null, 2) + '\n';
    try {
      const r = await this.store.put(this.stateKey, body, this.etag === undefined ? { ifNoneMatch: '*' } : { ifMatch: this.etag });
      this.etag = r.etag;
      this.syncRecord().state = { etag: r.etag, md5: md5(Buffer.from(body)) };
      this.saveSync();
    } catch (e) {
      if (e instanceof PreconditionFailed) {
        throw new RemoteStateConflict(
          `the remote state ${this.store.location}/${this.stateKey} changed underneath this run (another apply, or its lock was broken); ` +
            `this run's results were not recorded there: run apply again`,
        );
      }
      throw e;
    }
    await this.expire(live);
    await this.sweepRemoved(live);
  }

  /**
   * Delete every object of the tables the state no longer has (their nodes were removed from the
   * spec): data, manifests and metadata, once the state without them is the remote one.
   */
  private async sweepRemoved(live: readonly SnapshotRef[]): Promise<void> {
    const now = new Set(live.map(tableOf));
    const gone = [...this.tables].filter((t) => !now.has(t));
    this.tables = now;
    for (const t of gone) {
      const objects = await this.store.list(`${t}/`);
      // Metadata first: a reader never finds a metadata file whose data is already gone.
      const order = (k: string) => (k.endsWith('.metadata.json') ? 0 : k.includes('/metadata/') ? 1 : 2);
      const keys = objects.map((o) => o.key).sort((a, b) => order(a) - order(b));
      for (const group of [0, 1, 2])
        await inParallel(
          keys.filter((k) => order(k) === group),
          8,
          (k) => this.store.delete(k),
        );
    }
  }

  /**
   * Upload every object of a committed local Iceberg snapshot (data files, manifests, manifest list,
   * metadata file) under its key in the warehouse; metadata last, so a listed metadata file's
   * files are always there.
   */
  private async pushSnapshot(s: SnapshotRef): Promise<void> {
    const keys = await this.warehouse.snapshotKeys(s);
    for (const group of byObjectKind(keys)) await inParallel(group, 4, (k) => this.store.upload(k, join(this.warehouse.root, ...k.split('/'))));
  }

  /** Download the objects of a snapshot's table that the working copy lacks (data first, metadata last). */
  private async pullSnapshot(s: SnapshotRef): Promise<void> {
    const listKey = tableRelativeKey(s.manifestList);
    if (listKey && existsSync(join(this.warehouse.root, ...listKey.split('/')))) return;
    const objects = await this.store.list(`${s.path}/`);
    const missing = objects.map((o) => o.key).filter((k) => !existsSync(join(this.warehouse.root, ...k.split('/'))));
    for (const group of byObjectKind(missing)) await inParallel(group, 4, (k) => this.store.download(k, join(this.warehouse.root, ...k.split('/'))));
  }

  /**
   * Download the objects of the table at `path` (`<layer>/<table>`) that the working copy lacks:
   * what another engine (a Spark job) committed there (data first, metadata last).
   */
  async pullTable(path: string): Promise<void> {
    const objects = await this.store.list(`${path}/`);
    const order = (k: string) => (k.endsWith('.metadata.json') ? 2 : k.includes('/metadata/') ? 1 : 0);
    for (const o of objects.sort((a, b) => order(a.key) - order(b.key))) {
      const local = join(this.warehouse.root, ...o.key.split('/'));
      if (!existsSync(local)) await this.store.download(o.key, local);
    }
  }

  /** Remove the remote objects of the tables in `live` that no live snapshot needs. */
  private async expire(live: readonly SnapshotRef[]): Promise<void> {
    // Only tables whose snapshots changed since the last push are swept (a LIST per write of every
    // table would dominate a run); a sweep also removes a crashed run's leftovers of that table.
    const tables = new Set(live.filter((s) => !this.swept.has(s.id)).map(tableOf));
    this.swept = new Set(live.map((s) => s.id));
    if (tables.size === 0) return;
    const keep = new Set((await Promise.all(live.filter((s) => tables.has(tableOf(s))).map((s) => this.warehouse.snapshotKeys(s)))).flat());
    for (const t of tables) {
      const stale = (await this.store.list(`${t}/`)).filter((o) => !keep.has(o.key));
      await inParallel(stale, 8, (o) => this.store.delete(o.key));
    }
  }

  /**
   * Upload the registry files written since the last sync (index files last): a file whose size and
   * mtime are as synced is not read; one whose contents are as synced is not uploaded. Files written
   * to the bucket by others meanwhile (a training job on the cluster) are left as they are.
   */
  async pushRegistry(): Promise<void> {
    const root = this.local.registryDir;
    const synced = this.syncRecord().registry;
    const files = filesUnder(root).filter((f) => !f.includes('.partial/') && !f.endsWith('.tmp'));
    files.sort((a, b) => Number(a.endsWith('index.json')) - Number(b.endsWith('index.json')));
    try {
      for (const f of files) {
        const local = join(root, ...f.split('/'));
        const st = statSync(local);
        const was = synced[f];
        if (was && was.size === st.size && was.mtimeMs === st.mtimeMs) continue;
        const sum = md5(readFileSync(local));
        const etag = was?.md5 === sum ? was.etag : (await this.store.upload(`${REMOTE_DIR}/registry/${f}`, local)).etag;
        synced[f] = { size: st.size, mtimeMs: st.mtimeMs, md5: sum, etag };
      }
    } finally {
      this.saveSync();
    }
  }

  /** Download the registry files whose remote ETag is not the one last synced (and whose contents differ). */
  private async pullRegistry(): Promise<void> {
    const root = this.local.registryDir;
    const prefix = `${REMOTE_DIR}/registry/`;
    const synced = this.syncRecord().registry;
    for (const o of await this.store.list(prefix)) {
      const f = o.key.slice(prefix.length);
      const local = join(root, ...f.split('/'));
      const st = existsSync(local) ? statSync(local) : undefined;
      const was = synced[f];
      if (st && was && was.etag === o.etag && was.size === st.size && was.mtimeMs === st.mtimeMs) continue;
      let sum = st ? md5(readFileSync(local)) : undefined;
      if (sum !== o.etag) {
        await this.store.download(o.key, local);
        sum = md5(readFileSync(local));
      }
      const now = statSync(local);
      synced[f] = { size: now.size, mtimeMs: now.mtimeMs, md5: sum!, etag: o.etag };
    }
  }

  private syncRecord(): SyncRecord {
    if (!this.sync) {
      try {
        const r = JSON.parse(readFileSync(this.local.syncFile, 'utf8')) as Partial<SyncRecord>;
        this.sync = { ...(r.state ? { state: r.state } : {}), registry: r.registry ?? {} };
      } catch {
        this.sync = { registry: {} };
      }
    }
    return this.sync;
  }

  private saveSync(): void {
    // What was last synced is a cache: lost, the next pull compares contents again (no fsync).
    if (this.sync) writeFileAtomic(this.local.syncFile, JSON.stringify(this.sync) + '\n', false);
  }
}

/** The table (`<layer>/<table>`) a snapshot belongs to. */
const tableOf = (s: SnapshotRef): string => s.path.split('/').slice(0, 2).join('/');

/** The snapshots a state keeps: current and history of every node. */
export function snapshotsOf(state: PipelineState): SnapshotRef[] {
  const out: SnapshotRef[] = [];
  for (const n of Object.values(state.nodes)) {
    if (n.snapshot) out.push(n.snapshot);
    for (const h of n.history ?? []) out.push(h);
  }
  return out;
}

/** Keys in upload order: data files, then manifests and manifest lists, then metadata files. */
function byObjectKind(keys: readonly string[]): string[][] {
  const kind = (k: string) => (k.endsWith('.metadata.json') ? 2 : k.includes('/metadata/') ? 1 : 0);
  const groups: string[][] = [[], [], []];
  for (const k of keys) groups[kind(k)].push(k);
  return groups;
}

function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out.push(relative(dir, p).split(sep).join('/'));
    }
  };
  walk(dir);
  return out.sort();
}

function md5(b: Buffer): string {
  return createHash('md5').update(b).digest('hex');
}
