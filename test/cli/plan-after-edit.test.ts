// A plan after an edit, made from what the last plan kept (an edit inside one block patches the last
// checked spec, src/dsl/patch.ts; any other is loaded in full, #16.3): whatever the edit, it prints
// exactly what a plan of the same text with no cache at all prints, diagnostics with their
// file:line:col included. Edits of several kinds follow one another in one workspace (each plan's
// caches are the next one's start): a SQL filter, a projected column, a column renamed, comments and
// lines added inside a block and above other blocks (spans move), a source's declared column
// retyped, a node added, a node removed, a node reading another table, a description, edits that
// break the spec (an unknown table, a SQL syntax error below moved lines) and their repair; and the
// same against an applied state (noop, update and upstream reasons).
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { generateSpec } from '../../bench/gen-spec.js';
import { cli, SHOP_SPEC, shopFolder } from './helpers.js';

/** `asgard plan SPEC --format json` in `dir`: exit code, stdout and stderr as one string to compare. */
async function plan(dir: string, spec: string, extra: string[] = []): Promise<string> {
  const r = await cli(['plan', spec, '--format', 'json', ...extra], { cwd: dir });
  return `exit ${r.code}\n${r.stdout}\n--- stderr\n${r.stderr}`;
}

/** The same plan in a fresh copy of `dir` without its cache folder (state and warehouse kept). */
async function uncached(dir: string, spec: string, text: string): Promise<string> {
  rmSync(join(dir, '.asgard', 'cache'), { recursive: true, force: true });
  writeFileSync(join(dir, spec), text);
  return plan(dir, spec);
}

type Edit = readonly [what: string, edit: (t: string) => string];

const replaceOnce = (t: string, from: string | RegExp, to: string): string => {
  const next = t.replace(from, to);
  expect(next, `the edit of ${String(from)} applies`).not.toBe(t);
  return next;
};

describe('plan after an edit', () => {
  it('equals a plan without caches, edit after edit, on a generated spec', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'asgard-plan-edit-'));
    const cold = mkdtempSync(join(tmpdir(), 'asgard-plan-edit-cold-'));
    const spec = 'generated.asg';
    let text = generateSpec({ sources: 12, sqlNodes: 120 });
    const edits: Edit[] = [
      ['a SQL filter', (t) => replaceOnce(t, 'WHERE amount > ', 'WHERE amount > 100 AND amount > ')],
      ['a comment in a SQL body', (t) => replaceOnce(t, '      FROM bronze.s4\n', '      -- the fourth stream\n      FROM bronze.s4\n')],
      ['a spec comment inside a block', (t) => replaceOnce(t, '  cleanse c2 {\n', '  cleanse c2 {\n    // kept\n    // for now\n')],
      ['lines removed inside a block', (t) => replaceOnce(t, '  cleanse c2 {\n    // kept\n    // for now\n', '  cleanse c2 {\n')],
      ['a column renamed', (t) => replaceOnce(t, 'UPPER(TRIM(country)) AS country,\n        CASE', 'UPPER(TRIM(country)) AS country_code,\n        CASE')],
      [
        'a SQL syntax error below moved lines',
        (t) => replaceOnce(t.replace('  cleanse c5 {\n', '  cleanse c5 {\n    // one\n'), /(cleanse c5 \{[\s\S]*?)WHERE /, '$1WHERE WHERE '),
      ],
      ['its repair', (t) => replaceOnce(t, 'WHERE WHERE ', 'WHERE ')],
      ['a node reading another table', (t) => replaceOnce(t, /(cleanse c2 \{[\s\S]*?)FROM bronze\.s4/, '$1FROM bronze.s5')],
      ['a projected column', (t) => replaceOnce(t, '  UPPER(TRIM(country)) AS country,', '  LOWER(TRIM(country)) AS country,')],
      ['a source column retyped', (t) => replaceOnce(t, /amount = "DECIMAL\(10,2\)"/, 'amount = "DECIMAL(18,3)"')],
      ['lines added above other blocks', (t) => replaceOnce(t, '  cleanse c1 {', '  // two lines\n  // of comment\n  cleanse c1 {')],
      ['a node added', (t) => replaceOnce(t, '  model m0 {', '  model extra {\n    sql """ SELECT id, amount FROM silver.c1 """\n  }\n\n  model m0 {')],
      ['a node removed', (t) => replaceOnce(t, /\n {2}model m71 \{[\s\S]*?\n {2}\}\n/, '\n')],
      ['a description', (t) => replaceOnce(t, 'description = "synthetic model 50 ', 'description = "edited model 50 ')],
      ['an edit that breaks the spec', (t) => replaceOnce(t, 'FROM silver.c1', 'FROM silver.nope')],
      ['its repair', (t) => t.replace('FROM silver.nope', 'FROM silver.c1')],
      [
        'two blocks at once',
        (t) => replaceOnce(replaceOnce(t, 'model m3 {', 'model m3 {\n    tags = ["a"]'), 'cleanse c7 {', 'cleanse c7 {\n    tags = ["b"]'),
      ],
    ];
    writeFileSync(join(dir, spec), text);
    expect(await plan(dir, spec)).toMatch(/^exit 0/);
    for (const [what, edit] of edits) {
      text = edit(text);
      writeFileSync(join(dir, spec), text);
      const warm = await plan(dir, spec);
      expect(warm, what).toBe(await uncached(cold, spec, text));
      // A repeated plan of the same text (replayed) says the same.
      expect(await plan(dir, spec), what).toBe(warm);
    }
  }, 300_000);

  it('equals a plan without caches against an applied state', async () => {
    const dir = shopFolder('asgard-plan-edit-state-');
    const spec = 'shop.asg';
    let text = SHOP_SPEC.replace(
      /}\n$/,
      `  model big_orders {
    sql """ SELECT order_id, amount FROM silver.orders_clean WHERE amount > 15 """
  }
}
`,
    );
    writeFileSync(join(dir, spec), text);
    const applied = await cli(['apply', spec, '--yes'], { cwd: dir });
    expect(applied.code, applied.stderr).toBe(0);
    // The plan of the same text without the cache folder (state and warehouse kept), the caches then put back.
    const withoutCaches = async (): Promise<string> => {
      const caches = join(dir, '.asgard', 'cache');
      const kept = mkdtempSync(join(tmpdir(), 'asgard-plan-edit-kept-'));
      cpSync(caches, kept, { recursive: true });
      rmSync(caches, { recursive: true, force: true });
      const r = await plan(dir, spec);
      rmSync(caches, { recursive: true, force: true });
      cpSync(kept, caches, { recursive: true });
      return r;
    };
    const edits: Edit[] = [
      ['a filter (upstream of two models)', (t) => replaceOnce(t, 'WHERE amount > 0', 'WHERE amount > 1')],
      ['a projected column removed', (t) => replaceOnce(t, 'SELECT order_id, amount FROM silver', 'SELECT order_id FROM silver')],
      [
        'a node added',
        (t) =>
          replaceOnce(t, '  model big_orders {', '  model stores {\n    sql """ SELECT DISTINCT store FROM silver.orders_clean """\n  }\n  model big_orders {'),
      ],
      ['a node removed', (t) => replaceOnce(t, /\n {2}model store_sales \{[\s\S]*?\n {2}\}/, '')],
      ['back to the applied text', () => readFileSync(join(dir, 'applied.asg'), 'utf8')],
    ];
    writeFileSync(join(dir, 'applied.asg'), text);
    expect(await plan(dir, spec)).toMatch(/^exit 0/);
    for (const [what, edit] of edits) {
      text = edit(text);
      writeFileSync(join(dir, spec), text);
      const warm = await plan(dir, spec);
      expect(warm, what).toBe(await withoutCaches());
    }
  }, 300_000);

  it('keeps the plan after an edit as a delta of the last whole plan entry, which is not written again; read through it, the plan is the same; a torn delta is not read', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'asgard-plan-delta-'));
    const cold = mkdtempSync(join(tmpdir(), 'asgard-plan-delta-cold-'));
    const spec = 'generated.asg';
    const plans = join(dir, '.asgard', 'cache', 'plans');
    const whole = join(plans, `${spec}.json`);
    const delta = `${whole}.delta`;
    const record = join(plans, `${spec}.out`);
    let text = generateSpec({ sources: 6, sqlNodes: 80 });
    writeFileSync(join(dir, spec), text);
    expect(await plan(dir, spec)).toMatch(/^exit 0/);
    const base = readFileSync(whole);
    const stamp = statSync(whole).mtimeMs;
    expect(existsSync(delta)).toBe(false);
    // Two edits in turn, each a plan made from the last one: the whole entry stays as it was.
    for (const bound of ['100', '200']) {
      text = replaceOnce(text, /WHERE amount > (\d+ AND amount > )?/, `WHERE amount > ${bound} AND amount > `);
      writeFileSync(join(dir, spec), text);
      const warm = await plan(dir, spec);
      expect(warm).toBe(await uncached(cold, spec, text));
      expect(readFileSync(whole).equals(base)).toBe(true);
      expect(statSync(whole).mtimeMs).toBe(stamp);
      expect(statSync(delta).size).toBeLessThan(base.length / 2);
      // Without a replay record (a process's: src/cli/plan-replay.cts), the plan comes from the entry through the delta: the same.
      rmSync(record, { force: true });
      expect(await plan(dir, spec)).toBe(warm);
    }
    // A torn delta is no entry: the plan is made again, the same.
    const warm = await plan(dir, spec);
    rmSync(record, { force: true });
    writeFileSync(delta, readFileSync(delta).subarray(0, statSync(delta).size - 10));
    expect(await plan(dir, spec)).toBe(warm);
    expect(readFileSync(whole).equals(base)).toBe(true);
  }, 300_000);

  it('in a folder moved with its caches, equals a plan without caches (the last entry names the old path)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'asgard-plan-moved-'));
    const spec = 'generated.asg';
    const text = generateSpec({ sources: 3, sqlNodes: 20 });
    writeFileSync(join(dir, spec), text);
    expect(await plan(dir, spec)).toMatch(/^exit 0/);
    const moved = mkdtempSync(join(tmpdir(), 'asgard-plan-moved-to-'));
    cpSync(dir, moved, { recursive: true });
    const edited = replaceOnce(text, 'WHERE amount > ', 'WHERE amount > 100 AND amount > ');
    writeFileSync(join(moved, spec), edited);
    const warm = await plan(moved, spec);
    expect(warm).not.toContain(dir);
    expect(warm).toBe(await uncached(mkdtempSync(join(tmpdir(), 'asgard-plan-moved-cold-')), spec, edited));
  }, 300_000);
});
