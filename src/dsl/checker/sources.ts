// `source NAME TYPE { settings… stream NAME { … } }` → one SourceNode per stream (`bronze.<stream>`).

import { Codes, diag, didYouMean } from '../../diagnostics/catalogue.js';
import type { Connector, ConnectorType, Resolvable, SourceNode } from '../../ir/types.js';
import type { Block } from '../ast.js';
import { type Ctx, headerSpan, labelsOf, rejectExtra, rowGuardOf, splitBody, stubNode } from './context.js';
import { STREAM_CHECKS, toChecks } from './checks.js';
import { sourceSchemas, streamSchema } from './schemas.js';
import { validateSettings } from './settings.js';
import { toCron, toResolvable } from './values.js';

const TYPES = Object.keys(sourceSchemas) as ConnectorType[];

export function checkSource(ctx: Ctx, b: Block): void {
  const labels = labelsOf(ctx, b, ['name', 'type'], `source NAME ${TYPES.join('|')} { … }`);
  if (!labels) return stubStreams(ctx, b);
  const [name, type] = labels;
  if (!(TYPES as string[]).includes(type)) {
    ctx.report(
      diag(Codes.UnknownSourceType, `unknown source type \`${type}\``, b.labels[1].span, {
        hint: didYouMean(type, TYPES) ?? `source types: ${TYPES.join(', ')}`,
      }),
    );
    return stubStreams(ctx, b);
  }
  const ctype = type as ConnectorType;
  const body = splitBody(b.body);
  const what = `source \`${name}\``;
  rejectExtra(ctx, body, what, { blocks: ['stream'] });
  const parsed = validateSettings(sourceSchemas[ctype], body.attrs, { what, span: headerSpan(b) }, ctx.diags);

  const settings: Record<string, Resolvable> = {};
  let schedule: string | undefined;
  for (const a of body.attrs) {
    if (a.key === 'schedule') schedule = toCron(a.value, ctx.diags);
    else if (a.key === 'description' || a.key === 'tags') continue;
    else if (parsed) {
      const r = toResolvable(a.value, a.key, ctx.diags);
      if (r) settings[a.key] = r;
    }
  }
  const given = new Set(body.attrs.map((a) => a.key));
  if (parsed && (ctype === 'postgres' || ctype === 'mysql') && !given.has('url') && !(given.has('host') && given.has('database'))) {
    ctx.report(
      diag(Codes.MissingSetting, `${what} needs \`url\`, or \`host\` and \`database\``, headerSpan(b), {
        hint: 'e.g. `url = env("DB_URL", "postgres://user@127.0.0.1:5432/db")`',
      }),
    );
  }
  const connector: Connector = { name, type: ctype, settings, ...(schedule ? { schedule } : {}), span: b.span };
  const streams = body.blocks.filter((s) => s.type === 'stream');
  if (streams.length === 0)
    ctx.report(diag(Codes.MissingSetting, `${what} has no \`stream\` blocks`, headerSpan(b), { hint: 'add `stream NAME { primary_key = id }`' }));
  for (const s of streams) checkStream(ctx, s, connector);
}

/** A source whose header is wrong still declares its streams' tables (no cascade of unknown tables). */
function stubStreams(ctx: Ctx, b: Block): void {
  for (const s of splitBody(b.body).blocks) {
    const name = s.labels[0]?.text;
    if (s.type === 'stream' && s.labels.length === 1 && name !== undefined && /^[A-Za-z_][A-Za-z0-9_]*$/.test(name))
      stubNode(ctx, s, `bronze.${name}`, 'source', name);
  }
}

function checkStream(ctx: Ctx, b: Block, connector: Connector): void {
  const labels = labelsOf(ctx, b, ['name'], 'stream NAME { … }');
  if (!labels) return;
  const [name] = labels;
  const body = splitBody(b.body);
  const what = `stream \`${name}\``;
  rejectExtra(ctx, body, what, { checks: true });
  const checks = toChecks(ctx, body.checks, what, `bronze.${name}`, STREAM_CHECKS);
  const s = validateSettings(streamSchema, body.attrs, { what, span: headerSpan(b) }, ctx.diags);
  if (!s) return stubNode(ctx, b, `bronze.${name}`, 'source', name);
  const attr = (k: string) => body.attrs.find((a) => a.key === k);
  if (s.mode === 'incremental' && !s.cursor) {
    ctx.report(
      diag(Codes.IncrementalWithoutCursor, `${what} is incremental but has no \`cursor\``, attr('mode')!.value.span, {
        hint: 'add `cursor = updated_at` (a column that grows with every change)',
      }),
    );
    return stubNode(ctx, b, `bronze.${name}`, 'source', name);
  }
  const mode = s.mode ?? (s.cursor ? 'incremental' : 'full_refresh');
  if (connector.type === 'http' && s.table !== undefined)
    ctx.report(diag(Codes.UnknownSetting, `${what}: \`table\` is for database sources; http streams use \`path\``, attr('table')!.keySpan));
  if (connector.type !== 'http' && s.path !== undefined && connector.type !== 'file')
    ctx.report(diag(Codes.UnknownSetting, `${what}: \`path\` is for http and file sources; database streams use \`table\``, attr('path')!.keySpan));
  if (connector.type !== 'http' && s.pagination !== undefined)
    ctx.report(diag(Codes.UnknownSetting, `${what}: \`pagination\` is only for http sources`, attr('pagination')!.keySpan));
  const primaryKey = s.primary_key === undefined ? [] : typeof s.primary_key === 'string' ? [s.primary_key] : [...s.primary_key];
  const p = s.pagination;
  const node: SourceNode = {
    id: `bronze.${name}`,
    kind: 'source',
    layer: 'bronze',
    name,
    span: b.span,
    inputs: [],
    ...(s.description !== undefined ? { description: s.description } : {}),
    ...(s.tags !== undefined ? { tags: s.tags } : {}),
    ...rowGuardOf(s),
    connector,
    stream: {
      ...(s.table !== undefined ? { table: s.table } : {}),
      ...(s.path !== undefined ? { path: s.path } : {}),
      primaryKey,
      ...(s.cursor !== undefined ? { cursor: s.cursor } : {}),
      ...(s.columns !== undefined ? { columns: Object.entries(s.columns).map(([n, t]) => ({ name: n, type: t })) } : {}),
      mode,
      ...(s.lookback !== undefined ? { lookbackSeconds: s.lookback.seconds } : {}),
      ...(checks.length ? { checks } : {}),
      ...(p !== undefined
        ? {
            pagination: {
              style: p.style,
              ...(p.page_param !== undefined ? { pageParam: p.page_param } : {}),
              ...(p.size_param !== undefined ? { sizeParam: p.size_param } : {}),
              ...(p.page_size !== undefined ? { pageSize: p.page_size } : {}),
              ...(p.cursor_param !== undefined ? { cursorParam: p.cursor_param } : {}),
              ...(p.cursor_field !== undefined ? { cursorField: p.cursor_field } : {}),
              ...(p.records_field !== undefined ? { recordsField: p.records_field } : {}),
            },
          }
        : {}),
    },
  };
  ctx.drafts.push({ node, inputs: new Set(), at: headerSpan(b) });
}
