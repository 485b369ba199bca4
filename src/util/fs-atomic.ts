import { mkdirSync, openSync, writeSync, writevSync, fsyncSync, closeSync, renameSync, rmSync } from 'node:fs';
import { dirname, join, basename } from 'node:path';
import { randomBytes } from 'node:crypto';

/**
 * Write a file so that readers see either the old or the new content, never a torn one. `durable`
 * (the default) also fsyncs the file and its folder, so the new content survives a crash; a working
 * copy of something kept elsewhere (a remote state's, src/warehouse/remote-state.ts) needs not: a
 * lost or empty copy is fetched again. Each fsync blocks the process (tens of ms on a busy disk).
 * `data` given in parts is written in one call, not copied into one buffer first.
 */
export function writeFileAtomic(path: string, data: string | Uint8Array | readonly Uint8Array[], durable = true): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  const fd = openSync(tmp, 'w');
  try {
    if (Array.isArray(data)) writevSync(fd, data);
    else writeSync(fd, typeof data === 'string' ? Buffer.from(data) : (data as Uint8Array));
    if (durable) fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  try {
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
  if (durable) fsyncDir(dirname(path));
}

export function fsyncDir(dir: string): void {
  try {
    const fd = openSync(dir, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    // Some filesystems refuse fsync on directories; the rename is still atomic there.
  }
}
