// A plan as a pull-request comment (GitHub-flavoured markdown): a summary line, a table of the
// changed nodes with category, action, impact and cost, a mermaid graph of the affected subgraph,
// and per node a collapsible section with its reasons, impact, semantic SQL diff, schema diff and
// data diff. Deterministic (the plan's order, no timestamps). GitHub refuses comments over 65,536
// characters: a plan that does not fit drops detail in steps (data examples, then SQL text, then
// the sections of non-breaking nodes, then the graph, then table rows) and says what it dropped.

import type { SqlChange } from '../sql/sql-diff.js';
import type { Plan, PlannedAction, SchemaChange } from './plan.js';
import type { Category } from './review.js';
import { summaryLine } from './plan-render.js';
import { groupDigits } from '../util/digits.js';

/** GitHub's limit on one comment, in characters. */
export const GITHUB_COMMENT_LIMIT = 65_536;
/** What we aim under, leaving room for a CI wrapper's own header (the example workflow adds a marker). */
const BUDGET = 60_000;

const symbol = { create: '+', update: '~', replace: '-/+', delete: '-', noop: ' ' } as const;
const badge: Record<Category, string> = { breaking: '🔴 breaking', 'non-breaking': '🟢 non-breaking', metadata: '🔵 metadata', none: '⚪ none' };
const ORDER: readonly Category[] = ['breaking', 'non-breaking', 'metadata', 'none'];

const cell = (s: string) => s.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
const code = (s: string) => {
  const t = s.replace(/\r?\n/g, ' ');
  const ticks = t.includes('`') ? '``' : '`';
  return `${ticks}${ticks === '``' ? ` ${t} ` : t}${ticks}`;
};
const html = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

interface Detail {
  sqlText: boolean;
  dataExamples: boolean;
  /** Sections only for nodes of these categories. */
  sections: ReadonlySet<Category>;
  graph: boolean;
  /** At most this many table rows. */
  rows: number;
}

export function renderPlanMarkdown(plan: Plan): string {
  const steps: Detail[] = [
    { sqlText: true, dataExamples: true, sections: new Set(ORDER), graph: true, rows: Infinity },
    { sqlText: true, dataExamples: false, sections: new Set(ORDER), graph: true, rows: Infinity },
    { sqlText: false, dataExamples: false, sections: new Set(ORDER), graph: true, rows: Infinity },
    { sqlText: false, dataExamples: false, sections: new Set<Category>(['breaking']), graph: true, rows: Infinity },
    { sqlText: false, dataExamples: false, sections: new Set<Category>(['breaking']), graph: false, rows: Infinity },
    { sqlText: false, dataExamples: false, sections: new Set<Category>(), graph: false, rows: Infinity },
  ];
  for (const d of steps) {
    const md = render(plan, d, d !== steps[0]);
    if (md.length <= BUDGET) return md;
  }
  // Still too big: as many table rows as fit (breaking first, the order of `changes`).
  let rows = 200;
  for (;;) {
    const md = render(plan, { sqlText: false, dataExamples: false, sections: new Set(), graph: false, rows }, true);
    if (md.length <= BUDGET || rows <= 1) return md;
    rows = Math.floor(rows / 2);
  }
}

function changesOf(plan: Plan): PlannedAction[] {
  const rank = (a: PlannedAction) => ORDER.indexOf(a.category ?? 'none');
  // Breaking first, then the plan's (topological) order: a reviewer reads the worst first.
  return plan.actions
    .map((a, i) => ({ a, i }))
    .filter(({ a }) => a.action !== 'noop')
    .sort((x, y) => rank(x.a) - rank(y.a) || x.i - y.i)
    .map(({ a }) => a);
}

function render(plan: Plan, d: Detail, shortened: boolean): string {
  const changes = changesOf(plan);
  const against = plan.against.kind === 'base' ? `base ${code(plan.against.ref)}` : 'the applied state';
  const out = [`### asgard plan: ${code(plan.pipeline)} (profile ${code(plan.profile)}) against ${against}`, ''];
  const counts = ORDER.map((c) => [c, changes.filter((a) => (a.category ?? 'none') === c).length] as const).filter(([, n]) => n > 0);
  const verdict = counts.some(([c]) => c === 'breaking') ? '**Breaking changes.**' : changes.length ? '**No breaking change.**' : '**No changes.**';
  out.push(
    `${verdict} ${summaryLine(plan)} ${plan.summary.noop} unchanged.${counts.length ? ` By category: ${counts.map(([c, n]) => `${n} ${c}`).join(', ')}.` : ''}`,
    '',
  );
  if (changes.length === 0) return out.join('\n') + '\n';

  const shown = changes.slice(0, d.rows);
  out.push('| node | kind | action | category | impact | cost |', '| --- | --- | --- | --- | --- | --- |');
  for (const a of shown) {
    const impact = (a.impact ?? []).length ? `${a.impact!.length} downstream${a.impact!.some((i) => i.breaking) ? ' (breaking)' : ''}` : '';
    out.push(
      `| ${code(a.node)} | ${a.kind} | ${symbol[a.action]} ${a.action}${a.metadataOnly ? ' (metadata only)' : ''} | ${badge[a.category ?? 'none']} | ${impact} | ${costText(a)} |`,
    );
  }
  if (shown.length < changes.length) out.push('', `…and ${changes.length - shown.length} more changed nodes (run \`asgard plan --format json\` for all).`);
  out.push('');
  const backfill = totalCost(changes);
  if (backfill) out.push(`Rebuild cost, from the last runs: ${backfill}.`, '');

  if (d.graph) out.push(...mermaid(plan, changes), '');
  for (const a of shown) if (d.sections.has(a.category ?? 'none')) out.push(...section(a, d), '');
  if (shortened)
    out.push(
      `<sub>This plan was shortened to fit a pull-request comment (${groupDigits(GITHUB_COMMENT_LIMIT)} characters); \`asgard plan --format json\` has every detail.</sub>`,
      '',
    );
  return out.join('\n');
}

function costText(a: PlannedAction): string {
  const c = a.cost;
  if (!c) return '';
  const parts = [];
  if (c.rows !== undefined) parts.push(`${groupDigits(c.rows)} rows`);
  if (c.seconds !== undefined) parts.push(`${c.seconds.toFixed(1)} s`);
  return parts.join(', ');
}

function totalCost(changes: readonly PlannedAction[]): string {
  const rebuild = changes.filter((a) => a.cost && (a.action === 'update' || a.action === 'replace') && !a.metadataOnly);
  if (!rebuild.length) return '';
  const rows = rebuild.reduce((s, a) => s + (a.cost?.rows ?? 0), 0);
  const secs = rebuild.reduce((s, a) => s + (a.cost?.seconds ?? 0), 0);
  return `${rebuild.length} node${rebuild.length === 1 ? '' : 's'}, ${groupDigits(rows)} rows, about ${secs.toFixed(1)} s`;
}

/** The affected subgraph: changed nodes, the edges between them, and where they read from unchanged ones. */
function mermaid(plan: Plan, changes: readonly PlannedAction[]): string[] {
  const ids = new Set(changes.map((a) => a.node));
  const mid = (id: string) => 'n_' + id.replace(/[^A-Za-z0-9_]/g, '_');
  const lines = ['```mermaid', 'graph LR'];
  const byNode = new Map(plan.actions.map((a) => [a.node, a]));
  for (const a of changes) lines.push(`  ${mid(a.node)}["${a.node}<br/>${a.action} · ${a.category ?? 'none'}"]:::${(a.category ?? 'none').replace('-', '')}`);
  const edges = new Set<string>();
  for (const a of plan.actions) {
    for (const child of a.downstream) {
      const direct = byNode.get(child);
      // Only the direct edges among the changed nodes: `downstream` is transitive, so keep an
      // edge when no other changed node lies between.
      if (!ids.has(a.node) || !ids.has(child) || !direct) continue;
      const between = a.downstream.some((m) => m !== child && ids.has(m) && (byNode.get(m)?.downstream ?? []).includes(child));
      if (!between) edges.add(`  ${mid(a.node)} --> ${mid(child)}`);
    }
  }
  lines.push(...[...edges].sort());
  lines.push(
    '  classDef breaking fill:#ffd7d5,stroke:#cf222e',
    '  classDef nonbreaking fill:#dafbe1,stroke:#1a7f37',
    '  classDef metadata fill:#ddf4ff,stroke:#0969da',
    '  classDef none fill:#f6f8fa,stroke:#8c959f',
    '```',
  );
  return lines;
}

function section(a: PlannedAction, d: Detail): string[] {
  const out = [`<details><summary><code>${html(a.node)}</code>: ${a.action} · ${a.category ?? 'none'}</summary>`, ''];
  for (const r of a.reasons) out.push(`- ${r}`);
  if (a.impact?.length) {
    out.push('', '**Impact**', '');
    for (const i of a.impact) {
      const cols = i.columns.length ? ` reads ${i.columns.map(code).join(', ')}` : '';
      out.push(`- ${code(i.node)}${cols}: ${i.effect}${i.breaking ? ' **(breaking)**' : ''}`);
    }
  }
  if (a.sqlDiff?.length) out.push('', '**SQL diff** (structure, not lines)', '', ...sqlDiffTable(a.sqlDiff, d.sqlText));
  if (a.schemaChanges.length) out.push('', '**Schema diff**', '', ...schemaTable(a.schemaChanges));
  if (a.dataDiff) out.push('', '**Data diff**', '', ...dataDiffLines(a.dataDiff, d.dataExamples));
  out.push('', '</details>');
  return out;
}

function sqlDiffTable(changes: readonly SqlChange[], withText: boolean): string[] {
  const out = withText
    ? ['| scope | clause | change | item | before | after |', '| --- | --- | --- | --- | --- | --- |']
    : ['| scope | clause | change | item |', '| --- | --- | --- | --- |'];
  for (const c of changes) {
    const base = `| ${cell(c.scope)} | ${c.clause.replace('_', ' ')} | ${c.change} | ${c.item ? code(c.item) : ''} |`;
    out.push(withText ? `${base} ${c.before ? cell(code(c.before)) : ''} | ${c.after ? cell(code(c.after)) : ''} |` : base);
  }
  return out;
}

function schemaTable(changes: readonly SchemaChange[]): string[] {
  const out = ['| column | change | from | to | breaking |', '| --- | --- | --- | --- | --- |'];
  for (const c of changes)
    out.push(`| ${code(c.column)} | ${c.change} | ${c.from ? code(c.from) : ''} | ${c.to ? code(c.to) : ''} | ${c.breaking ? 'yes' : 'no'} |`);
  return out;
}

function dataDiffLines(dd: NonNullable<PlannedAction['dataDiff']>, examples: boolean): string[] {
  const out: string[] = [];
  if (dd.error) return [`Not compared: ${dd.error}`];
  const rows = dd.rows;
  if (rows) {
    out.push(
      `Rows: ${groupDigits(rows.before)} → ${groupDigits(rows.after)}; by ${dd.key.map(code).join(', ')}: ${rows.added} added, ${rows.removed} removed, ${rows.changed} changed, ${rows.unchanged} unchanged.${dd.sample ? ` (Sample of ${groupDigits(dd.sample)} keys.)` : ''}`,
    );
    if (examples && (rows.addedKeys.length || rows.removedKeys.length)) {
      if (rows.addedKeys.length) out.push(`Added, e.g.: ${rows.addedKeys.map(code).join(', ')}`);
      if (rows.removedKeys.length) out.push(`Removed, e.g.: ${rows.removedKeys.map(code).join(', ')}`);
    }
  }
  if (dd.columns.length) {
    out.push('', examples ? '| column | changed values | e.g. keys |' : '| column | changed values |', examples ? '| --- | --- | --- |' : '| --- | --- |');
    for (const c of dd.columns)
      out.push(examples ? `| ${code(c.column)} | ${c.changed} | ${c.exampleKeys.map(code).join(', ')} |` : `| ${code(c.column)} | ${c.changed} |`);
  }
  if (dd.distributions?.length) {
    out.push('', '| feature | mean before | mean after | null share before | null share after |', '| --- | --- | --- | --- | --- |');
    for (const f of dd.distributions)
      out.push(`| ${code(f.column)} | ${num(f.before.mean)} | ${num(f.after.mean)} | ${num(f.before.nullShare)} | ${num(f.after.nullShare)} |`);
  }
  if (dd.scores) {
    const s = dd.scores;
    out.push(
      '',
      `Model scores (version ${s.version}) on ${groupDigits(s.rows)} entities: mean ${num(s.before.mean)} → ${num(s.after.mean)}; ${s.changed} scores change; ${s.flipped} predictions flip at ${num(s.threshold)} (${s.flips.toPositive} to positive, ${s.flips.toNegative} to negative); mean absolute change ${num(s.meanAbsChange)}.`,
      '',
      '| score change | min | p10 | median | p90 | max |',
      '| --- | --- | --- | --- | --- | --- |',
      `| after − before | ${num(s.delta.min)} | ${num(s.delta.p10)} | ${num(s.delta.p50)} | ${num(s.delta.p90)} | ${num(s.delta.max)} |`,
    );
  }
  return out;
}

const num = (x: number | null | undefined) => (x === null || x === undefined ? '' : Number.isInteger(x) ? String(x) : x.toFixed(4));
