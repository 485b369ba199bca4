// A node's page: what it is, its SQL as written and as each target runs it, its output schema,
// checks, last run, snapshots, neighbours, and one column's lineage (#/node/<id>/<column>).

import hljs from 'highlight.js/lib/core';
import sqlLang from 'highlight.js/lib/languages/sql';
import { append, fmtNumber, fmtSeconds, fmtTime, h, href } from './dom.js';
import type { Site, SiteNode } from './data.js';
import { STAGE_LABEL } from './graph.js';
import { lineageView } from './lineage.js';
import { nodeWithDetails } from './details.js';

hljs.registerLanguage('sql', sqlLang);

const DIALECT_LABEL: Record<string, string> = { duckdb: 'DuckDB', spark: 'Spark' };

/** Draws the page once the node's details are loaded, unless the page was left meanwhile. */
export async function nodePage(site: Site, root: HTMLElement, id: string, column: string | undefined): Promise<void> {
  const placeholder = h('p', { class: 'muted' }, 'Loading…');
  root.append(placeholder);
  let n: SiteNode | undefined;
  try {
    n = await nodeWithDetails(site, id);
  } catch (e) {
    if (placeholder.isConnected) placeholder.replaceWith(h('p', { class: 'card error-text' }, (e as Error).message));
    return;
  }
  if (!placeholder.isConnected) return;
  placeholder.remove();
  if (!n) {
    root.append(
      h(
        'div',
        { class: 'card' },
        h('h1', null, 'No such node'),
        h('p', null, `${id} is not in ${site.data.pipeline}. `, h('a', { href: '#/' }, 'Back to the graph')),
      ),
    );
    return;
  }
  append(root, [
    h(
      'header',
      { class: 'page-head' },
      h('div', { class: 'crumbs' }, h('a', { href: '#/' }, site.data.pipeline), ' / ', STAGE_LABEL[n.kind] ?? n.kind),
      h('h1', null, h('span', { class: `kind-badge kind-${n.kind}` }, STAGE_LABEL[n.kind] ?? n.kind), n.id),
      n.description ? h('p', { class: 'description' }, n.description) : h('p', { class: 'description muted' }, 'No description in the spec.'),
      n.where ? h('p', { class: 'where' }, n.where) : null,
      n.tags.length
        ? h(
            'p',
            null,
            n.tags.map((t) => h('span', { class: 'tag' }, t)),
          )
        : null,
    ),
    h('div', { class: 'grid' }, facts(n), lastRun(site, n), neighbours(site, n)),
    n.plan ? planCard(n) : null,
    n.sql ? sqlCard(n) : null,
    h('div', { class: 'grid wide-left' }, schemaCard(site, n, column), h('div', null, checksCard(site, n), snapshotsCard(n))),
  ]);
  if (column) {
    const card = h('section', { class: 'card', id: 'lineage' }, lineageView(site, n.id, column));
    root.append(card);
    card.scrollIntoView({ block: 'start' });
  }
}

function facts(n: SiteNode): HTMLElement {
  return h(
    'section',
    { class: 'card' },
    h('h2', null, 'Definition'),
    h(
      'dl',
      { class: 'facts' },
      n.facts.map(([k, v]) => [h('dt', null, k), h('dd', null, v)]),
    ),
  );
}

function lastRun(site: Site, n: SiteNode): HTMLElement {
  const r = site.lastRun.get(n.id);
  const snap = n.state?.snapshot;
  const rows: [string, string | HTMLElement][] = [];
  if (r) {
    rows.push(['status', h('span', { class: `status status-${r.node.status}` }, r.node.status)]);
    rows.push(['at', fmtTime(r.run.startedAt)]);
    rows.push(['rows', fmtNumber(r.node.rows)]);
    rows.push(['seconds', fmtSeconds(r.node.end - r.node.start)]);
    if (r.node.error) rows.push(['error', h('code', { class: 'error-text' }, r.node.error)]);
  }
  if (n.state) rows.push(['applied', fmtTime(n.state.appliedAt)]);
  if (snap) rows.push(['snapshot', h('span', null, h('code', null, snap.id), ` · ${fmtNumber(snap.rows)} rows`)]);
  if (n.state?.modelVersion !== undefined)
    rows.push([
      'model version',
      h('a', { href: href('models', n.facts.find(([k]) => k === 'registers')?.[1] ?? '', n.state.modelVersion) }, `v${n.state.modelVersion}`),
    ]);
  if (n.state?.cursor !== undefined) rows.push(['cursor', n.state.cursor]);
  return h(
    'section',
    { class: 'card' },
    h('h2', null, 'Last run'),
    rows.length
      ? h(
          'dl',
          { class: 'facts' },
          rows.map(([k, v]) => [h('dt', null, k), h('dd', null, v)]),
        )
      : h('p', { class: 'muted' }, n.kind === 'system' ? 'A source system: its streams are synced by the bronze nodes.' : 'Not applied yet.'),
  );
}

function neighbours(site: Site, n: SiteNode): HTMLElement {
  const list = (ids: readonly string[]) =>
    ids.length
      ? h(
          'ul',
          { class: 'links' },
          ids.map((i) => h('li', null, h('a', { href: href('node', i) }, i))),
        )
      : h('p', { class: 'muted' }, 'none');
  return h('section', { class: 'card' }, h('h2', null, 'Upstream'), list(n.inputs), h('h2', null, 'Downstream'), list(n.downstream));
}

function planCard(n: SiteNode): HTMLElement {
  const p = n.plan!;
  return h(
    'section',
    { class: `card plan-card act-${p.action} ${p.category === 'breaking' ? 'breaking' : ''}` },
    h('h2', null, 'In the plan: ', h('span', { class: 'plan-action' }, p.action), p.category ? h('span', { class: 'plan-category' }, p.category) : null),
    p.reasons.length
      ? h(
          'ul',
          null,
          p.reasons.map((r) => h('li', null, r)),
        )
      : null,
  );
}

function highlighted(sql: string): HTMLElement {
  const code = h('code', { class: 'hljs language-sql' });
  code.innerHTML = hljs.highlight(sql, { language: 'sql', ignoreIllegals: true }).value;
  return h('pre', { class: 'sql' }, code);
}

function sqlCard(n: SiteNode): HTMLElement {
  const sql = n.sql!;
  const tabs = [
    { key: 'spec', label: 'As written (Spark SQL)', sql: sql.spec, note: 'The body in the spec.' },
    ...sql.targets.map((t) => ({ key: t.dialect, label: DIALECT_LABEL[t.dialect] ?? t.dialect, sql: t.sql, note: `Transpiled for ${t.runs}.` })),
  ];
  const body = h('div', { class: 'tab-body' });
  const buttons = tabs.map((t, i) =>
    h(
      'button',
      { type: 'button', class: i === 0 ? 'tab active' : 'tab', role: 'tab', onclick: (e: Event) => show(i, e.currentTarget as HTMLElement) },
      t.label,
    ),
  );
  function show(i: number, btn?: HTMLElement): void {
    for (const b of buttons) b.classList.toggle('active', b === (btn ?? buttons[i]));
    body.replaceChildren(h('p', { class: 'muted small' }, tabs[i].note), highlighted(tabs[i].sql));
  }
  show(0);
  return h('section', { class: 'card' }, h('h2', null, 'SQL'), h('div', { class: 'tabs', role: 'tablist' }, buttons), body);
}

function schemaCard(site: Site, n: SiteNode, column: string | undefined): HTMLElement {
  const cols = site.data.columns[n.id] ?? {};
  return h(
    'section',
    { class: 'card' },
    h('h2', null, 'Output schema', h('span', { class: 'count' }, String(n.schema.length))),
    n.schema.length
      ? h(
          'table',
          { class: 'schema' },
          h('thead', null, h('tr', null, h('th', null, 'column'), h('th', null, 'type'), h('th', null, 'computed from'))),
          h(
            'tbody',
            null,
            n.schema.map((c) =>
              h(
                'tr',
                { class: c.name === column ? 'selected' : '' },
                h('td', null, h('a', { href: href('node', n.id, c.name), title: 'show its lineage' }, c.name)),
                h('td', null, h('code', null, c.type)),
                h(
                  'td',
                  { class: 'small' },
                  (cols[c.name] ?? []).map(([t, col]) => h('span', { class: 'from' }, `${t.replace(/^source:/, '')}.${col}`)),
                ),
              ),
            ),
          ),
        )
      : h('p', { class: 'muted' }, 'No schema known yet (apply the pipeline, or declare the stream columns).'),
    n.schema.length ? h('p', { class: 'muted small' }, 'Click a column to trace it back to the source columns and forward to features and models.') : null,
  );
}

function checksCard(site: Site, n: SiteNode): HTMLElement {
  const r = site.lastRun.get(n.id);
  const result = (name: string): HTMLElement => {
    if (!r) return h('span', { class: 'status' }, 'not run yet');
    if (r.node.status === 'failed' && r.node.error?.includes(name)) return h('span', { class: 'status status-failed' }, 'failed');
    if (r.node.status === 'failed') return h('span', { class: 'status status-skipped' }, 'not reached');
    return h('span', { class: 'status status-succeeded' }, 'passed');
  };
  return h(
    'section',
    { class: 'card' },
    h('h2', null, 'Checks', h('span', { class: 'count' }, String(n.checks.length))),
    n.checks.length
      ? h(
          'table',
          { class: 'plain' },
          h(
            'tbody',
            null,
            n.checks.map((c) => h('tr', null, h('td', null, h('code', null, c)), h('td', null, result(c)))),
          ),
        )
      : h('p', { class: 'muted' }, 'No checks.'),
    n.checks.length && r
      ? h('p', { class: 'muted small' }, `Results of the run at ${fmtTime(r.run.startedAt)}: every check runs on each new snapshot before it is committed.`)
      : null,
  );
}

function snapshotsCard(n: SiteNode): HTMLElement {
  const snaps = [...(n.state?.snapshot ? [{ ...n.state.snapshot, current: true }] : []), ...(n.state?.history ?? []).map((x) => ({ ...x, current: false }))];
  return h(
    'section',
    { class: 'card' },
    h('h2', null, 'Snapshots'),
    snaps.length
      ? h(
          'table',
          { class: 'plain' },
          h('thead', null, h('tr', null, h('th', null, 'snapshot'), h('th', { class: 'num' }, 'rows'), h('th', null, 'written'))),
          h(
            'tbody',
            null,
            snaps.map((x) =>
              h(
                'tr',
                null,
                h('td', null, h('code', null, x.id), x.current ? h('span', { class: 'tag' }, 'current') : null),
                h('td', { class: 'num' }, fmtNumber(x.rows)),
                h('td', null, fmtTime(x.createdAt)),
              ),
            ),
          ),
        )
      : h('p', { class: 'muted' }, 'This node writes no table, or has not written one yet.'),
  );
}
