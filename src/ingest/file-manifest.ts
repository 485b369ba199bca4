// What a file source's files were at its last sync: each file's path, size, mtime and SHA-256, and
// a key over the settings that shape the rows read from them. An apply whose file source finds the
// same key and the same files (same size and, when the mtime moved, the same content hash) keeps
// the previous snapshot without reading a row: a no-op apply of unchanged files costs a stat per file
// (docs/language.md, `source file`).

import { createReadStream, statSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { openDuck, queryAll, literal } from '../engine/duckdb.js';
import type { FileEntry, FileManifest } from '../planner/state-store.js';
import { canonicalJson, sha256 } from '../util/canonical-json.js';

export type { FileEntry, FileManifest } from '../planner/state-store.js';

const hasGlob = (p: string): boolean => /[*?[]/.test(p);

/** The files a path or glob names, sorted (none when nothing matches). */
async function listFiles(pattern: string): Promise<string[]> {
  if (!hasGlob(pattern)) {
    try {
      return statSync(pattern).isFile() ? [pattern] : [];
    } catch {
      return [];
    }
  }
  const conn = await openDuck();
  try {
    return (await queryAll(conn, `SELECT file FROM glob(${literal(pattern)}) ORDER BY file`)).rows.map((r) => String(r.file));
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
  for (const path of await listFiles(pattern)) {
    const st = statSync(path);
    const prev = known.get(path);
    const same = prev && prev.size === st.size && prev.mtimeMs === st.mtimeMs;
    files.push({ path, size: st.size, mtimeMs: st.mtimeMs, sha256: same ? prev.sha256 : await hashFile(path) });
  }
  return { key: sha256(canonicalJson(shape)), files };
}

/** Same key, same files with the same sizes and contents (mtimes may differ: a touch is no change). */
export function sameFiles(a: FileManifest | undefined, b: FileManifest): boolean {
  if (!a || a.key !== b.key || a.files.length !== b.files.length || b.files.length === 0) return false;
  return a.files.every((f, i) => f.path === b.files[i].path && f.size === b.files[i].size && f.sha256 === b.files[i].sha256);
}
