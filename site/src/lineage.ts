// One column's lineage, walked over the direct column edges of the page data (src/docs/site-data.ts,
// from src/engine/lineage.ts): upstream to the source systems' columns, downstream to silver, gold,
// the feature views and the models that take the feature as an input.

import { h, href } from './dom.js';
import type { Site } from './data.js';
import { STAGE_LABEL } from './graph.js';

interface Tree {
  readonly table: string;
  readonly column: string;
  readonly children: readonly Tree[];
}

type Edges = (table: string, column: string) => readonly (readonly [string, string])[];

function walk(edges: Edges, table: string, column: string, seen: ReadonlySet<string>): Tree[] {
  return edges(table, column).map(([t, c]) => {
    const key = `${t}.${c}`;
    return { table: t, column: c, children: seen.has(key) ? [] : walk(edges, t, c, new Set([...seen, key])) };
  });
}

export function upstream(site: Site, table: string, column: string): Tree[] {
  return walk((t, c) => site.data.columns[t]?.[c] ?? [], table, column, new Set([`${table}.${column}`]));
}

export function downstream(site: Site, table: string, column: string): Tree[] {
  return walk((t, c) => site.usedBy.get(t)?.get(c) ?? [], table, column, new Set([`${table}.${column}`]));
}

function treeList(site: Site, items: readonly Tree[]): HTMLElement {
  return h(
    'ul',
    { class: 'tree' },
    items.map((t) => {
      const n = site.byId.get(t.table);
      const label = n?.kind === 'system' ? `${n.name} (${n.facts[0]?.[1] ?? 'system'})` : t.table;
      return h(
        'li',
        null,
        h('span', { class: `kind-dot kind-${n?.kind ?? 'system'}`, title: STAGE_LABEL[n?.kind ?? 'system'] }),
        h('a', { href: href('node', t.table, t.column) }, label, h('b', null, `.${t.column}`)),
        t.children.length ? treeList(site, t.children) : null,
      );
    }),
  );
}

export function lineageView(site: Site, table: string, column: string): HTMLElement {
  const up = upstream(site, table, column);
  const down = downstream(site, table, column);
  return h(
    'div',
    { class: 'lineage' },
    h('h2', null, 'Lineage of ', h('code', null, `${table}.${column}`)),
    h(
      'div',
      { class: 'grid two' },
      h(
        'div',
        null,
        h('h3', null, '← Where it comes from'),
        up.length ? treeList(site, up) : h('p', { class: 'muted' }, 'No input column: a constant, a count or the logical time.'),
      ),
      h('div', null, h('h3', null, 'What uses it →'), down.length ? treeList(site, down) : h('p', { class: 'muted' }, 'Nothing downstream uses this column.')),
    ),
  );
}
