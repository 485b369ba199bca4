// A content-addressed cache kept in one JSON file: entries keyed by a content hash, the whole file
// salted (the workspace salts with the build id, src/workspace/build-id.ts), so a file written by
// other code is never read. Only ever a speed-up: a missing, corrupt, foreign or unwritable file
// means an empty cache, never an error.

import { readFileSync } from 'node:fs';
import { writeFileAtomic } from './fs-atomic.js';

/** What a stage needs from a cache: tests pass a Map-backed one, the CLI a JsonCacheFile. */
export interface KeyValueCache<V> {
  get(key: string): V | undefined;
  set(key: string, value: V): void;
}

/** Unused entries are kept (several specs may share one state folder) until they outnumber the used ones and this floor. */
const MAX_UNUSED_FLOOR = 5000;

export class JsonCacheFile<V> implements KeyValueCache<V> {
  private readonly entries = new Map<string, V>();
  private readonly used = new Set<string>();
  private dirty = false;
  hits = 0;
  misses = 0;

  constructor(
    readonly path: string,
    readonly salt: string,
  ) {
    try {
      const data = JSON.parse(readFileSync(path, 'utf8')) as { salt?: unknown; entries?: Record<string, V> };
      if (data.salt === salt && data.entries && typeof data.entries === 'object') for (const [k, v] of Object.entries(data.entries)) this.entries.set(k, v);
    } catch {
      // Missing or corrupt: start empty.
    }
  }

  get(key: string): V | undefined {
    const v = this.entries.get(key);
    if (v === undefined) this.misses++;
    else {
      this.hits++;
      this.used.add(key);
    }
    return v;
  }

  set(key: string, value: V): void {
    this.entries.set(key, value);
    this.used.add(key);
    this.dirty = true;
  }

  /** Writes the file back when this run added entries; returns whether it wrote. */
  save(): boolean {
    if (!this.dirty) return false;
    const prune = this.entries.size > Math.max(MAX_UNUSED_FLOOR, 2 * this.used.size);
    const entries: Record<string, V> = {};
    for (const k of [...this.entries.keys()].sort()) if (!prune || this.used.has(k)) entries[k] = this.entries.get(k)!;
    try {
      writeFileAtomic(this.path, JSON.stringify({ salt: this.salt, entries }), false); // a cache: lost, it is rebuilt
      this.dirty = false;
      return true;
    } catch {
      // A read-only checkout or a full disk: the cache is optional.
      return false;
    }
  }
}
