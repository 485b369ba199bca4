// The build id: one hash naming the code that fills every cache — asgard's own code (the files of
// src/ under tsx, dist/ when built, and its version) and the versions of the parser (chevrotain),
// the SQL toolkit (polyglot) and DuckDB. Every cache under the state folder is salted with it, so a
// change to any of them (a new transpiler, a DuckDB upgrade, an edited checker) never serves a stale
// entry; a rebuild that writes the same files again keeps the caches warm.
//
// Hashing every code file costs more than a warm command's own work, so the id is remembered in a
// small memo file (the workspace's `cache/build-id.json`) with what it was made for
// (./build-signature.cts: every folder's entry names, each code file's size and modification time).
// A changed, added or removed file fails that check and the files are hashed again.

import { readFileSync } from 'node:fs';
import { IR_SCHEMA_VERSION } from '../ir/types.js';
import { writeFileAtomic } from '../util/fs-atomic.js';
import { sha256 } from '../util/canonical-json.js';
import { CODE_ROOT, type BuildIdMemo, type CodeTree, codeTree, memoizedId, runningMemoizedId } from './build-signature.cjs';

let memo: string | undefined;

/** This build's id; `memoFile` (the workspace's) remembers it across processes. */
export function buildId(memoFile?: string): string {
  memo ??= (memoFile && runningMemoizedId(memoFile)) || hashed(CODE_ROOT, memoFile);
  return memo;
}

/** The build id of the code under `codeRoot`, through `memoFile` when given (exported for tests). */
export function buildIdOf(codeRoot: string, memoFile?: string): string {
  return (memoFile && memoizedId(memoFile, codeRoot)) || hashed(codeRoot, memoFile);
}

/** The id of the code under `codeRoot` from its files' contents, remembered in `memoFile` when given. */
function hashed(codeRoot: string, memoFile: string | undefined): string {
  const tree = codeTree(codeRoot);
  const id = sha256(hashedParts(codeRoot, tree).join('\n'));
  if (memoFile) {
    try {
      const m: BuildIdMemo = { tree, id };
      writeFileAtomic(memoFile, JSON.stringify(m), false); // a memo: lost, the files are hashed again
    } catch {
      // a read-only state folder: the next run hashes again
    }
  }
  return id;
}

/** What the build id hashes, one `name: value` line each (exported for tests and `--debug`). */
export function buildParts(codeRoot = CODE_ROOT): string[] {
  return hashedParts(codeRoot, codeTree(codeRoot));
}

const hashedParts = (codeRoot: string, tree: CodeTree): string[] => [
  `ir-schema: ${IR_SCHEMA_VERSION}`,
  ...tree.versions.split('\n'),
  ...tree.files.map(([rel]) => `${rel}: ${sha256(readFileSync(codeRoot + rel))}`),
];
