// A spec after an edit inside one `cleanse` or `model` block, checked from the last checked text
// rather than from scratch (#16.3): the texts are compared, and when everything that differs lies
// inside one such block, only that block is parsed and checked (src/dsl/checker/check.ts
// checkBlockAmong) and its node replaces the old one in the last IR, the spans after it moved by the
// lines the edit added or removed. That is what a full load gives exactly when the edited node keeps
// its id (so its table) and its inputs: every check across blocks (duplicates, table resolution,
// cycles, the order of the nodes) depends on nothing else of a block. Anything else (another kind of
// block, a node renamed, added or removed, inputs changed, a diagnostic in or from the edited block,
// variables, line endings other than `\n`) returns undefined and the spec is loaded in full.
// Synchronous: the SQL toolkit must be loaded when the edited body needs it (src/dsl/load-lazy.ts).

import type { Diagnostic } from '../diagnostics/diagnostic.js';
import type { NodeId, PipelineIR, Span } from '../ir/types.js';
import type { SqlAnalysisCache } from '../sql/analyze.js';
import { checkBlockAmong } from './checker/check.js';
import { parseSpec } from './syntax.js';
import { shiftSpans, textEdit } from './text-edit.js';

/** A checked spec: its text, and the IR and diagnostics the check gave (no errors). */
export interface CheckedText {
  readonly text: string;
  readonly ir: PipelineIR;
  readonly diagnostics: readonly Diagnostic[];
}

/** A patched spec, and the node the edit changed. */
export interface Patched extends CheckedText {
  readonly changed: NodeId;
  /** The changed node's place in `ir.nodes` (the node list keeps its order and length). */
  readonly index: number;
  /** The spans below line `after` (all but the changed node's) moved by `lines`, when the edit added or removed lines. */
  readonly shift?: readonly [after: number, lines: number];
}

/**
 * `text` checked as a patch of `last` (whose IR and diagnostics it may change in place: the caller
 * hands over its copy), or undefined when the edit is not one a patch can take.
 */
export function patchChecked(last: CheckedText, text: string, opts: { readonly sqlCache?: SqlAnalysisCache } = {}): Patched | undefined {
  const old = last.text;
  const { ir } = last;
  if (old === text || ir.variables || old.includes('\r') || text.includes('\r')) return undefined;
  // Where the texts differ: [p, edited) of the old text.
  const { start: p, end: edited } = textEdit(old, text);
  const lineStarts = starts(old);
  const lineOf = (offset: number): number => {
    let lo = 0;
    let hi = lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (lineStarts[mid] <= offset) lo = mid;
      else hi = mid - 1;
    }
    return lo + 1;
  };
  // The block the edit starts in: a cleanse or model node's span is its block, type word to brace.
  const line = lineOf(p);
  const at = ir.nodes.findIndex((n) => (n.kind === 'cleanse' || n.kind === 'model') && n.span.line <= line && line <= n.span.endLine);
  if (at < 0) return undefined;
  const before = ir.nodes[at];
  const span = before.span;
  const start = lineStarts[span.line - 1] + span.column - 1;
  const end = lineStarts[span.endLine - 1] + span.endColumn - 1;
  if (!old.startsWith(before.kind, start) || old[end - 1] !== '}' || p < start || edited > end) return undefined;
  // Nothing but blanks or a comment after the block on its last line: no span there moves sideways.
  const rest = old.slice(end, old.indexOf('\n', end) < 0 ? old.length : old.indexOf('\n', end)).trimStart();
  if (rest !== '' && !rest.startsWith('//')) return undefined;
  const block = text.slice(start, end + text.length - old.length);
  const parsed = parseBlock(block, span, ir.file);
  if (!parsed) return undefined;
  const checked = checkBlockAmong(parsed, ir, opts.sqlCache);
  if (!checked || checked.diagnostics.length) return undefined;
  const after = checked.node;
  if (after.id !== before.id || after.kind !== before.kind || after.inputs.join('\n') !== before.inputs.join('\n')) return undefined;
  // The last check's diagnostics: none may come from the edited block.
  const inBlock = (x: Span | undefined) => !!x && x.line <= span.endLine && x.endLine >= span.line;
  if (last.diagnostics.some((d) => inBlock(d.span) || d.related?.some((r) => inBlock(r.span)))) return undefined;
  const lines = newlines(block) - newlines(old.slice(start, end));
  const nodes = ir.nodes.slice();
  nodes[at] = after;
  const patched: PipelineIR = { ...ir, nodes };
  if (lines !== 0) {
    for (let i = 0; i < nodes.length; i++) if (i !== at) shiftSpans(nodes[i], span.endLine, lines);
    for (const [k, v] of Object.entries(patched)) if (k !== 'nodes') shiftSpans(v, span.endLine, lines);
    for (const d of last.diagnostics) shiftSpans(d, span.endLine, lines);
  }
  return { text, ir: patched, diagnostics: last.diagnostics, changed: after.id, index: at, ...(lines !== 0 ? { shift: [span.endLine, lines] as const } : {}) };
}

/** The offset each line starts at. */
function starts(text: string): number[] {
  const out = [0];
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) out.push(i + 1);
  return out;
}

function newlines(text: string): number {
  let n = 0;
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) n++;
  return n;
}

/**
 * `block` parsed where it starts in the spec (`span`'s line and column, so its spans are the spec's):
 * exactly one block, ending at the text's end, with no diagnostic.
 */
function parseBlock(block: string, span: Span, file: string): import('./ast.js').Block | undefined {
  const r = parseSpec(`${'\n'.repeat(span.line - 1)}${' '.repeat(span.column - 1)}${block}`, file);
  const item = r.ast?.items.length === 1 ? r.ast.items[0] : undefined;
  if (!item || item.kind !== 'block' || r.diagnostics.length || r.valueDiagnostics?.length) return undefined;
  const endLine = span.line + newlines(block);
  const lastNl = block.lastIndexOf('\n');
  const endColumn = lastNl < 0 ? span.column + block.length : block.length - lastNl;
  const b = item.span;
  return b.line === span.line && b.column === span.column && b.endLine === endLine && b.endColumn === endColumn ? item : undefined;
}
