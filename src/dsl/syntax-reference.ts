// The reference parse (#16.3): text → AST plus syntax diagnostics (ASG1xxx) through Chevrotain
// (lexer.ts, parser.ts, to-ast.ts), with error recovery so one run reports every problem. A command
// loads it only when the fast parser (fast-syntax.ts) declines a text — any problem in it — through
// syntax.ts; synchronous callers get it from load.ts. Guards run before it (syntax.ts guardText) so
// hostile input (binary, huge, 10,000 nested lists) yields one clean diagnostic instead of a hang or a
// stack overflow.

import type { IToken } from 'chevrotain';
import { Codes, diag } from '../diagnostics/catalogue.js';
import type { Diagnostic } from '../diagnostics/diagnostic.js';
import type { Span } from '../ir/types.js';
import { lex, LBrace, Identifier, RBrace, StringLiteral, UnterminatedComment, UnterminatedString, UnterminatedTriple } from './lexer.js';
import { EOF, parseTokens } from './parser.js';
import { AstBuilder } from './to-ast.js';
import { blockRanges, type BlockTokens, TokenClass } from './block-cache.js';
import { MAX_NESTING } from './limits.js';
import { provideReferenceParser, type ParseOptions, type SyntaxResult } from './syntax.js';

const MAX_SYNTAX_ERRORS = 100;

const point = (file: string, line: number, column: number, length = 1): Span => ({ file, line, column, endLine: line, endColumn: column + length });

function tokenSpan(file: string, t: IToken): Span {
  return {
    file,
    line: t.startLine ?? 1,
    column: t.startColumn ?? 1,
    endLine: t.endLine ?? t.startLine ?? 1,
    endColumn: (t.endColumn ?? t.startColumn ?? 0) + 1,
  };
}

function firstLineSpan(file: string, t: IToken): Span {
  const nl = t.image.indexOf('\n');
  const len = nl < 0 ? t.image.length : nl;
  return point(file, t.startLine ?? 1, t.startColumn ?? 1, Math.max(1, len));
}

/** blockRanges' view of Chevrotain's tokens. */
function blockTokens(tokens: readonly IToken[]): BlockTokens {
  const cls = (t: IToken): TokenClass =>
    t.tokenType === LBrace
      ? TokenClass.LBrace
      : t.tokenType === RBrace
        ? TokenClass.RBrace
        : t.tokenType === Identifier
          ? TokenClass.Name
          : t.tokenType === StringLiteral
            ? TokenClass.String
            : TokenClass.Other;
  const classes = new Uint8Array(tokens.length);
  for (let i = 0; i < tokens.length; i++) classes[i] = cls(tokens[i]);
  return {
    count: tokens.length,
    classes,
    start: (i) => tokens[i].startOffset,
    end: (i) => tokens[i].startOffset + tokens[i].image.length,
    line: (i) => tokens[i].startLine ?? 1,
    column: (i) => tokens[i].startColumn ?? 1,
  };
}

/** The reference parse of a text that passed syntax.ts's guards. */
export function parseSpecReference(text: string, file: string, opts: ParseOptions = {}): SyntaxResult {
  const diagnostics: Diagnostic[] = [];
  const lexed = lex(text);
  for (const e of lexed.errors) {
    const ch = text.slice(e.offset, e.offset + e.length);
    diagnostics.push(diag(Codes.UnexpectedCharacter, `unexpected character \`${ch}\``, point(file, e.line, e.column, e.length)));
  }
  for (const t of lexed.unterminated) {
    if (t.tokenType === UnterminatedComment)
      diagnostics.push(diag(Codes.UnterminatedComment, 'block comment is never closed', firstLineSpan(file, t), { hint: 'close it with `*/`' }));
  }
  for (const t of lexed.tokens) {
    if (t.tokenType === UnterminatedString) {
      diagnostics.push(
        diag(Codes.UnterminatedString, 'string is not closed on this line', tokenSpan(file, t), {
          hint: 'add the closing `"`; strings cannot span lines (use `"""` for SQL)',
        }),
      );
    } else if (t.tokenType === UnterminatedTriple) {
      diagnostics.push(
        diag(Codes.UnterminatedSql, 'SQL body is never closed', point(file, t.startLine ?? 1, t.startColumn ?? 1, 3), { hint: 'close it with `"""`' }),
      );
    }
  }

  const significant = lexed.tokens.length > 0;
  if (!significant) {
    if (diagnostics.length === 0) {
      diagnostics.push(diag(Codes.EmptyFile, 'file is empty: expected `pipeline NAME { … }`', point(file, 1, 1)));
    }
    return { diagnostics };
  }

  const swallowed = lexed.unterminated.length > 0 || lexed.tokens.some((t) => t.tokenType === UnterminatedTriple);
  const brackets = scanBrackets(lexed.tokens, file, text, swallowed);
  diagnostics.push(...brackets.diagnostics);
  if (brackets.tooDeep) return { diagnostics };

  if (opts.skip && diagnostics.length === 0) {
    const ranges = blockRanges(blockTokens(lexed.tokens), text, file);
    const skipped = ranges.filter(opts.skip);
    if (skipped.length) {
      const kept: IToken[] = [];
      let from = 0;
      for (const r of skipped) {
        for (let i = from; i < r.first; i++) kept.push(lexed.tokens[i]);
        from = r.last + 1;
      }
      for (let i = from; i < lexed.tokens.length; i++) kept.push(lexed.tokens[i]);
      const parsed = parseTokens(kept);
      const builder = new AstBuilder(file, new Set());
      const ast = parsed.errors.length === 0 ? builder.fileNode(parsed.cst) : undefined;
      // Anything unexpected without those blocks: the whole text is parsed as usual.
      if (ast && builder.syntaxDiagnostics.length === 0) return { ast, diagnostics, valueDiagnostics: builder.diagnostics, blocks: { ranges, skipped } };
    }
    return { ...parseTokensToAst(lexed.tokens, file, text, diagnostics, brackets, swallowed), blocks: { ranges, skipped: [] } };
  }
  return parseTokensToAst(lexed.tokens, file, text, diagnostics, brackets, swallowed);
}

function parseTokensToAst(tokens: IToken[], file: string, text: string, diagnostics: Diagnostic[], brackets: BracketScan, swallowed: boolean): SyntaxResult {
  const lexed = { tokens };
  const parsed = parseTokens(lexed.tokens);
  const seen = new Set<string>();
  let count = 0;
  for (const e of parsed.errors) {
    const t = e.token;
    let span: Span;
    const atEof = t.tokenType === EOF || !Number.isFinite(t.startOffset);
    // After a bracket problem the parser's view of the structure is wrong: its errors are echoes.
    if (atEof ? brackets.diagnostics.length > 0 || swallowed : t.startOffset >= brackets.firstProblemOffset) continue;
    if (atEof) {
      // Point just past the last real token: that is where something is missing.
      const last = lexed.tokens.at(-1) as IToken;
      span = point(file, last.endLine ?? 1, (last.endColumn ?? 0) + 1);
    } else span = tokenSpan(file, t);
    const key = `${span.line}:${span.column}`;
    if (seen.has(key)) continue;
    seen.add(key);
    if (++count > MAX_SYNTAX_ERRORS) break;
    diagnostics.push(diag(Codes.UnexpectedToken, e.message, span));
  }

  const builder = new AstBuilder(file, new Set(diagnostics.map((d) => d.span?.line ?? 0)));
  const ast = builder.fileNode(parsed.cst);
  diagnostics.push(...builder.syntaxDiagnostics);
  return { ast, diagnostics, valueDiagnostics: builder.diagnostics };
}

const OPEN: Record<string, string> = { '{': '}', '[': ']', '(': ')' };
const CLOSE: Record<string, string> = { '}': '{', ']': '[', ')': '(' };

interface BracketScan {
  readonly diagnostics: Diagnostic[];
  readonly tooDeep: boolean;
  /** Offset of the first bracket problem: parser errors from there on are its echoes. */
  readonly firstProblemOffset: number;
}

/**
 * Reports unclosed and stray brackets where the mistake most likely is. Like rustc and swiftc, it
 * trusts indentation: a `}` dedented past the line that opened the innermost block closes an outer
 * block, so the inner one is the unclosed one. A closer of the wrong kind is taken as a typo for
 * the right one.
 */
function scanBrackets(tokens: readonly IToken[], file: string, text: string, swallowedToEof: boolean): BracketScan {
  // Balanced files (nearly all) need no heuristics: a plain pass decides, and only checks depth.
  let depth = 0;
  let balanced = true;
  const kinds: string[] = [];
  for (const t of tokens) {
    const img = t.image;
    if (img.length !== 1) continue;
    if (OPEN[img]) {
      kinds.push(img);
      if (++depth > MAX_NESTING) {
        balanced = false;
        break;
      }
    } else if (CLOSE[img]) {
      depth--;
      if (kinds.pop() !== CLOSE[img]) {
        balanced = false;
        break;
      }
    }
  }
  if (balanced && depth === 0) return { diagnostics: [], tooDeep: false, firstProblemOffset: Infinity };

  const stack: { tok: IToken; indent: number }[] = [];
  const diagnostics: Diagnostic[] = [];
  let firstProblemOffset = Infinity;
  const problem = (offset: number, d: Diagnostic) => {
    diagnostics.push(d);
    firstProblemOffset = Math.min(firstProblemOffset, offset);
  };
  const indentOf = (t: IToken): number => {
    const lineStart = text.lastIndexOf('\n', t.startOffset - 1) + 1;
    let i = lineStart;
    while (text[i] === ' ' || text[i] === '\t') i++;
    return i - lineStart;
  };
  for (const t of tokens) {
    const img = t.image;
    if (img.length !== 1) continue;
    if (OPEN[img]) {
      stack.push({ tok: t, indent: indentOf(t) });
      if (stack.length > MAX_NESTING) {
        problem(
          t.startOffset,
          diag(Codes.NestingTooDeep, `values are nested more than ${MAX_NESTING} levels deep`, tokenSpan(file, t), {
            hint: 'flatten the value; no setting needs this much nesting',
          }),
        );
        return { diagnostics, tooDeep: true, firstProblemOffset };
      }
      continue;
    }
    if (!CLOSE[img]) continue;
    const col = (t.startColumn ?? 1) - 1;
    const firstOnLine = indentOf(t) === col;
    // Dedented closer: inner blocks opened on more-indented lines were left open.
    while (
      img === '}' &&
      firstOnLine &&
      stack.length > 1 &&
      stack.at(-1)!.indent > col &&
      stack.slice(0, -1).some((o) => o.tok.image === '{' && o.indent <= col)
    ) {
      const open = stack.pop()!.tok;
      problem(
        open.startOffset,
        diag(Codes.UnbalancedBracket, `\`${open.image}\` is never closed`, tokenSpan(file, open), {
          hint: `add \`${OPEN[open.image]}\` before line ${t.startLine}`,
        }),
      );
    }
    const top = stack.at(-1);
    if (!top) {
      problem(
        t.startOffset,
        diag(Codes.UnbalancedBracket, `unexpected \`${img}\`: there is no \`${CLOSE[img]}\` to close`, tokenSpan(file, t), {
          hint: 'remove it, or look for a block closed too early above',
        }),
      );
      continue;
    }
    stack.pop();
    if (top.tok.image !== CLOSE[img]) {
      problem(
        t.startOffset,
        diag(Codes.UnbalancedBracket, `expected \`${OPEN[top.tok.image]}\` but found \`${img}\``, tokenSpan(file, t), {
          related: [{ message: `to close this \`${top.tok.image}\``, span: tokenSpan(file, top.tok) }],
        }),
      );
    }
  }
  // An unterminated SQL body or comment already explains why the file ends inside brackets.
  if (stack.length > 0 && !swallowedToEof) {
    const inner = stack.at(-1)!.tok;
    const outer = stack.slice(0, -1).reverse();
    problem(
      inner.startOffset,
      diag(Codes.UnbalancedBracket, `the file ends before this \`${inner.image}\` is closed`, tokenSpan(file, inner), {
        hint: outer.length
          ? `${outer.length} enclosing bracket${outer.length > 1 ? 's are' : ' is'} unclosed too; is the file truncated?`
          : `add the matching \`${OPEN[inner.image]}\``,
        related: outer.map((o) => ({ message: `\`${o.tok.image}\` opened here`, span: tokenSpan(file, o.tok) })),
      }),
    );
  }
  return { diagnostics, tooDeep: false, firstProblemOffset };
}

provideReferenceParser(parseSpecReference);
