// The runs page: the last applies (src/planner/runs-log.ts), one as a timeline — a bar per node from
// its start to its end, so what ran in parallel overlaps, above it how many nodes were running —
// with rows per node and every failure with its error.

import * as Plot from '@observablehq/plot';
import { fmtNumber, fmtSeconds, fmtTime, h, href } from './dom.js';
import type { Site } from './data.js';
import { STATUS_COLORS } from './theme.js';

const chart = (id: string, plot: Element): HTMLElement => h('div', { class: 'chart', id }, plot);

export function runsPage(site: Site, root: HTMLElement, index: number | undefined): void {
  const runs = site.data.runs;
  if (!runs.length) {
    root.append(
      h(
        'section',
        { class: 'card' },
        h('h1', null, 'Runs'),
        h('p', { class: 'muted' }, 'No apply recorded yet. Run ', h('code', null, `asgard apply ${site.data.spec} --yes`), ' and build the site again.'),
      ),
    );
    return;
  }
  // Default: the newest run that did some work (a no-op apply draws nothing).
  const worked = (i: number) => runs[i].nodes.some((n) => n.status === 'succeeded' || n.status === 'failed');
  let i = index ?? runs.length - 1;
  if (index === undefined)
    for (let k = runs.length - 1; k >= 0; k--)
      if (worked(k)) {
        i = k;
        break;
      }
  const run = runs[Math.min(Math.max(0, i), runs.length - 1)];
  const list = h(
    'table',
    { class: 'plain runs-list' },
    h(
      'thead',
      null,
      h(
        'tr',
        null,
        h('th', null, 'started'),
        h('th', null, 'result'),
        h('th', { class: 'num' }, 'ran'),
        h('th', { class: 'num' }, 'failed'),
        h('th', { class: 'num' }, 'duration'),
      ),
    ),
    h(
      'tbody',
      null,
      runs
        .map((r, k) => {
          const ran = r.nodes.filter((n) => n.status === 'succeeded').length;
          const failed = r.nodes.filter((n) => n.status === 'failed').length;
          return h(
            'tr',
            { class: r === run ? 'selected' : '' },
            h('td', null, h('a', { href: href('runs', k) }, fmtTime(r.startedAt))),
            h('td', null, h('span', { class: `status status-${r.ok ? 'succeeded' : 'failed'}` }, r.ok ? 'ok' : 'failed')),
            h('td', { class: 'num' }, String(ran)),
            h('td', { class: 'num' }, String(failed)),
            h('td', { class: 'num' }, fmtSeconds((Date.parse(r.finishedAt) - Date.parse(r.startedAt)) / 1000)),
          );
        })
        .reverse(),
    ),
  );
  root.append(
    h(
      'header',
      { class: 'page-head' },
      h('h1', null, 'Runs'),
      h(
        'p',
        { class: 'description' },
        runs.length === 1 ? `The last apply of ${site.data.pipeline}.` : `The last ${runs.length} applies of ${site.data.pipeline}, newest first.`,
      ),
    ),
    h('section', { class: 'card' }, list),
    runCard(site, run),
  );
}

function runCard(site: Site, run: Site['data']['runs'][number]): HTMLElement {
  const width = Math.min(1100, Math.max(560, document.body.clientWidth - 120));
  const active = run.nodes.filter((n) => n.status !== 'unchanged');
  const shown = [...active].sort((a, b) => a.start - b.start || a.node.localeCompare(b.node));
  const total = Math.max(0.001, ...run.nodes.map((n) => n.end));
  const unchanged = run.nodes.length - active.length;
  const card = h(
    'section',
    { class: 'card' },
    h('h2', null, `Apply of ${fmtTime(run.startedAt)}`),
    h('p', { class: 'muted' }, `${fmtSeconds(total)} · up to ${run.concurrency} nodes at once · ${active.length} nodes worked, ${unchanged} unchanged`),
  );
  if (!shown.length) {
    card.append(h('p', { class: 'muted' }, 'Nothing ran: every node was unchanged.'));
    return card;
  }
  // How many nodes were running at each moment.
  const events = shown
    .flatMap((n) => [
      { t: n.start, d: 1 },
      { t: n.end, d: -1 },
    ])
    .sort((a, b) => a.t - b.t || a.d - b.d);
  let running = 0;
  const at = new Map<number, number>([[0, 0]]);
  for (const e of events) at.set(e.t, (running += e.d)); // the count after every change at that moment
  const conc = [...at].map(([t, r]) => ({ t, running: r }));
  const x = { domain: [0, total], label: 'seconds from the start →', grid: true };
  const color = { domain: Object.keys(STATUS_COLORS), range: Object.values(STATUS_COLORS), legend: true };
  card.append(
    h('h3', null, 'Nodes running'),
    chart(
      'running',
      Plot.plot({
        width,
        height: 90,
        marginLeft: 230,
        x: { ...x, axis: null },
        y: { label: 'running', ticks: Math.max(1, run.concurrency), grid: true },
        marks: [
          Plot.areaY(conc, { x: 't', y1: 0, y2: 'running', curve: 'step-after', fill: '#c7d2fe' }),
          Plot.lineY(conc, { x: 't', y: 'running', curve: 'step-after', stroke: '#4f46e5' }),
        ],
      }),
    ),
    h('h3', null, 'Timeline'),
    chart(
      'timeline',
      Plot.plot({
        width,
        height: 46 + shown.length * 22,
        marginLeft: 230,
        x,
        y: { domain: shown.map((n) => n.node), label: null },
        color,
        marks: [
          Plot.barX(shown, {
            x1: 'start',
            x2: (d) => Math.max(d.end, d.start + total / 400),
            y: 'node',
            fill: 'status',
            rx: 2,
            title: (d) =>
              `${d.node}: ${d.status}, ${fmtSeconds(d.end - d.start)}${d.rows !== undefined ? `, ${fmtNumber(d.rows)} rows` : ''}${d.error ? `\n${d.error}` : ''}`,
          }),
          Plot.ruleX([0]),
        ],
      }),
    ),
  );
  const withRows = shown.filter((n) => n.rows !== undefined);
  if (withRows.length) {
    card.append(
      h('h3', null, 'Rows per node'),
      chart(
        'rows',
        Plot.plot({
          width,
          height: 46 + withRows.length * 22,
          marginLeft: 230,
          marginRight: 70,
          x: { label: 'rows →', grid: true },
          y: { domain: withRows.map((n) => n.node), label: null },
          marks: [
            Plot.barX(withRows, { x: 'rows', y: 'node', fill: '#64748b', rx: 2 }),
            Plot.text(withRows, { x: 'rows', y: 'node', text: (d) => fmtNumber(d.rows), dx: 4, textAnchor: 'start', fill: '#334155' }),
            Plot.ruleX([0]),
          ],
        }),
      ),
    );
  }
  const bad = run.nodes.filter((n) => n.status === 'failed' || n.status === 'skipped');
  card.append(
    h('h3', null, 'Failures'),
    bad.length
      ? h(
          'ul',
          { class: 'failures' },
          bad.map((n) =>
            h(
              'li',
              null,
              h('span', { class: `status status-${n.status}` }, n.status),
              ' ',
              h('a', { href: href('node', n.node) }, n.node),
              n.error ? h('pre', { class: 'error-text' }, n.error) : null,
            ),
          ),
        )
      : h('p', { class: 'muted' }, 'None: every node that ran succeeded.'),
  );
  return card;
}
