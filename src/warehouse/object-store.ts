// The object-storage interface every warehouse, state and lock location is written through: a flat
// key space under one root (`s3://bucket/prefix` or a local folder). Keys are relative, `/`-separated.
// Conditional writes are the one primitive locks and compare-and-swap commits need:
// `ifNoneMatch: '*'` creates only when the key is absent, `ifMatch: etag` replaces only the version
// that was read. A failed condition is a PreconditionFailed, never a silent overwrite.
//
// Implementations: LocalObjectStore (below, a folder) and S3ObjectStore (./s3-store.ts).

import { createHash, randomBytes } from 'node:crypto';
import {
  closeSync,
  copyFileSync,
  existsSync,
  linkSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeSync,
  fsyncSync,
} from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';

export interface ObjectInfo {
  readonly key: string;
  readonly size: number;
  readonly etag: string;
}

export interface PutCondition {
  /** `'*'`: write only when no object has this key. */
  readonly ifNoneMatch?: '*';
  /** Write only when the current object's ETag is this one. */
  readonly ifMatch?: string;
}

export interface ObjectStore {
  /** Where the root is, for messages: `s3://bucket/prefix` or an absolute folder. */
  readonly location: string;
  /** The object and its ETag, or undefined when there is none. */
  get(key: string): Promise<{ readonly body: Buffer; readonly etag: string } | undefined>;
  head(key: string): Promise<ObjectInfo | undefined>;
  /**
   * The object unless its ETag is still `etag` (a conditional read, `If-None-Match`): `'unchanged'`
   * costs one request and transfers no body; undefined when there is no object.
   */
  getIfChanged(key: string, etag: string): Promise<{ readonly body: Buffer; readonly etag: string } | 'unchanged' | undefined>;
  /** Write a small object (state, metadata, a lock). Throws PreconditionFailed when `cond` does not hold. */
  put(key: string, body: Buffer | string, cond?: PutCondition): Promise<{ readonly etag: string }>;
  /** Copy a local file to `key` (multipart above the store's part size). */
  upload(key: string, file: string): Promise<{ readonly etag: string }>;
  /** Copy `key` to a local file; false when there is no such object. */
  download(key: string, file: string): Promise<boolean>;
  /** Remove `key` (no error when absent). With `ifMatch`, only that version (PreconditionFailed otherwise). */
  delete(key: string, cond?: { readonly ifMatch?: string }): Promise<void>;
  /** Every object whose key starts with `prefix`, sorted by key. */
  list(prefix: string): Promise<ObjectInfo[]>;
}

/** A conditional write or delete whose condition did not hold (HTTP 412 on S3). */
export class PreconditionFailed extends Error {
  constructor(
    readonly location: string,
    readonly key: string,
    message = `${location}/${key}: the object changed or already exists (precondition failed)`,
  ) {
    super(message);
  }
}

/** The storage cannot be used: unreachable, no bucket, refused credentials. The message names the location. */
export class ObjectStoreError extends Error {}

/** Strip the quotes S3 puts around ETags, so ETags compare equal whichever way they arrived. */
export function normalEtag(etag: string | undefined): string {
  return (etag ?? '').replace(/^W\//, '').replace(/^"|"$/g, '');
}

/** Check a relative key: no absolute paths, no `..`, no empty segments. */
export function checkKey(key: string): string {
  if (!key || key.startsWith('/') || key.split('/').some((s) => s === '' || s === '.' || s === '..')) {
    throw new ObjectStoreError(`not a valid object key: "${key}"`);
  }
  return key;
}

/**
 * A folder as an object store. Conditional writes are atomic on one machine: a create links a
 * complete temp file into place (link fails when the key exists), a replace checks the ETag and renames
 * under a per-key mutex file. ETags are the MD5 of the contents, as S3's single-part ETags are.
 */
export class LocalObjectStore implements ObjectStore {
  readonly location: string;

  constructor(root: string) {
    this.location = resolve(root);
  }

  private path(key: string): string {
    return join(this.location, ...checkKey(key).split('/'));
  }

  async get(key: string) {
    const p = this.path(key);
    if (!existsSync(p)) return undefined;
    const body = readFileSync(p);
    return { body, etag: md5(body) };
  }

  async getIfChanged(key: string, etag: string) {
    const got = await this.get(key);
    return got && got.etag === normalEtag(etag) ? ('unchanged' as const) : got;
  }

  async head(key: string) {
    const p = this.path(key);
    if (!existsSync(p)) return undefined;
    return { key, size: statSync(p).size, etag: md5(readFileSync(p)) };
  }

  async put(key: string, body: Buffer | string, cond: PutCondition = {}) {
    const p = this.path(key);
    const data = typeof body === 'string' ? Buffer.from(body) : body;
    mkdirSync(dirname(p), { recursive: true });
    const tmp = `${p}.${randomBytes(4).toString('hex')}.tmp`;
    writeDurable(tmp, data);
    try {
      if (cond.ifNoneMatch === '*') {
        try {
          linkSync(tmp, p);
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code === 'EEXIST') throw new PreconditionFailed(this.location, key);
          throw e;
        }
        return { etag: md5(data) };
      }
      if (cond.ifMatch !== undefined) {
        return this.withKeyMutex(p, () => {
          const cur = existsSync(p) ? md5(readFileSync(p)) : undefined;
          if (cur !== normalEtag(cond.ifMatch)) throw new PreconditionFailed(this.location, key);
          renameSync(tmp, p);
          return { etag: md5(data) };
        });
      }
      renameSync(tmp, p);
      return { etag: md5(data) };
    } finally {
      rmSync(tmp, { force: true });
    }
  }

  async upload(key: string, file: string) {
    const p = this.path(key);
    mkdirSync(dirname(p), { recursive: true });
    const tmp = `${p}.${randomBytes(4).toString('hex')}.tmp`;
    copyFileSync(file, tmp);
    renameSync(tmp, p);
    return { etag: md5(readFileSync(p)) };
  }

  async download(key: string, file: string) {
    const p = this.path(key);
    if (!existsSync(p)) return false;
    mkdirSync(dirname(file), { recursive: true });
    const tmp = `${file}.${randomBytes(4).toString('hex')}.tmp`;
    copyFileSync(p, tmp);
    renameSync(tmp, file);
    return true;
  }

  async delete(key: string, cond: { readonly ifMatch?: string } = {}) {
    const p = this.path(key);
    if (cond.ifMatch === undefined) {
      rmSync(p, { force: true });
      return;
    }
    this.withKeyMutex(p, () => {
      const cur = existsSync(p) ? md5(readFileSync(p)) : undefined;
      if (cur !== normalEtag(cond.ifMatch)) throw new PreconditionFailed(this.location, key);
      rmSync(p, { force: true });
    });
  }

  async list(prefix: string) {
    const out: ObjectInfo[] = [];
    const walk = (dir: string) => {
      if (!existsSync(dir)) return;
      for (const e of readdirSync(dir, { withFileTypes: true })) {
        const p = join(dir, e.name);
        if (e.isDirectory()) walk(p);
        else if (!e.name.endsWith('.tmp') && !e.name.endsWith('.mutex')) {
          const key = relative(this.location, p).split(sep).join('/');
          if (key.startsWith(prefix)) out.push({ key, size: statSync(p).size, etag: md5(readFileSync(p)) });
        }
      }
    };
    walk(this.location);
    return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  /** Run `fn` holding `<path>.mutex` (created exclusively; removed after). */
  private withKeyMutex<T>(p: string, fn: () => T): T {
    const m = `${p}.mutex`;
    mkdirSync(dirname(p), { recursive: true });
    let fd: number | undefined;
    for (let i = 0; i < 200 && fd === undefined; i++) {
      try {
        fd = openSync(m, 'wx');
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5);
      }
    }
    if (fd === undefined) throw new ObjectStoreError(`${m} is held by another writer`);
    try {
      return fn();
    } finally {
      closeSync(fd);
      rmSync(m, { force: true });
    }
  }
}

function md5(b: Buffer): string {
  return createHash('md5').update(b).digest('hex');
}

function writeDurable(file: string, data: Buffer): void {
  const fd = openSync(file, 'w');
  try {
    writeSync(fd, data);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
