// The compile cache: a second load of an unchanged spec comes from .asgard/cache/specs/ and gives
// the same IR, diagnostics, schemas and plan; any edit, or a damaged cache file, means a fresh load.
import { copyFileSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { cacheSpec, cachedSpec, patchedSpec } from '../../src/cli/spec-cache.js';
import { loadSpec } from '../../src/cli/spec.js';
import { fingerprintPipeline } from '../../src/planner/fingerprint.js';
import { runDeferredWrites } from '../../src/util/deferred-writes.js';
import { cachesOf } from '../../src/workspace/caches.js';
import { cli } from './helpers.js';

const shop = join(__dirname, '..', 'planner', 'cases', 'sql-edit-cascades');

describe('spec compile cache', () => {
  it('reuses the checked IR of an unchanged spec, with identical plans', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'asgard-cache-'));
    copyFileSync(join(shop, 'base.asg'), join(dir, 'shop.asg'));
    const file = join(dir, 'shop.asg');
    const text = readFileSync(file, 'utf8');
    expect(cachedSpec(file, text)).toBeUndefined();
    const first = await cli(['plan', 'shop.asg', '--format', 'json'], { cwd: dir });
    expect(existsSync(join(dir, '.asgard', 'cache', 'specs', 'shop.asg.json'))).toBe(true);
    const hit = cachedSpec(file, text);
    expect(hit?.ir?.name).toBe('shop');
    const second = await cli(['plan', 'shop.asg', '--format', 'json'], { cwd: dir });
    expect(second.stdout).toBe(first.stdout);
    // the cached IR fingerprints exactly like a fresh one
    const fresh = fingerprintPipeline((await import('../../src/dsl/load.js')).loadPipeline(file, { sqlCachePath: false }).ir!);
    const cached = fingerprintPipeline(hit!.ir!);
    expect([...cached.values()].map((f) => f.fingerprint)).toEqual([...fresh.values()].map((f) => f.fingerprint));
  });

  it('does not parse the entry of another text (after an edit): the key is read first', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'asgard-cache-'));
    copyFileSync(join(shop, 'base.asg'), join(dir, 'shop.asg'));
    const file = join(dir, 'shop.asg');
    const text = readFileSync(file, 'utf8');
    await cli(['validate', 'shop.asg'], { cwd: dir });
    // A new process: nothing of the file is remembered.
    vi.resetModules();
    const fresh = (await import('../../src/cli/spec-cache.js')).cachedSpec;
    const parse = vi.spyOn(JSON, 'parse');
    try {
      const entries = () => parse.mock.calls.filter(([s]) => typeof s === 'string' && s.startsWith('{"key":')).length;
      expect(fresh(file, `${text}\n// edited\n`)).toBeUndefined();
      expect(entries()).toBe(0);
      expect(fresh(file, text)?.ir?.name).toBe('shop');
      expect(entries()).toBe(1);
    } finally {
      parse.mockRestore();
    }
  });

  it('an edit or a damaged cache file means a fresh load', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'asgard-cache-'));
    copyFileSync(join(shop, 'base.asg'), join(dir, 'shop.asg'));
    await cli(['validate', 'shop.asg'], { cwd: dir });
    // an edit that breaks the spec must be reported, not served from the cache
    const text = readFileSync(join(dir, 'shop.asg'), 'utf8');
    writeFileSync(join(dir, 'shop.asg'), text.replace('FROM silver.orders_clean\n', 'FROM silver.nope\n'));
    const broken = await cli(['validate', 'shop.asg'], { cwd: dir });
    expect(broken.code).toBe(2);
    writeFileSync(join(dir, 'shop.asg'), text);
    writeFileSync(join(dir, '.asgard', 'cache', 'specs', 'shop.asg.json'), '{"version": 1, "key": "x"');
    const spec = await loadSpec('shop.asg', dir);
    expect(spec.ir?.nodes).toHaveLength(6);
    expect((await cli(['validate', 'shop.asg'], { cwd: dir })).code).toBe(0);
  });

  it('patches an edit into the last entry of this build only (another build may check a spec otherwise)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'asgard-cache-'));
    copyFileSync(join(shop, 'base.asg'), join(dir, 'shop.asg'));
    const file = join(dir, 'shop.asg');
    const text = readFileSync(file, 'utf8');
    const loaded = (await import('../../src/dsl/load.js')).loadPipeline(file, { sqlCachePath: false });
    const stateDir = join(dir, '.asgard');
    cacheSpec(cachesOf(stateDir, 'one'), file, text, loaded.ir, loaded.diagnostics);
    runDeferredWrites();
    const edited = text.replace('WHERE amount > 0', 'WHERE amount > 1');
    expect(edited).not.toBe(text);
    // The last entry was checked by build one: build two checks the edited spec in full.
    expect(await patchedSpec(cachesOf(stateDir, 'two'), file, edited)).toBeUndefined();
    expect((await patchedSpec(cachesOf(stateDir, 'one'), file, edited))?.ir.name).toBe('shop');
    // The text kept beside the entry names the build and path its key hashes, and is trusted for
    // them only: under another path, or with a head of another form, it is not patched.
    const textFile = `${cachesOf(stateDir, 'one').specFile(file)}.text`;
    const kept = readFileSync(textFile, 'utf8');
    const head = JSON.parse(kept.slice(0, kept.indexOf('\n'))) as { key: string; build: string; spec: string };
    expect(head).toEqual({ key: cachesOf(stateDir, 'one').specKey(file, text), build: 'one', spec: file });
    writeFileSync(textFile, `${JSON.stringify({ ...head, spec: `${file}.other` })}\n${text}`);
    expect(await patchedSpec(cachesOf(stateDir, 'one'), file, edited)).toBeUndefined();
    writeFileSync(textFile, `${head.key}\n${text}`);
    expect(await patchedSpec(cachesOf(stateDir, 'one'), file, edited)).toBeUndefined();
    writeFileSync(textFile, kept);
    expect((await patchedSpec(cachesOf(stateDir, 'one'), file, edited))?.ir.name).toBe('shop');
  });
});
