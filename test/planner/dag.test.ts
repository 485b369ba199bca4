// The DAG of a checked IR takes its inputs and sorted edges as they are (src/planner/dag.ts): the
// same DAG as made from the nodes alone, and an IR whose edges or inputs are not a checked IR's
// (stale, unsorted, repeated, naming a node it lacks) gets the DAG of its nodes all the same.
import { describe, expect, it } from 'vitest';
import { buildDag } from '../../src/planner/dag.js';
import type { PipelineIR } from '../../src/ir/types.js';
import { loadPipelineText } from '../../src/dsl/load.js';
import { generateSpec } from '../../bench/gen-spec.js';
import { mulberry32 } from '../helpers/prng.js';

type Graph = Pick<PipelineIR, 'nodes' | 'edges'>;
const plain = (g: Graph) => {
  const d = buildDag({ nodes: g.nodes.map((n) => ({ ...n })) });
  return { nodes: d.nodes, edges: d.edges, parents: [...d.parents], children: [...d.children], order: d.order };
};
const withEdges = (g: Graph) => {
  const d = buildDag({ nodes: g.nodes.map((n) => ({ ...n })), edges: g.edges });
  return { nodes: d.nodes, edges: d.edges, parents: [...d.parents], children: [...d.children], order: d.order };
};

describe('the DAG of an IR with its edges', () => {
  it("is the DAG of its nodes: a checked spec's", () => {
    const ir = loadPipelineText(generateSpec({ sources: 8, sqlNodes: 120 }), '/specs/g.asg').ir!;
    expect(ir.edges.length).toBeGreaterThan(100);
    expect(withEdges(ir)).toEqual(plain(ir));
    expect(withEdges(ir).order).toEqual(ir.nodes.map((n) => n.id));
  });

  it('is the DAG of its nodes whatever the edges and inputs say (random graphs, edges damaged)', () => {
    for (let seed = 1; seed <= 300; seed++) {
      const r = mulberry32(seed);
      const n = 1 + Math.floor(r() * 12);
      const ids = Array.from({ length: n }, (_, i) => `n${Math.floor(r() * 30)}_${i}`);
      const nodes = ids.map((id, i) => {
        const inputs = ids.slice(0, i).filter(() => r() < 0.4);
        if (r() < 0.2) inputs.push('missing.node');
        if (inputs.length && r() < 0.2) inputs.push(inputs[0]);
        if (r() < 0.5) inputs.sort();
        else inputs.reverse();
        return { id, kind: 'model', inputs } as unknown as PipelineIR['nodes'][number];
      });
      const good = nodes
        .flatMap((x) => [...new Set(x.inputs)].filter((i) => ids.includes(i)).map((from) => ({ from, to: x.id })))
        .sort((a, b) => (a.from < b.from ? -1 : a.from > b.from ? 1 : a.to < b.to ? -1 : a.to > b.to ? 1 : 0));
      const damaged = [
        good,
        good.slice(1),
        [...good].reverse(),
        good.length ? [...good, good[0]] : [{ from: 'x', to: 'y' }],
        good.map((e) => (r() < 0.3 ? { from: e.to, to: e.from } : e)),
      ];
      for (const edges of damaged) expect(withEdges({ nodes, edges })).toEqual(plain({ nodes, edges: [] }));
    }
  });
});
