// CLI views (src/cli/view.ts): a result is printed through its view in the command's --format; a
// command's formats are its view's, the default first.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { CommandContext } from '../../src/cli/command.js';
import { command as graph } from '../../src/cli/commands/graph.js';
import { formatsOf, show, type View } from '../../src/cli/view.js';
import { graphView } from '../../src/cli/views/graph.js';
import { buildDag, dagToDot, dagToJson, dagToMermaid, dagToText } from '../../src/planner/dag.js';
import { loadPipelineText } from '../../src/dsl/load.js';
import { repoRoot } from './helpers.js';

function ctxFor(format: string): { ctx: CommandContext; out: string[]; docs: unknown[] } {
  const out: string[] = [];
  const docs: unknown[] = [];
  const ctx = { format, out: (t: string) => void out.push(t), json: (d: unknown) => void docs.push(d) } as unknown as CommandContext;
  return { ctx, out, docs };
}

describe('CLI views', () => {
  const view: View<{ n: number }> = { text: ({ n }) => `n=${n}\n`, json: ({ n }) => ({ n }) };

  it('text goes to stdout as text, json as one document', () => {
    const t = ctxFor('text');
    show(t.ctx, view, { n: 2 });
    expect(t.out).toEqual(['n=2\n']);
    expect(t.docs).toEqual([]);
    const j = ctxFor('json');
    show(j.ctx, view, { n: 2 });
    expect(j.docs).toEqual([{ n: 2 }]);
    expect(j.out).toEqual([]);
  });

  it('a format the view does not render is a bug, said as one', () => {
    expect(() => show(ctxFor('markdown').ctx, view, { n: 1 })).toThrow(/no markdown view/);
  });

  it('graph: its formats are its view’s, and each renders what the planner’s renderer does', () => {
    expect(graph.formats).toEqual(['text', 'mermaid', 'dot', 'json']);
    expect(formatsOf(graphView)).toEqual(graph.formats);
    const ir = loadPipelineText(readFileSync(join(repoRoot, 'pipelines', 'churn.asg'), 'utf8'), join(repoRoot, 'pipelines', 'churn.asg')).ir!;
    const dag = buildDag(ir);
    const expected: Record<string, unknown> = { text: dagToText(dag), mermaid: dagToMermaid(dag), dot: dagToDot(dag, ir.name), json: dagToJson(dag) };
    for (const f of graph.formats!) {
      const c = ctxFor(f);
      show(c.ctx, graphView, { dag, name: ir.name });
      expect(f === 'json' ? c.docs[0] : c.out.join('')).toEqual(expected[f]);
    }
  });
});
