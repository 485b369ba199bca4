// Plans made for pull-request review, on a catalogue of edits to pipelines/churn.asg
// (test/planner/cases/churn-review-*/edit.json): each edit's expected category per changed node and
// the impact of the edited node are asserted from edit.json, and the json and markdown plans are
// goldens (expected.json, expected.md; ASGARD_ACCEPT=1 rewrites them). The markdown is rendered
// with a CommonMark renderer (markdown-it) and its structure checked.
import MarkdownIt from 'markdown-it';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli } from '../cli/helpers.js';
import { materialise, reviewCases } from './review-cases.js';

const accept = process.env.ASGARD_ACCEPT === '1';
const cases = reviewCases();

interface Expectation {
  categories: Record<string, string>;
  impact?: Record<string, { node: string; columns: string[]; breaking: boolean }[]>;
  impactNodes?: Record<string, string[]>;
  effects?: Record<string, string>;
  reasons?: Record<string, string>;
}

interface Action {
  node: string;
  reasons: string[];
  action: string;
  category: string;
  impact: { node: string; columns: string[]; breaking: boolean; effect: string }[];
  sqlDiff?: unknown[];
}

function stable(doc: Record<string, unknown>): Record<string, unknown> {
  const { specFingerprint: _s, ...rest } = doc;
  return { ...rest, actions: (rest.actions as Record<string, unknown>[]).map(({ fingerprint: _f, metaFingerprint: _m, ...a }) => a) };
}

function golden(dir: string, file: string, content: string): void {
  const path = join(dir, file);
  if (accept || !existsSync(path)) {
    if (!accept) throw new Error(`${path} is missing: run with ASGARD_ACCEPT=1 and review it`);
    writeFileSync(path, content);
  }
  expect(content, file).toBe(readFileSync(path, 'utf8'));
}

const md = new MarkdownIt({ html: true });

/** The markdown's structure as a CommonMark renderer sees it. */
function structure(text: string) {
  const tokens = md.parse(text, {});
  const headings = tokens.filter((t, i) => t.type === 'inline' && tokens[i - 1]?.type === 'heading_open').map((t) => t.content);
  const tables: string[][][] = [];
  let table: string[][] | undefined;
  let row: string[] | undefined;
  for (const t of tokens) {
    if (t.type === 'table_open') table = [];
    else if (t.type === 'tr_open') row = [];
    else if (t.type === 'inline' && row) row.push(t.content);
    else if (t.type === 'tr_close' && table && row) {
      table.push(row);
      row = undefined;
    } else if (t.type === 'table_close' && table) {
      tables.push(table);
      table = undefined;
    }
  }
  const fences = tokens.filter((t) => t.type === 'fence').map((t) => ({ info: t.info, content: t.content }));
  const html = tokens.filter((t) => t.type === 'html_block').map((t) => t.content);
  return { headings, tables, fences, html, rendered: md.render(text) };
}

describe('review catalogue of edits to churn.asg', () => {
  it('has the whole catalogue', () => {
    expect(cases.length).toBeGreaterThanOrEqual(13);
  });

  for (const c of cases) {
    it(c.name, async () => {
      const want = (JSON.parse(readFileSync(join(c.dir, 'edit.json'), 'utf8')) as { expect: Expectation }).expect;
      const dir = materialise(c);
      const run = (format: string) => cli(['plan', 'spec.asg', '--base', 'base.asg', '--format', format, '--detailed-exitcode'], { cwd: dir });
      const json = await run('json');
      expect(json.stderr).toBe('');
      const doc = stable(JSON.parse(json.stdout) as Record<string, unknown>);
      const actions = doc.actions as Action[];
      const changed = actions.filter((a) => a.action !== 'noop');
      expect(json.code).toBe(changed.length ? 3 : 0);

      // The categories: exactly the expected nodes change, each with its expected category.
      expect(Object.fromEntries(changed.map((a) => [a.node, a.category]))).toEqual(want.categories);
      for (const a of actions.filter((x) => x.action === 'noop')) expect(a.category).toBe('none');
      const byNode = new Map(actions.map((a) => [a.node, a]));
      for (const [node, impact] of Object.entries(want.impact ?? {})) {
        expect(
          byNode.get(node)!.impact.map(({ node: n, columns, breaking }) => ({ node: n, columns, breaking })),
          `${node} impact`,
        ).toEqual(impact);
      }
      for (const [node, nodes] of Object.entries(want.impactNodes ?? {})) expect(byNode.get(node)!.impact.map((i) => i.node)).toEqual(nodes);
      for (const [node, reason] of Object.entries(want.reasons ?? {})) expect(byNode.get(node)!.reasons).toContain(reason);
      for (const [node, effect] of Object.entries(want.effects ?? {})) {
        expect(
          actions
            .flatMap((a) => a.impact)
            .filter((i) => i.node === node)
            .map((i) => i.effect),
        ).toContain(effect);
      }

      const mdRun = await run('markdown');
      expect(mdRun.stderr).toBe('');
      expect(mdRun.code).toBe(json.code);
      const s = structure(mdRun.stdout);
      expect(s.headings[0]).toMatch(/^asgard plan: `churn`/);
      expect(mdRun.stdout.length).toBeLessThan(65_536);
      if (changed.length) {
        // One table row per changed node, with its category.
        const nodes = s.tables.find((t) => t[0].join('|') === 'node|kind|action|category|impact|cost');
        expect(nodes, 'node table').toBeDefined();
        expect(
          nodes!
            .slice(1)
            .map((r) => [r[0].replace(/`/g, ''), r[3].split(' ').at(-1)])
            .sort(),
        ).toEqual(changed.map((a) => [a.node, a.category]).sort());
        // The affected subgraph as mermaid: every changed node in it.
        const graph = s.fences.find((f) => f.info === 'mermaid');
        expect(graph).toBeDefined();
        for (const a of changed) expect(graph!.content).toContain(`["${a.node}<br/>`);
        // A collapsible section per changed node.
        for (const a of changed) expect(s.html.some((h) => h.startsWith('<details><summary><code>' + a.node + '</code>'))).toBe(true);
        // A semantic SQL diff shows as its own table.
        if (changed.some((a) => a.sqlDiff?.length)) expect(s.tables.some((t) => t[0].slice(0, 3).join('|') === 'scope|clause|change')).toBe(true);
      } else {
        expect(s.rendered).toContain('No changes.');
      }
      golden(c.dir, 'expected.json', JSON.stringify(doc, null, 2) + '\n');
      golden(c.dir, 'expected.md', mdRun.stdout);
    });
  }
});
