// The site's graph layout at the scale of issue #17's generated spec: 1,000 nodes (5 source systems,
// 50 streams, 380 silver and 570 gold tables each reading one to three earlier tables). dagre's
// network-simplex ranker did not finish it in 10 minutes, so `asgard docs` never ended; the layout
// must finish (within this test's bound) and keep every edge left to right.

import { describe, expect, it } from 'vitest';
import { layoutGraph, NETWORK_SIMPLEX_MAX } from '../../src/docs/graph-layout.js';

function syntheticGraph(): { nodes: { id: string; kind: string; name: string }[]; edges: { from: string; to: string }[] } {
  let seed = 0x2545f491;
  const rand = (n: number): number => {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return (seed >>> 0) % n;
  };
  const nodes: { id: string; kind: string; name: string }[] = [];
  const edges: { from: string; to: string }[] = [];
  const bronze: string[] = [];
  const silver: string[] = [];
  const gold: string[] = [];
  for (let s = 0; s < 5; s++) nodes.push({ id: `source:db${s}`, kind: 'system', name: `db${s}` });
  for (let i = 0; i < 50; i++) {
    nodes.push({ id: `bronze.s${i}`, kind: 'source', name: `s${i}` });
    edges.push({ from: `source:db${Math.floor(i / 10)}`, to: `bronze.s${i}` });
    bronze.push(`bronze.s${i}`);
  }
  for (let i = 0; i < 950; i++) {
    const cleanse = i < 380;
    const pool = cleanse ? (silver.length && rand(3) === 0 ? silver : bronze) : gold.length && rand(2) === 0 ? gold : silver;
    const id = cleanse ? `silver.c${i}` : `gold.m${i}`;
    const reads = new Set(Array.from({ length: 1 + rand(3) }, () => pool[rand(pool.length)]));
    nodes.push({ id, kind: cleanse ? 'cleanse' : 'model', name: id.split('.')[1] });
    for (const r of reads) edges.push({ from: r, to: id });
    (cleanse ? silver : gold).push(id);
  }
  return { nodes, edges };
}

describe('graph layout', () => {
  it('lays out a 1,000-node pipeline, every edge left to right', async () => {
    const { nodes, edges } = syntheticGraph();
    expect(nodes.length).toBeGreaterThan(NETWORK_SIMPLEX_MAX);
    const layout = await layoutGraph(nodes, edges);
    expect(Object.keys(layout.nodes).length).toBe(nodes.length);
    const backwards = edges.filter((e) => layout.nodes[e.from].x >= layout.nodes[e.to].x);
    expect(backwards).toEqual([]);
    expect(layout.edges.length).toBe(edges.length);
    expect(layout.width).toBeGreaterThan(0);
  }, 300_000);
});
