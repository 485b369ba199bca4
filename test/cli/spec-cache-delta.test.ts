// An edit patched into the last checked spec is cached as a delta of the last whole entry
// (src/cli/spec-cache.ts): the whole entry and its text stay as they were, edit after edit (spans
// moved by lines added and removed in other blocks included), and what the delta gives back — to a
// plan, to a fresh process reading the cache, to another command — is exactly what a load from
// scratch gives. An edit a patch cannot take writes the whole entry again and drops the delta; an
// entry read through a delta and completed (schemas over a new state) is written whole, with its text.
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { generateSpec } from '../../bench/gen-spec.js';
import { loadPipeline } from '../../src/dsl/load.js';
import { cachesOf } from '../../src/workspace/caches.js';
import { cli, SHOP_SPEC, shopFolder } from './helpers.js';

const md5 = (path: string) => createHash('md5').update(readFileSync(path)).digest('hex');

/** `asgard CMD SPEC` in `dir`: exit code, stdout and stderr as one string to compare. */
async function run(dir: string, args: string[]): Promise<string> {
  const r = await cli(args, { cwd: dir });
  return `exit ${r.code}\n${r.stdout}\n--- stderr\n${r.stderr}`;
}

const replaceOnce = (t: string, from: string | RegExp, to: string): string => {
  const next = t.replace(from, to);
  expect(next, `the edit of ${String(from)} applies`).not.toBe(t);
  return next;
};

describe('the spec cache after a patched edit', () => {
  it('keeps a delta of the last whole entry, equal to a load from scratch, edit after edit', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'asgard-delta-'));
    const cold = mkdtempSync(join(tmpdir(), 'asgard-delta-cold-'));
    const spec = 'generated.asg';
    const file = join(dir, spec);
    const entry = join(dir, '.asgard', 'cache', 'specs', `${spec}.json`);
    const uncached = async (text: string, cmd = 'plan'): Promise<string> => {
      rmSync(join(cold, '.asgard'), { recursive: true, force: true });
      writeFileSync(join(cold, spec), text);
      return run(cold, [cmd, spec, ...(cmd === 'plan' ? ['--format', 'json'] : [])]);
    };
    let text = generateSpec({ sources: 12, sqlNodes: 400 });
    writeFileSync(file, text);
    expect(await run(dir, ['plan', spec, '--format', 'json'])).toMatch(/^exit 0/);
    expect(existsSync(`${entry}.delta`)).toBe(false);
    const whole = { entry: md5(entry), text: md5(`${entry}.text`) };

    const edits: [string, (t: string) => string][] = [
      ['a filter', (t) => replaceOnce(t, 'WHERE amount > ', 'WHERE amount > 100 AND amount > ')],
      ['lines added in a later block', (t) => replaceOnce(t, '  cleanse c7 {\n', '  cleanse c7 {\n    // one\n    // two\n')],
      ['lines removed in an earlier block', (t) => replaceOnce(t, /( {2}cleanse c2 \{\n[\s\S]*?)\n {4}description = [^\n]*/, '$1')],
      ['the first block again', (t) => replaceOnce(t, 'WHERE amount > 100 AND amount > ', 'WHERE amount > 5 AND amount > ')],
    ];
    for (const [what, edit] of edits) {
      text = edit(text);
      writeFileSync(file, text);
      expect(await run(dir, ['plan', spec, '--format', 'json']), what).toBe(await uncached(text));
      expect(existsSync(`${entry}.delta`), what).toBe(true);
      expect({ entry: md5(entry), text: md5(`${entry}.text`) }, what).toEqual(whole);
    }

    // A new process reads the edited spec through the delta: the IR and diagnostics of a load from scratch.
    vi.resetModules();
    const { cachedSpec } = await import('../../src/cli/spec-cache.js');
    const hit = cachedSpec(file, text);
    const fresh = loadPipeline(file, { sqlCachePath: false });
    expect(hit?.ir).toEqual(JSON.parse(JSON.stringify(fresh.ir)));
    expect(hit?.diagnostics).toEqual(JSON.parse(JSON.stringify(fresh.diagnostics)));
    expect(await run(dir, ['validate', spec])).toBe(await uncached(text, 'validate'));

    // An edit no patch takes (a node added): the whole entry again, and no delta.
    text = replaceOnce(text, '  model m0 {', '  model extra {\n    sql """ SELECT id, amount FROM silver.c1 """\n  }\n\n  model m0 {');
    writeFileSync(file, text);
    expect(await run(dir, ['plan', spec, '--format', 'json'])).toBe(await uncached(text));
    expect(existsSync(`${entry}.delta`)).toBe(false);
    expect(md5(entry)).not.toBe(whole.entry);
  }, 300_000);

  it('a plan after an edit keeps the schema binds of the nodes it did not reach', async () => {
    // Past the bind cache's floor of unused entries (5,000): a plan after an edit looks up only its
    // downstream's binds, and pruned every other entry (9,417 to 1 at 10,000 nodes).
    const dir = mkdtempSync(join(tmpdir(), 'asgard-delta-binds-'));
    const spec = 'generated.asg';
    const text = generateSpec(6000);
    writeFileSync(join(dir, spec), text);
    expect(await run(dir, ['plan', spec, '--format', 'json'])).toMatch(/^exit 0/);
    const binds = () => {
      const t = readFileSync(join(dir, '.asgard', 'cache', 'schemas.json'), 'utf8');
      const lines = t.split('\n').filter(Boolean);
      return Object.keys((JSON.parse(lines[0]) as { entries: object }).entries).length + lines.length - 1;
    };
    const before = binds();
    expect(before).toBeGreaterThan(5000);
    writeFileSync(join(dir, spec), replaceOnce(text, 'WHERE amount > ', 'WHERE amount > 100 AND amount > '));
    expect(await run(dir, ['plan', spec, '--format', 'json'])).toMatch(/^exit 0/);
    expect(existsSync(join(dir, '.asgard', 'cache', 'specs', `${spec}.json.delta`)), 'the edit was patched').toBe(true);
    expect(binds()).toBeGreaterThanOrEqual(before);
  }, 300_000);

  it('an entry read through a delta and completed over a new state is written whole, with its text', async () => {
    const dir = shopFolder('asgard-delta-state-');
    const spec = 'shop.asg';
    const entry = join(dir, '.asgard', 'cache', 'specs', `${spec}.json`);
    // Leaves enough that one leaf's edit is a small part of the entry.
    const leaves = [1, 2, 3, 4, 5].map((i) => `  model big${i} {\n    sql """ SELECT order_id, amount FROM silver.orders_clean WHERE amount > ${i} """\n  }\n`);
    let text = SHOP_SPEC.replace(/}\n$/, `${leaves.join('')}}\n`);
    writeFileSync(join(dir, spec), text);
    expect(await run(dir, ['plan', spec, '--format', 'json'])).toMatch(/^exit 0/);
    // A leaf's edit: a delta.
    text = replaceOnce(text, 'WHERE amount > 3 """', 'WHERE amount > 30 """');
    writeFileSync(join(dir, spec), text);
    expect(await run(dir, ['plan', spec, '--format', 'json'])).toMatch(/^exit 0/);
    expect(existsSync(`${entry}.delta`)).toBe(true);
    // Applied: the state's schemas are new, so the next plan infers schemas again and completes the
    // entry; each as a new process would (this one's modules remember the text they patched).
    vi.resetModules();
    const applied = await (await import('./helpers.js')).cli(['apply', spec, '--yes'], { cwd: dir });
    expect(applied.code, applied.stderr).toBe(0);
    expect(existsSync(`${entry}.delta`)).toBe(true);
    vi.resetModules();
    const planned = await (await import('./helpers.js')).cli(['plan', spec, '--format', 'json'], { cwd: dir });
    expect(planned.code, planned.stderr).toBe(0);
    expect(existsSync(`${entry}.delta`)).toBe(false);
    const key = (JSON.parse(readFileSync(entry, 'utf8')) as { key: string }).key;
    expect(readFileSync(`${entry}.text`, 'utf8')).toBe(
      `${JSON.stringify({ key, build: cachesOf(join(dir, '.asgard')).buildId, spec: join(dir, spec) })}\n${text}`,
    );
  }, 300_000);
});
