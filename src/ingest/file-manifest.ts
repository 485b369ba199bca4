// What a file source's files were at its last sync: each file's path, size, mtime and SHA-256, and
// a key over the settings that shape the rows read from them. An apply whose file source finds the
// same key and the same files (same size and, when the mtime moved, the same content hash) keeps
// the previous snapshot without reading a row: a no-op apply of unchanged files costs a stat per file
// (docs/language.md, `source file`).

import { createReadStream, statSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { dirname } from 'node:path';
import { literal } from '../engine/quote.js';
import type { FileEntry, FileManifest } from '../planner/state-store.js';
import { canonicalJson, sha256 } from '../util/canonical-json.js';

export type { FileEntry, FileManifest } from '../planner/state-store.js';

const hasGlob = (p: string): boolean => /[*?[]/.test(p);

const mtimeOf = (path: string): number | undefined => {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return undefined;
  }
};

/**
 * The files a path or glob names, sorted (none when nothing matches). A glob in the file name only
 * (`disputes/*.json`) lists one folder: when that folder's mtime is the one recorded at the last
 * listing (read before listing), no entry was added, removed or renamed since, and the previous list
 * stands — without loading DuckDB, whose glob() defines the listing otherwise (and reads the files).
 */
export async function listFiles(pattern: string, previous?: FileManifest): Promise<{ paths: string[]; dir?: FileManifest['dir'] }> {
  if (!hasGlob(pattern)) {
    try {
      return { paths: statSync(pattern).isFile() ? [pattern] : [] };
    } catch {
      return { paths: [] };
    }
  }
  const folder = dirname(pattern);
  const folderMtime = hasGlob(folder) ? undefined : mtimeOf(folder);
  const dir = folderMtime === undefined ? undefined : { path: folder, mtimeMs: folderMtime };
  if (dir && previous?.dir && previous.dir.path === dir.path && previous.dir.mtimeMs === dir.mtimeMs) {
    return { paths: previous.files.map((f) => f.path), dir };
  }
  const { openDuck, queryAll } = await import('../engine/duckdb.js');
  const conn = await openDuck();
  try {
    const paths = (await queryAll(conn, `SELECT file FROM glob(${literal(pattern)}) ORDER BY file`)).rows.map((r) => String(r.file));
    return { paths, ...(dir ? { dir } : {}) };
  } finally {
    conn.closeSync();
  }
}

function hashFile(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const h = createHash('sha256');
    createReadStream(path)
      .on('data', (c) => h.update(c))
      .on('error', reject)
      .on('end', () => resolve(h.digest('hex')));
  });
}

/**
 * The manifest of the files `pattern` names now. A file whose path, size and mtime are those of
 * `previous` keeps its recorded hash; any other file is hashed. `shape`: what else decides the rows
 * (resolved settings, declared columns, key, mode), folded into the key.
 */
export async function fileManifest(pattern: string, shape: unknown, previous?: FileManifest): Promise<FileManifest> {
  const known = new Map((previous?.files ?? []).map((f) => [f.path, f]));
  const files: FileEntry[] = [];
  const listed = await listFiles(pattern, previous);
  for (const path of listed.paths) {
    const st = statSync(path);
    const prev = known.get(path);
    const same = prev && prev.size === st.size && prev.mtimeMs === st.mtimeMs;
    files.push({ path, size: st.size, mtimeMs: st.mtimeMs, sha256: same ? prev.sha256 : await hashFile(path) });
  }
  return { key: sha256(canonicalJson(shape)), files, ...(listed.dir ? { dir: listed.dir } : {}) };
}

/** Same key, same files with the same sizes and contents (mtimes may differ: a touch is no change). */
export function sameFiles(a: FileManifest | undefined, b: FileManifest): boolean {
  if (!a || a.key !== b.key || a.files.length !== b.files.length || b.files.length === 0) return false;
  return a.files.every((f, i) => f.path === b.files[i].path && f.size === b.files[i].size && f.sha256 === b.files[i].sha256);
}
