// A per-block cache of the parse and the check (#16.3): after an edit of one block of a large spec,
// the unchanged `source`, `cleanse` and `model` blocks are neither parsed nor checked again. What
// checking such a block adds to a check run (its node drafts, its diagnostics, its SQL bodies) depends
// on its text alone (src/dsl/checker/sources.ts, transforms.ts: no reference to another block is
// resolved before every block is checked), so it is kept by a hash of the block's text, the file and
// the column it starts at, and replayed with its spans moved to the line the block now starts on.
// Everything across blocks (duplicates, table resolution, SQL analysis, cycles, order) still runs on
// every node (src/dsl/checker/check.ts). The cache is an optimisation only: a spec with variables,
// lexing or bracket problems, or a parse of the remaining tokens with any error, is read whole.

import { sha256 } from '../util/canonical-json.js';
import type { Diagnostic } from '../diagnostics/diagnostic.js';
import type { PipelineNode, Span } from '../ir/types.js';
import type { KeyValueCache } from '../util/json-cache.js';

/** The blocks whose check depends on their own text only. */
const CACHED_TYPES = new Set(['source', 'cleanse', 'model']);

/** What checking one block added to the check run (as JSON), and the line its type word was on. */
export interface CachedBlock {
  readonly line: number;
  readonly drafts: readonly { readonly node: PipelineNode; readonly at: Span; readonly outputAt?: Span }[];
  readonly diags: readonly Diagnostic[];
  /** The SQL bodies to analyse, in order: a draft's `sql`, or with `check` its check's SQL. */
  readonly sql: readonly { readonly draft: number; readonly check?: number }[];
}

export type BlockCache = KeyValueCache<CachedBlock>;

/** A block inside the pipeline, from its type word (token `first`) to its closing brace (token `last`). */
export interface BlockRange {
  readonly key: string;
  readonly first: number;
  readonly last: number;
  readonly line: number;
  readonly column: number;
  readonly endLine: number;
  readonly endColumn: number;
}

/** Token classes blockRanges tells apart. */
export const TokenClass = { Other: 0, LBrace: 1, RBrace: 2, Name: 3, String: 4 } as const;
export type TokenClass = (typeof TokenClass)[keyof typeof TokenClass];

/** What blockRanges reads of a token vector (the reference lexer's, src/dsl/lexer.ts, or the fast one's). */
export interface BlockTokens {
  readonly count: number;
  /** Each token's class, by index: read per token without a call (the walk meets every token of the spec). */
  readonly classes: Uint8Array;
  /** Offsets in the text: the first character, and one past the last. */
  start(i: number): number;
  end(i: number): number;
  line(i: number): number;
  column(i: number): number;
}

/**
 * The cacheable blocks directly inside the pipeline block. Only a block that follows a brace (the
 * pipeline's or the previous block's) is taken, so its first word cannot be read as part of a
 * setting before it; none in a spec with the word `var` directly inside the pipeline (a `var` block:
 * a variable reaches into any block).
 */
export function blockRanges(tokens: BlockTokens, text: string, file: string): BlockRange[] {
  const out: BlockRange[] = [];
  const n = tokens.count;
  const cls = tokens.classes;
  let depth = 0;
  for (let i = 0; i < n; i++) {
    const c = cls[i];
    if (c === TokenClass.LBrace) depth++;
    else if (c === TokenClass.RBrace) depth--;
    else if (depth === 1 && c === TokenClass.Name && tokens.end(i) - tokens.start(i) === 3 && text.startsWith('var', tokens.start(i))) return [];
    else if (depth === 1 && c === TokenClass.Name && i > 0 && (cls[i - 1] === TokenClass.LBrace || cls[i - 1] === TokenClass.RBrace)) {
      if (!CACHED_TYPES.has(text.slice(tokens.start(i), tokens.end(i)))) continue;
      let j = i + 1;
      while (j < n && (cls[j] === TokenClass.Name || cls[j] === TokenClass.String)) j++;
      if (j >= n || cls[j] !== TokenClass.LBrace) continue;
      let d = 0;
      for (; j < n; j++) {
        const cj = cls[j];
        if (cj === TokenClass.LBrace) d++;
        else if (cj === TokenClass.RBrace && --d === 0) break;
      }
      if (j >= n) break;
      const column = tokens.column(i);
      const key = sha256(`${file}\0${column}\0${text.slice(tokens.start(i), tokens.start(j) + 1)}`);
      out.push({ key, first: i, last: j, line: tokens.line(i), column, endLine: tokens.line(j), endColumn: tokens.column(j) + 1 });
      i = j;
    }
  }
  return out;
}

/** A deep copy of JSON `v` with every span moved down `lines` lines. */
export function moved<T>(v: T, lines: number): T {
  if (Array.isArray(v)) return v.map((x) => moved(x, lines)) as T;
  if (v === null || typeof v !== 'object') return v;
  const o: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) o[k] = moved(x, lines);
  if (typeof o.file === 'string' && typeof o.line === 'number' && typeof o.endLine === 'number') {
    o.line = (o.line as number) + lines;
    o.endLine = (o.endLine as number) + lines;
  }
  return o as T;
}
