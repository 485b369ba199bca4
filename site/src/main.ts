// The site's entry: reads the embedded page data and routes on the URL hash (works from file://).
//   #/                      the graph (#/?q=text searches)
//   #/node/<id>[/<column>]  a node, and one column's lineage
//   #/runs[/<index>]        the last applies
//   #/models[/<name>[/<version> | /compare/<a>/<b>]]

import { h } from './dom.js';
import { loadSite, type Site } from './data.js';
import { graphPage } from './graph.js';
import { modelsPage } from './models.js';
import { nodePage } from './node-page.js';
import { runsPage } from './runs.js';

function shell(site: Site): { main: HTMLElement; nav: Map<string, HTMLElement> } {
  const nav = new Map<string, HTMLElement>([
    ['graph', h('a', { href: '#/' }, 'Graph')],
    ['runs', h('a', { href: '#/runs' }, 'Runs')],
    ['models', h('a', { href: '#/models' }, 'Models')],
  ]);
  const d = site.data;
  const planNote = d.plan
    ? h(
        'span',
        { class: 'plan-note' },
        `plan vs ${d.plan.against}: ${
          Object.entries(d.plan.summary)
            .filter(([k, v]) => v && k !== 'noop')
            .map(([k, v]) => `${v} ${k}`)
            .join(', ') || 'no changes'
        }`,
      )
    : null;
  const main = h('main', { id: 'main' });
  document
    .getElementById('app')!
    .replaceChildren(
      h(
        'header',
        { class: 'top' },
        h('a', { class: 'brand', href: '#/' }, h('span', { class: 'logo' }, 'A'), 'asgard'),
        h('span', { class: 'pipeline' }, d.pipeline),
        h('nav', null, [...nav.values()]),
        planNote,
        h('span', { class: 'spec muted' }, d.spec),
      ),
      main,
    );
  return { main, nav };
}

function start(): void {
  let site: Site;
  try {
    site = loadSite();
  } catch (e) {
    document.getElementById('app')!.replaceChildren(h('p', { class: 'card error-text' }, (e as Error).message));
    return;
  }
  const { main, nav } = shell(site);
  let cleanup: (() => void) | undefined;
  const route = (): void => {
    cleanup?.();
    cleanup = undefined;
    const raw = location.hash.replace(/^#\/?/, '');
    const [pathPart, queryPart = ''] = raw.split('?');
    const parts = pathPart.split('/').filter(Boolean).map(decodeURIComponent);
    const page = parts[0] ?? 'graph';
    for (const [k, el] of nav) el.classList.toggle('active', k === (page === 'node' ? 'graph' : page));
    main.replaceChildren();
    main.className = `page-${page}`;
    if (page === 'node') void nodePage(site, main, parts[1], parts[2]);
    else if (page === 'runs') runsPage(site, main, parts[1] === undefined ? undefined : Number(parts[1]));
    else if (page === 'models') modelsPage(site, main, parts[1], parts.slice(2));
    else cleanup = graphPage(site, main, new URLSearchParams(queryPart).get('q') ?? '');
    if (page !== 'node' || !parts[2]) window.scrollTo(0, 0);
    document.title = `${parts[1] ?? (page === 'graph' ? site.data.pipeline : page)} · asgard`;
  };
  window.addEventListener('hashchange', route);
  route();
}

start();
