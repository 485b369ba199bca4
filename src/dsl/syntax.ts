// Text → AST plus syntax diagnostics (ASG1xxx). Guards run before the parser so hostile input
// (binary, huge, 10,000 nested lists) yields one clean diagnostic instead of a hang or a stack overflow.

import type { IToken } from 'chevrotain';
import { Codes, diag } from '../diagnostics/catalogue.js';
import type { Diagnostic } from '../diagnostics/diagnostic.js';
import type { Span } from '../ir/types.js';
import type { SpecFile } from './ast.js';
import { lex, UnterminatedComment, UnterminatedString, UnterminatedTriple } from './lexer.js';
import { EOF, parseTokens } from './parser.js';
import { AstBuilder } from './to-ast.js';

/** Specs are hand-written; 4 MiB is far beyond any real one (a 1,000-node spec is ~0.5 MiB). */
export const MAX_SPEC_BYTES = 4 * 1024 * 1024;
/** Brackets nested deeper than this are refused before parsing (the parser recurses per level). */
export const MAX_NESTING = 64;
const MAX_SYNTAX_ERRORS = 100;

export interface SyntaxResult {
  readonly ast?: SpecFile;
  /** Lexing and parsing problems: when there are any, checking the patched tree only adds echoes. */
  readonly diagnostics: readonly Diagnostic[];
  /** Problems inside well-formed tokens (bad escapes, bad durations): checking still goes on. */
  readonly valueDiagnostics?: readonly Diagnostic[];
}

const point = (file: string, line: number, column: number, length = 1): Span => ({ file, line, column, endLine: line, endColumn: column + length });

function tokenSpan(file: string, t: IToken): Span {
  return { file, line: t.startLine ?? 1, column: t.startColumn ?? 1, endLine: t.endLine ?? t.startLine ?? 1, endColumn: (t.endColumn ?? t.startColumn ?? 0) + 1 };
}

function firstLineSpan(file: string, t: IToken): Span {
  const nl = t.image.indexOf('\n');
  const len = nl < 0 ? t.image.length : nl;
  return point(file, t.startLine ?? 1, t.startColumn ?? 1, Math.max(1, len));
}

/** Checks that a text looks like a spec at all: not too big, not binary. */
export function guardText(text: string, file: string, byteLength = Buffer.byteLength(text)): Diagnostic | undefined {
  if (byteLength > MAX_SPEC_BYTES) {
    return diag(Codes.FileTooLarge, `file is too large (${(byteLength / 2 ** 20).toFixed(1)} MiB; the limit is ${MAX_SPEC_BYTES / 2 ** 20} MiB)`, point(file, 1, 1), {
      hint: 'a spec is hand-written configuration; generated data belongs in a source',
    });
  }
  const nul = text.indexOf('\u0000');
  const bad = nul >= 0 ? nul : text.indexOf('\uFFFD');
  if (bad >= 0) {
    const before = text.slice(0, bad);
    const line = before.split('\n').length;
    const column = bad - before.lastIndexOf('\n');
    return diag(Codes.BinaryFile, 'file is not UTF-8 text (it contains binary data)', point(file, line, column), { hint: 'is this the right file? specs are `.asg` text files' });
  }
  return undefined;
}

export function parseSpec(text: string, file: string): SyntaxResult {
  const guard = guardText(text, file);
  if (guard) return { diagnostics: [guard] };

  const diagnostics: Diagnostic[] = [];
  const lexed = lex(text);
  for (const e of lexed.errors) {
    const ch = text.slice(e.offset, e.offset + e.length);
    diagnostics.push(diag(Codes.UnexpectedCharacter, `unexpected character \`${ch}\``, point(file, e.line, e.column, e.length)));
  }
  for (const t of lexed.unterminated) {
    if (t.tokenType === UnterminatedComment) diagnostics.push(diag(Codes.UnterminatedComment, 'block comment is never closed', firstLineSpan(file, t), { hint: 'close it with `*/`' }));
  }
  for (const t of lexed.tokens) {
    if (t.tokenType === UnterminatedString) {
      diagnostics.push(diag(Codes.UnterminatedString, 'string is not closed on this line', tokenSpan(file, t), { hint: 'add the closing `"`; strings cannot span lines (use `"""` for SQL)' }));
    } else if (t.tokenType === UnterminatedTriple) {
      diagnostics.push(diag(Codes.UnterminatedSql, 'SQL body is never closed', point(file, t.startLine ?? 1, t.startColumn ?? 1, 3), { hint: 'close it with `"""`' }));
    }
  }

  const significant = lexed.tokens.length > 0;
  if (!significant) {
    if (diagnostics.length === 0) {
      diagnostics.push(diag(Codes.EmptyFile, 'file is empty: expected `pipeline NAME { … }`', point(file, 1, 1)));
    }
    return { diagnostics };
  }

  const brackets = scanBrackets(lexed.tokens, file);
  diagnostics.push(...brackets.diagnostics);
  if (brackets.tooDeep) return { diagnostics };

  const parsed = parseTokens(lexed.tokens);
  const seen = new Set<string>();
  let count = 0;
  for (const e of parsed.errors) {
    const t = e.token;
    let span: Span;
    if (t.tokenType === EOF || !Number.isFinite(t.startOffset)) {
      // Point just past the last real token: that is where something is missing.
      const last = lexed.tokens.at(-1) as IToken;
      span = point(file, last.endLine ?? 1, (last.endColumn ?? 0) + 1);
      // An unclosed bracket is already reported at its opening; don't echo it at the end of file.
      if (brackets.diagnostics.length > 0) continue;
    } else span = tokenSpan(file, t);
    const key = `${span.line}:${span.column}`;
    if (seen.has(key)) continue;
    seen.add(key);
    if (++count > MAX_SYNTAX_ERRORS) break;
    diagnostics.push(diag(Codes.UnexpectedToken, e.message, span));
  }

  const builder = new AstBuilder(file);
  const ast = builder.fileNode(parsed.cst);
  return { ast, diagnostics, valueDiagnostics: builder.diagnostics };
}

const OPEN: Record<string, string> = { '{': '}', '[': ']', '(': ')' };
const CLOSE: Record<string, string> = { '}': '{', ']': '[', ')': '(' };

/** Reports unclosed and stray brackets at the right place, and refuses absurd nesting. */
function scanBrackets(tokens: readonly IToken[], file: string): { diagnostics: Diagnostic[]; tooDeep: boolean } {
  const stack: IToken[] = [];
  const diagnostics: Diagnostic[] = [];
  for (const t of tokens) {
    const img = t.image;
    if (img.length !== 1) continue;
    if (OPEN[img]) {
      stack.push(t);
      if (stack.length > MAX_NESTING) {
        diagnostics.push(diag(Codes.NestingTooDeep, `values are nested more than ${MAX_NESTING} levels deep`, tokenSpan(file, t), { hint: 'flatten the value; no setting needs this much nesting' }));
        return { diagnostics, tooDeep: true };
      }
    } else if (CLOSE[img]) {
      const top = stack.at(-1);
      if (top && top.image === CLOSE[img]) stack.pop();
      else if (top && stack.some((s) => s.image === CLOSE[img])) {
        // Closing an outer bracket: the inner ones were never closed.
        while (stack.length && stack.at(-1)!.image !== CLOSE[img]) {
          const open = stack.pop()!;
          diagnostics.push(diag(Codes.UnbalancedBracket, `\`${open.image}\` is never closed`, tokenSpan(file, open), { hint: `add \`${OPEN[open.image]}\` before the \`${img}\` on line ${t.startLine}` }));
        }
        stack.pop();
      } else {
        diagnostics.push(diag(Codes.UnbalancedBracket, `unexpected \`${img}\`: there is no \`${CLOSE[img]}\` to close`, tokenSpan(file, t)));
      }
    }
  }
  for (const open of stack) {
    diagnostics.push(diag(Codes.UnbalancedBracket, `\`${open.image}\` is never closed`, tokenSpan(file, open), { hint: `add the matching \`${OPEN[open.image]}\`` }));
  }
  return { diagnostics, tooDeep: false };
}
