// Human renderings of a plan: terraform-like text for the terminal and markdown for a pull-request
// comment. Both are deterministic (the plan's order, no timestamps); colour only when asked.

import type { Action, Plan, PlannedAction, SchemaChange } from './plan.js';

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
      return `- ${c.column} ${c.from ?? ''}`.trimEnd() + ' (breaking)';
    case 'type_changed':
      return `~ ${c.column} ${c.from} → ${c.to} (breaking)`;
  }
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
    out.push(`${paint(color, colour[a.action], head)}  (${a.kind}, ${a.action}${a.metadataOnly ? ', metadata only' : ''})`);
    for (const r of a.reasons) out.push(`        ${r}`);
    if (a.schemaChanges.length) {
      out.push('        schema:');
      for (const c of a.schemaChanges) out.push(`          ${schemaChangeText(c)}`);
    }
    if (a.downstream.length && !a.metadataOnly && a.action !== 'delete') out.push(`        downstream: ${a.downstream.join(', ')}`);
    out.push('');
  }
  if (plan.summary.noop) out.push(`${plan.summary.noop} unchanged.`);
  out.push(paint(color, '1', summaryLine(plan)));
  return out.join('\n') + '\n';
}

const mdCell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
const code = (s: string) => `\`${s.replace(/`/g, "'")}\``;

export function renderPlanMarkdown(plan: Plan): string {
  const changes = plan.actions.filter((a) => a.action !== 'noop');
  const against = plan.against.kind === 'base' ? `base ${code(plan.against.ref)}` : 'the applied state';
  const out = [`### asgard plan: ${code(plan.pipeline)} (profile ${code(plan.profile)}) against ${against}`, ''];
  out.push(`**${summaryLine(plan)}** ${plan.summary.noop} unchanged.`, '');
  if (changes.length === 0) {
    out.push('No changes.');
    return out.join('\n') + '\n';
  }
  out.push('| action | node | kind | reasons |', '| --- | --- | --- | --- |');
  for (const a of changes) {
    out.push(`| ${symbol[a.action]} ${a.action} | ${code(a.node)} | ${a.kind} | ${mdCell(a.reasons.join('; '))} |`);
  }
  out.push('');
  for (const a of changes) out.push(...detailsSection(a), '');
  return out.join('\n');
}

function detailsSection(a: PlannedAction): string[] {
  const out = [`<details><summary><code>${a.node}</code>: ${a.action}${a.metadataOnly ? ' (metadata only)' : ''}</summary>`, ''];
  for (const r of a.reasons) out.push(`- ${r}`);
  if (a.schemaChanges.length) {
    out.push('', '| column | change | from | to | breaking |', '| --- | --- | --- | --- | --- |');
    for (const c of a.schemaChanges) {
      out.push(`| ${code(c.column)} | ${c.change} | ${c.from ? code(c.from) : ''} | ${c.to ? code(c.to) : ''} | ${c.breaking ? 'yes' : 'no'} |`);
    }
  }
  if (a.downstream.length && !a.metadataOnly && a.action !== 'delete') {
    out.push('', `Downstream (${a.downstream.length}): ${a.downstream.map(code).join(', ')}`);
  }
  out.push('', '</details>');
  return out;
}
