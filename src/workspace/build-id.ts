// The build id: one hash naming the code that fills every cache — asgard's own code (the files of
// src/ under tsx, dist/ when built, and its version) and the versions of the parser (chevrotain),
// the SQL toolkit (polyglot) and DuckDB. Every cache under the state folder is salted with it, so a
// change to any of them (a new transpiler, a DuckDB upgrade, an edited checker) never serves a stale
// entry; a rebuild that writes the same files again keeps the caches warm.
//
// Hashing every code file costs more than a warm command's own work, so the id is remembered in a
// small memo file (the workspace's `cache/build-id.json`) under a cheap signature of the code: each
// file's path, size and modification time (what make trusts). A changed, added or removed file
// changes the signature and the files are hashed again.

import { existsSync, readdirSync, readFileSync, statSync, type Dirent } from 'node:fs';
import { dirname, join, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { IR_SCHEMA_VERSION } from '../ir/types.js';
import { writeFileAtomic } from '../util/fs-atomic.js';
import { sha256 } from '../util/canonical-json.js';

/** The packages whose behaviour is cached: parser, SQL toolkit, DuckDB. */
export const CACHED_TOOLS = ['chevrotain', '@polyglot-sql/sdk', '@duckdb/node-api'] as const;

const CODE_ROOT = dirname(dirname(fileURLToPath(import.meta.url)));
let memo: string | undefined;

/** This build's id; `memoFile` (the workspace's) remembers it across processes. */
export function buildId(memoFile?: string): string {
  memo ??= buildIdOf(CODE_ROOT, memoFile);
  return memo;
}

/** The build id of the code under `codeRoot`, through `memoFile` when given (exported for tests). */
export function buildIdOf(codeRoot: string, memoFile?: string): string {
  const files = codeFiles(codeRoot);
  const head = headerParts(codeRoot);
  const signature = sha256([...head, ...files.map((f) => `${f.rel}: ${f.size} ${f.mtimeMs}`)].join('\n'));
  if (memoFile) {
    try {
      const m = JSON.parse(readFileSync(memoFile, 'utf8')) as { signature?: unknown; id?: unknown };
      if (m.signature === signature && typeof m.id === 'string') return m.id;
    } catch {
      // no memo yet, or an unreadable one: hash the files
    }
  }
  const id = sha256([...head, ...files.map((f) => `${f.rel}: ${sha256(readFileSync(f.path))}`)].join('\n'));
  if (memoFile) {
    try {
      writeFileAtomic(memoFile, JSON.stringify({ signature, id }), false); // a memo: lost, the files are hashed again
    } catch {
      // a read-only state folder: the next run hashes again
    }
  }
  return id;
}

/** What the build id hashes, one `name: value` line each (exported for tests and `--debug`). */
export function buildParts(codeRoot = CODE_ROOT): string[] {
  return [...headerParts(codeRoot), ...codeFiles(codeRoot).map((f) => `${f.rel}: ${sha256(readFileSync(f.path))}`)];
}

function headerParts(codeRoot: string): string[] {
  const parts = [`ir-schema: ${IR_SCHEMA_VERSION}`, `asgard: ${packageVersion(join(dirname(codeRoot), 'package.json'))}`];
  for (const tool of CACHED_TOOLS) parts.push(`${tool}: ${toolVersion(tool)}`);
  return parts;
}

interface CodeFile {
  readonly path: string;
  readonly rel: string;
  readonly size: number;
  readonly mtimeMs: number;
}

/** Every .js/.ts file below `codeRoot`, in a stable order, with its size and modification time. */
function codeFiles(codeRoot: string): CodeFile[] {
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
      else if (/\.(js|ts)$/.test(e.name)) {
        const st = link ?? statSync(p);
        out.push({ path: p, rel: p.slice(codeRoot.length), size: st.size, mtimeMs: st.mtimeMs });
      }
    }
  };
  walk(codeRoot);
  return out;
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
  for (let dir = dirname(fileURLToPath(import.meta.url)); ; dir = dirname(dir)) {
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
