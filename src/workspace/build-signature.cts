// What the build id's memo (./build-id.ts) keeps of the code it was made for, and the check that the
// code is still that: every folder's entry names below the code root (src/ under tsx, dist/ when
// built: an added, removed or renamed file changes them) and every code file's size and modification
// time (what make trusts), with asgard's version and the versions of the tools whose behaviour is
// cached. The check lists the folders it names and stats the files it names: no walk, no sort, no
// hash. The IR schema's version is not in it: it is written in a code file (src/ir/types.ts), whose
// size or time changes with it; the build id itself hashes it.
//
// CommonJS (compiled to build-signature.cjs), as is everything a replayed plan loads
// (src/cli/plan-replay.cts): the process answers before Node's ES module loader starts, and the check
// needs no node:crypto.

import { existsSync, readdirSync, readFileSync, statSync, type Dirent } from 'node:fs';
import { dirname, join, sep } from 'node:path';

/** The packages whose behaviour is cached: parser, SQL toolkit, DuckDB. */
export const CACHED_TOOLS = ['chevrotain', '@polyglot-sql/sdk', '@duckdb/node-api'] as const;

/** The code root this module belongs to: dist/ when built, src/ under tsx. */
export const CODE_ROOT = dirname(__dirname);

/** A code file below the code root: its path there (starting with the separator), size and modification time. */
export type CodeFile = readonly [rel: string, size: number, mtimeMs: number];

/** The code below a root as the memo keeps it. */
export interface CodeTree {
  /** asgard's and the cached tools' versions (versionParts). */
  readonly versions: string;
  /** Each folder (its path below the root) with its entry names in the order the system lists them, joined by `/`. */
  readonly dirs: readonly (readonly [rel: string, names: string])[];
  /** Every .js/.ts/.cjs/.cts file, in a stable order (sorted by path). */
  readonly files: readonly CodeFile[];
}

/** The code below `codeRoot`: a walk of its folders, a stat of each code file (not dist's source maps: half its files). */
export function codeTree(codeRoot: string): CodeTree {
  const dirs: [string, string][] = [];
  const files: CodeFile[] = [];
  const walk = (dir: string) => {
    let entries: Dirent[];
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    dirs.push([dir.slice(codeRoot.length), entries.map((e) => e.name).join('/')]);
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    // Paths joined by hand (path.join normalises each one: about a third of this walk's CPU).
    for (const e of entries) {
      const p = dir + sep + e.name;
      const link = e.isSymbolicLink() ? statSync(p) : undefined;
      if (link ? link.isDirectory() : e.isDirectory()) walk(p);
      else if (/\.c?[jt]s$/.test(e.name)) {
        const st = link ?? statSync(p);
        files.push([p.slice(codeRoot.length), st.size, st.mtimeMs]);
      }
    }
  };
  walk(codeRoot);
  return { versions: versionParts(codeRoot).join('\n'), dirs, files };
}

/** asgard's version and the cached tools' versions, one `name: value` line each. */
export function versionParts(codeRoot: string): string[] {
  const parts = [`asgard: ${packageVersion(join(dirname(codeRoot), 'package.json'))}`];
  for (const tool of CACHED_TOOLS) parts.push(`${tool}: ${toolVersion(tool)}`);
  return parts;
}

/** Whether the code below `codeRoot` is still `tree`: the same versions, folders listing the same names, code files of the same sizes and times. */
export function unchanged(codeRoot: string, tree: CodeTree): boolean {
  try {
    if (tree.versions !== versionParts(codeRoot).join('\n')) return false;
    for (const [rel, names] of tree.dirs) if (readdirSync(codeRoot + rel).join('/') !== names) return false;
    for (const [rel, size, mtimeMs] of tree.files) {
      const st = statSync(codeRoot + rel);
      if (st.size !== size || st.mtimeMs !== mtimeMs) return false;
    }
    return true;
  } catch {
    return false; // a folder or file gone, or a memo of another shape
  }
}

/** What a build id memo file holds. */
export interface BuildIdMemo {
  readonly tree: CodeTree;
  readonly id: string;
}

/** The id the memo file names, if it was made for exactly the code below `codeRoot` as it is now. */
export function memoizedId(memoFile: string, codeRoot: string): string | undefined {
  let m: Partial<BuildIdMemo>;
  try {
    m = JSON.parse(readFileSync(memoFile, 'utf8')) as Partial<BuildIdMemo>;
  } catch {
    return undefined; // no memo yet, or an unreadable one
  }
  return typeof m.id === 'string' && m.tree && unchanged(codeRoot, m.tree) ? m.id : undefined;
}

const running = new Map<string, string | undefined>();

/** memoizedId for the code this process runs, checked once per memo file (a replay that misses leaves the same check to the plan). */
export function runningMemoizedId(memoFile: string): string | undefined {
  if (!running.has(memoFile)) running.set(memoFile, memoizedId(memoFile, CODE_ROOT));
  return running.get(memoFile);
}

function packageVersion(file: string): string {
  try {
    return String((JSON.parse(readFileSync(file, 'utf8')) as { version?: unknown }).version ?? 'unknown');
  } catch {
    return 'unknown';
  }
}

/**
 * A dependency's version from its package.json, found where Node resolves a bare import from here
 * (the first `node_modules/<name>` up from this folder) without loading it, nor Node's resolver (a
 * warm command asks this on every run).
 */
function toolVersion(name: string): string {
  for (let dir = __dirname; ; dir = dirname(dir)) {
    const file = join(dir, 'node_modules', name, 'package.json');
    // Not installed here: look further up (asked first, as a failed read's error costs more).
    if (existsSync(file))
      try {
        const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version?: string };
        if (pkg.name === name) return pkg.version ?? 'unknown';
      } catch {
        // unreadable: look further up
      }
    if (dirname(dir) === dir) return 'missing';
  }
}
