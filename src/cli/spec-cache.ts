// A compile cache for specs, like dbt's partial parsing: the checked IR, its diagnostics and its
// inferred schemas, kept in `.asgard/cache/specs/` beside the spec and reused while the spec's text
// and the asgard code that reads it are unchanged. A second `plan` of an unchanged spec then loads
// neither the parser, the SQL toolkit nor DuckDB. Any doubt (another text, another build, an
// unreadable or foreign cache file) means a normal load; failing to write the cache never fails a
// command.

import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Diagnostic } from '../diagnostics/diagnostic.js';
import { IR_SCHEMA_VERSION, type NodeId, type PipelineIR } from '../ir/types.js';
import type { ColumnSchema } from '../planner/state-store.js';
import { canonicalJson, sha256 } from '../util/canonical-json.js';
import { writeFileAtomic } from '../util/fs-atomic.js';

const CACHE_VERSION = 1;

interface CacheFile {
  readonly version: number;
  readonly key: string;
  readonly ir?: PipelineIR;
  readonly diagnostics: readonly Diagnostic[];
  readonly schemas?: {
    readonly known: string;
    readonly entries: readonly [NodeId, readonly ColumnSchema[]][];
    readonly diagnostics: readonly Diagnostic[];
  };
}

let buildIdMemo: string | undefined;

/**
 * Identifies the code that turns text into IR and schemas: a hash of the contents of the files of
 * those layers (src/ under tsx, dist/ when built). Editing any of them invalidates caches; a rebuild
 * that writes the same files again does not.
 */
function buildId(): string {
  if (buildIdMemo) return buildIdMemo;
  const root = dirname(dirname(fileURLToPath(import.meta.url)));
  const parts: string[] = [String(IR_SCHEMA_VERSION)];
  const walk = (dir: string) => {
    let entries: string[];
    try {
      entries = readdirSync(dir).sort();
    } catch {
      return;
    }
    for (const e of entries) {
      const p = join(dir, e);
      const st = statSync(p);
      if (st.isDirectory()) walk(p);
      else if (/\.(js|ts)$/.test(e)) parts.push(`${p}:${sha256(readFileSync(p))}`);
    }
  };
  for (const layer of ['ir', 'diagnostics', 'sql', 'dsl', 'engine', 'util']) walk(join(root, layer));
  // The parser, SQL toolkit and DuckDB versions matter too: the lock file pins them.
  for (const f of ['package-lock.json', 'package.json']) {
    try {
      parts.push(`${f}:${sha256(readFileSync(join(dirname(root), f)))}`);
    } catch {
      // Not in a checkout (an installed package): its files above identify the build.
    }
  }
  buildIdMemo = sha256(parts.join('\n'));
  return buildIdMemo;
}

const cachePath = (specFile: string) => join(dirname(specFile), '.asgard', 'cache', 'specs', `${basename(specFile)}.json`);
const keyOf = (specFile: string, text: string) => sha256(`${CACHE_VERSION}\n${buildId()}\n${specFile}\n${text}`);

function read(specFile: string, text: string): CacheFile | undefined {
  try {
    const c = JSON.parse(readFileSync(cachePath(specFile), 'utf8')) as CacheFile;
    return c.version === CACHE_VERSION && c.key === keyOf(specFile, text) ? c : undefined;
  } catch {
    return undefined;
  }
}

function write(specFile: string, c: CacheFile): void {
  try {
    writeFileAtomic(cachePath(specFile), JSON.stringify(c));
  } catch {
    // A read-only checkout or a full disk: the cache is an optimisation only.
  }
}

/** The cached load result of this exact text, if any. */
export function cachedSpec(specFile: string, text: string): { ir?: PipelineIR; diagnostics: readonly Diagnostic[] } | undefined {
  const c = read(specFile, text);
  return c ? { ir: c.ir, diagnostics: c.diagnostics } : undefined;
}

export function cacheSpec(specFile: string, text: string, ir: PipelineIR | undefined, diagnostics: readonly Diagnostic[]): void {
  write(specFile, { version: CACHE_VERSION, key: keyOf(specFile, text), ir, diagnostics });
}

const knownKey = (known?: ReadonlyMap<NodeId, readonly ColumnSchema[]>) => sha256(canonicalJson(known ? [...known].sort((a, b) => (a[0] < b[0] ? -1 : 1)) : []));

export function cachedSchemas(
  specFile: string,
  text: string,
  known?: ReadonlyMap<NodeId, readonly ColumnSchema[]>,
): { schemas: ReadonlyMap<NodeId, readonly ColumnSchema[]>; diagnostics: readonly Diagnostic[] } | undefined {
  const s = read(specFile, text)?.schemas;
  if (!s || s.known !== knownKey(known)) return undefined;
  return { schemas: new Map(s.entries), diagnostics: s.diagnostics };
}

export function cacheSchemas(
  specFile: string,
  text: string,
  known: ReadonlyMap<NodeId, readonly ColumnSchema[]> | undefined,
  schemas: ReadonlyMap<NodeId, readonly ColumnSchema[]>,
  diagnostics: readonly Diagnostic[],
): void {
  const c = read(specFile, text);
  if (!c) return;
  write(specFile, { ...c, schemas: { known: knownKey(known), entries: [...schemas], diagnostics } });
}
