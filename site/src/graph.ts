// The DAG page: every node where the site's build placed it (src/docs/graph-layout.ts lays the
// graph out with dagre when `asgard docs` runs, left to right by stage; laying out 1,000 nodes in the
// page took 6–8 s), drawn as SVG, panned and zoomed with d3-zoom, searchable; with a plan, nodes are
// coloured by action and category.

import { select } from 'd3-selection';
import { line, curveBasis } from 'd3-shape';
import { zoom, zoomIdentity, type ZoomBehavior } from 'd3-zoom';
import { NODE_H, STAGE_LABEL, STAGE_ORDER } from '../../src/docs/stages.js';
import { h, href, s } from './dom.js';
import type { Site, SiteNode } from './data.js';

export { STAGE_LABEL, STAGE_ORDER };

interface Placed {
  readonly node: SiteNode;
  readonly x: number;
  readonly y: number;
  readonly w: number;
}

interface Layout {
  readonly nodes: readonly Placed[];
  readonly edges: Site['data']['layout']['edges'];
  readonly width: number;
  readonly height: number;
}

let cached: Layout | undefined;

function layout(site: Site): Layout {
  if (cached) return cached;
  const L = site.data.layout;
  const nodes = site.data.nodes.filter((node) => L.nodes[node.id]).map((node) => ({ node, ...L.nodes[node.id] }));
  cached = { nodes, edges: L.edges, width: L.width, height: L.height };
  return cached;
}

/** Fill and stroke of a node: its plan action (when a plan is shown), else neutral. */
function planClass(site: Site, n: SiteNode): string {
  if (!n.plan) return site.data.plan ? 'act-noop' : '';
  const cls = [`act-${n.plan.action}`];
  if (n.plan.category === 'breaking' || (n.plan.schemaChanges as { breaking?: boolean }[]).some((c) => c?.breaking)) cls.push('breaking');
  return cls.join(' ');
}

export function graphPage(site: Site, root: HTMLElement, query: string): () => void {
  const L = layout(site);
  const svg = s('svg', { class: 'graph', role: 'img', 'aria-label': `DAG of ${site.data.pipeline}` });
  const defs = s('defs');
  const marker = s('marker', { id: 'arrow', viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: 'auto-start-reverse' });
  marker.appendChild(s('path', { d: 'M 0 0 L 10 5 L 0 10 z', class: 'arrow' }));
  defs.appendChild(marker);
  svg.appendChild(defs);
  const world = s('g');
  svg.appendChild(world);

  // Stage headings above the columns they name.
  const columns = new Map<string, number[]>();
  for (const p of L.nodes) {
    const xs = columns.get(p.node.kind) ?? [];
    xs.push(p.x);
    columns.set(p.node.kind, xs);
  }
  for (const k of STAGE_ORDER) {
    const xs = columns.get(k);
    if (!xs) continue;
    const t = s('text', { x: Math.min(...xs), y: 16, class: 'stage-label', 'text-anchor': 'middle' });
    t.textContent = STAGE_LABEL[k];
    world.appendChild(t);
  }

  const path = line<{ x: number; y: number }>()
    .x((p) => p.x)
    .y((p) => p.y)
    .curve(curveBasis);
  const edgeEls = new Map<string, SVGPathElement[]>();
  const edgeLayer = s('g', { class: 'edges' });
  for (const e of L.edges) {
    const el = s('path', { d: path(e.points as { x: number; y: number }[]) ?? '', class: 'edge', 'marker-end': 'url(#arrow)' });
    el.dataset.from = e.from;
    el.dataset.to = e.to;
    edgeLayer.appendChild(el);
    for (const id of [e.from, e.to]) edgeEls.set(id, [...(edgeEls.get(id) ?? []), el]);
  }
  world.appendChild(edgeLayer);

  const nodeEls = new Map<string, SVGGElement>();
  const nodeLayer = s('g', { class: 'nodes' });
  for (const p of L.nodes) {
    const n = p.node;
    const run = site.lastRun.get(n.id);
    const g = s('g', {
      class: `node kind-${n.kind} ${planClass(site, n)}`.trim(),
      transform: `translate(${p.x - p.w / 2},${p.y - NODE_H / 2})`,
      tabindex: 0,
      role: 'link',
    });
    g.dataset.id = n.id;
    const title = s('title');
    title.textContent = `${n.id}${n.plan ? ` — ${n.plan.action}${n.plan.category ? ` (${n.plan.category})` : ''}` : ''}${n.state ? '' : ' — not applied yet'}`;
    g.appendChild(title);
    g.appendChild(s('rect', { class: 'box', width: p.w, height: NODE_H, rx: 6 }));
    g.appendChild(s('rect', { class: 'strip', width: 6, height: NODE_H, rx: 3 }));
    const label = s('text', { x: 14, y: NODE_H / 2 + 4.5, class: 'label' });
    label.textContent = n.name;
    g.appendChild(label);
    if (run?.node.status === 'failed') g.appendChild(s('circle', { class: 'failed-dot', cx: p.w - 9, cy: 9, r: 4 }));
    else if (!n.state && n.kind !== 'system') g.appendChild(s('circle', { class: 'pending-dot', cx: p.w - 9, cy: 9, r: 3.5 }));
    const open = () => (location.hash = href('node', n.id));
    g.addEventListener('click', open);
    g.addEventListener('keydown', (e) => {
      if ((e as KeyboardEvent).key === 'Enter') open();
    });
    g.addEventListener('mouseenter', () => focusNode(n.id, true));
    g.addEventListener('mouseleave', () => focusNode(n.id, false));
    nodeLayer.appendChild(g);
    nodeEls.set(n.id, g);
  }
  world.appendChild(nodeLayer);

  function focusNode(id: string, on: boolean): void {
    for (const e of edgeEls.get(id) ?? []) e.classList.toggle('hot', on);
    nodeEls.get(id)?.classList.toggle('hot', on);
  }

  const zoomer: ZoomBehavior<SVGSVGElement, unknown> = zoom<SVGSVGElement, unknown>()
    .scaleExtent([0.05, 4])
    .on('zoom', (ev) => world.setAttribute('transform', String(ev.transform)));
  const sel = select(svg);
  sel.call(zoomer).on('dblclick.zoom', null);

  function fit(): void {
    const r = svg.getBoundingClientRect();
    const k = Math.min(1.4, Math.max(0.05, Math.min(r.width / (L.width || 1), r.height / (L.height || 1)) * 0.95));
    sel.call(zoomer.transform, zoomIdentity.translate((r.width - L.width * k) / 2, Math.max(0, (r.height - L.height * k) / 2)).scale(k));
  }

  function centerOn(id: string): void {
    const p = L.nodes.find((x) => x.node.id === id);
    if (!p) return;
    const r = svg.getBoundingClientRect();
    const k = 1.2;
    sel.call(zoomer.transform, zoomIdentity.translate(r.width / 2 - p.x * k, r.height / 2 - p.y * k).scale(k));
  }

  // Search: matching nodes stand out, the rest fade; Enter centres the first match, Escape clears.
  const count = h('span', { class: 'search-count' });
  const input = h('input', {
    type: 'search',
    class: 'search',
    placeholder: 'Search nodes (e.g. customer_metrics)',
    'aria-label': 'search nodes',
    value: query,
  });
  const matches = (): string[] => {
    const q = input.value.trim().toLowerCase();
    if (!q) return [];
    return L.nodes.filter((p) => p.node.id.toLowerCase().includes(q) || (p.node.description ?? '').toLowerCase().includes(q)).map((p) => p.node.id);
  };
  const applySearch = (): void => {
    const m = new Set(matches());
    const active = input.value.trim() !== '';
    svg.classList.toggle('searching', active);
    for (const [id, el] of nodeEls) el.classList.toggle('match', m.has(id));
    count.textContent = active ? `${m.size} of ${L.nodes.length} nodes` : `${L.nodes.length} nodes · ${L.edges.length} edges`;
  };
  input.addEventListener('input', applySearch);
  input.addEventListener('keydown', (e) => {
    if (e.key === 'Enter') {
      const first = matches()[0];
      if (first) centerOn(first);
    } else if (e.key === 'Escape') {
      input.value = '';
      applySearch();
      fit();
    }
  });

  const toolbar = h(
    'div',
    { class: 'toolbar' },
    input,
    count,
    h('span', { class: 'spacer' }),
    h('button', { type: 'button', onclick: () => sel.call(zoomer.scaleBy, 1.3) }, '+'),
    h('button', { type: 'button', onclick: () => sel.call(zoomer.scaleBy, 1 / 1.3) }, '−'),
    h('button', { type: 'button', onclick: fit }, 'Fit'),
  );
  root.append(toolbar, h('div', { class: 'graph-wrap' }, svg), legend(site));
  fit();
  applySearch();
  if (query) {
    const first = matches()[0];
    if (first) centerOn(first);
  }
  const onResize = () => fit();
  window.addEventListener('resize', onResize);
  // Ready once a frame with the graph in it is painted: a timer set in the frame's animation
  // callback runs after that frame (what the bench's graph_interactive measures).
  requestAnimationFrame(() => setTimeout(() => (document.body.dataset.graphReady = String(Math.round(performance.now())))));
  return () => window.removeEventListener('resize', onResize);
}

function legend(site: Site): HTMLElement {
  const kinds = STAGE_ORDER.filter((k) => site.data.nodes.some((n) => n.kind === k));
  const items = kinds.map((k) => h('span', { class: `legend-item kind-${k}` }, h('i', { class: 'swatch' }), STAGE_LABEL[k]));
  const plan = site.data.plan
    ? [
        h('span', { class: 'legend-sep' }),
        ...['create', 'update', 'replace', 'delete', 'noop'].map((a) =>
          h('span', { class: `legend-item act-${a}` }, h('i', { class: 'swatch box' }), a === 'noop' ? 'no change' : a),
        ),
        h('span', { class: 'legend-item breaking' }, h('i', { class: 'swatch box' }), 'breaking'),
      ]
    : [];
  const status = [
    h('span', { class: 'legend-sep' }),
    h('span', { class: 'legend-item' }, h('i', { class: 'dot failed' }), 'last run failed'),
    h('span', { class: 'legend-item' }, h('i', { class: 'dot pending' }), 'not applied'),
  ];
  return h('div', { class: 'legend' }, items, plan, status);
}
