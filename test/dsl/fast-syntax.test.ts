// The hand-written parser (src/dsl/fast-syntax.ts) against the reference (src/dsl/syntax-reference.ts,
// Chevrotain): on every spec of the repository, generated specs and seeded mutants of them (tokens
// deleted and inserted, lines joined and removed), it takes exactly the texts the reference parses
// without a diagnostic, and gives the same tree (and, with a block cache, the same blocks left out);
// every other text goes to the reference, so parseSpec's diagnostics on bad input are the reference's.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { generateSpec } from '../../bench/gen-spec.js';
import type { BlockRange } from '../../src/dsl/block-cache.js';
import { parseFast } from '../../src/dsl/fast-syntax.js';
import { MAX_NESTING, parseSpec } from '../../src/dsl/syntax.js';
import { parseSpecReference } from '../../src/dsl/syntax-reference.js';
import { generatedCases } from './generated-cases.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const file = '/specs/s.asg';

function specFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.name === 'node_modules' || e.name === 'dist' || e.name.startsWith('.')) continue;
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...specFiles(p));
    else if (e.name.endsWith('.asg')) out.push(p);
  }
  return out;
}

const repoSpecs = [...specFiles(join(root, 'pipelines')), ...specFiles(join(root, 'test'))].map((p) => readFileSync(p, 'utf8'));
const corpus = [...repoSpecs, generateSpec(40), generateSpec({ sources: 3, sqlNodes: 12, name: 'small' })];

const clean = (r: ReturnType<typeof parseSpecReference>) => r.ast !== undefined && r.diagnostics.length === 0 && (r.valueDiagnostics ?? []).length === 0;
const tree = (r: { ast?: unknown; blocks?: unknown } | undefined) => JSON.stringify({ ast: r?.ast, blocks: r?.blocks });

/** Compares both parsers on `text`; returns whether the fast one took it. */
function compare(text: string, skip?: (r: BlockRange) => boolean): boolean {
  const ref = parseSpecReference(text, file, skip ? { skip } : {});
  const fast = parseFast(text, file, skip);
  if (fast) {
    expect(clean(ref), `the fast parser took a text the reference reports:\n${text}`).toBe(true);
    expect(tree(fast)).toBe(tree(ref));
  } else if (!text.includes('\r')) {
    expect(clean(ref), `the fast parser declined a clean text:\n${text}`).toBe(false);
  }
  // The entry: the fast tree when it took the text, else the reference's result whole.
  expect(JSON.stringify(parseSpec(text, file, skip ? { skip } : {}))).toBe(
    JSON.stringify(fast ? { ast: fast.ast, diagnostics: [], valueDiagnostics: [], ...(fast.blocks ? { blocks: fast.blocks } : {}) } : ref),
  );
  return fast !== undefined;
}

/** A small seeded generator (the mutants are the same on every run). */
function prng(seed: number) {
  let s = seed;
  return (n: number) => {
    s = (s * 1103515245 + 12345) & 0x7fffffff;
    return s % n;
  };
}

const PALETTE = [
  '=',
  '{',
  '}',
  '[',
  ']',
  '(',
  ')',
  ',',
  '.',
  '"',
  '"""',
  '\n',
  ' ',
  'check',
  'check x(',
  'check y """select 1"""',
  'x = 1',
  '30d',
  '30w',
  '1e5',
  '-',
  '-1',
  '"a\\q"',
  '"\\u00e9"',
  '"\\u00"',
  '#c\n',
  '/*',
  '*/',
  '/* c\n */',
  '//',
  'true',
  'foo.bar',
  'sql """select 1"""',
  'a {',
  '\r',
  '\t',
  '\uFEFF',
  '@',
  'é',
  '_x',
  'x-y',
  '5x',
  '1.5',
  '.5',
  '1.',
  '5e',
  '5e+',
  '12e3x',
  'model m {\n',
  'source s {',
  'var x = 1\n',
  '"lbl"',
  'a = b {',
  'f()',
  'f(a = 1, 2)',
  '\\',
  '"\\\n"',
];

function mutate(text: string, rnd: (n: number) => number): string {
  let t = text;
  for (let m = 1 + rnd(3); m > 0; m--) {
    const at = rnd(t.length + 1);
    switch (rnd(5)) {
      case 0:
        t = t.slice(0, at) + t.slice(at + 1 + rnd(6));
        break;
      case 1:
      case 2:
        t = t.slice(0, at) + PALETTE[rnd(PALETTE.length)] + t.slice(at);
        break;
      case 3: {
        const nl = t.indexOf('\n', at);
        if (nl >= 0) t = `${t.slice(0, nl)} ${t.slice(nl + 1)}`;
        break;
      }
      default: {
        const a = t.lastIndexOf('\n', at - 1) + 1;
        const b = t.indexOf('\n', at);
        if (b > a) t = t.slice(0, a) + t.slice(b + 1);
      }
    }
  }
  return t;
}

describe('the fast parser', () => {
  it('takes every clean spec of the repository and gives the reference tree', () => {
    let taken = 0;
    for (const text of corpus) if (compare(text)) taken++;
    expect(repoSpecs.length).toBeGreaterThan(20);
    expect(taken).toBeGreaterThan(20);
  });

  it('leaves out the same cached blocks as the reference', () => {
    const spec = generateSpec(40);
    const even = (r: BlockRange) => r.key.charCodeAt(0) % 2 === 0;
    expect(compare(spec, even)).toBe(true);
    expect(parseFast(spec, file, even)?.blocks?.skipped.length).toBeGreaterThan(0);
    expect(compare(spec, () => true)).toBe(true);
  });

  it('agrees with the reference on mutants: takes exactly the clean ones, equal trees, else the reference diagnostics', () => {
    const rnd = prng(20261203);
    const small = corpus.filter((t) => t.length < 8_000);
    let taken = 0;
    let declined = 0;
    for (let k = 0; k < 800; k++) {
      const text = mutate(small[rnd(small.length)], rnd);
      const skip = k % 2 ? (r: BlockRange) => r.key.charCodeAt(0) % 2 === 0 : undefined;
      if (compare(text, skip)) taken++;
      else declined++;
    }
    // Both sides are exercised, not one.
    expect(taken).toBeGreaterThan(200);
    expect(declined).toBeGreaterThan(200);
  });

  it('sends every kind of bad input to the reference, whose diagnostics parseSpec returns', () => {
    const base = 'pipeline p {\n  model m {\n    sql """SELECT 1 AS x"""\n    x = VALUE\n  }\n}\n';
    const bad = [
      'VALUE'.replace('VALUE', '"no end'),
      '"bad \\q escape"',
      '30w',
      '10min',
      '',
      '= 1',
      '[1, 2',
      '{ a = 1 ]',
      'f(a, )',
      'a.',
      '@',
      '-',
      '"""unterminated',
      '/* never closed',
      `${'['.repeat(MAX_NESTING + 1)}${']'.repeat(MAX_NESTING + 1)}`,
    ].map((v) => base.replace('VALUE', v));
    bad.push(generatedCases['deep-nesting-lists']().toString(), generatedCases['deep-nesting-maps']().toString());
    bad.push(base.replace(/\n/g, '\r\n'), '', '   \n', 'pipeline p {', '}', 'pipeline p { x = \n 1 }', 'pipeline p { model m\n{ } } }');
    for (const text of bad) {
      const ref = parseSpecReference(text, file, {});
      expect(parseFast(text, file)).toBeUndefined();
      expect(parseSpec(text, file)).toEqual(ref);
      if (!text.includes('\r')) expect(ref.diagnostics.length + (ref.valueDiagnostics ?? []).length).toBeGreaterThan(0);
    }
  });
});
