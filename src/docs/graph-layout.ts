// The pipeline graph's layout, computed when the site is built rather than in the browser (dagre
// takes 6–8 s for 1,000 nodes in a page; issue #17): every node placed left to right by stage with
// dagre (each edge's minimum length is the number of stages it crosses, so a stage never sits left
// of its inputs), and each edge's route. Ranks come from dagre's network simplex (the shortest edges)
// up to NETWORK_SIMPLEX_MAX nodes; above, from its tight-tree ranker: network simplex grows far
// faster than the graph (a generated 1,000-node spec did not finish in 10 minutes; tight-tree takes
// seconds), and keeps the first order of each rank (see layoutGraph). The layout is a pure function of the nodes, their labels
// and the edges, so it is kept in the workspace's cache under a hash of them: an unchanged graph is
// never laid out twice.

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

export async function layoutGraph(nodes: readonly GraphNode[], edges: readonly { readonly from: string; readonly to: string }[], cache?: KeyValueCache<GraphLayout>): Promise<GraphLayout> {
  const kindOf = new Map(nodes.map((n) => [n.id, n.kind]));
  const drawn = edges.filter((e) => kindOf.has(e.from) && kindOf.has(e.to));
  const key = sha256(canonicalJson({ nodes: nodes.map((n) => [n.id, n.kind, n.name]), edges: drawn.map((e) => [e.from, e.to]) }));
  const hit = cache?.get(key);
  if (hit) return hit;
  // dagre loads only when the graph changed.
  const { default: dagre } = await import('@dagrejs/dagre');
  const g = new dagre.graphlib.Graph({ multigraph: false });
  g.setGraph({ rankdir: 'LR', nodesep: 10, ranksep: 56, edgesep: 6, marginx: 20, marginy: 40, ranker: nodes.length > NETWORK_SIMPLEX_MAX ? 'tight-tree' : 'network-simplex' });
  g.setDefaultEdgeLabel(() => ({}));
  for (const n of nodes) g.setNode(n.id, { width: boxWidth(n.name), height: NODE_H });
  for (const e of drawn) g.setEdge(e.from, e.to, { minlen: Math.max(1, stage(kindOf.get(e.to)) - stage(kindOf.get(e.from))) });
  // Above NETWORK_SIMPLEX_MAX nodes, the nodes of each rank keep dagre's first (depth-first) order:
  // its crossing-reduction sweeps were 58 % of laying out the generated 1,000-node spec and drew
  // no fewer crossings there (113,723 edge-segment crossings with them, 108,780 without; 6.0 s →
  // 3.8 s CPU at load ~90; bench/site.md).
  dagre.layout(g, { disableOptimalOrderHeuristic: nodes.length > NETWORK_SIMPLEX_MAX });
  const round = (v: number) => Math.round(v * 10) / 10;
  const placed: Record<string, { x: number; y: number; w: number }> = {};
  for (const n of nodes) {
    const p = g.node(n.id);
    placed[n.id] = { x: round(p.x), y: round(p.y), w: p.width };
  }
  const gr = g.graph();
  const layout: GraphLayout = {
    nodes: placed,
    edges: g.edges().map((e: { v: string; w: string }) => ({ from: e.v, to: e.w, points: (g.edge(e).points ?? []).map((p: { x: number; y: number }) => ({ x: round(p.x), y: round(p.y) })) })),
    width: Math.ceil(gr.width ?? 0),
    height: Math.ceil(gr.height ?? 0),
  };
  cache?.set(key, layout);
  return layout;
}
