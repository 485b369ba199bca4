// A compile cache for specs, like dbt's partial parsing: the checked IR, its diagnostics and its
// inferred schemas, kept in the workspace's `cache/specs/` (src/workspace/workspace.ts) and reused
// while the spec's text and the build (the build id) are unchanged. A second `plan` of an unchanged spec then loads
// neither the parser, the SQL toolkit nor DuckDB. Any doubt (another text, another build, an
// unreadable or foreign cache file) means a normal load; failing to write the cache never fails a
// command.

import { closeSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import type { Diagnostic } from '../diagnostics/diagnostic.js';
import type { NodeId, PipelineIR } from '../ir/types.js';
import type { ColumnSchema } from '../planner/state-store.js';
import { canonicalJson, sha256 } from '../util/canonical-json.js';
import { writeFileAtomic } from '../util/fs-atomic.js';
import { Workspace, type WorkspaceCaches } from '../workspace/workspace.js';

/** The caches of a spec's default workspace (`.asgard/` beside it). */
const defaultCaches = (specFile: string): WorkspaceCaches => Workspace.open(specFile).caches;

interface CacheFile {
  /** Hash of the build id, the spec's path and its text. */
  readonly key: string;
  readonly ir?: PipelineIR;
  /** A spec with errors: the nodes that did check (src/dsl/load.ts). */
  readonly partial?: PipelineIR;
  readonly diagnostics: readonly Diagnostic[];
  readonly schemas?: {
    readonly known: string;
    readonly entries: readonly [NodeId, readonly ColumnSchema[]][];
    readonly diagnostics: readonly Diagnostic[];
  };
}

const keyOf = (caches: WorkspaceCaches, specFile: string, text: string) => sha256(`${caches.buildId}\n${specFile}\n${text}`);

/**
 * The last file read or written per path, with its size and time: a command reads the spec and then
 * its schemas from the same file (tens of MB for a large spec), and parses it once.
 */
const parsed = new Map<string, { readonly stamp: string; readonly c: CacheFile }>();
const stampOf = (path: string): string => {
  const st = statSync(path);
  return `${st.size} ${st.mtimeMs}`;
};

function read(caches: WorkspaceCaches, specFile: string, text: string): CacheFile | undefined {
  try {
    const path = caches.specFile(specFile);
    const stamp = stampOf(path);
    const key = keyOf(caches, specFile, text);
    let c = parsed.get(path)?.stamp === stamp ? parsed.get(path)!.c : undefined;
    if (!c) {
      // The key is the file's first field (write keeps it so): the entry of another text (after an
      // edit) is not read and parsed, which costs a second per 10,000 nodes.
      if (!startsWith(path, `{"key":${JSON.stringify(key)}`)) return undefined;
      c = JSON.parse(readFileSync(path, 'utf8')) as CacheFile;
      parsed.set(path, { stamp, c });
    }
    return c.key === key ? c : undefined;
  } catch {
    return undefined;
  }
}

function startsWith(path: string, prefix: string): boolean {
  const fd = openSync(path, 'r');
  try {
    const head = Buffer.alloc(prefix.length);
    return readSync(fd, head, 0, head.length, 0) === head.length && head.toString('utf8') === prefix;
  } finally {
    closeSync(fd);
  }
}

function write(caches: WorkspaceCaches, specFile: string, c: CacheFile): void {
  try {
    const path = caches.specFile(specFile);
    // The key first: read() compares it before parsing the rest.
    const { key, ...rest } = c;
    writeFileAtomic(path, JSON.stringify({ key, ...rest }), false); // a cache: not fsynced
    parsed.set(path, { stamp: stampOf(path), c });
  } catch {
    // A read-only checkout or a full disk: the cache is an optimisation only.
  }
}

/** The cached load result of this exact text, if any. */
export function cachedSpec(
  specFile: string,
  text: string,
  caches = defaultCaches(specFile),
): { ir?: PipelineIR; partial?: PipelineIR; diagnostics: readonly Diagnostic[] } | undefined {
  const c = read(caches, specFile, text);
  return c ? { ir: c.ir, ...(c.partial ? { partial: c.partial } : {}), diagnostics: c.diagnostics } : undefined;
}

export function cacheSpec(
  caches: WorkspaceCaches,
  specFile: string,
  text: string,
  ir: PipelineIR | undefined,
  diagnostics: readonly Diagnostic[],
  partial?: PipelineIR,
): void {
  write(caches, specFile, { key: keyOf(caches, specFile, text), ir, ...(partial ? { partial } : {}), diagnostics });
}

const knownKey = (known?: ReadonlyMap<NodeId, readonly ColumnSchema[]>) =>
  sha256(canonicalJson(known ? [...known].sort((a, b) => (a[0] < b[0] ? -1 : 1)) : []));

export function cachedSchemas(
  caches: WorkspaceCaches,
  specFile: string,
  text: string,
  known?: ReadonlyMap<NodeId, readonly ColumnSchema[]>,
): { schemas: ReadonlyMap<NodeId, readonly ColumnSchema[]>; diagnostics: readonly Diagnostic[] } | undefined {
  const s = read(caches, specFile, text)?.schemas;
  if (!s || s.known !== knownKey(known)) return undefined;
  return { schemas: new Map(s.entries), diagnostics: s.diagnostics };
}

export function cacheSchemas(
  caches: WorkspaceCaches,
  specFile: string,
  text: string,
  known: ReadonlyMap<NodeId, readonly ColumnSchema[]> | undefined,
  schemas: ReadonlyMap<NodeId, readonly ColumnSchema[]>,
  diagnostics: readonly Diagnostic[],
): void {
  const c = read(caches, specFile, text);
  if (!c) return;
  write(caches, specFile, { ...c, schemas: { known: knownKey(known), entries: [...schemas], diagnostics } });
}
