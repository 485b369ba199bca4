// A hand-written lexer and parser for well-formed specs (#16.3): the text straight to the AST, with
// no token objects, no concrete tree and no parser library. Chevrotain's recording parser (lexer.ts,
// parser.ts, to-ast.ts) stays the reference and the error path: this one accepts only what that one
// parses without a single diagnostic and then builds the same tree, and declines anything else —
// any lexing or syntax problem, a bad escape or duration, nesting deeper than MAX_NESTING, a `\r`
// anywhere — so every diagnostic still comes from the reference (test/dsl/fast-syntax.test.ts
// compares both on the repository's specs, generated ones and mutants of them).
//
// The token rules are lexer.ts's, tried in its order (the first pattern that matches wins, not the
// longest), and the parse follows parser.ts's rules and gates: an item is an attribute when its
// second token is `=`, a check when it reads `check NAME (` or `check NAME """`, a SQL item when
// its second token is `"""`, else a block; a block's labels and a value after `=` sit on the line
// of the block's type and of the `=`; a `{` after a word makes a tagged map only on the word's line.

import type { Span } from '../ir/types.js';
import type { Arg, Attribute, Block, BodyItem, CheckItem, Label, MapValue, SpecFile, SqlItem, Value } from './ast.js';
import { type BlockRange, type BlockTokens, blockRanges, TokenClass } from './block-cache.js';
import { unescapeString } from './escapes.js';
import { MAX_NESTING } from './limits.js';

// Token kinds.
const IDENT = 1;
const STRING = 2;
const TRIPLE = 3;
const NUMBER = 4;
const DURATION = 5;
const LBRACE = 6;
const RBRACE = 7;
const LBRACKET = 8;
const RBRACKET = 9;
const LPAREN = 10;
const RPAREN = 11;
const EQUALS = 12;
const COMMA = 13;
const DOT = 14;
const EOF = 0;

const PUNCT: Record<number, number> = {
  123: LBRACE,
  125: RBRACE,
  91: LBRACKET,
  93: RBRACKET,
  40: LPAREN,
  41: RPAREN,
  61: EQUALS,
  44: COMMA,
  46: DOT,
};

/** The tokens of a text, one column per field (no object per token). */
interface Tokens {
  n: number;
  kind: Uint8Array;
  start: Int32Array;
  end: Int32Array;
  line: Int32Array;
  col: Int32Array;
  endLine: Int32Array;
  endCol: Int32Array;
}

/** Thrown inside the parser when it declines: caught at the top, never escapes this module. */
const DECLINE = new Error('the fast parser declines');

const isDigit = (c: number): boolean => c >= 0x30 && c <= 0x39;
const isLetter = (c: number): boolean => (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c === 0x5f;
const isWordChar = (c: number): boolean => isLetter(c) || isDigit(c);

function newTokens(capacity: number): Tokens {
  return {
    n: 0,
    kind: new Uint8Array(capacity),
    start: new Int32Array(capacity),
    end: new Int32Array(capacity),
    line: new Int32Array(capacity),
    col: new Int32Array(capacity),
    endLine: new Int32Array(capacity),
    endCol: new Int32Array(capacity),
  };
}

function grow(t: Tokens): void {
  const g = newTokens(t.kind.length * 2);
  g.kind.set(t.kind);
  g.start.set(t.start);
  g.end.set(t.end);
  g.line.set(t.line);
  g.col.set(t.col);
  g.endLine.set(t.endLine);
  g.endCol.set(t.endCol);
  Object.assign(t, { ...g, n: t.n });
}

/** lexer.ts's tokens of `text`, or undefined when lexing it or its brackets (syntax-reference.ts scanBrackets) report anything. */
function lexFast(text: string): Tokens | undefined {
  const len = text.length;
  const t = newTokens(Math.max(64, len >> 3));
  let line = 1;
  let lineStart = 0;
  // The open brackets' kinds: the text is declined at a mismatch, too deep a nesting or an unclosed one.
  const open: number[] = [];
  let i = 0;
  const push = (kind: number, from: number, to: number, newlines: number, lastNl: number): void => {
    if (t.n === t.kind.length) grow(t);
    const k = t.n++;
    t.kind[k] = kind;
    t.start[k] = from;
    t.end[k] = to;
    t.line[k] = line;
    t.col[k] = from - lineStart + 1;
    // Chevrotain's end position: the last character's line and column.
    t.endLine[k] = line + newlines;
    t.endCol[k] = newlines ? to - lastNl - 1 : to - lineStart;
  };
  /** Counts the newlines of text[from, to) into `line`/`lineStart`; returns [count, last one's offset]. */
  const newlinesIn = (from: number, to: number): [number, number] => {
    let count = 0;
    let last = -1;
    for (let nl = text.indexOf('\n', from); nl >= 0 && nl < to; nl = text.indexOf('\n', nl + 1)) {
      count++;
      last = nl;
    }
    return [count, last];
  };
  while (i < len) {
    const c = text.charCodeAt(i);
    if (c === 0x20 || c === 0x09 || c === 0x0c || c === 0xfeff) {
      i++;
    } else if (c === 0x0a) {
      i++;
      line++;
      lineStart = i;
    } else if (c === 0x2f && text.charCodeAt(i + 1) === 0x2f) {
      const nl = text.indexOf('\n', i);
      i = nl < 0 ? len : nl;
    } else if (c === 0x23) {
      const nl = text.indexOf('\n', i);
      i = nl < 0 ? len : nl;
    } else if (c === 0x2f && text.charCodeAt(i + 1) === 0x2a) {
      const close = text.indexOf('*/', i + 2);
      if (close < 0) return undefined; // unterminated comment
      const [count, last] = newlinesIn(i, close);
      if (count) {
        line += count;
        lineStart = last + 1;
      }
      i = close + 2;
    } else if (c === 0x22) {
      if (text.charCodeAt(i + 1) === 0x22 && text.charCodeAt(i + 2) === 0x22) {
        const close = text.indexOf('"""', i + 3);
        if (close < 0) return undefined; // unterminated SQL body
        const to = close + 3;
        const [count, last] = newlinesIn(i, to);
        push(TRIPLE, i, to, count, last);
        if (count) {
          line += count;
          lineStart = last + 1;
        }
        i = to;
      } else {
        // "(?:[^"\\\n]|\\.)*" — `.` is anything but a line terminator.
        let j = i + 1;
        for (;;) {
          const d = text.charCodeAt(j);
          if (d === 0x22) break;
          if (j >= len || d === 0x0a) return undefined; // unterminated string
          if (d === 0x5c) {
            const e = text.charCodeAt(j + 1);
            if (j + 1 >= len || e === 0x0a || e === 0x0d || e === 0x2028 || e === 0x2029) return undefined;
            j += 2;
          } else j++;
        }
        push(STRING, i, j + 1, 0, -1);
        i = j + 1;
      }
    } else if (isDigit(c) || c === 0x2d) {
      let j = c === 0x2d ? i + 1 : i;
      const digits = j;
      while (isDigit(text.charCodeAt(j))) j++;
      if (j === digits) return undefined; // a lone `-`
      const e = text.charCodeAt(j);
      const exponent =
        (e === 0x65 || e === 0x45) &&
        (isDigit(text.charCodeAt(j + 1)) || ((text.charCodeAt(j + 1) === 0x2b || text.charCodeAt(j + 1) === 0x2d) && isDigit(text.charCodeAt(j + 2))));
      if (c !== 0x2d && !exponent && isLetter(e)) {
        // Duration: \d+(?![eE][+-]?\d)[A-Za-z_][A-Za-z0-9_]*
        j++;
        while (isWordChar(text.charCodeAt(j))) j++;
        push(DURATION, i, j, 0, -1);
      } else {
        // Number: -?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?
        if (text.charCodeAt(j) === 0x2e && isDigit(text.charCodeAt(j + 1))) {
          j += 2;
          while (isDigit(text.charCodeAt(j))) j++;
        }
        const x = text.charCodeAt(j);
        if (x === 0x65 || x === 0x45) {
          let k = j + 1;
          const s = text.charCodeAt(k);
          if (s === 0x2b || s === 0x2d) k++;
          if (isDigit(text.charCodeAt(k))) {
            while (isDigit(text.charCodeAt(k))) k++;
            j = k;
          }
        }
        push(NUMBER, i, j, 0, -1);
      }
      i = j;
    } else if (isLetter(c)) {
      // [A-Za-z_][A-Za-z0-9_-]*
      let j = i + 1;
      for (let d = text.charCodeAt(j); isWordChar(d) || d === 0x2d; d = text.charCodeAt(++j));
      push(IDENT, i, j, 0, -1);
      i = j;
    } else {
      const kind = PUNCT[c];
      if (kind === undefined) return undefined; // an unexpected character (or a `\r`)
      if (kind === LBRACE || kind === LBRACKET || kind === LPAREN) {
        if (open.push(kind) > MAX_NESTING) return undefined;
      } else if (kind === RBRACE || kind === RBRACKET || kind === RPAREN) {
        if (open.pop() !== kind - 1) return undefined;
      }
      push(kind, i, i + 1, 0, -1);
      i++;
    }
  }
  return open.length === 0 ? t : undefined;
}

const DURATION_UNIT: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 };

/** The parse of one token vector into the items of a file; throws DECLINE on anything but a clean parse. */
class FastParser {
  private p = 0;
  constructor(
    private readonly text: string,
    private readonly file: string,
    private readonly t: Tokens,
  ) {}

  private kind(at: number): number {
    return at < this.t.n ? this.t.kind[at] : EOF;
  }
  private image(at: number): string {
    return this.text.slice(this.t.start[at], this.t.end[at]);
  }
  private expect(kind: number): number {
    if (this.kind(this.p) !== kind) throw DECLINE;
    return this.p++;
  }

  private span(first: number, last = first): Span {
    const t = this.t;
    return { file: this.file, line: t.line[first], column: t.col[first], endLine: t.endLine[last], endColumn: t.endCol[last] + 1 };
  }
  private join(a: Span, b: Span): Span {
    return { file: this.file, line: a.line, column: a.column, endLine: b.endLine, endColumn: b.endColumn };
  }

  parseFile(): SpecFile {
    const items = this.items();
    if (this.p !== this.t.n) throw DECLINE;
    return { kind: 'file', file: this.file, items };
  }

  private items(): BodyItem[] {
    const out: BodyItem[] = [];
    while (this.kind(this.p) === IDENT) out.push(this.item());
    return out;
  }

  private item(): BodyItem {
    const p = this.p;
    const second = this.kind(p + 1);
    if (second === EQUALS) return this.attribute();
    if (second === IDENT && (this.kind(p + 2) === LPAREN || this.kind(p + 2) === TRIPLE) && this.image(p) === 'check') return this.check();
    if (second === TRIPLE) return this.sqlItem();
    return this.block();
  }

  private attribute(): Attribute {
    const key = this.expect(IDENT);
    const eq = this.expect(EQUALS);
    // The value starts on the line of its `=` (the reference reports a missing value otherwise).
    if (this.p >= this.t.n || this.t.line[this.p] !== this.t.line[eq]) throw DECLINE;
    const value = this.value();
    const keySpan = this.span(key);
    return { kind: 'attribute', key: this.image(key), keySpan, value, span: this.join(keySpan, value.span) };
  }

  private triple(at: number): { text: string; bodySpan: Span; terminated: boolean } {
    const text = this.text.slice(this.t.start[at] + 3, this.t.end[at] - 3);
    const s = this.span(at);
    return { text, bodySpan: { file: this.file, line: s.line, column: s.column + 3, endLine: s.endLine, endColumn: s.endColumn - 3 }, terminated: true };
  }

  private sqlItem(): SqlItem {
    const key = this.expect(IDENT);
    const t = this.expect(TRIPLE);
    const { text, bodySpan, terminated } = this.triple(t);
    const keySpan = this.span(key);
    return { kind: 'sql', key: this.image(key), keySpan, text, bodySpan, terminated, span: this.join(keySpan, this.span(t)) };
  }

  private check(): CheckItem {
    const kw = this.expect(IDENT);
    const name = this.expect(IDENT);
    let args: Arg[] = [];
    let last = name;
    let triple: number | undefined;
    if (this.kind(this.p) === LPAREN) {
      this.p++;
      if (startsValue(this.kind(this.p))) args = this.args();
      last = this.expect(RPAREN);
      if (this.kind(this.p) === TRIPLE) triple = last = this.p++;
    } else triple = last = this.expect(TRIPLE);
    return {
      kind: 'check',
      name: this.image(name),
      nameSpan: this.span(name),
      args,
      ...(triple !== undefined ? { sql: this.triple(triple) } : {}),
      span: this.span(kw, last),
    };
  }

  private block(): Block {
    const type = this.expect(IDENT);
    const line = this.t.line[type];
    const labels: Label[] = [];
    let end = type;
    for (let k = this.kind(this.p); (k === IDENT || k === STRING) && this.t.line[this.p] === line; k = this.kind(this.p)) {
      labels.push({ text: k === STRING ? this.unquote(this.p) : this.image(this.p), span: this.span(this.p) });
      end = this.p++;
    }
    let body: BodyItem[] | undefined;
    if (this.kind(this.p) === LBRACE) {
      this.p++;
      body = this.items();
      end = this.expect(RBRACE);
    }
    return { kind: 'block', type: this.image(type), typeSpan: this.span(type), labels, ...(body ? { body } : {}), span: this.span(type, end) };
  }

  private value(): Value {
    const p = this.p;
    switch (this.kind(p)) {
      case STRING:
        this.p++;
        return { kind: 'string', value: this.unquote(p), span: this.span(p) };
      case TRIPLE: {
        this.p++;
        const { text, bodySpan } = this.triple(p);
        return { kind: 'sqltext', text, bodySpan, span: this.span(p) };
      }
      case NUMBER: {
        this.p++;
        const text = this.image(p);
        return { kind: 'number', value: Number(text), text, span: this.span(p) };
      }
      case DURATION: {
        this.p++;
        const text = this.image(p);
        const m = /^(\d+)([a-z])$/.exec(text);
        if (!m || DURATION_UNIT[m[2]] === undefined) throw DECLINE; // the reference reports it
        return { kind: 'duration', text, seconds: Number(m[1]) * DURATION_UNIT[m[2]], span: this.span(p) };
      }
      case LBRACKET:
        return this.list();
      case LBRACE:
        return this.map();
      case IDENT:
        return this.word();
      default:
        throw DECLINE;
    }
  }

  private list(): Value {
    const open = this.expect(LBRACKET);
    const items: Value[] = [];
    while (startsValue(this.kind(this.p))) {
      items.push(this.value());
      if (this.kind(this.p) === COMMA) this.p++;
    }
    const close = this.expect(RBRACKET);
    return { kind: 'list', items, span: this.span(open, close) };
  }

  private map(): MapValue {
    const open = this.expect(LBRACE);
    const entries: Attribute[] = [];
    while (this.kind(this.p) === IDENT) {
      entries.push(this.attribute());
      if (this.kind(this.p) === COMMA) this.p++;
    }
    const close = this.expect(RBRACE);
    return { kind: 'map', entries, span: this.span(open, close) };
  }

  private word(): Value {
    const first = this.expect(IDENT);
    const firstSpan = this.span(first);
    if (this.kind(this.p) === LPAREN) {
      this.p++;
      const args = startsValue(this.kind(this.p)) ? this.args() : [];
      const close = this.expect(RPAREN);
      return { kind: 'call', name: this.image(first), nameSpan: firstSpan, args, span: this.span(first, close) };
    }
    const parts = [this.image(first)];
    let last = first;
    while (this.kind(this.p) === DOT) {
      this.p++;
      last = this.expect(IDENT);
      parts.push(this.image(last));
    }
    if (this.kind(this.p) === LBRACE && this.t.line[this.p] === this.t.line[first]) {
      const map = this.map();
      return { kind: 'tagged', name: parts[0], nameSpan: firstSpan, map, span: this.join(firstSpan, map.span) };
    }
    if (parts.length === 1 && (parts[0] === 'true' || parts[0] === 'false')) return { kind: 'bool', value: parts[0] === 'true', span: firstSpan };
    return { kind: 'ref', parts, text: parts.join('.'), span: this.span(first, last) };
  }

  private args(): Arg[] {
    const out: Arg[] = [this.arg()];
    while (this.kind(this.p) === COMMA) {
      this.p++;
      out.push(this.arg());
    }
    return out;
  }

  private arg(): Arg {
    if (this.kind(this.p) === IDENT && this.kind(this.p + 1) === EQUALS) {
      const name = this.p;
      this.p += 2;
      const value = this.value();
      const nameSpan = this.span(name);
      return { name: this.image(name), nameSpan, value, span: this.join(nameSpan, value.span) };
    }
    const value = this.value();
    return { value, span: value.span };
  }

  /** A "…" string's value; declines on an escape the reference reports. */
  private unquote(at: number): string {
    return unescapeString(this.text.slice(this.t.start[at] + 1, this.t.end[at] - 1), () => {
      throw DECLINE;
    });
  }
}

/** The tokens that may start a value (parser.ts `value`, its stray `=` included: declined there). */
const startsValue = (k: number): boolean => k !== EOF && k !== RBRACE && k !== RBRACKET && k !== LPAREN && k !== RPAREN && k !== COMMA && k !== DOT;

function parseTokens(text: string, file: string, t: Tokens): SpecFile | undefined {
  try {
    return new FastParser(text, file, t).parseFile();
  } catch (e) {
    if (e === DECLINE) return undefined;
    throw e;
  }
}

/** blockRanges' view of a token vector. */
function blockTokens(t: Tokens): BlockTokens {
  const classes = new Uint8Array(t.n); // TokenClass.Other is 0
  for (let i = 0; i < t.n; i++) {
    const kind = t.kind[i];
    if (kind === IDENT) classes[i] = TokenClass.Name;
    else if (kind === STRING) classes[i] = TokenClass.String;
    else if (kind === LBRACE) classes[i] = TokenClass.LBrace;
    else if (kind === RBRACE) classes[i] = TokenClass.RBrace;
  }
  return {
    count: t.n,
    classes,
    start: (i) => t.start[i],
    end: (i) => t.end[i],
    line: (i) => t.line[i],
    column: (i) => t.col[i],
  };
}

/** The tokens of `t` without those of `skipped` (ranges in order). */
function without(t: Tokens, skipped: readonly BlockRange[]): Tokens {
  const kept = newTokens(Math.max(1, t.n));
  let from = 0;
  const copy = (a: number, b: number) => {
    const at = kept.n;
    kept.kind.set(t.kind.subarray(a, b), at);
    kept.start.set(t.start.subarray(a, b), at);
    kept.end.set(t.end.subarray(a, b), at);
    kept.line.set(t.line.subarray(a, b), at);
    kept.col.set(t.col.subarray(a, b), at);
    kept.endLine.set(t.endLine.subarray(a, b), at);
    kept.endCol.set(t.endCol.subarray(a, b), at);
    kept.n += b - a;
  };
  for (const r of skipped) {
    copy(from, r.first);
    from = r.last + 1;
  }
  copy(from, t.n);
  return kept;
}

export interface FastSyntax {
  readonly ast: SpecFile;
  readonly blocks?: { readonly ranges: readonly BlockRange[]; readonly skipped: readonly BlockRange[] };
}

/**
 * The AST of a well-formed `text` — what syntax.ts's reference parse gives when it reports nothing —
 * or undefined when the reference must decide (any problem, or anything this parser does not take).
 * With `skip`, the cacheable blocks it accepts are left out of the tree, as the reference does.
 */
export function parseFast(text: string, file: string, skip?: (block: BlockRange) => boolean): FastSyntax | undefined {
  if (text.includes('\r')) return undefined;
  const tokens = lexFast(text);
  if (!tokens || tokens.n === 0) return undefined;
  if (!skip) {
    const ast = parseTokens(text, file, tokens);
    return ast && { ast };
  }
  const ranges = blockRanges(blockTokens(tokens), text, file);
  const skipped = ranges.filter(skip);
  if (skipped.length) {
    const ast = parseTokens(text, file, without(tokens, skipped));
    if (ast) return { ast, blocks: { ranges, skipped } };
  }
  const ast = parseTokens(text, file, tokens);
  return ast && { ast, blocks: { ranges, skipped: [] } };
}
