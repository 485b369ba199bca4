// The engine's renderings kept across processes (src/engine/render.ts): what a later process takes
// from the cache is what renderSql renders, for every table text, logical time and variable value.
// test/cli/apply-render-cache.test.ts shows an apply after new rows then loads no SQL toolkit.

import { describe, expect, it } from 'vitest';
import type { RenderedTemplate } from '../../src/sql/bind-templates.js';
import { renderSql } from '../../src/sql/transpile.js';
import { renderBody, renderKey } from '../../src/engine/render.js';
import { body } from './helpers.js';

const cacheOf = () => {
  const kept = new Map<string, RenderedTemplate>();
  return { kept, get: (k: string) => kept.get(k), set: (k: string, v: RenderedTemplate) => void kept.set(k, v) };
};
const day = (d: string) => new Date(`${d}T00:00:00Z`);

describe('SQL bodies rendered once for later processes', () => {
  it('a kept rendering is filled with the tables the caller names, and equals renderSql’s', async () => {
    const cache = cacheOf();
    const b = body('SELECT c.id, count(*) AS n FROM silver.c c JOIN iceberg.bronze.o o ON c.id = o.cid GROUP BY c.id');
    const refs = [(id: string) => `"${id.replace('.', '"."')}"`, (id: string) => `(SELECT * FROM asg_delta_${id.replace('.', '_')})`];
    for (const tableRef of refs) {
      const r = await renderBody(b, { tableRef, logicalTime: day('2025-01-01') }, cache);
      expect(r.diagnostics).toEqual([]);
      expect(r.sql).toBe(renderSql(b, { dialect: 'duckdb', tableRef, logicalTime: day('2025-01-01') }).sql);
    }
    expect(cache.kept.size).toBe(1);
    // A later process takes what was kept (marked here to see it is taken, not rendered again) …
    const [key] = cache.kept.keys();
    cache.kept.set(key, { sql: 'SELECT 1 FROM __asg_ref_0__', tables: ['silver.c'] });
    expect((await renderBody(b, { tableRef: (id) => id, logicalTime: day('2030-06-01') }, cache)).sql).toBe('SELECT 1 FROM silver.c');
    // … for any logical time: the body reads none.
    expect(renderKey(b, day('2030-06-01'))).toBe(key);
  });

  it('a body that reads the logical time is kept per logical time; variables and text are part of the key', async () => {
    const cache = cacheOf();
    const b = { ...body("SELECT id, CURRENT_DATE AS d, now() AS t, var('region') AS r FROM silver.t"), vars: { region: 'eu' } };
    const tableRef = (id: string) => id;
    for (const [d, vars] of [
      ['2025-01-01', { region: 'eu' }],
      ['2025-02-01', { region: 'eu' }],
      ['2025-01-01', { region: 'us' }],
      ['2025-01-01', { region: 'eu' }],
    ] as const) {
      const x = { ...b, vars };
      const r = await renderBody(x, { tableRef, logicalTime: day(d) }, cache);
      expect(r.sql).toBe(renderSql(x, { dialect: 'duckdb', tableRef, logicalTime: day(d) }).sql);
      expect(r.sql).toContain(`CAST('${d}' AS DATE)`);
      expect(r.sql).toContain(`'${vars.region}'`);
    }
    expect(cache.kept.size).toBe(3);
    expect(renderKey({ ...b, text: `${b.text} ` }, day('2025-01-01'))).not.toBe(renderKey(b, day('2025-01-01')));
    // The words are found in any case.
    const lower = body('SELECT current_timestamp AS t FROM silver.t');
    expect(renderKey(lower, day('2025-01-01'))).not.toBe(renderKey(lower, day('2025-01-02')));
  });

  it('bad SQL comes back as diagnostics and is not kept', async () => {
    const cache = cacheOf();
    const r = await renderBody(body('SELECT FROM WHERE silver.t'), { tableRef: (id) => id, logicalTime: day('2025-01-01') }, cache);
    expect(r.diagnostics.length).toBeGreaterThan(0);
    expect(cache.kept.size).toBe(0);
  });
});
