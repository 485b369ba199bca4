// Spec variables: `var NAME { type = int  default = 30 }` blocks, their values (the default, or
// `--var NAME=VALUE` from plan/apply/compile/validate), and every `var("NAME")` that uses them.
// In settings, a `var("NAME")` call is replaced by a literal of the value before the blocks are
// checked, so any setting may take a variable and is validated with its value. In SQL, `var('NAME')`
// stays in the text (and in the normalised SQL that fingerprints hash); the values go on the body and
// are substituted when it is rendered (src/sql/transpile.ts). Each node records the variables it
// uses, so a plan says `var NAME changed` for exactly the nodes a new value reaches.
// docs/language.md, "Variables".

import { Codes, diag, didYouMean } from '../../diagnostics/catalogue.js';
import type { Span, Variable, VarValue } from '../../ir/types.js';
import { scanSqlVars } from '../../sql/vars.js';
import type { Arg, Attribute, Block, BodyItem, Value } from '../ast.js';
import { type Ctx, labelsOf, splitBody } from './context.js';
import { validateSettings } from './settings.js';
import { varSchema, VAR_TYPES } from './schemas.js';
import { offsetSpan } from './check.js';

type VarType = (typeof VAR_TYPES)[number];

/** Where a variable is used: its span in the file. */
export interface VarUse {
  readonly name: string;
  readonly span: Span;
}

export class Vars {
  readonly declared = new Map<string, Variable>();
  /** Every name a `var` block declares, valid or not (no cascade of "no variable" errors). */
  readonly names = new Set<string>();
  readonly uses: VarUse[] = [];

  /** The values of the variables used inside `within` (a node's spans), by name. */
  usedIn(...within: readonly Span[]): Record<string, VarValue> | undefined {
    const out: Record<string, VarValue> = {};
    for (const u of this.uses) {
      const v = this.declared.get(u.name);
      if (v && within.some((w) => inside(u.span, w))) out[u.name] = v.value;
    }
    return Object.keys(out).length ? sortRecord(out) : undefined;
  }
}

const inside = (a: Span, w: Span): boolean =>
  (a.line > w.line || (a.line === w.line && a.column >= w.column)) && (a.line < w.endLine || (a.line === w.endLine && a.column < w.endColumn));
const sortRecord = <T>(r: Record<string, T>): Record<string, T> => Object.fromEntries(Object.entries(r).sort(([a], [b]) => (a < b ? -1 : 1)));

/** Parses `--var` text as the variable's type; returns the value or the problem. */
export function parseVarValue(type: VarType, text: string): { value: VarValue } | { problem: string } {
  switch (type) {
    case 'string':
      return { value: text };
    case 'int':
      return /^-?\d+$/.test(text.trim()) && Number.isSafeInteger(Number(text)) ? { value: Number(text) } : { problem: 'an integer' };
    case 'number':
      return text.trim() !== '' && Number.isFinite(Number(text)) ? { value: Number(text) } : { problem: 'a number' };
    case 'bool':
      return text === 'true' || text === 'false' ? { value: text === 'true' } : { problem: '`true` or `false`' };
  }
}

const typeOfValue = (v: VarValue): VarType => (typeof v === 'boolean' ? 'bool' : typeof v === 'number' ? (Number.isInteger(v) ? 'int' : 'number') : 'string');

/** Reads the `var` blocks and applies the overrides (`--var`). Reported problems leave a variable out. */
export function declareVars(ctx: Ctx, blocks: readonly Block[], overrides: Readonly<Record<string, string>>, at: Span): Vars {
  const vars = new Vars();
  for (const b of blocks) {
    const labels = labelsOf(ctx, b, ['name'], 'var NAME { type = int  default = 30 }');
    if (!labels) continue;
    const [name] = labels;
    vars.names.add(name);
    const what = `var \`${name}\``;
    if (vars.declared.has(name)) {
      ctx.report(
        diag(Codes.DuplicateName, `${what} is declared twice`, b.labels[0].span, {
          related: [{ message: 'first declared here', span: vars.declared.get(name)!.span }],
        }),
      );
      continue;
    }
    const body = splitBody(b.body);
    const s = validateSettings(varSchema, body.attrs, { what, span: b.labels[0].span }, ctx.diags);
    if (!s) continue;
    const type: VarType = s.type ?? (s.default !== undefined ? typeOfValue(s.default) : 'string');
    const defAttr = body.attrs.find((a) => a.key === 'default');
    if (s.default !== undefined && !(typeOfValue(s.default) === type || (type === 'number' && typeof s.default === 'number'))) {
      ctx.report(diag(Codes.WrongValueType, `${what} is of type \`${type}\`, but its default is ${JSON.stringify(s.default)}`, defAttr!.value.span));
      continue;
    }
    const given = overrides[name];
    let value: VarValue | undefined = s.default;
    if (given !== undefined) {
      const parsed = parseVarValue(type, given);
      if ('problem' in parsed) {
        ctx.report(
          diag(Codes.InvalidVariable, `--var ${name}=${given}: ${what} is of type \`${type}\`, so its value must be ${parsed.problem}`, b.labels[0].span),
        );
        // Checked on with the default (when there is one): the settings using it are not wrong.
        if (value !== undefined) vars.declared.set(name, { name, type, value, from: 'default', span: b.labels[0].span });
        continue;
      }
      value = parsed.value;
    }
    if (value === undefined) {
      ctx.report(
        diag(Codes.InvalidVariable, `${what} has no default and no value`, b.labels[0].span, { hint: `pass \`--var ${name}=…\` or add \`default = …\`` }),
      );
      continue;
    }
    vars.declared.set(name, {
      name,
      type,
      value,
      from: given !== undefined ? 'cli' : 'default',
      ...(s.description !== undefined ? { description: s.description } : {}),
      span: b.labels[0].span,
    });
  }
  for (const name of Object.keys(overrides).sort()) {
    if (blocks.some((b) => b.labels[0]?.text === name)) continue;
    ctx.report(
      diag(Codes.InvalidVariable, `--var ${name}=…: the spec declares no variable \`${name}\``, at, {
        hint:
          didYouMean(
            name,
            blocks.map((b) => b.labels[0]?.text ?? ''),
          ) ?? 'declare it with `var NAME { type = string  default = "…" }`',
      }),
    );
  }
  return vars;
}

/**
 * The pipeline's items with every `var("NAME")` value replaced by the variable's literal: copies of
 * the items a variable reaches, the others as they are (a spec without variables is not copied).
 */
export function substituteVars(ctx: Ctx, vars: Vars, items: readonly BodyItem[]): readonly BodyItem[] {
  const value = (v: Value): Value => {
    switch (v.kind) {
      case 'call': {
        if (v.name !== 'var') {
          const args = mapSame(v.args, arg);
          return args === v.args ? v : { ...v, args };
        }
        const a = v.args[0];
        if (v.args.length !== 1 || a.name !== undefined || a.value.kind !== 'string') {
          ctx.report(diag(Codes.WrongValueType, '`var(…)` takes one variable name, as a string', v.span, { hint: 'e.g. `var("min_kwh")`' }));
          return v;
        }
        const name = a.value.value;
        const d = vars.declared.get(name);
        if (!d) {
          if (!vars.names.has(name)) reportUnknown(ctx, vars, name, a.value.span);
          return v;
        }
        vars.uses.push({ name, span: v.span });
        return typeof d.value === 'string'
          ? { kind: 'string', value: d.value, span: v.span }
          : typeof d.value === 'number'
            ? { kind: 'number', value: d.value, text: String(d.value), span: v.span }
            : { kind: 'bool', value: d.value, span: v.span };
      }
      case 'list': {
        const items = mapSame(v.items, value);
        return items === v.items ? v : { ...v, items };
      }
      case 'map': {
        const entries = mapSame(v.entries, attr);
        return entries === v.entries ? v : { ...v, entries };
      }
      case 'tagged': {
        const entries = mapSame(v.map.entries, attr);
        return entries === v.map.entries ? v : { ...v, map: { ...v.map, entries } };
      }
      default:
        return v;
    }
  };
  const arg = (a: Arg): Arg => {
    const x = value(a.value);
    return x === a.value ? a : { ...a, value: x };
  };
  const attr = (a: Attribute): Attribute => {
    const x = value(a.value);
    return x === a.value ? a : { ...a, value: x };
  };
  const item = (it: BodyItem): BodyItem => {
    switch (it.kind) {
      case 'attribute':
        return attr(it);
      case 'block': {
        if (it.type === 'var' || !it.body) return it;
        const body = mapSame(it.body, item);
        return body === it.body ? it : { ...it, body };
      }
      case 'check': {
        if (it.sql) sqlUses(ctx, vars, it.sql.text, it.sql.bodySpan);
        const args = mapSame(it.args, arg);
        return args === it.args ? it : { ...it, args };
      }
      case 'sql':
        sqlUses(ctx, vars, it.text, it.bodySpan);
        return it;
    }
  };
  return mapSame(items, item);
}

/** `xs.map(f)`, or `xs` itself when `f` gives back every element as it is. */
function mapSame<T>(xs: readonly T[], f: (x: T) => T): readonly T[] {
  let out: T[] | undefined;
  for (let i = 0; i < xs.length; i++) {
    const y = f(xs[i]);
    if (out) out.push(y);
    else if (y !== xs[i]) {
      out = xs.slice(0, i);
      out.push(y);
    }
  }
  return out ?? xs;
}

function reportUnknown(ctx: Ctx, vars: Vars, name: string, span: Span): void {
  ctx.report(
    diag(Codes.UndefinedReference, `no variable \`${name}\` is declared`, span, {
      hint: didYouMean(name, vars.declared.keys()) ?? `declare it: \`var ${name} { type = string  default = "…" }\``,
    }),
  );
}

/** Records the `var('NAME')` uses of a SQL body and reports other tools' template syntax in it. */
function sqlUses(ctx: Ctx, vars: Vars, text: string, body: Span): void {
  const { vars: refs, templates } = scanSqlVars(text);
  for (const r of refs) {
    const span = offsetSpan(text, body, r.start, r.end);
    if (!vars.names.has(r.name)) reportUnknown(ctx, vars, r.name, span);
    else vars.uses.push({ name: r.name, span });
  }
  for (const t of templates) {
    const span = offsetSpan(text, body, t.start, t.end);
    const name = t.name && /^[A-Za-z_][A-Za-z0-9_]*$/.test(t.name) ? t.name : 'name';
    ctx.report(
      diag(
        Codes.SqlTemplating,
        t.kind === 'jinja'
          ? `asgard SQL is not a Jinja template: \`{{ … }}\` is not expanded`
          : `\`\${${t.name ?? '…'}}\` is not expanded in SQL: asgard does not substitute environment variables into SQL`,
        span,
        {
          hint: vars.declared.has(name)
            ? `write \`var('${name}')\``
            : `declare \`var ${name} { type = string  default = "…" }\` in the pipeline and write \`var('${name}')\`${t.kind === 'dollar' ? '; an environment variable can set it through `--var`' : ''}`,
        },
      ),
    );
  }
}

/** The values of the variables a SQL body uses, for SqlBody.vars. */
export function bodyVars(vars: Vars, text: string): Record<string, VarValue> | undefined {
  const out: Record<string, VarValue> = {};
  for (const r of scanSqlVars(text).vars) {
    const d = vars.declared.get(r.name);
    if (d) out[r.name] = d.value;
  }
  return Object.keys(out).length ? sortRecord(out) : undefined;
}
