// The per-block parse and check cache (src/dsl/block-cache.ts): a spec loaded with the blocks of an
// earlier text replayed from the cache gives exactly what loading it from scratch gives (IR, spans,
// diagnostics), whatever the edit: a changed filter, lines added above other blocks (spans move), a
// block removed or added, an error, a duplicate; and the cache is really used (blocks are left out).
import { describe, expect, it } from 'vitest';
import { generateSpec } from '../../bench/gen-spec.js';
import type { CachedBlock } from '../../src/dsl/block-cache.js';
import { loadPipelineText } from '../../src/dsl/load.js';

const file = '/specs/generated.asg';
// A warning inside a model block (a diagnostic whose span must move with its block).
const WARNED = `  model late_rows {
    materialized   = incremental
    incremental_by = created_at
    sql """
      SELECT * FROM silver.c0
    """
  }
`;
const base = generateSpec({ sources: 12, sqlNodes: 40 }).replace(/\}\s*$/, `${WARNED}}\n`);

function countingCache() {
  const m = new Map<string, CachedBlock>();
  const c = {
    hits: 0,
    get: (k: string) => (m.has(k) ? (c.hits++, m.get(k)) : undefined),
    set: (k: string, v: CachedBlock) => void m.set(k, v),
    size: () => m.size,
  };
  return c;
}

const fresh = (text: string) => loadPipelineText(text, file);

describe('block cache', () => {
  const first = base.indexOf('WHERE amount > ');
  const edits: [string, (t: string) => string][] = [
    ['a changed filter', (t) => `${t.slice(0, first)}WHERE amount > 7 AND ${t.slice(first + 'WHERE '.length)}`],
    ['lines added in a body (every later span moves)', (t) => `${t.slice(0, first)}-- one\n      -- two\n      ${t.slice(first)}`],
    ['a block removed', (t) => t.replace(/ {2}model m3 \{[\s\S]*?\n {2}\}\n/, '')],
    ['a block added', (t) => t.replace('  model m0 {', '  model extra {\n    sql """ SELECT id FROM silver.c1 """\n  }\n\n  model m0 {')],
    ['an error in one block', (t) => t.replace('  model m1 {', '  model m1 {\n    materialised = table')],
    ['a duplicate name', (t) => t.replace('  model m2 {', '  model m1 {\n    sql """ SELECT 1 AS id """\n  }\n  model m2 {')],
  ];

  it('a cold load stores the blocks and equals a load without the cache', () => {
    const cache = countingCache();
    const loaded = loadPipelineText(base, file, { blockCache: cache });
    expect(loaded.ir).toBeDefined();
    expect(loaded.diagnostics.length).toBeGreaterThan(0); // the warning
    expect(loaded).toEqual(fresh(base));
    expect(cache.size()).toBeGreaterThan(40);
  });

  for (const [what, edit] of edits) {
    it(`after ${what}, a load through the cache equals a fresh load and replays the other blocks`, () => {
      const cache = countingCache();
      loadPipelineText(base, file, { blockCache: cache });
      const text = edit(base);
      expect(text).not.toBe(base);
      const warm = loadPipelineText(text, file, { blockCache: cache });
      expect(warm).toEqual(fresh(text));
      expect(cache.hits).toBeGreaterThan(40);
    });
  }

  it('a spec with variables is read whole (a variable reaches into any block)', () => {
    const withVar = base.replace('  source db0', '  var min_amount {\n    type    = int\n    default = 3\n  }\n\n  source db0');
    const cache = countingCache();
    loadPipelineText(withVar, file, { blockCache: cache });
    const warm = loadPipelineText(withVar, file, { blockCache: cache });
    expect(cache.hits).toBe(0);
    expect(warm).toEqual(fresh(withVar));
  });
});
