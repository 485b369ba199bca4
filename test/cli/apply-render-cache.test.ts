// An apply after new source rows, as a fresh `asgard apply` process, loads no SQL toolkit
// (@polyglot-sql/sdk: ~260 ms of CPU to load, ~110 ms more for its first parse) once earlier applies
// kept what its SQL nodes need: their DuckDB renderings (src/engine/render.ts, the state folder's
// cache/renderings.json, filled by the first apply) and their maintenance analyses
// (src/planner/maintenance.ts, cache/maintenance.json, filled by the first derived run). Before,
// its first SQL node loaded the toolkit to render its body again (bench/apply.md, session 13).
// test/helpers/loaded-modules.ts records every package the process loads.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appendFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runLoggingModules } from '../helpers/loaded-modules.js';

const SPEC = `pipeline shop {
  logical_time = "2025-03-01T00:00:00Z"
  source files file {
    path = "./data"
    stream orders { path = "orders.csv"  primary_key = order_id
      columns = { order_id = "BIGINT"  store = "VARCHAR"  amount = "DOUBLE" } }
  }
  cleanse orders_clean {
    sql """ SELECT order_id, store, amount, CURRENT_DATE AS seen FROM bronze.orders WHERE amount > 0 """
    check unique(order_id)
    check sql """ SELECT * FROM silver.orders_clean WHERE amount > 1000000 """
  }
  model store_sales {
    sql """ SELECT store, count(*) AS orders, sum(amount) AS amount FROM silver.orders_clean GROUP BY store """
  }
}
`;

let dir: string;

type Doc = { ok: boolean; nodes: { node: string; status: string; maintenance?: string }[] };

/** `asgard apply --yes --format json` as a child process, and the packages it loaded. */
function apply(): { doc: Doc; packages: Set<string> } {
  const r = runLoggingModules(['apply', join(dir, 'shop.asg'), '--yes', '--format', 'json'], dir);
  expect(r.code, r.stderr.slice(-3000)).toBe(0);
  return { doc: JSON.parse(r.stdout) as Doc, packages: r.packages };
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'asg-render-cache-'));
  mkdirSync(join(dir, 'data'), { recursive: true });
  writeFileSync(join(dir, 'shop.asg'), SPEC);
  writeFileSync(join(dir, 'data', 'orders.csv'), 'order_id,store,amount\n1,north,10\n2,south,20\n3,north,-1\n4,east,7.5\n');
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('an apply after new source rows, as a process', () => {
  it('loads no SQL toolkit once earlier applies kept its renderings and analyses', () => {
    // The first apply renders the SQL with the toolkit: the recorder sees it when it is loaded.
    const first = apply();
    expect(first.doc.ok).toBe(true);
    expect(first.packages).toContain('@polyglot-sql/sdk');
    // The first run from the tables' last one: it analyses the SQL (and keeps the analyses).
    appendFileSync(join(dir, 'data', 'orders.csv'), '5,south,5\n');
    expect(apply().doc.ok).toBe(true);
    appendFileSync(join(dir, 'data', 'orders.csv'), '6,west,2.5\n');
    const r = apply();
    expect(r.doc.ok).toBe(true);
    const of = (id: string) => r.doc.nodes.find((n) => n.node === id);
    // Derived, or rebuilt when the cost choice (measured times: not pinned in a process) says so.
    for (const id of ['silver.orders_clean', 'gold.store_sales']) {
      expect(of(id)?.status).toBe('succeeded');
      expect(of(id)?.maintenance).toMatch(/^(incremental: 1 keys|full: a rebuild is cheaper)/);
    }
    // The recorder works (it saw DuckDB, which ran the nodes), and the toolkit was not loaded.
    expect(r.packages).toContain('@duckdb/node-api');
    expect(r.packages).not.toContain('@polyglot-sql/sdk');
  }, 900_000);
});
