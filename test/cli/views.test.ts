// CLI views (src/cli/view.ts): a result is printed through its view in the command's --format; a
// command's formats are its view's, the default first.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { CommandContext } from '../../src/cli/command.js';
import { command as graph } from '../../src/cli/commands/graph.js';
import { formatsOf, note, preview, show, showAny, type View } from '../../src/cli/view.js';
import { graphView } from '../../src/cli/views/graph.js';
import { buildDag, dagToDot, dagToJson, dagToMermaid, dagToText } from '../../src/planner/dag.js';
import { loadPipelineText } from '../../src/dsl/load.js';
import { repoRoot } from './helpers.js';

function ctxFor(format: string): { ctx: CommandContext; out: string[]; err: string[]; docs: unknown[]; both: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  const both: string[] = [];
  const docs: unknown[] = [];
  const ctx = {
    format,
    color: false,
    colorErr: false,
    io: { cwd: '/work' },
    out: (t: string) => void (out.push(t), both.push(`out:${t}`)),
    err: (t: string) => void (err.push(t), both.push(`err:${t}`)),
    json: (d: unknown) => void docs.push(d),
  } as unknown as CommandContext;
  return { ctx, out, err, docs, both };
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

  it('a renderer may print pieces on stdout and stderr, in its order, with paths as the user sees them', () => {
    const pieces: View<{ file: string }> = {
      text: ({ file }, io) => [{ err: 'first\n' }, { out: `${io.path(file)}\n` }, { err: 'last\n' }],
      json: ({ file }, io) => ({ file: io.path(file) }),
    };
    const t = ctxFor('text');
    show(t.ctx, pieces, { file: '/work/a/b.asg' });
    expect(t.both).toEqual(['err:first\n', 'out:a/b.asg\n', 'err:last\n']);
    const j = ctxFor('json');
    show(j.ctx, pieces, { file: '/elsewhere/b.asg' });
    expect(j.docs).toEqual([{ file: '/elsewhere/b.asg' }]);
    expect(j.both).toEqual([]);
  });

  it('showAny falls back to the default format; preview and note print nothing under json', () => {
    const csv = ctxFor('csv');
    showAny(csv.ctx, view, { n: 3 });
    expect(csv.out).toEqual(['n=3\n']);
    for (const f of ['text', 'json']) {
      const c = ctxFor(f);
      preview(c.ctx, view, { n: 4 });
      note(c.ctx, [{ err: 'warning\n' }]);
      expect(c.both).toEqual(f === 'json' ? [] : ['out:n=4\n', 'err:warning\n']);
      expect(c.docs).toEqual([]);
    }
  });

  it('no command branches on ctx.format: each prints through its view', async () => {
    const { readdirSync } = await import('node:fs');
    const dir = join(repoRoot, 'src', 'cli');
    const files = readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts') && f !== 'view.ts' && f !== 'run.ts');
    expect(files.length).toBeGreaterThan(20);
    const branching = files.filter((f) => /\bformat\s*[!=]==|\.format\s*[!=]==/.test(readFileSync(join(dir, f), 'utf8')));
    expect(branching).toEqual([]);
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
