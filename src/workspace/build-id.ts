// The build id: one hash naming the code that fills every cache — asgard's own code (the files of
// src/ under tsx, dist/ when built, and its version) and the versions of the parser (chevrotain),
// the SQL toolkit (polyglot) and DuckDB. Every cache under the state folder is salted with it, so a
// change to any of them (a new transpiler, a DuckDB upgrade, an edited checker) never serves a stale
// entry; a rebuild that writes the same files again keeps the caches warm.
//
// Hashing every code file costs more than a warm command's own work, so the id is remembered in a
// small memo file (the workspace's `cache/build-id.json`) with what it was made for
// (./build-signature.cts: every folder's entry names, each code file's size and modification time).
// A changed, added or removed file fails that check and the files are hashed again. A build also
// leaves the memo beside its code (`dist/.build-id.json`, written by scripts/bundle-packages.mjs;
// like Python's .pyc files, a cache of the program, not of any spec), so a new workspace does not
// hash the code either (~4% of a cold 1,000-node plan); a command only reads it, and writes nothing
// outside the state folder.

import { readFileSync } from 'node:fs';
import { join, sep } from 'node:path';
import { IR_SCHEMA_VERSION } from '../ir/types.js';
import { writeFileAtomic } from '../util/fs-atomic.js';
import { sha256 } from '../util/canonical-json.js';
import { CODE_ROOT, type BuildIdMemo, type CodeTree, codeTree, memoizedId, runningMemoizedId } from './build-signature.cjs';

let memo: string | undefined;

/** This build's id; `memoFile` (the workspace's) remembers it across processes. */
export function buildId(memoFile?: string): string {
  memo ??= (memoFile && runningMemoizedId(memoFile)) || besideCode(CODE_ROOT, memoFile, codeMemoOf(CODE_ROOT)) || hashed(CODE_ROOT, memoFile);
  return memo;
}

/**
 * The build id of the code under `codeRoot`, through `memoFile` (the workspace's), then `codeMemo`
 * (beside the code, only read), when given (exported for tests).
 */
export function buildIdOf(codeRoot: string, memoFile?: string, codeMemo?: string): string {
  return (memoFile && memoizedId(memoFile, codeRoot)) || besideCode(codeRoot, memoFile, codeMemo) || hashed(codeRoot, memoFile);
}

/** The memo kept beside built code (dist/), none beside sources run through tsx. */
export const codeMemoOf = (codeRoot: string): string | undefined => (codeRoot.endsWith(`${sep}dist`) ? join(codeRoot, '.build-id.json') : undefined);

/** The id the memo beside the code names for the code as it is now, copied to `memoFile` when given. */
function besideCode(codeRoot: string, memoFile: string | undefined, codeMemo: string | undefined): string | undefined {
  const id = codeMemo && memoizedId(codeMemo, codeRoot);
  if (id && memoFile) {
    try {
      writeFileAtomic(memoFile, readFileSync(codeMemo), false); // a memo: lost, it is copied again
    } catch {
      // a read-only state folder: the next run reads the code's memo again
    }
  }
  return id || undefined;
}

/** Writes the memo beside built code (`npm run build`, once dist/ is complete); returns the id. */
export function rememberBesideCode(codeRoot: string = CODE_ROOT): string {
  const codeMemo = codeMemoOf(codeRoot);
  if (!codeMemo) throw new Error(`${codeRoot} is not a built dist/ folder`);
  // Its own name is among dist/'s entry names, which the memo keeps: there before the code is read.
  writeFileAtomic(codeMemo, '{}', false);
  return hashed(codeRoot, codeMemo);
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
