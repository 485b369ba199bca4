// A content-addressed cache kept in one file: entries keyed by a content hash, the whole file
// salted (the workspace salts with the build id, src/workspace/build-id.ts), so a file written by
// other code is never read. Only ever a speed-up: a missing, corrupt, foreign or unwritable file
// means an empty cache, never an error.
//
// The file is a JSON document `{"salt":…,"entries":{…}}` on its first line, then one line
// `["key",value]` per entry added since (#16.3): a run that adds a few entries to a large cache (one
// edited SQL body among 10,000) appends them instead of rewriting tens of MB. The file is rewritten
// whole when it is new, foreign or damaged, or when unused entries are pruned. A line torn by a
// crash or a concurrent writer is skipped (that entry is computed again).

import { appendFileSync, closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { readUtf8 } from './read-utf8.js';
import { writeFileAtomic } from './fs-atomic.js';

/** What a stage needs from a cache: tests pass a Map-backed one, the CLI a JsonCacheFile. */
export interface KeyValueCache<V> {
  get(key: string): V | undefined;
  set(key: string, value: V): void;
  /**
   * Sets the value whose JSON text is `json` (`JSON.stringify` of a V): a caller that serialises a
   * value anyway (to keep a copy of objects it goes on changing) hands over the text, and a file
   * cache writes it as it is instead of parsing it now and serialising it again when it saves.
   */
  setJson?(key: string, json: string): void;
}

/** A value kept as its JSON text until it is read. */
class Serialized {
  constructor(readonly json: string) {}
}

/** A key an object enumerates before the others, in numeric order (an array index: `0`, `17`, not `017`). */
const INDEX = /^(?:0|[1-9]\d*)$/;

/** Unused entries are kept (several specs may share one state folder) until they outnumber the used ones and this floor. */
const MAX_UNUSED_FLOOR = 5000;

export class JsonCacheFile<V> implements KeyValueCache<V> {
  private readonly entries = new Map<string, V | Serialized>();
  private readonly used = new Set<string>();
  /** Keys set since the file was read or written. */
  private readonly added = new Set<string>();
  /** The file as read can take appended lines: this salt, intact, ending with a newline. */
  private appendable = false;
  hits = 0;
  misses = 0;

  constructor(
    readonly path: string,
    readonly salt: string,
  ) {
    let text: string;
    try {
      text = readUtf8(path);
    } catch {
      return; // missing: start empty
    }
    const nl = text.indexOf('\n');
    try {
      const data = JSON.parse(nl < 0 ? text : text.slice(0, nl)) as { salt?: unknown; entries?: Record<string, V> };
      if (data.salt !== salt || !data.entries || typeof data.entries !== 'object') return;
      for (const [k, v] of Object.entries(data.entries)) this.entries.set(k, v);
    } catch {
      return; // corrupt: start empty
    }
    this.appendable = nl >= 0 && text.endsWith('\n');
    if (nl < 0 || nl === text.length - 1) return;
    const lines = text.slice(nl + 1, text.endsWith('\n') ? -1 : undefined);
    let added: [string, V][];
    try {
      added = JSON.parse(`[${lines.split('\n').join(',')}]`) as [string, V][];
    } catch {
      // A torn line: read the others one by one.
      added = [];
      for (const line of lines.split('\n')) {
        try {
          added.push(JSON.parse(line) as [string, V]);
        } catch {
          // skipped: computed again when needed
        }
      }
    }
    for (const e of added) if (Array.isArray(e) && typeof e[0] === 'string' && e.length === 2) this.entries.set(e[0], e[1]);
  }

  get(key: string): V | undefined {
    let v = this.entries.get(key);
    if (v === undefined) this.misses++;
    else {
      this.hits++;
      this.used.add(key);
      if (v instanceof Serialized) {
        v = JSON.parse(v.json) as V;
        this.entries.set(key, v);
      }
    }
    return v;
  }

  set(key: string, value: V): void {
    this.entries.set(key, value);
    this.used.add(key);
    this.added.add(key);
  }

  setJson(key: string, json: string): void {
    this.entries.set(key, new Serialized(json));
    this.used.add(key);
    this.added.add(key);
  }

  /** The JSON text of the entry of `key`. */
  private json(key: string): string {
    const v = this.entries.get(key);
    return v instanceof Serialized ? v.json : JSON.stringify(v);
  }

  /**
   * The whole file: what JSON.stringify({ salt, entries }) writes, entries in key order (those used
   * by this run only, with `prune`), each entry kept as text as it is. Without such an entry, and
   * with no key an object would not keep in insertion order (an array index), it is one
   * JSON.stringify of the entries in that order: half the CPU of a call per entry and the joins of
   * their texts (a 10,000-node cold plan's SQL analyses 90 -> 40 ms, bench/plan.md session 12).
   */
  private document(prune: boolean): string {
    const keys = [...this.entries.keys()].sort().filter((k) => !prune || this.used.has(k));
    if (keys.every((k) => !INDEX.test(k) && !(this.entries.get(k) instanceof Serialized))) {
      // No prototype: a key `__proto__` is an entry like any other.
      const entries = Object.create(null) as Record<string, V>;
      for (const k of keys) entries[k] = this.entries.get(k) as V;
      return `${JSON.stringify({ salt: this.salt, entries })}\n`;
    }
    const parts: string[] = [];
    for (const k of keys) parts.push(`${JSON.stringify(k)}:${this.json(k)}`);
    return `{"salt":${JSON.stringify(this.salt)},"entries":{${parts.join(',')}}}\n`;
  }

  /**
   * Writes what this run added (appended, or the file rewritten whole); returns whether it wrote.
   * `partial`: the run looked up only some of what it covers (the nodes an edit reached), so what
   * it did not use says nothing about what is still needed: nothing is pruned.
   */
  save(opts: { readonly partial?: boolean } = {}): boolean {
    if (this.added.size === 0) return false;
    const prune = !opts.partial && this.entries.size > Math.max(MAX_UNUSED_FLOOR, 2 * this.used.size);
    try {
      if (this.appendable && !prune) {
        let lines = '';
        for (const k of this.added) lines += `[${JSON.stringify(k)},${this.json(k)}]\n`;
        appendFileSync(this.path, lines);
      } else {
        writeFileAtomic(this.path, this.document(prune), false); // a cache: lost, it is rebuilt
        this.appendable = true;
      }
      this.added.clear();
      return true;
    } catch {
      // A read-only checkout or a full disk: the cache is optional.
      return false;
    }
  }

  /**
   * Appends `entries` to the cache file at `path` without reading the rest of it: a run that computed
   * a few entries and needed none of the others (a patched spec, src/dsl/patch.ts). Only when the
   * file is this salt's and ends with a newline; otherwise nothing is written (the entries are
   * computed again when needed). Returns whether it wrote.
   */
  static append<V>(path: string, salt: string, entries: Iterable<readonly [string, V]>): boolean {
    let lines = '';
    for (const [k, v] of entries) lines += `${JSON.stringify([k, v])}\n`;
    if (!lines) return false;
    const head = Buffer.from(`{"salt":${JSON.stringify(salt)},"entries":`);
    let fd: number | undefined;
    try {
      fd = openSync(path, 'r');
      const size = fstatSync(fd).size;
      const got = Buffer.alloc(head.length);
      const last = Buffer.alloc(1);
      if (size <= head.length || readSync(fd, got, 0, head.length, 0) !== head.length || !got.equals(head)) return false;
      if (readSync(fd, last, 0, 1, size - 1) !== 1 || last[0] !== 0x0a) return false;
      closeSync(fd);
      fd = undefined;
      appendFileSync(path, lines);
      return true;
    } catch {
      return false;
    } finally {
      if (fd !== undefined) closeSync(fd);
    }
  }
}
