// Column lineage costs one SQL analysis per node, not one per output column (issue #17: `asgard docs`
// of a generated 1,000-node spec did not finish in 10 minutes; tracing each of a node's columns
// separately parsed and qualified its body once per column). The polyglot calls are counted through
// a pass-through mock; the edges themselves are checked against what the SQL says. A body in the
// fast parser's subset costs no polyglot call at all (src/sql/fast-lineage.ts).

import { describe, expect, it, vi } from 'vitest';

const calls = vi.hoisted(() => ({ perColumn: 0, facet: 0 }));
vi.mock('@polyglot-sql/sdk', async (importOriginal) => {
  const m = await importOriginal<typeof import('@polyglot-sql/sdk')>();
  return {
    ...m,
    lineageWithSchema: (...a: Parameters<typeof m.lineageWithSchema>) => (calls.perColumn++, m.lineageWithSchema(...a)),
    openLineageColumnLineage: (...a: Parameters<typeof m.openLineageColumnLineage>) => (calls.facet++, m.openLineageColumnLineage(...a)),
  };
});

const { LineageGraph } = await import('../../src/engine/lineage.js');
const { inferSchemas } = await import('../../src/engine/schemas.js');
const { body, cleanse, ir, model, source } = await import('./helpers.js');

describe('column lineage passes', () => {
  it('analyses a node with many columns once, through a CTE, a join and SELECT *', async () => {
    const cols: [string, string][] = [
      ['id', 'BIGINT'],
      ['customer_id', 'BIGINT'],
      ['amount', 'DOUBLE'],
      ['country', 'VARCHAR'],
      ['status', 'VARCHAR'],
      ['created_at', 'TIMESTAMP'],
      ['updated_at', 'TIMESTAMP'],
    ];
    const p = ir([
      source('orders', cols),
      source('refunds', cols),
      cleanse('orders_clean', body('SELECT * FROM bronze.orders WHERE id IS NOT NULL'), ['bronze.orders']),
      model(
        'order_totals',
        body(`WITH r AS (SELECT customer_id, SUM(amount) AS refunded FROM bronze.refunds GROUP BY customer_id)
SELECT o.id, o.customer_id, o.amount - COALESCE(r.refunded, 0) AS amount, UPPER(o.country) AS country, o.status, o.created_at, o.updated_at
FROM silver.orders_clean o LEFT JOIN r ON o.customer_id = r.customer_id`),
        ['silver.orders_clean', 'bronze.refunds'],
      ),
    ]);
    const { schemas, diagnostics } = await inferSchemas(p);
    expect(diagnostics).toEqual([]);
    calls.perColumn = 0;
    calls.facet = 0;
    const g = new LineageGraph(p, schemas);
    const edges = Object.fromEntries(cols.map(([c]) => [c, g.sourcesOf('gold.order_totals', c).map((r) => `${r.table}.${r.column}`)]));
    expect(edges).toEqual({
      id: ['silver.orders_clean.id'],
      customer_id: ['silver.orders_clean.customer_id'],
      amount: ['bronze.refunds.amount', 'silver.orders_clean.amount'],
      country: ['silver.orders_clean.country'],
      status: ['silver.orders_clean.status'],
      created_at: ['silver.orders_clean.created_at'],
      updated_at: ['silver.orders_clean.updated_at'],
    });
    expect(g.sourcesOf('silver.orders_clean', 'amount').map((r) => `${r.table}.${r.column}`)).toEqual(['bronze.orders.amount']);
    // Both bodies are in the fast parser's subset: traced without polyglot (src/sql/fast-lineage.ts;
    // before it, two facet calls, and per column it was fourteen).
    expect(calls.perColumn + calls.facet).toBe(0);
  });

  it('analyses a body outside the fast subset once with polyglot, for all its columns', async () => {
    const cols: [string, string][] = [
      ['id', 'BIGINT'],
      ['first', 'VARCHAR'],
      ['last', 'VARCHAR'],
      ['city', 'VARCHAR'],
    ];
    const p = ir([
      source('people', cols),
      cleanse('people_clean', body("SELECT id, first || ' ' || last AS name, nvl(city, 'none') AS city FROM bronze.people"), ['bronze.people']),
    ]);
    const { schemas, diagnostics } = await inferSchemas(p);
    expect(diagnostics).toEqual([]);
    calls.perColumn = 0;
    calls.facet = 0;
    const g = new LineageGraph(p, schemas);
    const edges = Object.fromEntries(['id', 'name', 'city'].map((c) => [c, g.sourcesOf('silver.people_clean', c).map((r) => `${r.table}.${r.column}`)]));
    expect(edges).toEqual({ id: ['bronze.people.id'], name: ['bronze.people.first', 'bronze.people.last'], city: ['bronze.people.city'] });
    expect(calls.perColumn + calls.facet).toBe(1);
  });
});
