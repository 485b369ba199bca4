// `cleanse NAME { … sql """…""" check … }` → silver nodes, `model NAME { … }` → gold nodes.

import { Codes, diag } from '../../diagnostics/catalogue.js';
import type { CleanseNode, ModelNode, SqlBody } from '../../ir/types.js';
import type { Block } from '../ast.js';
import { TABLE_CHECKS, toChecks } from './checks.js';
import { type Ctx, type Draft, headerSpan, labelsOf, rejectExtra, rowGuardOf, splitBody, stubNode } from './context.js';
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
  for (const extra of sqlItems.slice(1))
    ctx.report(
      diag(Codes.DuplicateSetting, `${what} has more than one \`sql\` body`, extra.keySpan, {
        related: [{ message: 'first body here', span: sqlItems[0].keySpan }],
      }),
    );

  // Invalid settings fall back to defaults so the SQL is still analysed: all errors in one run.
  const validated =
    kind === 'cleanse'
      ? validateSettings(cleanseSchema, body.attrs, { what, span: headerSpan(b) }, ctx.diags)
      : validateSettings(modelSchema, body.attrs, { what, span: headerSpan(b) }, ctx.diags);
  // Rules across settings run only on settings that passed: one wrong setting must not make a right
  // one look wrong (`materialized` would read as its default).
  const settingsOk = validated !== undefined;
  const settings = validated ?? {};
  const id = `${kind === 'cleanse' ? 'silver' : 'gold'}.${name}`;
  const checks = toChecks(ctx, body.checks, what, id, TABLE_CHECKS);
  if (sqlItems.length === 0 || !sqlItems[0].terminated) return stubNode(ctx, b, id, kind, name);
  const s0 = sqlItems[0];
  const sql: SqlBody = { text: s0.text, span: s0.bodySpan, reads: [], normalized: '' };

  // Built property by property in the order the IR has always had (no spreads of partial objects:
  // a node per block, and the spreads cost a cold check ~3 KB of garbage and a slow copy each).
  const node: Record<string, unknown> = { id, name, span: b.span, inputs: [] };
  if ('description' in settings && settings.description !== undefined) node.description = settings.description;
  if ('tags' in settings && settings.tags !== undefined) node.tags = settings.tags;
  const { rowGuard } = rowGuardOf(settings as { max_row_drop?: number; allow_empty?: boolean });
  if (rowGuard) node.rowGuard = rowGuard;
  node.sql = sql;
  node.partitionBy = list('partition_by' in settings ? settings.partition_by : undefined);
  node.checks = checks;
  if (kind === 'cleanse') {
    const s = settings as { mode?: 'overwrite' | 'append' };
    node.kind = 'cleanse';
    node.layer = 'silver';
    node.mode = s.mode ?? 'overwrite';
  } else {
    const s = settings as {
      materialized?: 'table' | 'view' | 'incremental';
      unique_key?: string | string[];
      incremental_by?: string;
      lookback?: { seconds: number };
    };
    const materialized = s.materialized ?? 'table';
    const attr = (key: string) => body.attrs.find((x) => x.key === key);
    if (settingsOk && s.lookback !== undefined && (s.incremental_by === undefined || s.unique_key === undefined) && materialized === 'incremental') {
      ctx.report(
        diag(
          Codes.InvalidValue,
          `\`lookback\` re-reads rows the table already holds, so ${what} needs \`incremental_by\` and \`unique_key\` to merge them`,
          attr('lookback')!.keySpan,
          {
            hint: 'e.g. `incremental_by = day  unique_key = [station_id, day]  lookback = 3d`',
          },
        ),
      );
    }
    if (settingsOk && materialized === 'incremental' && s.incremental_by !== undefined && s.unique_key === undefined) {
      ctx.report(
        diag(
          Codes.IncrementalWithoutKey,
          `${what} takes only rows with \`${s.incremental_by}\` newer than the newest it holds: a late row for that newest value (or older) is never picked up`,
          attr('incremental_by')!.keySpan,
          {
            hint: 'add `unique_key = [...]` (the newest value is then re-read and merged) and a `lookback = 2d` for rows that arrive later still',
          },
        ),
      );
    }
    if (settingsOk && materialized !== 'incremental')
      for (const key of ['incremental_by', 'unique_key', 'lookback'] as const) {
        const a = attr(key);
        if (a) {
          ctx.report(
            diag(Codes.InvalidValue, `\`${key}\` only applies to incremental models, but ${what} is materialized as \`${materialized}\``, a.keySpan, {
              hint: 'add `materialized = incremental` or remove the setting',
            }),
          );
        }
      }
    node.kind = 'model';
    node.layer = 'gold';
    node.materialized = materialized;
    node.uniqueKey = list(s.unique_key);
    if (s.incremental_by !== undefined) node.incrementalBy = s.incremental_by;
    if (s.lookback !== undefined) node.lookbackSeconds = s.lookback.seconds;
  }
  const draft: Draft = { node: node as unknown as CleanseNode | ModelNode, inputs: new Set(), at: headerSpan(b) };
  ctx.drafts.push(draft);
  ctx.sql.push({ body: sql, draft, isCheck: false });
  for (const c of checks) if (c.sql) ctx.sql.push({ body: c.sql, draft, isCheck: true });
}
