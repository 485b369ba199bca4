// AST values → plain JS values that zod schemas validate. Values with no JSON equivalent become
// small marker classes (durations, calls, tagged maps, SQL text) so a schema can ask for exactly
// them. Every plain value keeps a link back to its AST node for spans.

import type { Attribute, Value } from '../ast.js';
import type { Span } from '../../ir/types.js';
import type { Diagnostic } from '../../diagnostics/diagnostic.js';
import { Codes, diag } from '../../diagnostics/catalogue.js';

export class DurationV {
  constructor(
    readonly seconds: number,
    readonly text: string,
  ) {}
}
export class CallV {
  constructor(
    readonly name: string,
    readonly args: readonly Plain[],
    readonly named: Readonly<Record<string, Plain>>,
  ) {}
}
export class TaggedV {
  constructor(
    readonly name: string,
    readonly params: Readonly<Record<string, Plain>>,
  ) {}
}
export class SqlTextV {
  constructor(readonly text: string) {}
}

export type Plain = string | number | boolean | DurationV | CallV | TaggedV | SqlTextV | readonly Plain[] | { readonly [k: string]: Plain };

/** Converts a value; duplicate keys inside maps are reported (the last one wins). */
export function toPlain(v: Value, diags: Diagnostic[]): Plain {
  switch (v.kind) {
    case 'string':
    case 'number':
    case 'bool':
      return v.value;
    case 'duration':
      return new DurationV(v.seconds, v.text);
    case 'ref':
      return v.text;
    case 'list':
      return v.items.map((i) => toPlain(i, diags));
    case 'map':
      return attrsToPlain(v.entries, diags);
    case 'call': {
      const named: Record<string, Plain> = {};
      const args: Plain[] = [];
      for (const a of v.args) {
        if (a.name !== undefined) named[a.name] = toPlain(a.value, diags);
        else args.push(toPlain(a.value, diags));
      }
      return new CallV(v.name, args, named);
    }
    case 'tagged':
      return new TaggedV(v.name, attrsToPlain(v.map.entries, diags));
    case 'sqltext':
      return new SqlTextV(v.text);
  }
}

export function attrsToPlain(attrs: readonly Attribute[], diags: Diagnostic[]): Record<string, Plain> {
  const out: Record<string, Plain> = {};
  const first = new Map<string, Attribute>();
  for (const a of attrs) {
    const prev = first.get(a.key);
    if (prev) {
      diags.push(
        diag(Codes.DuplicateSetting, `\`${a.key}\` is set twice`, a.keySpan, {
          hint: 'remove one of them',
          related: [{ message: 'first set here', span: prev.keySpan }],
        }),
      );
      continue;
    }
    first.set(a.key, a);
    out[a.key] = toPlain(a.value, diags);
  }
  return out;
}

/** How a value reads in a message: "a number", "the name `table`", "a list" … */
export function describeValue(v: Value): string {
  switch (v.kind) {
    case 'string':
      return 'a string';
    case 'number':
      return `the number ${v.text}`;
    case 'bool':
      return `\`${v.value}\``;
    case 'duration':
      return `the duration ${v.text}`;
    case 'ref':
      return v.parts.length > 1 ? `the reference \`${v.text}\`` : `the name \`${v.text}\``;
    case 'list':
      return 'a list';
    case 'map':
      return 'a map';
    case 'call':
      return `\`${v.name}(…)\``;
    case 'tagged':
      return `\`${v.name} { … }\``;
    case 'sqltext':
      return 'a """ text block';
  }
}

/** The AST node at a zod issue path (keys into maps, indexes into lists). */
export function valueAt(attrs: readonly Attribute[], path: readonly PropertyKey[]): { attr?: Attribute; value?: Value; complete: boolean } {
  if (path.length === 0) return { complete: false };
  const attr = attrs.find((a) => a.key === path[0]);
  if (!attr) return { complete: false };
  let value: Value = attr.value;
  let keyAttr: Attribute = attr;
  for (const p of path.slice(1)) {
    if (value.kind === 'map' || value.kind === 'tagged') {
      const entries = value.kind === 'map' ? value.entries : value.map.entries;
      const e = entries.find((x) => x.key === p);
      if (!e) return { attr: keyAttr, value, complete: false };
      keyAttr = e;
      value = e.value;
    } else if (value.kind === 'list' && typeof p === 'number' && value.items[p]) {
      value = value.items[p];
    } else if (value.kind === 'call' && typeof p === 'number' && value.args[p]) {
      value = value.args[p].value;
    } else return { attr: keyAttr, value, complete: false };
  }
  return { attr: keyAttr, value, complete: true };
}

export function spanOf(attrs: readonly Attribute[], path: readonly PropertyKey[], fallback: Span): Span {
  return valueAt(attrs, path).value?.span ?? fallback;
}
