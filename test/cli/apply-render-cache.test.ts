// An apply after new source rows, as a fresh `asgard apply` process, loads no SQL toolkit
// (@polyglot-sql/sdk: ~260 ms of CPU to load, ~110 ms more for its first parse) once earlier applies
// kept what its SQL nodes need: their DuckDB renderings (src/engine/render.ts, the state folder's
// cache/renderings.json, filled by the first apply) and their maintenance analyses
// (src/planner/maintenance.ts, cache/maintenance.json, filled by the first derived run). Before,
// its first SQL node loaded the toolkit to render its body again (bench/apply.md, session 13).
// An ESM resolve hook records every package the process imports (as test/cli/apply-noop-modules.test.ts).

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '..', '..');

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
const hook = () => join(dir, 'record-imports.mjs');

type Doc = { ok: boolean; nodes: { node: string; status: string; maintenance?: string }[] };

/** `asgard apply --yes --format json` as a child process; the packages it imported, when recorded. */
function apply(record: boolean): { doc: Doc; packages: string[] } {
  const out = join(dir, 'imports.txt');
  rmSync(out, { force: true });
  const r = spawnSync(
    process.execPath,
    ['--import', 'tsx', ...(record ? ['--import', hook()] : []), join(ROOT, 'src/cli/main.ts'), 'apply', join(dir, 'shop.asg'), '--yes', '--format', 'json'],
    { cwd: ROOT, env: { ...process.env, IMPORTS_OUT: out }, encoding: 'utf8', timeout: 300_000 },
  );
  expect(r.status, r.stderr.slice(-3000)).toBe(0);
  const packages = record ? [...new Set(readFileSync(out, 'utf8').trim().split('\n'))].sort() : [];
  return { doc: JSON.parse(r.stdout) as Doc, packages };
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'asg-render-cache-'));
  mkdirSync(join(dir, 'data'), { recursive: true });
  writeFileSync(join(dir, 'shop.asg'), SPEC);
  writeFileSync(join(dir, 'data', 'orders.csv'), 'order_id,store,amount\n1,north,10\n2,south,20\n3,north,-1\n4,east,7.5\n');
  writeFileSync(
    hook(),
    `import { register } from 'node:module';
register('data:text/javascript,' + encodeURIComponent(\`
import { appendFileSync } from 'node:fs';
export async function resolve(specifier, context, next) {
  if (specifier.startsWith('node:')) appendFileSync(process.env.IMPORTS_OUT, specifier + '\\\\n');
  else if (!/^(\\\\.|\\\\/|file:|data:)/.test(specifier)) {
    const name = specifier.startsWith('@') ? specifier.split('/').slice(0, 2).join('/') : specifier.split('/')[0];
    appendFileSync(process.env.IMPORTS_OUT, name + '\\\\n');
  }
  return next(specifier, context);
}\`));
`,
  );
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('an apply after new source rows, as a process', () => {
  it('loads no SQL toolkit once earlier applies kept its renderings and analyses', () => {
    expect(apply(false).doc.ok).toBe(true);
    // The first run from the tables' last one: it analyses the SQL (and keeps the analyses).
    appendFileSync(join(dir, 'data', 'orders.csv'), '5,south,5\n');
    expect(apply(false).doc.ok).toBe(true);
    appendFileSync(join(dir, 'data', 'orders.csv'), '6,west,2.5\n');
    const r = apply(true);
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
