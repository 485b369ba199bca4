// The cache files of a state folder (the layout: ./workspace.ts). Kept apart from the Workspace,
// which imports every store (warehouse, Iceberg, S3, registry). Where the state folder is and the
// files a replayed plan reads are ./cache-paths.cts (CommonJS, for src/cli/plan-replay.cts).

import { basename, join } from 'node:path';
import { sha256 } from '../util/canonical-json.js';
import { JsonCacheFile } from '../util/json-cache.js';
import type { MaintenanceCache } from '../planner/maintenance.js';
import type { ColumnSchema } from '../planner/state-store.js';
import type { Maintenance } from '../sql/derive.js';
import type { RenderedTemplate } from '../sql/bind-templates.js';
import type { RenderCache } from '../engine/render.js';
import { buildId } from './build-id.js';
import { buildIdMemoFile, cacheDirOf, replayFile } from './cache-paths.cjs';

export { STATE_FOLDER, stateDirOf } from './cache-paths.cjs';

/** The caches of the state folder `stateDir` (salted with `buildId` when given: tests play another build). */
export const cachesOf = (stateDir: string, buildId?: string): WorkspaceCaches => new WorkspaceCaches(cacheDirOf(stateDir), buildId);

/** The last few spec keys made: a command after an edit asks for the keys of two texts (before and after it), several times each. */
const lastKeys: { readonly id: string; readonly specFile: string; readonly text: string; readonly key: string }[] = [];

/** The cache files of a workspace; each is salted with the build id. */
export class WorkspaceCaches {
  private id?: string;
  /** `buildId` given: that salt (tests play another build); absent: this build's, read when first needed. */
  constructor(
    readonly dir: string,
    buildId?: string,
  ) {
    this.id = buildId;
  }

  /** The salt of every cache here: this build's id (src/workspace/build-id.ts), memoised in the cache folder. */
  get buildId(): string {
    this.id ??= buildId(buildIdMemoFile(this.dir));
    return this.id;
  }

  /**
   * The key of a spec's entries (its compile cache, its last plan): a hash of the build id, the spec's
   * path and its text (the last few remembered: a command asks for them several times, and hashing
   * a 10,000-node spec's text takes milliseconds).
   */
  specKey(specFile: string, text: string): string {
    const id = this.buildId;
    let k = lastKeys.find((x) => x.id === id && x.specFile === specFile && x.text === text);
    if (!k) {
      k = { id, specFile, text, key: sha256(`${id}\n${specFile}\n${text}`) };
      if (lastKeys.unshift(k) > 4) lastKeys.pop();
    }
    return k.key;
  }

  /**
   * Remembers `key` as specKey's answer for `text` at `specFile` under this build, found where an
   * entry was kept with the build and path it was made for (src/cli/spec-cache.ts `<entry>.text`).
   */
  rememberSpecKey(specFile: string, text: string, key: string): void {
    if (lastKeys.unshift({ id: this.buildId, specFile, text, key }) > 4) lastKeys.pop();
  }

  /** The spec compile cache of one spec file. */
  specFile(specFile: string): string {
    return join(this.dir, 'specs', `${basename(specFile)}.json`);
  }

  /** The last reviewed plan of one spec file (src/cli/plan-cache.ts). */
  planFile(specFile: string): string {
    return join(this.dir, 'plans', `${basename(specFile)}.json`);
  }

  /** The last `asgard plan` process's output for one spec file and what it proves (src/cli/plan-replay.cts). */
  replayFile(specFile: string): string {
    return replayFile(this.dir, specFile);
  }

  /** Parse and check results per spec block (src/dsl/block-cache.ts), shared by the specs of this workspace. */
  get blockCacheFile(): string {
    return join(this.dir, 'blocks.json');
  }

  get sqlAnalysisFile(): string {
    return join(this.dir, 'sql-analysis.json');
  }

  /**
   * How SQL nodes are maintained, by content (src/planner/maintenance.ts): the file is read when
   * first asked; `save()` after the run.
   */
  maintenance(): MaintenanceCache & { save(): void } {
    let file: JsonCacheFile<Maintenance> | undefined;
    const open = () => (file ??= new JsonCacheFile<Maintenance>(join(this.dir, 'maintenance.json'), this.buildId));
    return {
      get: (key) => open().get(key),
      set: (key, value) => open().set(key, value),
      save: () => void file?.save(),
    };
  }

  /**
   * SQL bodies rendered for the engine, by content (src/engine/render.ts): the file is read when
   * first asked; `save()` after the run.
   */
  renderings(): RenderCache & { save(): void } {
    let file: JsonCacheFile<RenderedTemplate> | undefined;
    const open = () => (file ??= new JsonCacheFile<RenderedTemplate>(join(this.dir, 'renderings.json'), this.buildId));
    return {
      get: (key) => open().get(key),
      set: (key, value) => open().set(key, value),
      save: () => void file?.save(),
    };
  }

  /** Bound SQL schemas by content hash; save() after use. */
  schemas(): JsonCacheFile<ColumnSchema[]> {
    return new JsonCacheFile(join(this.dir, 'schemas.json'), this.buildId);
  }

  /** What the site shows of a SQL node (transpiled SQL, column edges) by content hash; save() after use. */
  site<V>(): JsonCacheFile<V> {
    return new JsonCacheFile<V>(join(this.dir, 'site.json'), this.buildId);
  }

  /** The site's graph layouts by the graph's hash (src/docs/graph-layout.ts); save() after use. */
  siteLayout<V>(): JsonCacheFile<V> {
    return new JsonCacheFile<V>(join(this.dir, 'site-layout.json'), this.buildId);
  }

  /**
   * The local paths each committed snapshot needs (Warehouse.snapshotPaths: its folder, metadata,
   * manifest list, manifests, data and delete files), by the snapshot's reference: what a plan
   * checks are still there. A snapshot's files never change once committed, so a plan over
   * snapshots it has seen checks that they exist without reading a manifest (nor loading the Avro
   * library). save() after use.
   */
  snapshotPaths(): JsonCacheFile<string[]> {
    return new JsonCacheFile(join(this.dir, 'snapshot-paths.json'), this.buildId);
  }

  /** Rendered target SQL by content hash; save() after use. */
  compileSql(): JsonCacheFile<string> {
    return new JsonCacheFile(join(this.dir, 'compile-sql.json'), this.buildId);
  }
}
