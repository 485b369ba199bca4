// Turns Chevrotain's private concrete tree into the readonly AST (src/dsl/ast.ts). Nodes that error
// recovery left incomplete are dropped (their syntax error is already reported), so the checker only
// ever sees well-formed items.

import type { CstNode, IToken } from 'chevrotain';
import type { Diagnostic } from '../diagnostics/diagnostic.js';
import { Codes, diag } from '../diagnostics/catalogue.js';
import type { Span } from '../ir/types.js';
import type { Arg, Attribute, Block, BodyItem, CheckItem, Label, MapValue, SpecFile, SqlItem, Value } from './ast.js';
import { unescapeString } from './escapes.js';
import { StringLiteral, UnterminatedString, UnterminatedTriple } from './lexer.js';

type Children = Record<string, (CstNode | IToken)[] | undefined>;

const isToken = (x: CstNode | IToken): x is IToken => (x as IToken).image !== undefined;
const real = (t: IToken | undefined): t is IToken => t !== undefined && !t.isInsertedInRecovery && Number.isFinite(t.startOffset);

const DURATION_UNIT: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 };

export class AstBuilder {
  /** Problems inside well-formed tokens (escapes, durations). */
  readonly diagnostics: Diagnostic[] = [];
  /** Structural problems the grammar leaves to the builder (a missing value after `=`). */
  readonly syntaxDiagnostics: Diagnostic[] = [];
  constructor(
    private readonly file: string,
    /** Lines that already have a parse error: no second diagnostic there. */
    private readonly errorLines: ReadonlySet<number> = new Set(),
  ) {}

  span(first: IToken, last: IToken = first): Span {
    return {
      file: this.file,
      line: first.startLine ?? 1,
      column: first.startColumn ?? 1,
      endLine: last.endLine ?? first.startLine ?? 1,
      endColumn: (last.endColumn ?? first.startColumn ?? 0) + 1,
    };
  }

  private join(a: Span, b: Span): Span {
    return { file: this.file, line: a.line, column: a.column, endLine: b.endLine, endColumn: b.endColumn };
  }

  private tok(c: Children, name: string, i = 0): IToken | undefined {
    const t = c[name]?.[i];
    return t && isToken(t) && real(t) ? t : undefined;
  }
  private toks(c: Children, name: string): IToken[] {
    return (c[name] ?? []).filter((t): t is IToken => isToken(t) && real(t));
  }
  private node(c: Children, name: string, i = 0): CstNode | undefined {
    const n = c[name]?.[i];
    return n && !isToken(n) ? n : undefined;
  }
  private nodes(c: Children, name: string): CstNode[] {
    return (c[name] ?? []).filter((n): n is CstNode => !isToken(n));
  }

  fileNode(cst: CstNode): SpecFile {
    return { kind: 'file', file: this.file, items: this.items(this.nodes(cst.children, 'item')) };
  }

  private items(nodes: CstNode[]): BodyItem[] {
    const out: BodyItem[] = [];
    for (const n of nodes) {
      const it = this.item(n);
      if (it) out.push(it);
    }
    return out;
  }

  private item(n: CstNode): BodyItem | undefined {
    const c = n.children;
    const sub = this.node(c, 'attribute') ?? this.node(c, 'check') ?? this.node(c, 'sqlItem') ?? this.node(c, 'block');
    if (!sub) return undefined;
    switch (sub.name) {
      case 'attribute':
        return this.attribute(sub);
      case 'check':
        return this.check(sub);
      case 'sqlItem':
        return this.sqlItem(sub);
      default:
        return this.block(sub);
    }
  }

  attribute(n: CstNode): Attribute | undefined {
    const key = this.tok(n.children, 'Identifier');
    const vn = this.node(n.children, 'value');
    const value = vn && this.value(vn);
    const eq = this.tok(n.children, 'Equals');
    if (key && eq && !vn && !this.errorLines.has(eq.startLine ?? 0)) {
      this.syntaxDiagnostics.push(
        diag(Codes.UnexpectedToken, `expected a value after \`${key.image} =\``, this.span(eq), { hint: 'a value starts on the same line as its `=`' }),
      );
    }
    if (!key || !value || n.recoveredNode) return undefined;
    const keySpan = this.span(key);
    return { kind: 'attribute', key: key.image, keySpan, value, span: this.join(keySpan, value.span) };
  }

  private triple(t: IToken): { text: string; bodySpan: Span; terminated: boolean } {
    const terminated = t.tokenType !== UnterminatedTriple;
    const text = terminated ? t.image.slice(3, -3) : t.image.slice(3);
    const start = this.span(t);
    const bodySpan: Span = { ...this.span(t, t), line: start.line, column: start.column + 3 };
    if (terminated) return { text, bodySpan: { ...bodySpan, endColumn: bodySpan.endColumn - 3 }, terminated };
    return { text, bodySpan, terminated };
  }

  private sqlItem(n: CstNode): SqlItem | undefined {
    const key = this.tok(n.children, 'Identifier');
    const t = this.tok(n.children, 'TripleString');
    if (!key || !t) return undefined;
    const { text, bodySpan, terminated } = this.triple(t);
    const keySpan = this.span(key);
    return { kind: 'sql', key: key.image, keySpan, text, bodySpan, terminated, span: this.join(keySpan, this.span(t)) };
  }

  private check(n: CstNode): CheckItem | undefined {
    const c = n.children;
    const kw = this.tok(c, 'keyword');
    const name = this.tok(c, 'name');
    if (!kw || !name) return undefined;
    const triple = this.tok(c, 'TripleString');
    const close = this.tok(c, 'RParen');
    const last = triple ?? close ?? name;
    const argsNode = this.node(c, 'args');
    const args = argsNode ? this.args(argsNode) : [];
    return {
      kind: 'check',
      name: name.image,
      nameSpan: this.span(name),
      args,
      ...(triple ? { sql: this.triple(triple) } : {}),
      span: this.span(kw, last),
    };
  }

  private block(n: CstNode): Block | undefined {
    const c = n.children;
    const type = this.tok(c, 'type');
    if (!type) return undefined;
    const labels: Label[] = this.toks(c, 'label').map((t) => ({
      text: tokenMatchesString(t) ? this.unquote(t) : t.image,
      span: this.span(t),
    }));
    const open = this.tok(c, 'LBrace');
    const close = this.tok(c, 'RBrace');
    const lastLabel = labels.length ? this.toks(c, 'label').at(-1) : undefined;
    const end = close ?? open ?? lastLabel ?? type;
    const body = open ? this.items(this.nodes(c, 'item')) : undefined;
    return { kind: 'block', type: type.image, typeSpan: this.span(type), labels, ...(body ? { body } : {}), span: this.span(type, end) };
  }

  value(n: CstNode): Value | undefined {
    const c = n.children;
    const str = this.tok(c, 'StringLiteral');
    if (str) return { kind: 'string', value: this.unquote(str), span: this.span(str) };
    const tri = this.tok(c, 'TripleString');
    if (tri) {
      const { text, bodySpan } = this.triple(tri);
      return { kind: 'sqltext', text, bodySpan, span: this.span(tri) };
    }
    const num = this.tok(c, 'NumberLiteral');
    if (num) return { kind: 'number', value: Number(num.image), text: num.image, span: this.span(num) };
    const dur = this.tok(c, 'Duration');
    if (dur) {
      const m = /^(\d+)([a-z])$/.exec(dur.image);
      if (!m || DURATION_UNIT[m[2]] === undefined) {
        this.diagnostics.push(
          diag(Codes.InvalidDuration, `invalid duration \`${dur.image}\``, this.span(dur), {
            hint: 'a duration is a whole number and a unit: s, m, h or d (e.g. `90s`, `15m`, `6h`, `30d`)',
          }),
        );
        return { kind: 'duration', text: dur.image, seconds: 0, span: this.span(dur) };
      }
      return { kind: 'duration', text: dur.image, seconds: Number(m[1]) * DURATION_UNIT[m[2]], span: this.span(dur) };
    }
    const list = this.node(c, 'list');
    if (list) return this.list(list);
    const map = this.node(c, 'map');
    if (map) return this.map(map);
    const word = this.node(c, 'word');
    if (word) return this.word(word);
    const stray = this.tok(c, 'stray');
    if (stray) this.syntaxDiagnostics.push(diag(Codes.UnexpectedToken, 'unexpected `=`: expected a value', this.span(stray)));
    return undefined;
  }

  private list(n: CstNode): Value | undefined {
    const open = this.tok(n.children, 'LBracket');
    const close = this.tok(n.children, 'RBracket');
    if (!open || !close) return undefined;
    const items: Value[] = [];
    for (const vn of this.nodes(n.children, 'value')) {
      const v = this.value(vn);
      if (v) items.push(v);
    }
    return { kind: 'list', items, span: this.span(open, close) };
  }

  private map(n: CstNode): MapValue | undefined {
    const open = this.tok(n.children, 'LBrace');
    const close = this.tok(n.children, 'RBrace');
    if (!open || !close) return undefined;
    const entries: Attribute[] = [];
    for (const an of this.nodes(n.children, 'attribute')) {
      const a = this.attribute(an);
      if (a) entries.push(a);
    }
    return { kind: 'map', entries, span: this.span(open, close) };
  }

  private word(n: CstNode): Value | undefined {
    const c = n.children;
    const first = this.tok(c, 'Identifier');
    if (!first) return undefined;
    const firstSpan = this.span(first);
    if (c['LParen']) {
      const close = this.tok(c, 'RParen');
      if (!close) return undefined;
      const argsNode = this.node(c, 'args');
      return { kind: 'call', name: first.image, nameSpan: firstSpan, args: argsNode ? this.args(argsNode) : [], span: this.span(first, close) };
    }
    const parts = [first, ...this.toks(c, 'part')];
    const mapNode = this.node(c, 'map');
    if (mapNode) {
      const map = this.map(mapNode);
      if (!map) return undefined;
      return { kind: 'tagged', name: first.image, nameSpan: firstSpan, map, span: this.join(firstSpan, map.span) };
    }
    const last = parts.at(-1) as IToken;
    if (parts.length === 1 && (first.image === 'true' || first.image === 'false')) return { kind: 'bool', value: first.image === 'true', span: firstSpan };
    const names = parts.map((p) => p.image);
    return { kind: 'ref', parts: names, text: names.join('.'), span: this.span(first, last) };
  }

  private args(n: CstNode): Arg[] {
    const out: Arg[] = [];
    for (const an of this.nodes(n.children, 'arg')) {
      const name = this.tok(an.children, 'name');
      const vn = this.node(an.children, 'value');
      const value = vn && this.value(vn);
      if (!value) continue;
      if (name) {
        const nameSpan = this.span(name);
        out.push({ name: name.image, nameSpan, value, span: this.join(nameSpan, value.span) });
      } else out.push({ value, span: value.span });
    }
    return out;
  }

  /** The value of a "…" string, with escapes (\" \\ \n \t \r \uXXXX) resolved. */
  unquote(t: IToken): string {
    const raw = t.tokenType === UnterminatedString ? t.image.slice(1) : t.image.slice(1, -1);
    return unescapeString(raw, (i, nx) => {
      const col = (t.startColumn ?? 1) + 1 + i;
      const line = t.startLine ?? 1;
      this.diagnostics.push(
        diag(
          Codes.InvalidEscape,
          `invalid escape sequence \`\\${nx ?? ''}\` in string`,
          { file: this.file, line, column: col, endLine: line, endColumn: col + 2 },
          {
            hint: 'valid escapes are \\" \\\\ \\n \\t \\r \\/ and \\uXXXX',
          },
        ),
      );
    });
  }
}

function tokenMatchesString(t: IToken): boolean {
  return t.tokenType === StringLiteral || t.tokenType === UnterminatedString;
}
