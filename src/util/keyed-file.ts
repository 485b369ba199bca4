// A cache file holding one entry, its key the file's first field (`{"key":"…",…}`): a reader
// compares the key with the file's first bytes before reading and parsing the rest, so the entry of
// another key (after an edit; tens of MB at 10,000 nodes) is never parsed. Only a speed-up: a
// missing, damaged or foreign file reads as no entry, and a failed write (a read-only checkout, a
// full disk) is ignored.

import { closeSync, openSync, readSync } from 'node:fs';
import { readUtf8 } from './read-utf8.js';
import { writeFileAtomic } from './fs-atomic.js';

/** Does the file at `path` hold the entry of `key` (by its first bytes)? */
export function hasKey(path: string, key: string): boolean {
  const prefix = `{"key":${JSON.stringify(key)}`;
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return false;
  }
  try {
    const head = Buffer.alloc(prefix.length);
    return readSync(fd, head, 0, head.length, 0) === head.length && head.toString('utf8') === prefix;
  } finally {
    closeSync(fd);
  }
}

/** The entry of `key` in the file at `path`, or undefined. */
export function readKeyed<T extends object>(path: string, key: string): (T & { key: string }) | undefined {
  try {
    if (!hasKey(path, key)) return undefined;
    const c = JSON.parse(readUtf8(path)) as T & { key: string };
    return c.key === key ? c : undefined;
  } catch {
    return undefined;
  }
}

/** Writes `entry` under `key` (the key first); returns whether it was written. Never fsynced: a cache. */
export function writeKeyed(path: string, key: string, entry: object): boolean {
  const { key: _key, ...rest } = entry as { key?: unknown };
  try {
    writeFileAtomic(path, JSON.stringify({ key, ...rest }), false);
    return true;
  } catch {
    return false;
  }
}
