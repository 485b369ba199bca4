// `cleanse NAME { … sql """…""" check … }` → silver nodes, `model NAME { … }` → gold nodes.

import { Codes, diag, didYouMean } from '../../diagnostics/catalogue.js';
import type { Check, CleanseNode, ModelNode, SqlBody } from '../../ir/types.js';
import type { Arg, Block, CheckItem, Value } from '../ast.js';
import { type Ctx, type Draft, headerSpan, labelsOf, rejectExtra, rowGuardOf, splitBody, stubNode } from './context.js';
import { describeValue } from './plain.js';
import { cleanseSchema, modelSchema } from './schemas.js';
import { validateSettings } from './settings.js';

const list = (v: string | readonly string[] | undefined): string[] => (v === undefined ? [] : typeof v === 'string' ? [v] : [...v]);

export function checkTransform(ctx: Ctx, b: Block, kind: 'cleanse' | 'model'): void {
  const labels = labelsOf(ctx, b, ['name'], `${kind} NAME { … }`);
  if (!labels) return;
  const [name] = labels;
  const body = splitBody(b.body);
  const what = `${kind} \`${name}\``;
  rejectExtra(ctx, body, what, { sql: true, checks: true });
  const sqlItems = body.sqls.filter((s) => s.key === 'sql');
  if (sqlItems.length === 0) ctx.report(diag(Codes.MissingSetting, `${what} has no \`sql\` body`, headerSpan(b), { hint: 'add `sql """ SELECT … """`' }));
  for (const extra of sqlItems.slice(1)) ctx.report(diag(Codes.DuplicateSetting, `${what} has more than one \`sql\` body`, extra.keySpan, { related: [{ message: 'first body here', span: sqlItems[0].keySpan }] }));

  const id = `${kind === 'cleanse' ? 'silver' : 'gold'}.${name}`;
  // Invalid settings fall back to defaults so the SQL is still analysed: all errors in one run.
  const settings =
    (kind === 'cleanse' ? validateSettings(cleanseSchema, body.attrs, { what, span: headerSpan(b) }, ctx.diags) : validateSettings(modelSchema, body.attrs, { what, span: headerSpan(b) }, ctx.diags)) ??
    {};
  const checks: Check[] = [];
  for (const c of body.checks) {
    const check = toCheck(ctx, c, what);
    if (check) checks.push(check);
  }
  if (sqlItems.length === 0 || !sqlItems[0].terminated) return stubNode(ctx, b, id, kind, name);
  const s0 = sqlItems[0];
  const sql: SqlBody = { text: s0.text, span: s0.bodySpan, reads: [], normalized: '' };

  const base = {
    id,
    name,
    span: b.span,
    inputs: [],
    ...('description' in settings && settings.description !== undefined ? { description: settings.description } : {}),
    ...('tags' in settings && settings.tags !== undefined ? { tags: settings.tags } : {}),
    ...rowGuardOf(settings as { max_row_drop?: number; allow_empty?: boolean }),
    sql,
    partitionBy: list('partition_by' in settings ? settings.partition_by : undefined),
    checks,
  };
  let node: CleanseNode | ModelNode;
  if (kind === 'cleanse') {
    const s = settings as { mode?: 'overwrite' | 'append' };
    node = { ...base, kind: 'cleanse', layer: 'silver', mode: s.mode ?? 'overwrite' };
  } else {
    const s = settings as { materialized?: 'table' | 'view' | 'incremental'; unique_key?: string | string[]; incremental_by?: string };
    const materialized = s.materialized ?? 'table';
    for (const key of ['incremental_by', 'unique_key'] as const) {
      const a = body.attrs.find((x) => x.key === key);
      if (a && materialized !== 'incremental') {
        ctx.report(diag(Codes.InvalidValue, `\`${key}\` only applies to incremental models, but ${what} is materialized as \`${materialized}\``, a.keySpan, { hint: 'add `materialized = incremental` or remove the setting' }));
      }
    }
    node = {
      ...base,
      kind: 'model',
      layer: 'gold',
      materialized,
      uniqueKey: list(s.unique_key),
      ...(s.incremental_by !== undefined ? { incrementalBy: s.incremental_by } : {}),
    };
  }
  const draft: Draft = { node, inputs: new Set(), at: headerSpan(b) };
  ctx.drafts.push(draft);
  ctx.sql.push({ body: sql, draft, isCheck: false });
  for (const c of checks) if (c.sql) ctx.sql.push({ body: c.sql, draft, isCheck: true });
}

const CHECKS = ['not_null', 'unique', 'accepted_values', 'row_count', 'sql'];

function columnArg(ctx: Ctx, c: CheckItem, a: Arg | undefined): string | undefined {
  if (a && a.name === undefined && a.value.kind === 'ref' && a.value.parts.length === 1) return a.value.text;
  if (a && a.name === undefined && a.value.kind === 'string') return a.value.value;
  ctx.report(diag(Codes.InvalidCheck, `\`${c.name}\` takes a column name first${a ? `, got ${describeValue(a.value)}` : ''}`, a?.span ?? c.span, { hint: `e.g. \`check ${c.name}(customer_id)\`` }));
  return undefined;
}

function literal(v: Value): string | number | boolean | undefined {
  return v.kind === 'string' || v.kind === 'number' || v.kind === 'bool' ? v.value : undefined;
}

function toCheck(ctx: Ctx, c: CheckItem, what: string): Check | undefined {
  const n = c.args.length;
  switch (c.name) {
    case 'not_null':
    case 'unique': {
      const column = columnArg(ctx, c, c.args[0]);
      if (!column) return undefined;
      if (n > 1) ctx.report(diag(Codes.InvalidCheck, `\`${c.name}\` takes one column`, c.args[1].span, { hint: `write one \`check ${c.name}(…)\` per column` }));
      return n > 1 ? undefined : { kind: c.name, column, span: c.span };
    }
    case 'accepted_values': {
      const column = columnArg(ctx, c, c.args[0]);
      if (!column) return undefined;
      const listArg = c.args[1];
      if (!listArg || listArg.value.kind !== 'list' || n > 2) {
        ctx.report(diag(Codes.InvalidCheck, '`accepted_values` takes a column and a list of values', listArg?.span ?? c.span, { hint: 'e.g. `check accepted_values(status, ["active", "inactive"])`' }));
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
      return { kind: 'accepted_values', column, values, span: c.span };
    }
    case 'row_count': {
      let min: number | undefined;
      let max: number | undefined;
      for (const a of c.args) {
        if ((a.name === 'min' || a.name === 'max') && a.value.kind === 'number' && Number.isInteger(a.value.value) && a.value.value >= 0) {
          if (a.name === 'min') min = a.value.value;
          else max = a.value.value;
        } else {
          ctx.report(diag(Codes.InvalidCheck, '`row_count` takes `min = N` and/or `max = N` (non-negative integers)', a.span, { hint: 'e.g. `check row_count(min = 1)`' }));
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
      return { kind: 'row_count', ...(min !== undefined ? { min } : {}), ...(max !== undefined ? { max } : {}), span: c.span };
    }
    case 'sql': {
      if (!c.sql) {
        ctx.report(diag(Codes.InvalidCheck, '`check sql` takes a """ SQL body """ that returns the offending rows', c.span));
        return undefined;
      }
      if (!c.sql.terminated) return undefined;
      return { kind: 'sql', sql: { text: c.sql.text, span: c.sql.bodySpan, reads: [], normalized: '' }, span: c.span };
    }
    default:
      ctx.report(diag(Codes.InvalidCheck, `unknown check \`${c.name}\` in ${what}`, c.nameSpan, { hint: didYouMean(c.name, CHECKS) ?? `checks: ${CHECKS.join(', ')}` }));
      return undefined;
  }
}
