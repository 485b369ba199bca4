// A compile cache for specs, like dbt's partial parsing: the checked IR, its diagnostics and its
// inferred schemas, kept in the workspace's `cache/specs/` (src/workspace/workspace.ts) and reused
// while the spec's text and the build (the build id) are unchanged. A second `plan` of an unchanged spec then loads
// neither the parser, the SQL toolkit nor DuckDB. Any doubt (another text, another build, an
// unreadable or foreign cache file) means a normal load; failing to write the cache never fails a
// command.

import { readFileSync, statSync } from 'node:fs';
import { hasErrors } from '../diagnostics/diagnostic.js';
import type { Diagnostic } from '../diagnostics/diagnostic.js';
import type { NodeId, PipelineIR } from '../ir/types.js';
import type { FingerprintReuse } from '../planner/fingerprint.js';
import type { ColumnSchema } from '../planner/state-store.js';
import { canonicalJson, sha256 } from '../util/canonical-json.js';
import { deferWrite } from '../util/deferred-writes.js';
import { writeFileAtomic } from '../util/fs-atomic.js';
import { hasKey, writeKeyed } from '../util/keyed-file.js';
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
  /** Every node's fingerprint and meta fingerprint (src/planner/fingerprint.ts), a function of the IR: for the next edit's patch. */
  readonly fingerprints?: readonly (readonly [NodeId, string, string])[];
}

/**
 * The last file read or written per path, with its size and time: a command reads the spec and then
 * its schemas from the same file (tens of MB for a large spec), and parses it once.
 */
const parsed = new Map<string, { readonly stamp: string; readonly c: CacheFile }>();
const stampOf = (path: string): string => {
  const st = statSync(path);
  return `${st.size} ${st.mtimeMs}`;
};

/**
 * Entries made by this command and not written yet (by path): a command that infers schemas next
 * writes its entry once, with them (cacheSchemas); the others' are written when the command ends
 * (src/util/deferred-writes.ts).
 */
const pending = new Map<string, CacheFile>();

/**
 * The text each entry made by this command was checked from, by path: kept beside the entry
 * (`<entry>.text`, its key on the first line) so that the next command, given an edited text, can
 * patch this entry's IR instead of checking the whole spec again (patchedSpec).
 */
const texts = new Map<string, { readonly key: string; readonly text: string }>();
const textPath = (path: string): string => `${path}.text`;

function flushPending(): void {
  for (const [path, c] of pending) write(path, c);
  pending.clear();
}

function read(caches: WorkspaceCaches, specFile: string, text: string): CacheFile | undefined {
  try {
    const path = caches.specFile(specFile);
    const key = caches.specKey(specFile, text);
    if (pending.get(path)?.key === key) return pending.get(path);
    const stamp = stampOf(path);
    let c = parsed.get(path)?.stamp === stamp ? parsed.get(path)!.c : undefined;
    if (!c) {
      // The key is the file's first field (write keeps it so): the entry of another text (after an
      // edit) is not read and parsed, which costs a second per 10,000 nodes.
      if (!hasKey(path, key)) return undefined;
      c = JSON.parse(readFileSync(path, 'utf8')) as CacheFile;
      parsed.set(path, { stamp, c });
    }
    return c.key === key ? c : undefined;
  } catch {
    return undefined;
  }
}

function write(path: string, c: CacheFile): void {
  // The key first: read() compares it before parsing the rest.
  if (!writeKeyed(path, c.key, c)) return;
  const t = texts.get(path);
  if (t?.key === c.key) {
    try {
      writeFileAtomic(textPath(path), `${t.key}\n${t.text}`, false);
    } catch {
      // Only a speed-up for the next edit.
    }
  }
  try {
    parsed.set(path, { stamp: stampOf(path), c });
  } catch {
    // Removed in between: the next read parses it again.
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
  const path = caches.specFile(specFile);
  const key = caches.specKey(specFile, text);
  pending.set(path, { key, ir, ...(partial ? { partial } : {}), diagnostics });
  texts.set(path, { key, text });
  deferWrite(flushPending);
}

/**
 * The last entry written for `specFile` with the text it was checked from, whatever that text (a
 * fresh copy, the caller's to change), when it was a spec without errors.
 */
function lastChecked(
  caches: WorkspaceCaches,
  specFile: string,
): (Pick<CacheFile, 'schemas' | 'diagnostics' | 'fingerprints'> & { text: string; ir: PipelineIR }) | undefined {
  try {
    const path = caches.specFile(specFile);
    const t = readFileSync(textPath(path), 'utf8');
    const nl = t.indexOf('\n');
    const key = t.slice(0, nl);
    if (nl < 0 || !hasKey(path, key)) return undefined;
    const c = JSON.parse(readFileSync(path, 'utf8')) as CacheFile;
    return c.key === key && c.ir && !hasErrors(c.diagnostics) ? { ...c, text: t.slice(nl + 1), ir: c.ir } : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The load result of `text` made by patching the last entry of `specFile` (src/dsl/patch.ts): when
 * the edit since lies inside one cleanse or model block that keeps its name and inputs, only that
 * block is parsed and checked. Undefined otherwise (the spec is then loaded in full).
 */
export async function patchedSpec(
  caches: WorkspaceCaches,
  specFile: string,
  text: string,
): Promise<{ ir: PipelineIR; diagnostics: readonly Diagnostic[] } | undefined> {
  const last = lastChecked(caches, specFile);
  if (!last) return undefined;
  const { patchChecked } = await import('../dsl/patch.js');
  const { withSqlToolkit } = await import('../dsl/load-lazy.js');
  const { FileSqlCache } = await import('../sql/analyze.js');
  // The edited bodies' analyses join the SQL analysis cache, which is not read.
  const sqlCache = FileSqlCache.appending(caches.sqlAnalysisFile, caches.buildId);
  const patched = await withSqlToolkit(() => patchChecked(last, text, { sqlCache }));
  if (!patched) return undefined;
  sqlCache.flush();
  patchedFrom = {
    key: caches.specKey(specFile, text),
    ...(last.schemas && last.schemas.diagnostics.length === 0 ? { schemas: last.schemas } : {}),
    ...(last.fingerprints ? { fingerprints: last.fingerprints } : {}),
    changed: new Set([patched.changed]),
  };
  return { ir: patched.ir, diagnostics: patched.diagnostics };
}

/** The schemas (without a diagnostic) and fingerprints of the entry the last patchedSpec of this command patched, and what it changed. */
let patchedFrom: (Pick<CacheFile, 'schemas' | 'fingerprints'> & { readonly key: string; readonly changed: ReadonlySet<NodeId> }) | undefined;

/**
 * For the schema inference of a patched spec (src/engine/schemas.ts InferOptions.reuse): the
 * schemas before the edit, inferred over the same `known`, and the nodes it changed.
 */
export function schemasBeforeEdit(
  caches: WorkspaceCaches,
  specFile: string,
  text: string,
  known?: ReadonlyMap<NodeId, readonly ColumnSchema[]>,
): { schemas: ReadonlyMap<NodeId, ColumnSchema[]>; changed: ReadonlySet<NodeId> } | undefined {
  const p = patchedFrom;
  if (!p?.schemas || p.key !== caches.specKey(specFile, text) || p.schemas.known !== knownKey(known)) return undefined;
  return { schemas: new Map(p.schemas.entries as [NodeId, ColumnSchema[]][]), changed: p.changed };
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
  // Written when the command ends, once, with the fingerprints the plan adds (cacheFingerprints).
  pending.set(caches.specFile(specFile), { ...c, schemas: { known: knownKey(known), entries: [...schemas], diagnostics } });
  deferWrite(flushPending);
}

/** Adds the fingerprints of the IR of an entry this command made (not yet written). */
export function cacheFingerprints(
  caches: WorkspaceCaches,
  specFile: string,
  text: string,
  fingerprints: ReadonlyMap<NodeId, { fingerprint: string; metaFingerprint: string }>,
): void {
  const path = caches.specFile(specFile);
  const c = pending.get(path);
  if (c?.key !== caches.specKey(specFile, text) || c.fingerprints) return;
  pending.set(path, { ...c, fingerprints: [...fingerprints].map(([id, f]) => [id, f.fingerprint, f.metaFingerprint] as const) });
}

/** For the fingerprints of a patched spec (src/planner/fingerprint.ts FingerprintReuse): those before the edit, and what it changed. */
export function fingerprintsBeforeEdit(caches: WorkspaceCaches, specFile: string, text: string): FingerprintReuse | undefined {
  const p = patchedFrom;
  if (!p?.fingerprints || p.key !== caches.specKey(specFile, text)) return undefined;
  return { fingerprints: new Map(p.fingerprints.map(([id, f, m]) => [id, [f, m] as const])), changed: p.changed };
}
