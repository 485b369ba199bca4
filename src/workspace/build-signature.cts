// The cheap signature of asgard's code that the build id's memo is keyed on (./build-id.ts): each
// code file's path, size and modification time (what make trusts) below the code root (src/ under
// tsx, dist/ when built), asgard's version and the versions of the tools whose behaviour is cached.
// A changed, added or removed file changes it. The IR schema's version is not in it: it is written in
// a code file (src/ir/types.ts), whose size or time changes with it; the build id itself hashes it.
//
// CommonJS (compiled to build-signature.cjs), as is everything a replayed plan loads
// (src/cli/plan-replay.cts): the process answers before Node's ES module loader starts. Nothing
// here hashes: the memo keeps the signature's whole text, so checking it needs no node:crypto.

import { existsSync, readdirSync, readFileSync, statSync, type Dirent } from 'node:fs';
import { dirname, join, sep } from 'node:path';

/** The packages whose behaviour is cached: parser, SQL toolkit, DuckDB. */
export const CACHED_TOOLS = ['chevrotain', '@polyglot-sql/sdk', '@duckdb/node-api'] as const;

/** The code root this module belongs to: dist/ when built, src/ under tsx. */
export const CODE_ROOT = dirname(__dirname);

export interface CodeFile {
  readonly path: string;
  /** The path below the code root (starts with the separator). */
  readonly rel: string;
  readonly size: number;
  readonly mtimeMs: number;
}

/** Every .js/.ts/.cjs/.cts file below `codeRoot`, in a stable order, with its size and modification time. */
export function codeFiles(codeRoot: string): CodeFile[] {
  const out: CodeFile[] = [];
  const walk = (dir: string) => {
    let entries: Dirent[];
    try {
      entries = readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    } catch {
      return;
    }
    // Only code files are stat'ed (not dist's source maps: half its files, on every command), their
    // paths joined by hand (path.join normalises each one: about a third of this walk's CPU).
    for (const e of entries) {
      const p = dir + sep + e.name;
      const link = e.isSymbolicLink() ? statSync(p) : undefined;
      if (link ? link.isDirectory() : e.isDirectory()) walk(p);
      else if (/\.c?[jt]s$/.test(e.name)) {
        const st = link ?? statSync(p);
        out.push({ path: p, rel: p.slice(codeRoot.length), size: st.size, mtimeMs: st.mtimeMs });
      }
    }
  };
  walk(codeRoot);
  return out;
}

/** asgard's version and the cached tools' versions, one `name: value` line each. */
export function versionParts(codeRoot: string): string[] {
  const parts = [`asgard: ${packageVersion(join(dirname(codeRoot), 'package.json'))}`];
  for (const tool of CACHED_TOOLS) parts.push(`${tool}: ${toolVersion(tool)}`);
  return parts;
}

/** The signature of the code under `codeRoot` (its files as listed by codeFiles, when already listed). */
export function signatureOf(codeRoot: string, files = codeFiles(codeRoot)): string {
  return [...versionParts(codeRoot), ...files.map((f) => `${f.rel}: ${f.size} ${f.mtimeMs}`)].join('\n');
}

let running: string | undefined;

/** The signature of the code this process runs (taken once: a replay that misses leaves it to the plan). */
export const runningSignature = (): string => (running ??= signatureOf(CODE_ROOT));

/** What a build id memo file holds. */
export interface BuildIdMemo {
  readonly signature: string;
  readonly id: string;
}

/** The id the memo file names for `signature`, if it was made for exactly that code. */
export function memoizedId(memoFile: string, signature: string): string | undefined {
  try {
    const m = JSON.parse(readFileSync(memoFile, 'utf8')) as Partial<BuildIdMemo>;
    return m.signature === signature && typeof m.id === 'string' ? m.id : undefined;
  } catch {
    return undefined; // no memo yet, or an unreadable one
  }
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
