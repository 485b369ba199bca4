// A no-op apply of file sources, as a fresh `asgard apply` process, loads only what it needs
// (issue #10: 10.5 s as a CLI process against 0.78 s in a warm process; module loading dominated).
// Files that did not change are not read (src/ingest/file-manifest.ts), so the process must not
// load a database driver, DuckDB, the Kubernetes client, the compile targets' templates, ONNX or the
// AWS SDK: an ESM resolve hook records every package the process imports, and the no-op apply's
// list is checked. A glob's folder whose mtime did not move is not listed again; a file added to it
// still is seen.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '..', '..');
const NOT_ON_A_NOOP = [
  '@duckdb/node-api',
  'pg',
  'pg-copy-streams',
  'mysql2',
  '@kubernetes/client-node',
  'handlebars',
  'onnxruntime-node',
  '@aws-sdk/client-s3',
];

const SPEC = `pipeline shop {
  source files file {
    path = "./data"
    stream orders { path = "orders.csv"  primary_key = order_id
      columns = { order_id = "BIGINT"  store = "VARCHAR"  amount = "DOUBLE" } }
    stream returns { path = "returns/*.json"  primary_key = return_id
      columns = { return_id = "BIGINT"  order_id = "BIGINT" } }
  }
  cleanse orders_clean {
    sql """ SELECT order_id, store, amount FROM bronze.orders WHERE amount > 0 """
  }
  model store_sales {
    sql """ SELECT o.store, count(*) AS orders, count(r.return_id) AS returns
            FROM silver.orders_clean o LEFT JOIN bronze.returns r USING (order_id) GROUP BY o.store """
  }
}
`;

let dir: string;
const hook = () => join(dir, 'record-imports.mjs');

/** `asgard apply --yes --format json` as a child process; the packages it imported, when recorded. */
function apply(record: boolean): { doc: { ok: boolean; nodes: { node: string; status: string; rows?: number }[] }; packages: string[] } {
  const out = join(dir, 'imports.txt');
  rmSync(out, { force: true });
  const r = spawnSync(
    process.execPath,
    ['--import', 'tsx', ...(record ? ['--import', hook()] : []), join(ROOT, 'src/cli/main.ts'), 'apply', join(dir, 'shop.asg'), '--yes', '--format', 'json'],
    {
      cwd: ROOT,
      env: { ...process.env, IMPORTS_OUT: out, ASGARD_CACHE_DIR: join(dir, 'cache') },
      encoding: 'utf8',
      timeout: 300_000,
    },
  );
  expect(r.status, r.stderr.slice(-3000)).toBe(0);
  const packages = record ? [...new Set(readFileSync(out, 'utf8').trim().split('\n'))].sort() : [];
  return { doc: JSON.parse(r.stdout), packages };
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'asg-noop-modules-'));
  mkdirSync(join(dir, 'data', 'returns'), { recursive: true });
  writeFileSync(join(dir, 'shop.asg'), SPEC);
  writeFileSync(join(dir, 'data', 'orders.csv'), 'order_id,store,amount\n1,north,10\n2,south,20\n3,north,-1\n4,east,7.5\n');
  writeFileSync(join(dir, 'data', 'returns', 'a.json'), '{"return_id": 1, "order_id": 2}\n');
  // Every bare package specifier the process resolves (from any importer), one a line; and the
  // built-in modules (node:…), which show the recorder sees the process's imports.
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

describe('a no-op apply of unchanged file sources, as a process', () => {
  it('loads no database driver, DuckDB, Kubernetes client, templates, ONNX or AWS SDK', () => {
    const first = apply(false);
    expect(first.doc.ok).toBe(true);
    // The first no-op records the glob folder's mtime (a state written before this change lacks it).
    apply(false);
    const noop = apply(true);
    expect(noop.doc.ok).toBe(true);
    expect(noop.doc.nodes.filter((n) => n.status === 'succeeded' && !n.node.startsWith('bronze.'))).toEqual([]);
    // The recorder works: it saw the process's imports (built-in modules; no package is needed: the
    // spec's settings and the state are checked without zod, src/util/schema.ts).
    expect(noop.packages).toContain('node:fs');
    expect(noop.packages.filter((p) => NOT_ON_A_NOOP.includes(p))).toEqual([]);
  }, 600_000);

  it('a file added to a glob folder is read by the next apply', () => {
    writeFileSync(join(dir, 'data', 'returns', 'b.json'), '{"return_id": 2, "order_id": 4}\n');
    const doc = apply(false).doc;
    expect(doc.nodes.find((n) => n.node === 'bronze.returns')).toMatchObject({ status: 'succeeded', rows: 2 });
    expect(doc.nodes.find((n) => n.node === 'gold.store_sales')?.status).toBe('succeeded');
  }, 600_000);
});
