// The pipeline's DAG: topological order, dependents, and the mermaid / dot / json renderings that
// `asgard graph` prints. Built from the IR's nodes and `inputs`; ties are broken by id so every
// output is deterministic.

import type { NodeId, NodeKind, PipelineIR } from '../ir/types.js';

export interface Dag {
  readonly nodes: readonly { readonly id: NodeId; readonly kind: NodeKind }[];
  /** from → to, sorted. Only edges between nodes of the graph. */
  readonly edges: readonly { readonly from: NodeId; readonly to: NodeId }[];
  readonly parents: ReadonlyMap<NodeId, readonly NodeId[]>;
  readonly children: ReadonlyMap<NodeId, readonly NodeId[]>;
  /** Node ids in topological order (a parent before its children; ties by id). */
  readonly order: readonly NodeId[];
}

const byId = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** The DAG of each node list (the IR is deep-readonly): a plan and its review share one (10,000 nodes: ~0.1 s each). */
const built = new WeakMap<PipelineIR['nodes'], Dag>();

export function buildDag(ir: Pick<PipelineIR, 'nodes'> & Partial<Pick<PipelineIR, 'edges'>>): Dag {
  let dag = built.get(ir.nodes);
  if (!dag) built.set(ir.nodes, (dag = dagOf(ir)));
  return dag;
}

function dagOf(ir: Pick<PipelineIR, 'nodes'> & Partial<Pick<PipelineIR, 'edges'>>): Dag {
  const ids = new Set(ir.nodes.map((n) => n.id));
  const parents = new Map<NodeId, readonly NodeId[]>();
  const children = new Map<NodeId, NodeId[]>();
  let count = 0;
  for (const n of ir.nodes) {
    // A checked IR's inputs are sorted, distinct and all nodes of it (src/dsl/checker/check.ts).
    const ps = isParentList(n.inputs, ids) ? n.inputs : [...new Set(n.inputs)].filter((i) => ids.has(i)).sort(byId);
    parents.set(n.id, ps);
    children.set(n.id, []);
    count += ps.length;
  }
  const edges = ir.edges && sameEdges(ir.edges, parents, count) ? ir.edges : sortedEdges(parents);
  for (const e of edges) children.get(e.from)!.push(e.to);

  // Kahn's algorithm with the ready set a min-heap by id: deterministic (the smallest ready id comes
  // next), O(n log n) at 10,000 nodes, and a cycle (which the checker reports) leaves its nodes
  // appended in id order instead of looping.
  const indeg = new Map([...parents].map(([id, ps]) => [id, ps.length]));
  const ready = new MinHeap();
  for (const id of ids) if (indeg.get(id) === 0) ready.push(id);
  const order: NodeId[] = [];
  while (ready.size) {
    const id = ready.pop();
    order.push(id);
    for (const c of children.get(id)!) {
      const d = indeg.get(c)! - 1;
      indeg.set(c, d);
      if (d === 0) ready.push(c);
    }
  }
  if (order.length < ids.size) {
    const placed = new Set(order);
    order.push(...[...ids].filter((id) => !placed.has(id)).sort(byId));
  }
  return {
    nodes: ir.nodes.map((n) => ({ id: n.id, kind: n.kind })),
    edges,
    parents,
    children,
    order,
  };
}

/** Are `inputs` sorted and distinct, each a node of the graph (they are then the node's parents as they are)? */
function isParentList(inputs: readonly NodeId[], ids: ReadonlySet<NodeId>): boolean {
  for (let i = 0; i < inputs.length; i++) if ((i > 0 && !(inputs[i - 1] < inputs[i])) || !ids.has(inputs[i])) return false;
  return true;
}

/** Every parent → child edge, sorted by parent, then child. */
function sortedEdges(parents: ReadonlyMap<NodeId, readonly NodeId[]>): { readonly from: NodeId; readonly to: NodeId }[] {
  const edges: { from: NodeId; to: NodeId }[] = [];
  for (const [to, ps] of parents) for (const from of ps) edges.push({ from, to });
  return edges.sort((a, b) => byId(a.from, b.from) || byId(a.to, b.to));
}

/**
 * Are `edges` (a checked IR's: PipelineIR.edges) what sortedEdges makes of `parents` (`count` edges
 * in all)? As many, distinct and in that order, each one a parent → child edge: then the same list,
 * without sorting it again.
 */
function sameEdges(edges: PipelineIR['edges'], parents: ReadonlyMap<NodeId, readonly NodeId[]>, count: number): boolean {
  if (edges.length !== count) return false;
  for (let i = 0; i < edges.length; i++) {
    const e = edges[i];
    const before = i > 0 ? edges[i - 1] : undefined;
    if (before && !(before.from < e.from || (before.from === e.from && before.to < e.to))) return false;
    if (!parents.get(e.to)?.includes(e.from)) return false;
  }
  return true;
}

/** Strings, smallest first. */
class MinHeap {
  private readonly xs: string[] = [];
  get size(): number {
    return this.xs.length;
  }
  push(x: string): void {
    const xs = this.xs;
    let i = xs.push(x) - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (xs[p] <= x) break;
      xs[i] = xs[p];
      i = p;
    }
    xs[i] = x;
  }
  pop(): string {
    const xs = this.xs;
    const top = xs[0];
    const last = xs.pop()!;
    if (xs.length) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= xs.length) break;
        const c = l + 1 < xs.length && xs[l + 1] < xs[l] ? l + 1 : l;
        if (xs[c] >= last) break;
        xs[i] = xs[c];
        i = c;
      }
      xs[i] = last;
    }
    return top;
  }
}

/** Every transitive dependent of `id`, in topological order. */
export function downstreamOf(dag: Dag, id: NodeId): NodeId[] {
  const seen = new Set<NodeId>();
  const stack = [...(dag.children.get(id) ?? [])];
  while (stack.length) {
    const c = stack.pop()!;
    if (seen.has(c)) continue;
    seen.add(c);
    stack.push(...(dag.children.get(c) ?? []));
  }
  return dag.order.filter((n) => seen.has(n));
}

/**
 * Every transitive dependent of every node, computed once (plans of 1,000 nodes ask for all): one
 * bitset per node over topological positions, OR-ed from its children in reverse order, so each
 * list comes out already in topological order.
 */
export function allDownstream(dag: Dag): Map<NodeId, NodeId[]> {
  const n = dag.order.length;
  const words = Math.ceil(n / 32);
  const pos = new Map(dag.order.map((id, i) => [id, i]));
  const bits = new Uint32Array(n * words);
  // Each row's first word with a bit set (`words`: none): the words before it are neither OR-ed nor
  // read. A node's dependents come after it in the order, so that halves both passes at 10,000 nodes.
  const low = new Int32Array(n).fill(words);
  for (let i = n - 1; i >= 0; i--) {
    const row = i * words;
    let first = words;
    for (const c of dag.children.get(dag.order[i]) ?? []) {
      const j = pos.get(c)!;
      bits[row + (j >>> 5)] |= 1 << (j & 31);
      const crow = j * words;
      for (let w = low[j]; w < words; w++) bits[row + w] |= bits[crow + w];
      first = Math.min(first, j >>> 5, low[j]);
    }
    low[i] = first;
  }
  const out = new Map<NodeId, NodeId[]>();
  for (let i = 0; i < n; i++) {
    const list: NodeId[] = [];
    const row = i * words;
    for (let w = low[i]; w < words; w++) {
      let x = bits[row + w];
      while (x !== 0) {
        const b = 31 - Math.clz32(x & -x);
        list.push(dag.order[w * 32 + b]);
        x &= x - 1;
      }
    }
    out.set(dag.order[i], list);
  }
  return out;
}

// ── renderings ──────────────────────────────────────────────────────────────────────────────────

export function dagToJson(dag: Dag): { nodes: { id: NodeId; kind: NodeKind }[]; edges: { from: NodeId; to: NodeId }[] } {
  const kinds = new Map(dag.nodes.map((n) => [n.id, n.kind]));
  return {
    nodes: dag.order.map((id) => ({ id, kind: kinds.get(id)! })),
    edges: dag.edges.map((e) => ({ from: e.from, to: e.to })),
  };
}

const mermaidId = (id: string) => id.replace(/[^A-Za-z0-9_]/g, '_');
const mermaidShape: Record<NodeKind, [string, string]> = {
  source: ['[(', ')]'],
  cleanse: ['[', ']'],
  model: ['[', ']'],
  features: ['{{', '}}'],
  train: ['[[', ']]'],
  serve: ['([', '])'],
};

export function dagToMermaid(dag: Dag): string {
  const kinds = new Map(dag.nodes.map((n) => [n.id, n.kind]));
  const lines = ['flowchart LR'];
  for (const id of dag.order) {
    const [open, close] = mermaidShape[kinds.get(id)!];
    lines.push(`  ${mermaidId(id)}${open}"${id}"${close}`);
  }
  for (const e of dag.edges) lines.push(`  ${mermaidId(e.from)} --> ${mermaidId(e.to)}`);
  return lines.join('\n') + '\n';
}

const dotShape: Record<NodeKind, string> = {
  source: 'cylinder',
  cleanse: 'box',
  model: 'box',
  features: 'hexagon',
  train: 'component',
  serve: 'oval',
};

export function dagToDot(dag: Dag, name = 'pipeline'): string {
  const q = (s: string) => `"${s.replace(/["\\]/g, '\\$&')}"`;
  const kinds = new Map(dag.nodes.map((n) => [n.id, n.kind]));
  const lines = [`digraph ${q(name)} {`, '  rankdir=LR;'];
  for (const id of dag.order) lines.push(`  ${q(id)} [shape=${dotShape[kinds.get(id)!]}];`);
  for (const e of dag.edges) lines.push(`  ${q(e.from)} -> ${q(e.to)};`);
  lines.push('}');
  return lines.join('\n') + '\n';
}

/** The text form: one line per node in topological order with what it reads. */
export function dagToText(dag: Dag): string {
  const kinds = new Map(dag.nodes.map((n) => [n.id, n.kind]));
  const w = Math.max(0, ...dag.order.map((id) => id.length));
  return (
    dag.order
      .map((id) => {
        const ps = dag.parents.get(id) ?? [];
        return `${id.padEnd(w)}  ${kinds.get(id)!.padEnd(8)}${ps.length ? `  ← ${ps.join(', ')}` : ''}`.trimEnd();
      })
      .join('\n') + '\n'
  );
}
