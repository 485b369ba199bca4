// `check KIND(args)` items → IR checks. Every check gets a name: the `name = "…"` argument, or one
// derived from the check (`unique(customer_id)`, `sql_2`), so a failure always says which check
// failed. `expression` and `relationships` are turned into a query that returns the offending rows
// (the same form as `check sql`), so the engine and every target run them like a custom SQL check.
// The reference of each kind is docs/language.md, "Checks".

import { Codes, diag, didYouMean } from '../../diagnostics/catalogue.js';
import type { Check, NodeId, SqlBody, Span } from '../../ir/types.js';
import type { Arg, CheckItem, Value } from '../ast.js';
import type { Ctx } from './context.js';
import { describeValue } from './plain.js';

/** The check kinds of cleanse and model blocks. */
export const TABLE_CHECKS = ['not_null', 'unique', 'accepted_values', 'row_count', 'sql', 'expression', 'relationships'] as const;
/** The check kinds of stream blocks. */
export const STREAM_CHECKS = ['freshness'] as const;

const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Checks of one block; `self` is the table the block writes. Names are unique within the block. */
export function toChecks(ctx: Ctx, items: readonly CheckItem[], what: string, self: NodeId, allowed: readonly string[]): Check[] {
  const out: Check[] = [];
  const seen = new Map<string, Span>();
  let sqlCount = 0;
  for (const item of items) {
    const { named, args } = takeName(ctx, item);
    if (named === null) continue;
    if (!allowed.includes(item.name)) {
      const elsewhere = (TABLE_CHECKS as readonly string[]).includes(item.name) || (STREAM_CHECKS as readonly string[]).includes(item.name);
      ctx.report(
        diag(
          Codes.InvalidCheck,
          elsewhere ? `\`${item.name}\` checks are not allowed in ${what}` : `unknown check \`${item.name}\` in ${what}`,
          item.nameSpan,
          {
            hint: didYouMean(item.name, allowed) ?? `${what} takes ${allowed.map((k) => `\`${k}\``).join(', ')} checks`,
          },
        ),
      );
      continue;
    }
    if (item.name === 'sql') sqlCount++;
    const check = toCheck(ctx, item, args, self, sqlCount);
    if (!check) continue;
    const name = named ?? check.name;
    const prev = seen.get(name);
    if (prev) {
      ctx.report(
        diag(Codes.DuplicateName, `${what} has two checks named \`${name}\``, item.span, {
          hint: 'give one of them `name = "…"`',
          related: [{ message: 'the other one', span: prev }],
        }),
      );
      continue;
    }
    seen.set(name, item.span);
    out.push({ ...check, name });
  }
  return out;
}

/** Splits off the `name = "…"` argument; `named` is null when it was malformed (reported). */
function takeName(ctx: Ctx, c: CheckItem): { named: string | undefined | null; args: Arg[] } {
  const args = c.args.filter((a) => a.name !== 'name');
  const arg = c.args.find((a) => a.name === 'name');
  if (!arg) return { named: undefined, args };
  if (arg.value.kind !== 'string' || !IDENT.test(arg.value.value)) {
    ctx.report(
      diag(Codes.InvalidCheck, `a check's \`name\` must be a string of letters, digits and \`_\`, got ${describeValue(arg.value)}`, arg.value.span, {
        hint: 'e.g. `check sql(name = "no_negative_amounts") """ … """`',
      }),
    );
    return { named: null, args };
  }
  return { named: arg.value.value, args };
}

function columnArg(ctx: Ctx, c: CheckItem, a: Arg | undefined): string | undefined {
  if (a && a.name === undefined && a.value.kind === 'ref' && a.value.parts.length === 1) return a.value.text;
  if (a && a.name === undefined && a.value.kind === 'string') return a.value.value;
  ctx.report(
    diag(Codes.InvalidCheck, `\`${c.name}\` takes a column name first${a ? `, got ${describeValue(a.value)}` : ''}`, a?.span ?? c.span, {
      hint: `e.g. \`check ${c.name}(customer_id)\``,
    }),
  );
  return undefined;
}

function literal(v: Value): string | number | boolean | undefined {
  return v.kind === 'string' || v.kind === 'number' || v.kind === 'bool' ? v.value : undefined;
}

/** A check's SQL derived from a template: `span` is placed so that offset `anchor` lands on `at`. */
function derivedSql(text: string, at: Span, anchor: number): SqlBody {
  return { text, span: { ...at, column: at.column - anchor, endColumn: at.column - anchor + 1, endLine: at.line }, reads: [], normalized: '' };
}

function toCheck(ctx: Ctx, c: CheckItem, args: readonly Arg[], self: NodeId, sqlIndex: number): Check | undefined {
  const n = args.length;
  const sqlAfterArgs = c.sql && c.name !== 'sql';
  if (sqlAfterArgs) {
    ctx.report(diag(Codes.InvalidCheck, `only \`check sql\` takes a """ SQL body """`, c.span));
    return undefined;
  }
  switch (c.name) {
    case 'not_null':
    case 'unique': {
      const column = columnArg(ctx, c, args[0]);
      if (!column) return undefined;
      if (n > 1) ctx.report(diag(Codes.InvalidCheck, `\`${c.name}\` takes one column`, args[1].span, { hint: `write one \`check ${c.name}(…)\` per column` }));
      return n > 1 ? undefined : { kind: c.name, name: `${c.name}(${column})`, column, span: c.span };
    }
    case 'accepted_values': {
      const column = columnArg(ctx, c, args[0]);
      if (!column) return undefined;
      const listArg = args[1];
      if (!listArg || listArg.value.kind !== 'list' || n > 2) {
        ctx.report(
          diag(Codes.InvalidCheck, '`accepted_values` takes a column and a list of values', listArg?.span ?? c.span, {
            hint: 'e.g. `check accepted_values(status, ["active", "inactive"])`',
          }),
        );
        return undefined;
      }
      const values: (string | number | boolean)[] = [];
      for (const item of listArg.value.items) {
        const v = literal(item);
        if (v === undefined) {
          ctx.report(diag(Codes.InvalidCheck, `accepted values must be strings, numbers or booleans, got ${describeValue(item)}`, item.span));
          return undefined;
        }
        values.push(v);
      }
      return { kind: 'accepted_values', name: `accepted_values(${column})`, column, values, span: c.span };
    }
    case 'row_count': {
      let min: number | undefined;
      let max: number | undefined;
      for (const a of args) {
        if ((a.name === 'min' || a.name === 'max') && a.value.kind === 'number' && Number.isInteger(a.value.value) && a.value.value >= 0) {
          if (a.name === 'min') min = a.value.value;
          else max = a.value.value;
        } else {
          ctx.report(
            diag(Codes.InvalidCheck, '`row_count` takes `min = N` and/or `max = N` (non-negative integers)', a.span, {
              hint: 'e.g. `check row_count(min = 1)`',
            }),
          );
          return undefined;
        }
      }
      if (min === undefined && max === undefined) {
        ctx.report(diag(Codes.InvalidCheck, '`row_count` needs `min` or `max`', c.span, { hint: 'e.g. `check row_count(min = 1)`' }));
        return undefined;
      }
      if (min !== undefined && max !== undefined && min > max) {
        ctx.report(diag(Codes.InvalidCheck, `\`row_count\` has min ${min} greater than max ${max}`, c.span));
        return undefined;
      }
      const name = `row_count(${[min !== undefined ? `min = ${min}` : '', max !== undefined ? `max = ${max}` : ''].filter(Boolean).join(', ')})`;
      return { kind: 'row_count', name, ...(min !== undefined ? { min } : {}), ...(max !== undefined ? { max } : {}), span: c.span };
    }
    case 'sql': {
      if (!c.sql || n > 0) {
        ctx.report(
          diag(
            Codes.InvalidCheck,
            '`check sql` takes a """ SQL body """ that returns the offending rows (and optionally `(name = "…")`)',
            n > 0 ? args[0].span : c.span,
            { hint: 'e.g. `check sql(name = "positive_amounts") """ SELECT * FROM silver.x WHERE amount < 0 """`' },
          ),
        );
        return undefined;
      }
      if (!c.sql.terminated) return undefined;
      return { kind: 'sql', name: `sql_${sqlIndex}`, sql: { text: c.sql.text, span: c.sql.bodySpan, reads: [], normalized: '' }, span: c.span };
    }
    case 'expression': {
      const a = args[0];
      if (!a || a.name !== undefined || a.value.kind !== 'string' || a.value.value.trim() === '' || a.value.value.includes('\n') || n > 1) {
        ctx.report(
          diag(Codes.InvalidCheck, '`expression` takes one row-level boolean as a string', a?.span ?? c.span, {
            hint: 'e.g. `check expression("amount >= 0 AND amount < 10000")`',
          }),
        );
        return undefined;
      }
      const expr = a.value.value;
      const prefix = `SELECT * FROM ${self} WHERE NOT (`;
      const sql = derivedSql(`${prefix}${expr})`, { ...a.value.span, column: a.value.span.column + 1 }, prefix.length);
      return { kind: 'expression', name: `expression(${expr})`, expression: expr, sql, span: c.span };
    }
    case 'relationships': {
      const column = columnArg(ctx, c, args[0]);
      if (!column) return undefined;
      const to = args.find((x) => x.name === 'to');
      const extra = args.slice(1).find((x) => x.name !== 'to');
      if (!to || to.value.kind !== 'ref' || to.value.parts.length !== 3 || extra) {
        ctx.report(
          diag(Codes.InvalidCheck, "`relationships` takes a column and `to = layer.table.column` (the parent table's key)", (extra ?? to)?.span ?? c.span, {
            hint: 'e.g. `check relationships(station_id, to = silver.stations.station_id)`',
          }),
        );
        return undefined;
      }
      const [layer, table, key] = to.value.parts;
      const parent = `${layer}.${table}`;
      const prefix = `SELECT c.${column} FROM ${self} AS c WHERE c.${column} IS NOT NULL AND NOT EXISTS (SELECT 1 FROM `;
      const sql = derivedSql(`${prefix}${parent} AS p WHERE p.${key} = c.${column})`, to.value.span, prefix.length);
      return { kind: 'relationships', name: `relationships(${column}, ${to.value.text})`, column, to: { table: parent, column: key }, sql, span: c.span };
    }
    case 'freshness': {
      const column = columnArg(ctx, c, args[0]);
      if (!column) return undefined;
      let warn: number | undefined;
      let error: number | undefined;
      for (const a of args.slice(1)) {
        if ((a.name === 'warn_after' || a.name === 'error_after') && a.value.kind === 'duration' && a.value.seconds > 0) {
          if (a.name === 'warn_after') warn = a.value.seconds;
          else error = a.value.seconds;
        } else {
          ctx.report(
            diag(Codes.InvalidCheck, '`freshness` takes a column, then `warn_after` and/or `error_after` (durations)', a.span, {
              hint: 'e.g. `check freshness(updated_at, warn_after = 6h, error_after = 1d)`',
            }),
          );
          return undefined;
        }
      }
      if (warn === undefined && error === undefined) {
        ctx.report(
          diag(Codes.InvalidCheck, '`freshness` needs `warn_after` or `error_after`', c.span, { hint: 'e.g. `check freshness(updated_at, error_after = 1d)`' }),
        );
        return undefined;
      }
      return {
        kind: 'freshness',
        name: `freshness(${column})`,
        column,
        ...(warn !== undefined ? { warnAfterSeconds: warn } : {}),
        ...(error !== undefined ? { errorAfterSeconds: error } : {}),
        span: c.span,
      };
    }
    default:
      return undefined;
  }
}
