// The terminal rendering of a plan, terraform-like: deterministic (the plan's order, no
// timestamps), colour only when asked. The pull-request rendering is plan-markdown.ts.

import type { SqlChange } from '../sql/sql-diff.js';
import type { Action, Plan, SchemaChange } from './plan.js';

const symbol: Record<Action, string> = { create: '+', update: '~', replace: '-/+', delete: '-', noop: ' ' };
const colour: Record<Action, string> = { create: '32', update: '33', replace: '35', delete: '31', noop: '0' };
const paint = (on: boolean, code: string, s: string) => (on ? `\x1b[${code}m${s}\x1b[0m` : s);

export const summaryLine = (p: Plan) =>
  `Plan: ${p.summary.create} to create, ${p.summary.update} to update, ${p.summary.replace} to replace, ${p.summary.delete} to delete.`;

const schemaChangeText = (c: SchemaChange) => {
  switch (c.change) {
    case 'added':
      return `+ ${c.column} ${c.to ?? ''}`.trimEnd();
    case 'removed':
      return `- ${c.column} ${c.from ?? ''}`.trimEnd() + (c.breaking ? ' (breaking)' : '');
    case 'type_changed':
      return `~ ${c.column} ${c.from} → ${c.to}` + (c.breaking ? ' (breaking)' : '');
  }
};

const sqlChangeText = (c: SqlChange): string => {
  const what = `${c.scope}: ${c.clause.replace('_', ' ')} ${c.item ? `${c.item} ` : ''}${c.change}`;
  if (c.change === 'changed') return `${what}: ${c.before} → ${c.after}`;
  return `${what}: ${c.change === 'added' ? c.after : c.before}`;
};

export function renderPlanText(plan: Plan, opts: { color?: boolean } = {}): string {
  const color = opts.color ?? false;
  const changes = plan.actions.filter((a) => a.action !== 'noop');
  const against = plan.against.kind === 'base' ? `the base spec ${plan.against.ref}` : 'the applied state';
  if (changes.length === 0) {
    return `No changes. Pipeline ${plan.pipeline} matches ${against} (${plan.summary.noop} nodes unchanged).\n`;
  }
  const out = [`Pipeline ${plan.pipeline} (profile ${plan.profile}), compared with ${against}:`, ''];
  for (const a of changes) {
    const head = `${symbol[a.action].padStart(3)} ${a.node}`;
    const category = a.category ? `, ${a.category}` : '';
    out.push(`${paint(color, colour[a.action], head)}  (${a.kind}, ${a.action}${a.metadataOnly ? ', metadata only' : ''}${category})`);
    for (const r of a.reasons) out.push(`        ${r}`);
    if (a.maintenance) out.push(`        ${a.maintenance}`);
    for (const c of a.sqlDiff ?? []) out.push(`        sql: ${sqlChangeText(c)}`);
    if (a.schemaChanges.length) {
      out.push('        schema:');
      for (const c of a.schemaChanges) out.push(`          ${schemaChangeText(c)}`);
    }
    for (const i of a.impact ?? [])
      out.push(`        impact: ${i.node}${i.columns.length ? ` reads ${i.columns.join(', ')}` : ''}: ${i.effect}${i.breaking ? ' (breaking)' : ''}`);
    if (a.cost)
      out.push(
        `        last run: ${[a.cost.rows !== undefined ? `${a.cost.rows} rows` : '', a.cost.seconds !== undefined ? `${a.cost.seconds} s` : ''].filter(Boolean).join(', ')}`,
      );
    if (a.downstream.length && !a.metadataOnly && a.action !== 'delete') out.push(`        downstream: ${a.downstream.join(', ')}`);
    out.push('');
  }
  if (plan.summary.noop) out.push(`${plan.summary.noop} unchanged.`);
  out.push(paint(color, '1', summaryLine(plan)));
  return out.join('\n') + '\n';
}
