// The pipeline graph's layout, computed when the site is built rather than in the browser (dagre
// takes 6–8 s for 1,000 nodes in a page; issue #17): every node placed left to right by stage with
// dagre (each edge's minimum length is the number of stages it crosses, so a stage never sits left
// of its inputs), and each edge's route. Ranks come from dagre's network simplex (the shortest edges)
// up to NETWORK_SIMPLEX_MAX nodes; above, each node takes the first rank its inputs allow
// (earliestRanks, through dagre's ranker hook): network simplex grows far faster than the graph (a
// generated 1,000-node spec did not finish in 10 minutes), and each rank keeps its first order (see
// layoutGraph). The layout is a pure function of the nodes, their labels
// and the edges, so it is kept in the workspace's cache under a hash of them: an unchanged graph is
// never laid out twice. A graph that changed is laid out in a worker thread (dagre is synchronous:
// ~1 s CPU at 1,000 nodes), so the build computes the SQL per target and the lineage meanwhile
// (src/docs/site-data.ts starts the layout first).

import { Worker } from 'node:worker_threads';
import { canonicalJson, sha256 } from '../util/canonical-json.js';
import type { KeyValueCache } from '../util/json-cache.js';
import { NODE_H, STAGE_ORDER } from './stages.js';

export interface GraphLayout {
  /** Centre and width of each node's box, by node id. */
  readonly nodes: Readonly<Record<string, { readonly x: number; readonly y: number; readonly w: number }>>;
  readonly edges: readonly { readonly from: string; readonly to: string; readonly points: readonly { readonly x: number; readonly y: number }[] }[];
  readonly width: number;
  readonly height: number;
}

interface GraphNode {
  readonly id: string;
  readonly kind: string;
  readonly name: string;
}

/**
 * A box wide enough for its label in the site's 12.5px system font: 7.4 px per character (above the
 * font's average, so a label always fits) plus the box's padding and status dot.
 */
export const boxWidth = (label: string): number => Math.ceil(label.length * 7.4) + 34;

/** The largest graph ranked by network simplex. */
export const NETWORK_SIMPLEX_MAX = 250;

const stage = (kind: string | undefined): number => Math.max(0, STAGE_ORDER.indexOf((kind ?? 'system') as (typeof STAGE_ORDER)[number]));

export async function layoutGraph(
  nodes: readonly GraphNode[],
  edges: readonly { readonly from: string; readonly to: string }[],
  cache?: KeyValueCache<GraphLayout>,
): Promise<GraphLayout> {
  const kindOf = new Map(nodes.map((n) => [n.id, n.kind]));
  const drawn = edges.filter((e) => kindOf.has(e.from) && kindOf.has(e.to));
  const key = sha256(canonicalJson({ nodes: nodes.map((n) => [n.id, n.kind, n.name]), edges: drawn.map((e) => [e.from, e.to]) }));
  const hit = cache?.get(key);
  if (hit) return hit;
  const layout = await inWorker(
    nodes.map((n) => ({ id: n.id, kind: n.kind, name: n.name })),
    drawn,
  );
  cache?.set(key, layout);
  return layout;
}

/**
 * `dagreLayout` in a worker thread, which imports this module by its file name (built, the bundle has
 * an entry of that name beside its chunks: scripts/bundle-packages.mjs). Run from the TypeScript sources
 * (a checkout through tsx, the tests), the layout is computed here instead: a worker has no tsx.
 */
function inWorker(nodes: readonly GraphNode[], edges: readonly { readonly from: string; readonly to: string }[]): Promise<GraphLayout> {
  if (!import.meta.url.endsWith('.js')) return dagreLayout(nodes, edges);
  const code = `
    const { parentPort, workerData } = require('node:worker_threads');
    import(workerData.module)
      .then(({ dagreLayout }) => dagreLayout(workerData.nodes, workerData.edges))
      .then((layout) => parentPort.postMessage(layout));`;
  return new Promise((resolve, reject) => {
    const w = new Worker(code, { eval: true, workerData: { module: new URL('./graph-layout.js', import.meta.url).href, nodes, edges } });
    let done = false;
    w.once('message', (layout: GraphLayout) => {
      done = true;
      resolve(layout);
    });
    w.once('error', reject);
    w.once('exit', (code) => {
      if (!done) reject(new Error(`internal error: the graph layout's worker exited (code ${code}) without a layout`));
    });
  });
}

/** dagre's layout of the graph (loads dagre): what `layoutGraph` caches. */
export async function dagreLayout(nodes: readonly GraphNode[], drawn: readonly { readonly from: string; readonly to: string }[]): Promise<GraphLayout> {
  const kindOf = new Map(nodes.map((n) => [n.id, n.kind]));
  const { default: dagre } = await import('@dagrejs/dagre');
  const g = new dagre.graphlib.Graph({ multigraph: false });
  const large = nodes.length > NETWORK_SIMPLEX_MAX;
  g.setGraph({ rankdir: 'LR', nodesep: 10, ranksep: 56, edgesep: 6, marginx: 20, marginy: 40, ranker: large ? earliestRanks : 'network-simplex' });
  g.setDefaultEdgeLabel(() => ({}));
  for (const n of nodes) g.setNode(n.id, { width: boxWidth(n.name), height: NODE_H });
  for (const e of drawn) g.setEdge(e.from, e.to, { minlen: Math.max(1, stage(kindOf.get(e.to)) - stage(kindOf.get(e.from))) });
  // Above NETWORK_SIMPLEX_MAX nodes, the nodes of each rank keep dagre's first (depth-first) order:
  // its crossing-reduction sweeps were 58 % of laying out the generated 1,000-node spec and drew
  // no fewer crossings there (113,723 edge-segment crossings with them, 108,780 without; 6.0 s →
  // 3.8 s CPU at load ~90; bench/site.md). That order is given through dagre's customOrder hook,
  // because with disableOptimalOrderHeuristic dagre still builds the sweeps' layer graphs (~0.6 s
  // CPU of 1,000 nodes) before it returns.
  dagre.layout(g, large ? { customOrder: firstOrder } : {});
  const round = (v: number) => Math.round(v * 10) / 10;
  const placed: Record<string, { x: number; y: number; w: number }> = {};
  for (const n of nodes) {
    const p = g.node(n.id);
    placed[n.id] = { x: round(p.x), y: round(p.y), w: p.width };
  }
  const gr = g.graph();
  return {
    nodes: placed,
    edges: g.edges().map((e: { v: string; w: string }) => ({
      from: e.v,
      to: e.w,
      points: (g.edge(e).points ?? []).map((p: { x: number; y: number }) => ({ x: round(p.x), y: round(p.y) })),
    })),
    width: Math.ceil(gr.width ?? 0),
    height: Math.ceil(gr.height ?? 0),
  };
}

/** The part of a dagre graph the hooks below use (its graphlib Graph, with rank and order on the node labels). */
interface RankedGraph {
  nodes(): string[];
  children(v: string): string[] | undefined;
  predecessors(v: string): string[] | undefined;
  successors(v: string): string[] | undefined;
  inEdges(v: string): { v: string; w: string }[] | undefined;
  node(v: string): { rank?: number; order?: number };
  edge(v: string, w: string): { minlen?: number };
}

/**
 * A ranker for dagre (its `ranker` hook): every node at the first rank its inputs allow (the longest
 * path from a source, each edge at least its minlen). dagre's tight-tree ranker, which shortens
 * edges further, cost ~0.8 s CPU of a 1,000-node graph; this is one pass in topological order. Its
 * own longest-path ranker works from the sinks, which would draw a silver table nothing reads in
 * the serving column.
 */
function earliestRanks(g: RankedGraph): void {
  const pending = new Map<string, number>();
  const ready: string[] = [];
  for (const v of g.nodes()) {
    const n = g.predecessors(v)?.length ?? 0;
    pending.set(v, n);
    if (n === 0) ready.push(v);
  }
  while (ready.length) {
    const v = ready.pop()!;
    g.node(v).rank = Math.max(0, ...(g.inEdges(v) ?? []).map((e) => (g.node(e.v).rank ?? 0) + (g.edge(e.v, e.w).minlen ?? 1)));
    for (const w of g.successors(v) ?? []) {
      const left = pending.get(w)! - 1;
      pending.set(w, left);
      if (left === 0) ready.push(w);
    }
  }
}

/** dagre's first order of each rank (its initOrder: depth first from the nodes by rank), without the layer graphs its sweeps need. */
function firstOrder(g: RankedGraph): void {
  const visited = new Set<string>();
  const layers: string[][] = [];
  const visit = (v: string): void => {
    if (visited.has(v)) return;
    visited.add(v);
    (layers[g.node(v).rank ?? 0] ??= []).push(v);
    for (const w of g.successors(v) ?? []) visit(w);
  };
  const simple = g.nodes().filter((v) => !g.children(v)?.length);
  for (const v of simple.sort((a, b) => (g.node(a).rank ?? 0) - (g.node(b).rank ?? 0))) visit(v);
  for (const layer of layers) {
    layer?.forEach((v, i) => {
      g.node(v).order = i;
    });
  }
}
