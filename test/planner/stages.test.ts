import { describe, expect, it } from 'vitest';
import { buildDag } from '../../src/planner/dag.js';
import { buildPlan, priorFromIr } from '../../src/planner/plan.js';
import { SelectError, parseSelect, planSteps } from '../../src/planner/stages.js';
import { diamond, pipeline } from './fixtures.js';

describe('apply steps', () => {
  it('turn plan actions into steps that wait for their inputs', () => {
    const base = diamond();
    const next = pipeline([...diamond({ aSql: 'SELECT 7 AS id FROM bronze.a', aPartition: [] }).nodes.filter((n) => n.id !== 'gold.solo')]);
    const withDesc = pipeline(next.nodes.map((n) => (n.id === 'silver.b_clean' ? { ...n, description: 'doc' } : n)));
    const plan = buildPlan({ ir: withDesc, prior: priorFromIr(base) });
    expect(planSteps(plan, withDesc)).toEqual([
      { node: 'bronze.a', kind: 'source', step: 'refresh', after: [] },
      { node: 'bronze.b', kind: 'source', step: 'refresh', after: [] },
      { node: 'silver.a_clean', kind: 'cleanse', step: 'run', after: ['bronze.a'] },
      { node: 'silver.b_clean', kind: 'cleanse', step: 'metadata', after: ['bronze.b'] },
      { node: 'gold.m', kind: 'model', step: 'run', after: ['silver.a_clean', 'silver.b_clean'] },
      { node: 'gold.solo', kind: 'model', step: 'delete', after: [] },
    ]);
    expect(planSteps(plan, withDesc, { refreshSources: false })[0].step).toBe('check');
  });

  it('--select keeps the selected nodes and only their selected inputs', () => {
    const ir = diamond();
    const dag = buildDag(ir);
    const plan = buildPlan({ ir, prior: {} });
    const sel = parseSelect(['silver.b_clean+'], dag);
    expect([...sel].sort()).toEqual(['gold.m', 'gold.solo', 'silver.b_clean']);
    const steps = planSteps(plan, ir, { select: sel });
    expect(steps.map((s) => [s.node, s.after])).toEqual([
      ['silver.b_clean', []],
      ['gold.m', ['silver.b_clean']],
      ['gold.solo', ['silver.b_clean']],
    ]);
    expect([...parseSelect(['bronze.a, gold.solo'], dag)].sort()).toEqual(['bronze.a', 'gold.solo']);
    expect(() => parseSelect(['silver.nope+'], dag)).toThrow(SelectError);
  });
});
