// The checker's node order (src/dsl/checker/graph.ts topoOrder): Kahn's algorithm taking, among the
// nodes whose inputs are all placed, the smallest id first. The IR's node order (and so every plan's
// and compile's output order) is this order: compared here with the rule written out plainly, on
// random acyclic graphs with repeated inputs and inputs that are not nodes.

import { describe, expect, it } from 'vitest';
import { topoOrder } from '../../src/dsl/checker/graph.js';

/** The rule itself: repeatedly the smallest id whose known inputs are all placed. */
function reference(ids: readonly string[], inputsOf: (id: string) => readonly string[]): string[] {
  const known = new Set(ids);
  const placed = new Set<string>();
  const out: string[] = [];
  while (out.length < known.size) {
    const next = [...known].filter((id) => !placed.has(id) && inputsOf(id).every((i) => !known.has(i) || placed.has(i))).sort()[0];
    placed.add(next);
    out.push(next);
  }
  return out;
}

function randomDag(seed: number): { ids: string[]; inputs: Map<string, string[]> } {
  let s = seed;
  const rnd = () => {
    s = (s * 1103515245 + 12345) & 0x7fffffff;
    return s / 0x7fffffff;
  };
  const n = 1 + Math.floor(rnd() * 40);
  // Ids in a shuffled order, edges only from earlier to later in a hidden order: acyclic.
  const hidden = Array.from({ length: n }, (_, i) => `${['bronze', 'silver', 'gold'][Math.floor(rnd() * 3)]}.n${Math.floor(rnd() * 1000)}_${i}`);
  const inputs = new Map<string, string[]>();
  hidden.forEach((id, i) => {
    const ins: string[] = [];
    for (let k = Math.floor(rnd() * 4); k > 0 && i > 0; k--) ins.push(hidden[Math.floor(rnd() * i)]);
    if (rnd() < 0.2 && ins.length) ins.push(ins[0]); // the same input twice
    if (rnd() < 0.2) ins.push('bronze.not_a_node');
    inputs.set(id, ins);
  });
  const ids = [...hidden].sort(() => rnd() - 0.5);
  return { ids, inputs };
}

describe('topoOrder', () => {
  it('takes the smallest ready id first, on 300 random acyclic graphs', () => {
    for (let seed = 1; seed <= 300; seed++) {
      const { ids, inputs } = randomDag(seed);
      const inputsOf = (id: string) => inputs.get(id) ?? [];
      expect(topoOrder(ids, inputsOf), `seed ${seed}`).toEqual(reference(ids, inputsOf));
    }
  });

  it('orders a chain against id order, and ties by id', () => {
    const inputs: Record<string, string[]> = { 'gold.a': ['silver.z'], 'silver.z': ['bronze.y'], 'bronze.y': [], 'bronze.b': [], 'silver.c': ['bronze.b'] };
    expect(topoOrder(Object.keys(inputs), (id) => inputs[id])).toEqual(['bronze.b', 'bronze.y', 'silver.c', 'silver.z', 'gold.a']);
  });
});
