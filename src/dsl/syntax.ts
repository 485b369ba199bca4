// Text → AST plus syntax diagnostics (ASG1xxx). Guards run first so hostile input (binary, huge)
// yields one clean diagnostic. A well-formed text is read by the hand-written parser
// (fast-syntax.ts: no parser library loaded); anything it declines — every text with a problem —
// by the reference parser (syntax-reference.ts, Chevrotain with error recovery), which reports it.
// The reference is loaded on demand: a synchronous caller gets it from load.ts, a command through
// load-lazy.ts (ReferenceParserNotLoaded, then loaded and tried again).

import { Codes, diag } from '../diagnostics/catalogue.js';
import type { Diagnostic } from '../diagnostics/diagnostic.js';
import type { Span } from '../ir/types.js';
import type { SpecFile } from './ast.js';
import type { BlockRange } from './block-cache.js';
import { parseFast } from './fast-syntax.js';
import { MAX_NESTING, MAX_SPEC_BYTES } from './limits.js';

export { MAX_NESTING, MAX_SPEC_BYTES };

export interface SyntaxResult {
  readonly ast?: SpecFile;
  /** Lexing and parsing problems: when there are any, checking the patched tree only adds echoes. */
  readonly diagnostics: readonly Diagnostic[];
  /** Problems inside well-formed tokens (bad escapes, bad durations): checking still goes on. */
  readonly valueDiagnostics?: readonly Diagnostic[];
  /** With `skip`: the cacheable blocks (src/dsl/block-cache.ts), and those left out of `ast`. */
  readonly blocks?: { readonly ranges: readonly BlockRange[]; readonly skipped: readonly BlockRange[] };
}

export interface ParseOptions {
  /** Leave a cacheable block out of the tree (its check is replayed from the block cache). */
  readonly skip?: (block: BlockRange) => boolean;
}

type ReferenceParser = (text: string, file: string, opts: ParseOptions) => SyntaxResult;
let reference: ReferenceParser | undefined;

/** syntax-reference.ts hands itself over when it is loaded. */
export function provideReferenceParser(parse: ReferenceParser): void {
  reference ??= parse;
}

/** Thrown when a text needs the reference parser before it was loaded: a caller that can wait loads it and tries again. */
export class ReferenceParserNotLoaded extends Error {
  constructor() {
    super("internal error: the spec parser is used before it was loaded (import './syntax-reference.js' first)");
  }
}

/** Loads the reference parser (once per process). */
export const loadReferenceParser = (): Promise<unknown> => import('./syntax-reference.js');

const point = (file: string, line: number, column: number, length = 1): Span => ({ file, line, column, endLine: line, endColumn: column + length });

/** Checks that a text looks like a spec at all: not too big, not binary. */
export function guardText(text: string, file: string, byteLength = Buffer.byteLength(text)): Diagnostic | undefined {
  if (byteLength > MAX_SPEC_BYTES) {
    return diag(
      Codes.FileTooLarge,
      `file is too large (${(byteLength / 2 ** 20).toFixed(1)} MiB; the limit is ${MAX_SPEC_BYTES / 2 ** 20} MiB)`,
      point(file, 1, 1),
      {
        hint: 'a spec is hand-written configuration; generated data belongs in a source',
      },
    );
  }
  const nul = text.indexOf('\u0000');
  const bad = nul >= 0 ? nul : text.indexOf('\uFFFD');
  if (bad >= 0) {
    const before = text.slice(0, bad);
    const line = before.split('\n').length;
    const column = bad - before.lastIndexOf('\n');
    return diag(Codes.BinaryFile, 'file is not UTF-8 text (it contains binary data)', point(file, line, column), {
      hint: 'is this the right file? specs are `.asg` text files',
    });
  }
  return undefined;
}

export function parseSpec(text: string, file: string, opts: ParseOptions = {}): SyntaxResult {
  const guard = guardText(text, file);
  if (guard) return { diagnostics: [guard] };
  const fast = parseFast(text, file, opts.skip);
  if (fast) return { ast: fast.ast, diagnostics: [], valueDiagnostics: [], ...(fast.blocks ? { blocks: fast.blocks } : {}) };
  if (!reference) throw new ReferenceParserNotLoaded();
  return reference(text, file, opts);
}
