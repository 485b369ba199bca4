// Tokens of the asgard language. Keywords are not tokens: `features`, `model` or `table` are block
// types in one place and setting names or values in another, so every word is an Identifier and the
// parser/checker look at its image. Unterminated strings, SQL bodies and comments get their own
// token types so the lexer reports them once, precisely, and parsing goes on with the rest.

import { createToken, Lexer, type IToken, type TokenType } from 'chevrotain';

export const WhiteSpace = createToken({ name: 'WhiteSpace', pattern: /[ \t\r\n\f\uFEFF]+/, line_breaks: true, group: Lexer.SKIPPED });
export const LineComment = createToken({ name: 'LineComment', pattern: /(?:\/\/|#)[^\n]*/, group: Lexer.SKIPPED });
export const BlockComment = createToken({ name: 'BlockComment', pattern: /\/\*[\s\S]*?\*\//, line_breaks: true, group: Lexer.SKIPPED });
/** Reported as ASG1008; skipped so parsing continues (it swallows the rest of the file anyway). */
export const UnterminatedComment = createToken({ name: 'UnterminatedComment', pattern: /\/\*[\s\S]*/, line_breaks: true, group: 'unterminated' });

export const TripleString = createToken({ name: 'TripleString', pattern: /"""[\s\S]*?"""/, line_breaks: true });
/** Reported as ASG1007; parsed as a SQL body so one missing quote does not cascade. */
export const UnterminatedTriple = createToken({ name: 'UnterminatedTriple', pattern: /"""[\s\S]*/, line_breaks: true, categories: [TripleString] });
export const StringLiteral = createToken({ name: 'StringLiteral', pattern: /"(?:[^"\\\n]|\\.)*"/ });
/** A string missing its closing quote on the same line: reported as ASG1006, parsed as a string. */
export const UnterminatedString = createToken({ name: 'UnterminatedString', pattern: /"(?:[^"\\\n]|\\.)*/, categories: [StringLiteral] });

/** Any number glued to a word: `30d` is a duration, `1w` or `10min` a wrong one (reported by the checker, ASG2008). */
export const Duration = createToken({ name: 'Duration', pattern: /\d+(?![eE][+-]?\d)[A-Za-z_][A-Za-z0-9_]*/ });
export const NumberLiteral = createToken({ name: 'NumberLiteral', pattern: /-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/ });
export const Identifier = createToken({ name: 'Identifier', pattern: /[A-Za-z_][A-Za-z0-9_-]*/ });

export const LBrace = createToken({ name: 'LBrace', pattern: /\{/ });
export const RBrace = createToken({ name: 'RBrace', pattern: /\}/ });
export const LBracket = createToken({ name: 'LBracket', pattern: /\[/ });
export const RBracket = createToken({ name: 'RBracket', pattern: /\]/ });
export const LParen = createToken({ name: 'LParen', pattern: /\(/ });
export const RParen = createToken({ name: 'RParen', pattern: /\)/ });
export const Equals = createToken({ name: 'Equals', pattern: /=/ });
export const Comma = createToken({ name: 'Comma', pattern: /,/ });
export const Dot = createToken({ name: 'Dot', pattern: /\./ });

export const allTokens: TokenType[] = [
  WhiteSpace,
  LineComment,
  BlockComment,
  UnterminatedComment,
  TripleString,
  UnterminatedTriple,
  StringLiteral,
  UnterminatedString,
  Duration,
  NumberLiteral,
  Identifier,
  LBrace,
  RBrace,
  LBracket,
  RBracket,
  LParen,
  RParen,
  Equals,
  Comma,
  Dot,
];

export const asgLexer = new Lexer(allTokens, { positionTracking: 'full', ensureOptimizations: false });

export interface LexResult {
  readonly tokens: IToken[];
  readonly unterminated: IToken[];
  readonly errors: readonly { offset: number; line: number; column: number; length: number; message: string }[];
}

export function lex(text: string): LexResult {
  const r = asgLexer.tokenize(text);
  return {
    tokens: r.tokens,
    unterminated: (r.groups['unterminated'] as IToken[] | undefined) ?? [],
    errors: r.errors.map((e) => ({ offset: e.offset, line: e.line ?? 1, column: e.column ?? 1, length: e.length, message: e.message })),
  };
}
