// A compile cache for specs, like dbt's partial parsing: the checked IR, its diagnostics and its
// inferred schemas, kept in the workspace's `cache/specs/` (src/workspace/workspace.ts) and reused
// while the spec's text and the build (the build id) are unchanged. A second `plan` of an unchanged spec then loads
// neither the parser, the SQL toolkit nor DuckDB. Any doubt (another text, another build, an
// unreadable or foreign cache file) means a normal load; failing to write the cache never fails a
// command. An entry made by patching another after an edit (src/dsl/patch.ts) is kept as what it
// changed of the last whole entry (`<entry>.delta`: the text's edit, the nodes replaced, spans
// moved, schemas and fingerprints that differ), so an edit of a large spec does not rewrite tens of
// MB; the whole entry is written again when the changes grow past half of it.

import { rmSync, statSync } from 'node:fs';
import { readUtf8 } from '../util/read-utf8.js';
import { hasErrors } from '../diagnostics/diagnostic.js';
import type { Diagnostic } from '../diagnostics/diagnostic.js';
import type { NodeId, PipelineIR, PipelineNode } from '../ir/types.js';
import { applyTextEdit, shiftSpans, textEdit, type TextEdit } from '../dsl/text-edit.js';
import type { FingerprintReuse } from '../planner/fingerprint.js';
import type { ColumnSchema } from '../planner/state-store.js';
import { canonicalJson, sha256 } from '../util/canonical-json.js';
import { deferWrite } from '../util/deferred-writes.js';
import { writeFileAtomic } from '../util/fs-atomic.js';
import { hasKey, readKeyed, writeKeyed } from '../util/keyed-file.js';
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

type Fingerprints = NonNullable<CacheFile['fingerprints']>;
type Schemas = NonNullable<CacheFile['schemas']>;

/**
 * An entry as the changes a patch (or patch after patch) made to a whole entry, its base: kept in
 * `<entry>.delta` beside the base, keyed as an entry is.
 */
interface Delta {
  readonly key: string;
  /** The key of the whole entry changed. */
  readonly base: string;
  /** The text checked, as an edit of the base's text. */
  readonly text: TextEdit;
  /** The nodes that differ from the base's, by their place in the node list (which keeps its order and length). */
  readonly nodes: readonly (readonly [number, PipelineNode])[];
  /** Span moves in the order they were made: the spans of the base's other nodes (and IR fields) below line `after` moved by `lines`. */
  readonly shifts: readonly (readonly [after: number, lines: number])[];
  readonly diagnostics: readonly Diagnostic[];
  /** The schemas: those that differ from the base's when `over` is the base's `known`, else all of them. */
  readonly schemas?: Schemas & { readonly over?: string };
  /** The fingerprints that differ from the base's (all of them when the base has none). */
  readonly fingerprints?: Fingerprints;
}

/** What an entry made by a patch differs from its base in, to write it as a delta (by entry path). */
interface PatchBase {
  /** The patched entry's key. */
  readonly of: string;
  readonly key: string;
  readonly text: string;
  readonly nodes: ReadonlySet<number>;
  readonly shifts: readonly (readonly [number, number])[];
  /** The base's schemas, each the very array its readers were given (a schema kept over the edit is the same array). */
  readonly schemas?: { readonly known: string; readonly byId: ReadonlyMap<NodeId, readonly ColumnSchema[]> };
  readonly fingerprints?: ReadonlyMap<NodeId, Fingerprints[number]>;
}
const patchBases = new Map<string, PatchBase>();
const deltaPath = (path: string): string => `${path}.delta`;

/**
 * The last file read or written per path, with its size and time: a command reads the spec and then
 * its schemas from the same file (tens of MB for a large spec), and parses it once.
 */
const parsed = new Map<string, { readonly stamp: string; readonly c: CacheFile }>();
const stampOf = (path: string): string => {
  const st = statSync(path);
  let d = '';
  try {
    const sd = statSync(deltaPath(path));
    d = ` ${sd.size} ${sd.mtimeMs}`;
  } catch {
    // No delta beside the entry.
  }
  return `${st.size} ${st.mtimeMs}${d}`;
};

/**
 * Entries made by this command and not written yet (by path): a command that infers schemas next
 * writes its entry once, with them (cacheSchemas); the others' are written when the command ends
 * (src/util/deferred-writes.ts).
 */
const pending = new Map<string, CacheFile>();

/**
 * The text each entry made by this command was checked from, by path: kept beside the entry
 * (`<entry>.text`, its head on the first line) so that the next command, given an edited text, can
 * patch this entry's IR instead of checking the whole spec again (patchedSpec).
 */
const texts = new Map<string, TextHead & { readonly text: string }>();
const textPath = (path: string): string => `${path}.text`;

/**
 * The first line of `<entry>.text`: the entry's key, and the build and spec path it hashes with the
 * text that follows (WorkspaceCaches.specKey). A reader compares the build and path with its own and
 * takes the key as the text's without hashing the text again (6 MB at 10,000 nodes).
 */
interface TextHead {
  readonly key: string;
  readonly build: string;
  readonly spec: string;
}

/** The text file's head and text; undefined when missing or of another format. */
function readText(path: string): (TextHead & { readonly text: string }) | undefined {
  try {
    const t = readUtf8(textPath(path));
    const nl = t.indexOf('\n');
    if (nl < 0) return undefined;
    const h = JSON.parse(t.slice(0, nl)) as TextHead;
    if (!h || typeof h.key !== 'string' || typeof h.build !== 'string' || typeof h.spec !== 'string') return undefined;
    return { key: h.key, build: h.build, spec: h.spec, text: t.slice(nl + 1) };
  } catch {
    return undefined;
  }
}

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
    const memo = parsed.get(path);
    if (memo?.stamp === stamp && memo.c.key === key) return memo.c;
    // The key is the file's first field (write keeps it so): the entry of another text (after an
    // edit) is not read and parsed, which costs a second per 10,000 nodes.
    let c: CacheFile | undefined;
    if (hasKey(path, key)) c = JSON.parse(readUtf8(path)) as CacheFile;
    else {
      const d = readKeyed<Delta>(deltaPath(path), key);
      const base = d && readKeyed<CacheFile>(path, d.base);
      c = d && base ? withDelta(base, d) : undefined;
    }
    if (c) parsed.set(path, { stamp, c });
    return c?.key === key ? c : undefined;
  } catch {
    return undefined;
  }
}

/** The entry a delta makes of its base (whose objects it changes in place). */
function withDelta(base: CacheFile, d: Delta): CacheFile | undefined {
  if (!base.ir) return undefined;
  const nodes = base.ir.nodes.slice();
  const replaced = new Set(d.nodes.map(([i]) => i));
  const ir: PipelineIR = { ...base.ir, nodes };
  for (const [after, lines] of d.shifts) {
    for (let i = 0; i < nodes.length; i++) if (!replaced.has(i)) shiftSpans(nodes[i], after, lines);
    for (const [k, v] of Object.entries(ir)) if (k !== 'nodes') shiftSpans(v, after, lines);
  }
  for (const [i, n] of d.nodes) {
    if (i < 0 || i >= nodes.length) return undefined;
    nodes[i] = n;
  }
  let schemas: Schemas | undefined;
  if (d.schemas && (d.schemas.over === undefined || d.schemas.over === base.schemas?.known)) {
    const { over, ...rest } = d.schemas;
    schemas = over === undefined ? rest : { ...rest, entries: merged(base.schemas!.entries, d.schemas.entries) };
  }
  let fingerprints: Fingerprints | undefined;
  if (d.fingerprints) fingerprints = base.fingerprints ? merged(base.fingerprints, d.fingerprints) : d.fingerprints;
  return { key: d.key, ir, diagnostics: d.diagnostics, ...(schemas ? { schemas } : {}), ...(fingerprints ? { fingerprints } : {}) };
}

/** `[id, …]` tuples of `base` with those of `over` in their place (same ids, base's order). */
function merged<T extends readonly [NodeId, ...unknown[]]>(base: readonly T[], over: readonly T[]): T[] {
  const by = new Map(over.map((x) => [x[0], x]));
  return base.map((x) => by.get(x[0]) ?? x);
}

function write(path: string, c: CacheFile): void {
  const base = patchBases.get(path);
  patchBases.delete(path);
  const d = base?.of === c.key ? deltaOf(path, base, c) : undefined;
  if (d) {
    if (!writeKeyed(deltaPath(path), d.key, d)) return;
  } else {
    // An entry read through a delta and completed (its schemas) is written whole, and its text.
    const t = texts.get(path)?.key === c.key ? texts.get(path) : textThroughDelta(path, c.key);
    // The key first: read() compares it before parsing the rest.
    if (!writeKeyed(path, c.key, c)) return;
    rmSync(deltaPath(path), { force: true });
    if (t !== undefined) {
      try {
        writeFileAtomic(textPath(path), `${JSON.stringify({ key: c.key, build: t.build, spec: t.spec } satisfies TextHead)}\n${t.text}`, false);
      } catch {
        // Only a speed-up for the next edit.
      }
    }
  }
  try {
    parsed.set(path, { stamp: stampOf(path), c });
  } catch {
    // Removed in between: the next read parses it again.
  }
}

/** `c` (made by patching `base`'s entry) as a delta of it, or undefined when its changes reach half of a whole entry. */
function deltaOf(path: string, base: PatchBase, c: CacheFile): Delta | undefined {
  const t = texts.get(path);
  if (!c.ir || t?.key !== c.key) return undefined;
  const text = textEdit(base.text, t.text);
  if (text.insert.length > base.text.length / 4) return undefined;
  const ir = c.ir;
  const nodes = [...base.nodes].sort((a, b) => a - b).map((i) => [i, ir.nodes[i]] as const);
  let schemas: Delta['schemas'];
  if (c.schemas && base.schemas?.known === c.schemas.known) {
    const before = base.schemas.byId;
    schemas = { ...c.schemas, entries: c.schemas.entries.filter(([id, cols]) => before.get(id) !== cols), over: c.schemas.known };
  } else schemas = c.schemas;
  const fps = base.fingerprints;
  const fingerprints = fps && c.fingerprints ? c.fingerprints.filter(([id, f, m]) => fps.get(id)?.[1] !== f || fps.get(id)?.[2] !== m) : c.fingerprints;
  if (nodes.length + (schemas?.entries.length ?? 0) + (fingerprints?.length ?? 0) > ir.nodes.length / 2) return undefined;
  return {
    key: c.key,
    base: base.key,
    text,
    nodes,
    shifts: base.shifts,
    diagnostics: c.diagnostics,
    ...(schemas ? { schemas } : {}),
    ...(fingerprints ? { fingerprints } : {}),
  };
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
  texts.set(path, { key, build: caches.buildId, spec: specFile, text });
  deferWrite(flushPending);
}

/**
 * The last entry written for `specFile` with the text it was checked from, whatever that text (a
 * fresh copy, the caller's to change), when it was a spec without errors; and what it differs from
 * its base entry in (nothing when it is the base).
 */
function lastChecked(
  caches: WorkspaceCaches,
  specFile: string,
): (Pick<CacheFile, 'schemas' | 'diagnostics' | 'fingerprints'> & { text: string; ir: PipelineIR; base: Omit<PatchBase, 'of'> }) | undefined {
  try {
    const path = caches.specFile(specFile);
    const t = readText(path);
    // The entry of this text checked by this build, at this path (another build's IR and
    // fingerprints may differ). The plan after the edit asks for its key again (the last plan's):
    // remembered, the text is not hashed.
    if (!t || t.build !== caches.buildId || t.spec !== specFile) return undefined;
    const { key, text } = t;
    caches.rememberSpecKey(specFile, text, key);
    if (!hasKey(path, key)) return undefined;
    const c = JSON.parse(readUtf8(path)) as CacheFile;
    if (c.key !== key) return undefined;
    const base = {
      key,
      text,
      ...(c.schemas ? { schemas: { known: c.schemas.known, byId: new Map(c.schemas.entries) } } : {}),
      ...(c.fingerprints ? { fingerprints: new Map(c.fingerprints.map((f) => [f[0], f])) } : {}),
    };
    // The entry last made by patching this one, if any.
    const d = deltaOver(path, key);
    const last = d ? withDelta(c, d) : c;
    // An entry of the same spec at another path (the folder moved with its `.asgard/`): its spans name the old path.
    if (!last?.ir || hasErrors(last.diagnostics) || last.ir.file !== specFile) return undefined;
    return {
      ...last,
      ir: last.ir,
      text: d ? applyTextEdit(text, d.text) : text,
      base: { ...base, nodes: new Set(d?.nodes.map(([i]) => i)), shifts: d?.shifts ?? [] },
    };
  } catch {
    return undefined;
  }
}

/** The text the entry of `key` at `path` was checked from when a delta holds that entry: its base's text and the delta's edit. */
function textThroughDelta(path: string, key: string): (TextHead & { readonly text: string }) | undefined {
  const t = readText(path);
  const d = t && deltaOver(path, t.key);
  return d?.key === key ? { ...t!, key, text: applyTextEdit(t!.text, d.text) } : undefined;
}

/** The delta beside the entry at `path` if it changes the entry of `key`. */
function deltaOver(path: string, key: string): Delta | undefined {
  try {
    const d = JSON.parse(readUtf8(deltaPath(path))) as Delta;
    return d.base === key ? d : undefined;
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
  const { base } = last;
  patchBases.set(caches.specFile(specFile), {
    ...base,
    of: caches.specKey(specFile, text),
    nodes: new Set([...base.nodes, patched.index]),
    shifts: patched.shift ? [...base.shifts, patched.shift] : base.shifts,
  });
  patchedFrom = {
    key: caches.specKey(specFile, text),
    text: last.text,
    ...(last.schemas && last.schemas.diagnostics.length === 0 ? { schemas: last.schemas } : {}),
    ...(last.fingerprints ? { fingerprints: last.fingerprints } : {}),
    changed: new Set([patched.changed]),
  };
  return { ir: patched.ir, diagnostics: patched.diagnostics };
}

/** The schemas (without a diagnostic) and fingerprints of the entry the last patchedSpec of this command patched, and what it changed. */
let patchedFrom:
  | (Pick<CacheFile, 'schemas' | 'fingerprints'> & { readonly key: string; readonly text: string; readonly changed: ReadonlySet<NodeId> })
  | undefined;

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

/** The text the last patchedSpec of this command patched the entry of, when it made the entry of `text`. */
export function textBeforeEdit(caches: WorkspaceCaches, specFile: string, text: string): string | undefined {
  const p = patchedFrom;
  return p?.key === caches.specKey(specFile, text) ? p.text : undefined;
}
