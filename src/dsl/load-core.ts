// The dsl's entry points: spec text (or a spec file) → checked PipelineIR plus every diagnostic.
// Synchronous, so the SQL toolkit must be loaded when a body needs it (src/dsl/load.ts loads it up
// front; src/dsl/load-lazy.ts only when a body asks).
// Nothing here throws on bad input: unreadable, binary, huge or malformed specs all come back as
// diagnostics with spans.

import { readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { Codes, diag } from '../diagnostics/catalogue.js';
import { hasErrors, sortDiagnostics, type Diagnostic } from '../diagnostics/diagnostic.js';
import type { PipelineIR } from '../ir/types.js';
import type { LoadedSpec } from './loaded.js';
import { FileSqlCache, type SqlAnalysisCache } from '../sql/analyze.js';
import { checkSpec } from './checker/check.js';
import { MAX_SPEC_BYTES, parseSpec } from './syntax.js';
import type { BlockCache, BlockRange, CachedBlock } from './block-cache.js';
import { JsonCacheFile } from '../util/json-cache.js';

export { sourceOf, type LoadedSpec } from './loaded.js';

const unread = (file: string, diagnostic: Diagnostic): LoadedSpec => ({ file, diagnostics: [diagnostic], sources: new Map() });

export interface LoadTextOptions {
  /** Content-addressed SQL analysis results (see src/sql/analyze.ts); in-memory or file-backed. */
  readonly sqlCache?: SqlAnalysisCache;
  /** `--var NAME=VALUE` overrides of the spec's variables. */
  readonly vars?: Readonly<Record<string, string>>;
  /** Parse and check results per block (src/dsl/block-cache.ts); in-memory or file-backed. */
  readonly blockCache?: BlockCache;
}

/** Pure: parses and checks spec text. `file` is only used for spans and `ir.file`. */
export function loadPipelineText(text: string, file: string, opts: LoadTextOptions = {}): LoadedSpec {
  const abs = resolve(file);
  // `--var` values reach into any block: no block cache then.
  const cache = opts.vars && Object.keys(opts.vars).length ? undefined : opts.blockCache;
  const syntax = parseSpec(text, abs, cache ? { skip: (r) => cache.get(r.key) !== undefined } : {});
  const valueDiags = syntax.valueDiagnostics ?? [];
  if (!syntax.ast || hasErrors(syntax.diagnostics)) {
    // Checking a tree that error recovery patched would mostly report echoes of the syntax errors.
    return { diagnostics: sortDiagnostics([...syntax.diagnostics, ...valueDiags]), sources: new Map([[abs, text]]), file: abs };
  }
  const blocks = cache && syntax.blocks ? { cache, skipped: syntax.blocks.skipped, storable: storable(syntax.blocks, valueDiags) } : undefined;
  const checked = checkSpec(syntax.ast, { ...opts, ...(blocks ? { blocks } : {}) });
  const diagnostics = sortDiagnostics([...syntax.diagnostics, ...valueDiags, ...checked.diagnostics]);
  if (checked.ir && !hasErrors(diagnostics)) return { ir: checked.ir, diagnostics, sources: new Map([[abs, text]]), file: abs };
  const partial = checked.ir ?? checked.partial;
  return { ...(partial ? { partial } : {}), diagnostics, sources: new Map([[abs, text]]), file: abs };
}

/** The blocks parsed whose check may be kept: not left out, and without a value diagnostic inside. */
function storable(blocks: { ranges: readonly BlockRange[]; skipped: readonly BlockRange[] }, valueDiags: readonly Diagnostic[]): BlockRange[] {
  const skipped = new Set(blocks.skipped);
  return blocks.ranges.filter((r) => !skipped.has(r) && !valueDiags.some((d) => d.span && d.span.line >= r.line && d.span.line <= r.endLine));
}

export interface LoadOptions {
  /**
   * Where to keep the SQL analysis cache (a file path; the workspace's, src/workspace/), or none
   * when absent or `false`.
   */
  readonly sqlCachePath?: string | false;
  /** Where to keep the block cache (src/dsl/block-cache.ts; the workspace's), or none when absent. */
  readonly blockCachePath?: string;
  /** Salts the cache files (the workspace's build id): a file written by other code is not read. */
  readonly cacheSalt?: string;
  /** `--var NAME=VALUE` overrides of the spec's variables. */
  readonly vars?: Readonly<Record<string, string>>;
  /**
   * The file's text as the caller read it (`readFileSync(file, 'utf8')`): taken instead of reading
   * the file again when it is what the strict reading here gives (asRead). Otherwise the file is read.
   */
  readonly text?: string;
}

/** Reads and checks a spec file. An unreadable file is diagnostic ASG1001; this never throws. */
export function loadPipeline(file: string, opts: LoadOptions = {}): LoadedSpec {
  const abs = resolve(file);
  const text = opts.text !== undefined && asRead(opts.text) ? opts.text : readSpec(file, abs);
  if (typeof text !== 'string') return text;
  const cache = opts.sqlCachePath ? new FileSqlCache(opts.sqlCachePath, opts.cacheSalt) : undefined;
  const blockCache = opts.blockCachePath ? new JsonCacheFile<CachedBlock>(opts.blockCachePath, opts.cacheSalt ?? '') : undefined;
  const loaded = loadPipelineText(text, abs, {
    ...(cache ? { sqlCache: cache } : {}),
    ...(blockCache ? { blockCache } : {}),
    ...(opts.vars ? { vars: opts.vars } : {}),
  });
  cache?.save();
  blockCache?.save();
  return loaded;
}

/**
 * A text read with `readFileSync(file, 'utf8')` is what readSpec gives: no U+FFFD (so the bytes were
 * UTF-8), no byte order mark (the strict decoding drops it), not over the size limit (not read then).
 */
const asRead = (text: string): boolean =>
  !text.includes('\uFFFD') && text.charCodeAt(0) !== 0xfeff && (text.length * 3 <= MAX_SPEC_BYTES || Buffer.byteLength(text) <= MAX_SPEC_BYTES);

/** The text of the spec file at `abs` (`file` as given), or the diagnostic of why it cannot be read. */
function readSpec(file: string, abs: string): string | LoadedSpec {
  const at = { file: abs, line: 1, column: 1, endLine: 1, endColumn: 1 };
  let bytes: Buffer;
  try {
    const st = statSync(abs);
    if (st.isDirectory()) return unread(abs, diag(Codes.UnreadableFile, `cannot read \`${file}\`: it is a directory`, at));
    // A device, pipe or socket (/dev/zero, a FIFO) has no size to bound the read: never read one.
    if (!st.isFile()) return unread(abs, diag(Codes.UnreadableFile, `cannot read \`${file}\`: it is not a regular file (a device, pipe or socket)`, at));
    if (st.size > MAX_SPEC_BYTES) {
      return unread(
        abs,
        diag(Codes.FileTooLarge, `file is too large (${(st.size / 2 ** 20).toFixed(1)} MiB; the limit is ${MAX_SPEC_BYTES / 2 ** 20} MiB)`, at, {
          hint: 'a spec is hand-written configuration; generated data belongs in a source',
        }),
      );
    }
    bytes = readFileSync(abs);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : ((e as Error).message ?? String(e));
    return unread(abs, diag(Codes.UnreadableFile, `cannot read \`${file}\`: ${why}`, at));
  }
  const text = decodeUtf8(bytes);
  if (text === undefined) {
    return unread(
      abs,
      diag(Codes.BinaryFile, 'file is not UTF-8 text (it contains binary data)', at, { hint: 'is this the right file? specs are `.asg` text files' }),
    );
  }
  return text;
}

function decodeUtf8(bytes: Buffer): string | undefined {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return undefined;
  }
}
