// The bundle (dist/bundle/, scripts/bundle-packages.mjs) loads the CommonJS modules left outside it
// with require(), not through Node's ES module loader, which lexes each one's source again to find
// its exports (~9 ms of CPU a cold plan: scripts/bundle-cjs.mjs, bench/plan.md session 12). Its
// chunks are CommonJS where they can be (test/cli/code-cache.test.ts): a cold plan loads nothing of
// asgard's through the ES module loader.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { requireCommonJs } from '../../scripts/bundle-cjs.mjs';
import { repoRoot } from './helpers.js';
import { generateSpec } from '../../bench/gen-spec.js';

const convert = requireCommonJs as (code: string) => string;
const HEAD = 'import{createRequire as __asgardCreateRequire}from"node:module";const __asgardCjs=__asgardCreateRequire(import.meta.url);';

describe('bundle: CommonJS modules by require()', () => {
  it('turns static and dynamic imports of .cjs files into require() calls, renames kept', () => {
    const code =
      'import{a}from"./chunk-X.js";import{CODE_ROOT,memoizedId as m2}from"../workspace/build-signature.cjs";var r=await import("../cli/plan-replay.cjs");export{m2};';
    expect(convert(code)).toBe(
      `${HEAD}import{a}from"./chunk-X.js";const{CODE_ROOT,memoizedId:m2}=__asgardCjs("../workspace/build-signature.cjs");var r=await Promise.resolve().then(()=>__asgardCjs("../cli/plan-replay.cjs"));export{m2};`,
    );
  });

  it('leaves a chunk without such imports as it is', () => {
    const code = 'import{a}from"./chunk-X.js";import("./chunk-Y.js");const s="x.cjs";';
    expect(convert(code)).toBe(code);
  });

  it('fails on an import of a .cjs file it cannot convert, rather than leave it', () => {
    expect(() => convert('import z from"../vendor/zod.cjs";')).toThrow(/left as it was/);
    expect(() => convert('import*as z from"../vendor/zod.cjs";')).toThrow(/left as it was/);
    expect(() => convert('export{z}from"../vendor/zod.cjs";')).toThrow(/left as it was/);
  });

  it('a cold `plan` loads nothing of asgard’s through the ES module loader, and `serve --help` no CommonJS module', { timeout: 120_000 }, () => {
    const dir = mkdtempSync(join(tmpdir(), 'asgard-bundle-cjs-'));
    try {
      // Every URL the ES module loader loads (a require() does not go through it).
      const log = join(dir, 'esm.txt');
      const hook = join(dir, 'esm-log.mjs');
      writeFileSync(
        hook,
        `import { register } from 'node:module';\nregister(${JSON.stringify(
          `data:text/javascript,${encodeURIComponent(
            `import { appendFileSync } from 'node:fs';\nexport async function load(url, context, next) { appendFileSync(${JSON.stringify(log)}, url + '\\n'); return next(url, context); }`,
          )}`,
        )});\n`,
      );
      const run = (argv: string[]) => {
        writeFileSync(log, '');
        const r = spawnSync(process.execPath, ['--import', pathToFileURL(hook).href, join(repoRoot, 'bin', 'asgard.js'), ...argv], {
          cwd: dir,
          encoding: 'utf8',
        });
        return { ...r, modules: readFileSync(log, 'utf8').split('\n').filter(Boolean) };
      };
      writeFileSync(join(dir, 'a.asg'), generateSpec({ sources: 2, sqlNodes: 6 }));
      const cold = run(['plan', 'a.asg', '--format', 'json']);
      expect(cold.status, cold.stderr).toBe(0);
      expect(existsSync(join(repoRoot, 'dist', 'bundle', 'main.cjs')), 'no CommonJS bundle: run npm run build').toBe(true);
      // Every chunk a plan runs is CommonJS, required: nothing of dist/ through the ES module loader.
      expect(cold.modules.filter((m) => m.includes('/dist/'))).toEqual([]);
      // The same again, answered by the replay record (plan-replay.cjs, required by bin/asgard.js and the bundle alike).
      const replayed = run(['plan', 'a.asg', '--format', 'json']);
      expect(replayed.status, replayed.stderr).toBe(0);
      expect(replayed.stdout).toBe(cold.stdout);
      // serve's modules import zod's CommonJS bundle by name.
      const serve = run(['serve', '--help']);
      expect(serve.status, serve.stderr).toBe(0);
      expect(serve.stdout).toContain('Usage: asgard serve');
      expect(serve.modules.filter((m) => m.endsWith('.cjs'))).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
