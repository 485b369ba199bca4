// What the Iceberg writer and reader (./table.ts) need of the place a warehouse keeps its objects
// (data files, manifests, table metadata): a flat key space under one root URI, the URI Iceberg
// metadata records for a key, and local paths for DuckDB, which reads and writes local files only.
// The local folder (the embedded default) implements it here; an object store (../object-store.ts,
// e.g. S3) plugs in behind the same interface.
//
// DuckDB reads and writes local files only, so a store says where an object can be read locally
// (`localFile`) and where a new object is written before `putFile` makes it an object (`stagingPath`).
// On the local filesystem both are the object's own path and `flush` syncs it: staged data
// files are invisible anyway until a catalog commit references them.

import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, rmdirSync, statSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { pathToFileURL } from 'node:url';

export interface TableStore {
  /** The root as a URI (`file:///abs/dir`, `s3://bucket/prefix`), without a trailing slash. */
  readonly rootUri: string;
  /** The URI of a key: what Iceberg metadata records (other engines open it). */
  uri(key: string): string;
  /** The key of a URI under this root, or undefined when it lies elsewhere. */
  keyOf(uri: string): string | undefined;
  /**
   * Write a new object whole (metadata JSON, manifests). Keys are never reused, and nothing refers
   * to an object before a catalog commit does, so a torn write is never read.
   */
  put(key: string, body: Uint8Array | string): Promise<void>;
  /** Make the objects written so far under these keys durable (before the catalog commit names them). */
  flush(keys: readonly string[]): Promise<void>;
  /** Make the local file written at `stagingPath(key)` the object `key`. */
  putFile(key: string, localPath: string): Promise<void>;
  get(key: string): Promise<Buffer>;
  /** Every key under a prefix (recursive), sorted. */
  list(prefix: string): Promise<string[]>;
  /** Delete keys (missing ones are fine). */
  delete(keys: readonly string[]): Promise<void>;
  /** A local path where DuckDB may write the object `key` before `putFile`. */
  stagingPath(key: string): string;
  /** A local path DuckDB can read the object from (downloaded first where the store is remote). */
  localFile(key: string): Promise<string>;
  /** Object size in bytes. */
  size(key: string): Promise<number>;
}

/** The embedded default: objects are files under a local folder. */
export class LocalTableStore implements TableStore {
  readonly root: string;
  readonly rootUri: string;

  /**
   * `uriRoot`: the URI Iceberg metadata records for the root when this folder is the working copy
   * of an object store (`s3://bucket/prefix`): other engines then read the tables from there.
   */
  constructor(root: string, uriRoot?: string) {
    this.root = resolve(root);
    // The path as it stands, not percent-encoded: other engines open a location literally (keyOf).
    this.rootUri = (uriRoot ?? `file://${this.root.split(sep).join('/')}`).replace(/\/+$/, '');
  }

  path(key: string): string {
    const p = resolve(this.root, key);
    if (p !== this.root && !p.startsWith(this.root + sep)) throw new Error(`object key ${key} leaves the warehouse ${this.root}`);
    return p;
  }

  uri(key: string): string {
    return `${this.rootUri}/${key}`;
  }

  /**
   * Locations are taken literally, never percent-decoded: Iceberg records a file's path as written
   * (pyiceberg and Hadoop's Path open it as it stands), and a partition folder DuckDB escaped
   * (`label=a%2Fb`) is named with the `%2F` itself.
   */
  keyOf(uri: string): string | undefined {
    // s3://, s3a:// and s3n:// name the same object; file:/x (Hadoop's form) is file:///x.
    const norm = (u: string) => u.replace(/^s3[an]?:\/\//, 's3://').replace(/^file:\/(?!\/)/, 'file:///');
    const root = norm(this.rootUri) + '/';
    if (norm(uri).startsWith(root)) return norm(uri).slice(root.length);
    // Tables written while the root was recorded percent-encoded (pathToFileURL) still resolve.
    const encoded = `${pathToFileURL(this.root).href}/`;
    if (uri.startsWith(encoded)) return uri.slice(encoded.length);
    let p: string;
    if (uri.startsWith('file:')) p = norm(uri).slice('file://'.length);
    else if (isAbsolute(uri)) p = uri;
    else return undefined;
    const rel = relative(this.root, p);
    return rel.startsWith('..') || isAbsolute(rel) ? undefined : rel.split(sep).join('/');
  }

  // Nothing is synced as it is written: `flush` syncs every file of a commit (data files, delete
  // files, manifests, manifest list, metadata) and their folders at once, through libuv's thread
  // pool (fs/promises), before the catalog commit names them. Concurrent syncs share the journal's
  // commits; one after another, each waited for its own (bench/apply.md, session 8).
  async put(key: string, body: Uint8Array | string): Promise<void> {
    const p = this.path(key);
    mkdirSync(dirname(p), { recursive: true });
    writeFileSync(p, body);
  }

  /** Sync these objects' files and their folders' entries, all at once. */
  async flush(keys: readonly string[]): Promise<void> {
    const files = [...new Set(keys)].map((k) => this.path(k));
    await Promise.all([...files.map(syncFile), ...[...new Set(files.map((f) => dirname(f)))].map(syncDir)]);
  }

  /** The staged file is the object; `flush` syncs it. */
  async putFile(key: string, localPath: string): Promise<void> {
    const p = this.path(key);
    if (resolve(localPath) !== p) throw new Error(`${localPath} was not staged at ${p}`);
  }

  async get(key: string): Promise<Buffer> {
    return readFileSync(this.path(key));
  }

  async list(prefix: string): Promise<string[]> {
    const base = this.path(prefix);
    if (!existsSync(base)) return [];
    const out: string[] = [];
    const walk = (d: string): void => {
      for (const e of readdirSync(d, { withFileTypes: true })) {
        const p = join(d, e.name);
        if (e.isDirectory()) walk(p);
        else out.push(relative(this.root, p).split(sep).join('/'));
      }
    };
    if (statSync(base).isDirectory()) walk(base);
    else out.push(prefix);
    return out.sort();
  }

  async delete(keys: readonly string[]): Promise<void> {
    const dirs = new Set<string>();
    for (const k of keys) {
      const p = this.path(k);
      rmSync(p, { force: true });
      dirs.add(dirname(p));
    }
    // Folders left empty (a pending write's folder, a partition folder) go too, up to the root.
    for (const d of [...dirs].sort((a, b) => b.length - a.length)) pruneEmpty(d, this.root);
  }

  stagingPath(key: string): string {
    const p = this.path(key);
    mkdirSync(dirname(p), { recursive: true });
    return p;
  }

  async localFile(key: string): Promise<string> {
    return this.path(key);
  }

  async size(key: string): Promise<number> {
    return statSync(this.path(key)).size;
  }
}

async function syncFile(file: string): Promise<void> {
  const fh = await open(file, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

async function syncDir(dir: string): Promise<void> {
  try {
    const fh = await open(dir, 'r');
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
  } catch {
    // Some filesystems refuse fsync on directories (as src/util/fs-atomic.ts fsyncDir).
  }
}

function pruneEmpty(dir: string, root: string): void {
  let d = dir;
  while (d.startsWith(root + sep)) {
    try {
      if (readdirSync(d).length) return;
      rmdirSync(d);
    } catch {
      return;
    }
    d = dirname(d);
  }
}
