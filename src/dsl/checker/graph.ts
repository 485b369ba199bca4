// The dependency graph of the checked nodes: cycles (reported with their path) and a deterministic
// topological order (Kahn's algorithm, ready nodes taken in id order).

import type { NodeId } from '../../ir/types.js';

/** Every elementary cycle's representative: one path per strongly connected component with a cycle. */
export function findCycles(ids: readonly NodeId[], inputsOf: (id: NodeId) => readonly NodeId[]): NodeId[][] {
  // Tarjan's SCC, iterative so deep chains cannot overflow the stack.
  const index = new Map<NodeId, number>();
  const low = new Map<NodeId, number>();
  const onStack = new Set<NodeId>();
  const stack: NodeId[] = [];
  const sccs: NodeId[][] = [];
  let counter = 0;
  const known = new Set(ids);
  const succOf = (id: NodeId) => inputsOf(id).filter((x) => known.has(x));
  for (const root of [...ids].sort()) {
    if (index.has(root)) continue;
    const work: { id: NodeId; i: number; next: readonly NodeId[] }[] = [];
    const enter = (id: NodeId) => {
      index.set(id, counter);
      low.set(id, counter);
      counter++;
      stack.push(id);
      onStack.add(id);
      const next = succOf(id); // a copy (filter's)
      work.push({ id, i: 0, next: next.length < 2 ? next : next.sort() });
    };
    enter(root);
    while (work.length) {
      const top = work[work.length - 1];
      if (top.i < top.next.length) {
        const w = top.next[top.i++];
        if (!index.has(w)) enter(w);
        else if (onStack.has(w)) low.set(top.id, Math.min(low.get(top.id)!, index.get(w)!));
        continue;
      }
      work.pop();
      if (work.length) {
        const parent = work[work.length - 1].id;
        low.set(parent, Math.min(low.get(parent)!, low.get(top.id)!));
      }
      if (low.get(top.id) === index.get(top.id)) {
        const comp: NodeId[] = [];
        let w: NodeId;
        do {
          w = stack.pop()!;
          onStack.delete(w);
          comp.push(w);
        } while (w !== top.id);
        const selfLoop = comp.length === 1 && succOf(comp[0]).includes(comp[0]);
        if (comp.length > 1 || selfLoop) sccs.push(comp);
      }
    }
  }
  // For each component, a readable cycle path starting at its smallest id, following data flow
  // (producer → consumer): `silver.a → gold.b → silver.a`.
  const cycles: NodeId[][] = [];
  for (const comp of sccs) {
    const inComp = new Set(comp);
    const start = [...comp].sort()[0];
    const consumers = (id: NodeId) => comp.filter((c) => inputsOf(c).includes(id)).sort();
    // BFS from start back to start inside the component.
    const prev = new Map<NodeId, NodeId>();
    const queue: NodeId[] = [start];
    let found = false;
    while (queue.length && !found) {
      const cur = queue.shift()!;
      for (const nx of consumers(cur)) {
        if (!inComp.has(nx)) continue;
        if (nx === start) {
          prev.set(start, cur);
          found = true;
          break;
        }
        if (!prev.has(nx)) {
          prev.set(nx, cur);
          queue.push(nx);
        }
      }
    }
    const path: NodeId[] = [start];
    let cur = prev.get(start)!;
    while (cur !== start) {
      path.push(cur);
      cur = prev.get(cur)!;
    }
    path.push(start);
    // `path` walks backwards (consumer ← producer); reverse into data-flow order.
    const forward = [start, ...path.slice(1, -1).reverse(), start];
    cycles.push(forward);
  }
  return cycles.sort((a, b) => a[0].localeCompare(b[0]));
}

/** Topological order with ties broken by id; callers guarantee the graph is acyclic. */
export function topoOrder(ids: readonly NodeId[], inputsOf: (id: NodeId) => readonly NodeId[]): NodeId[] {
  // Nodes as their rank in id order: the ready nodes are a min-heap of ranks (the smallest id first).
  const sorted = [...new Set(ids)].sort();
  const rank = new Map<NodeId, number>();
  for (let r = 0; r < sorted.length; r++) rank.set(sorted[r], r);
  const indegree = new Int32Array(sorted.length);
  const consumers: number[][] = sorted.map(() => []);
  for (let r = 0; r < sorted.length; r++) {
    const seen = new Set<number>();
    for (const input of inputsOf(sorted[r])) {
      const i = rank.get(input);
      if (i === undefined || seen.has(i)) continue;
      seen.add(i);
      indegree[r]++;
      consumers[i].push(r);
    }
  }
  const heap: number[] = [];
  for (let r = 0; r < sorted.length; r++) if (indegree[r] === 0) heap.push(r); // ascending: already a heap
  const out: NodeId[] = [];
  while (heap.length) {
    const r = heapPop(heap);
    out.push(sorted[r]);
    for (const c of consumers[r]) if (--indegree[c] === 0) heapPush(heap, c);
  }
  return out;
}

function heapPush(h: number[], x: number): void {
  let i = h.length;
  h.push(x);
  while (i > 0) {
    const p = (i - 1) >> 1;
    if (h[p] <= x) break;
    h[i] = h[p];
    i = p;
  }
  h[i] = x;
}

function heapPop(h: number[]): number {
  const top = h[0];
  const last = h.pop()!;
  const n = h.length;
  if (n === 0) return top;
  let i = 0;
  for (;;) {
    const l = 2 * i + 1;
    if (l >= n) break;
    const c = l + 1 < n && h[l + 1] < h[l] ? l + 1 : l;
    if (h[c] >= last) break;
    h[i] = h[c];
    i = c;
  }
  h[i] = last;
  return top;
}
