// The build id: one hash naming the code that fills every cache — asgard's own code (the files of
// src/ under tsx, dist/ when built, and its version) and the versions of the parser (chevrotain),
// the SQL toolkit (polyglot) and DuckDB. Every cache under the state folder is salted with it, so a
// change to any of them (a new transpiler, a DuckDB upgrade, an edited checker) never serves a stale
// entry; a rebuild that writes the same files again keeps the caches warm.
//
// Hashing every code file costs more than a warm command's own work, so the id is remembered in a
// small memo file (the workspace's `cache/build-id.json`) with the cheap signature of the code it was
// made for (./build-signature.cts: each file's path, size and modification time). A changed, added or
// removed file changes the signature and the files are hashed again.

import { readFileSync } from 'node:fs';
import { IR_SCHEMA_VERSION } from '../ir/types.js';
import { writeFileAtomic } from '../util/fs-atomic.js';
import { sha256 } from '../util/canonical-json.js';
import { CODE_ROOT, type BuildIdMemo, type CodeFile, codeFiles, memoizedId, runningSignature, signatureOf, versionParts } from './build-signature.cjs';

let memo: string | undefined;

/** This build's id; `memoFile` (the workspace's) remembers it across processes. */
export function buildId(memoFile?: string): string {
  memo ??= idOf(CODE_ROOT, runningSignature(), memoFile);
  return memo;
}

/** The build id of the code under `codeRoot`, through `memoFile` when given (exported for tests). */
export function buildIdOf(codeRoot: string, memoFile?: string): string {
  return idOf(codeRoot, signatureOf(codeRoot), memoFile);
}

function idOf(codeRoot: string, signature: string, memoFile: string | undefined): string {
  const known = memoFile ? memoizedId(memoFile, signature) : undefined;
  if (known !== undefined) return known;
  const id = sha256(hashedParts(codeRoot, codeFiles(codeRoot)).join('\n'));
  if (memoFile) {
    try {
      const m: BuildIdMemo = { signature, id };
      writeFileAtomic(memoFile, JSON.stringify(m), false); // a memo: lost, the files are hashed again
    } catch {
      // a read-only state folder: the next run hashes again
    }
  }
  return id;
}

/** What the build id hashes, one `name: value` line each (exported for tests and `--debug`). */
export function buildParts(codeRoot = CODE_ROOT): string[] {
  return hashedParts(codeRoot, codeFiles(codeRoot));
}

const hashedParts = (codeRoot: string, files: readonly CodeFile[]): string[] => [
  `ir-schema: ${IR_SCHEMA_VERSION}`,
  ...versionParts(codeRoot),
  ...files.map((f) => `${f.rel}: ${sha256(readFileSync(f.path))}`),
];
