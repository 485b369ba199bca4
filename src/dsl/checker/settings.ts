// Validates a block's `key = value` settings against its schema and turns zod's issues into
// catalogue diagnostics with spans: unknown keys (with a did-you-mean), wrong types, missing keys.
// Leaf schemas carry their expectation as the zod error text ("a list of column names"), so a
// message reads "`partition_by` must be a list of column names, got the number 3".

import type { z } from 'zod';
import type { Infer, Schema } from '../../util/schema.js';
import { Codes, diag, didYouMean } from '../../diagnostics/catalogue.js';
import type { Diagnostic } from '../../diagnostics/diagnostic.js';
import type { Span } from '../../ir/types.js';
import type { Attribute } from '../ast.js';
import { attrsToPlain, describeValue, valueAt } from './plain.js';

export interface Where {
  /** "cleanse `customers_cleaned`" */
  readonly what: string;
  /** The block header: where missing settings are reported. */
  readonly span: Span;
}

type AnySchema = z.ZodType;
interface Def {
  type: string;
  innerType?: AnySchema;
  shape?: Record<string, AnySchema>;
  element?: AnySchema;
  options?: AnySchema[];
  valueType?: AnySchema;
}
const defOf = (s: AnySchema): Def => (s as unknown as { _zod: { def: Def } })._zod.def;

/** The object shape a path leads to (for did-you-mean candidates). */
function shapeAt(schema: AnySchema, path: readonly PropertyKey[]): string[] {
  let s: AnySchema | undefined = schema;
  const unwrap = (x: AnySchema | undefined): AnySchema | undefined => {
    let cur = x;
    for (let i = 0; cur && i < 10; i++) {
      const d = defOf(cur);
      if ((d.type === 'optional' || d.type === 'default' || d.type === 'nullable' || d.type === 'pipe') && d.innerType) cur = d.innerType;
      else if (d.type === 'union' && d.options) cur = d.options.find((o) => defOf(o).type === 'object') ?? d.options[0];
      else break;
    }
    return cur;
  };
  s = unwrap(s);
  for (const p of path) {
    if (!s) return [];
    const d = defOf(s);
    if (d.type === 'object' && d.shape && typeof p === 'string') s = unwrap(d.shape[p]);
    else if (d.type === 'array' && d.element) s = unwrap(d.element);
    else return [];
  }
  if (!s) return [];
  const d = defOf(s);
  return d.type === 'object' && d.shape ? Object.keys(d.shape) : [];
}

const dotted = (path: readonly PropertyKey[]): string =>
  path.reduce<string>((acc, p) => (typeof p === 'number' ? `${acc}[${p}]` : acc ? `${acc}.${String(p)}` : String(p)), '');

/** Runs the schema; returns the parsed value, or undefined when a diagnostic was reported. */
export function validateSettings<S extends Schema<unknown>>(schema: S, attrs: readonly Attribute[], where: Where, diags: Diagnostic[]): Infer<S> | undefined {
  const plain = attrsToPlain(attrs, diags);
  const r = schema.safeParse(plain);
  if (r.success) return r.data as Infer<S>;
  for (const issue of r.error.issues) {
    const path = issue.path;
    if (issue.code === 'unrecognized_keys') {
      const known = shapeAt(schema.zod(), path);
      for (const key of issue.keys) {
        const { attr } = valueAt(attrs, [...path, key]);
        diags.push(
          diag(Codes.UnknownSetting, `unknown setting \`${dotted([...path, key])}\` in ${where.what}`, attr?.keySpan ?? where.span, {
            hint: didYouMean(key, known) ?? (known.length ? `known settings: ${known.join(', ')}` : undefined),
          }),
        );
      }
      continue;
    }
    const { value, complete } = valueAt(attrs, path);
    if (!complete || value === undefined) {
      const parent = path.length > 1 ? valueAt(attrs, path.slice(0, -1)).value : undefined;
      diags.push(diag(Codes.MissingSetting, `${where.what} is missing \`${dotted(path)}\` (${issue.message})`, parent?.span ?? where.span));
      continue;
    }
    if (issue.code === 'invalid_value' && 'values' in issue) {
      const options = (issue.values as unknown[]).map(String);
      const got = value.kind === 'ref' || value.kind === 'string' ? String(value.kind === 'ref' ? value.text : value.value) : undefined;
      diags.push(
        diag(Codes.InvalidValue, `\`${dotted(path)}\` must be one of ${options.map((o) => `\`${o}\``).join(', ')}, got ${describeValue(value)}`, value.span, {
          hint: got !== undefined ? didYouMean(got, options) : undefined,
        }),
      );
      continue;
    }
    if (issue.code === 'custom' || issue.code === 'too_small' || issue.code === 'too_big') {
      diags.push(diag(Codes.InvalidValue, `\`${dotted(path)}\` ${issue.message}`, value.span));
      continue;
    }
    diags.push(diag(Codes.WrongValueType, `\`${dotted(path)}\` must be ${issue.message}, got ${describeValue(value)}`, value.span));
  }
  return undefined;
}
