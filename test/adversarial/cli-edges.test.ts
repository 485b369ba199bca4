// CLI edge cases (issue #11, items 13 and 15), each through the real `asgard` process: a bounded time,
// the documented exit code, a clear message, no stack trace, and nothing written.

import { beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, asgard, tree } from './helpers.js';

const SPEC = `pipeline items {
  warehouse = "./.asgard/warehouse"
  source files file {
    path = "items.csv"
    format = csv
    stream items { primary_key = id }
  }
}
`;
let dir: string;
const env = { PATH: process.env.PATH, HOME: process.env.HOME };
const noStack = (s: string) => expect(s).not.toMatch(/\n\s+at /);

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'asgard-edges-'));
  writeFileSync(join(dir, 'p.asg'), SPEC);
  writeFileSync(join(dir, 'items.csv'), 'id,name\n1,a\n2,b\n');
  execFileSync('git', ['init', '-q'], { cwd: dir });
  execFileSync('git', ['-c', 'user.email=t@example.com', '-c', 'user.name=t', 'commit', '-q', '--allow-empty', '-m', 'x'], { cwd: dir });
  const r = await asgard(['apply', 'p.asg', '--yes'], { cwd: dir, env });
  expect(r.code, r.stderr).toBe(0);
}, 180_000);

describe('CLI edge cases', () => {
  it('plan --base with a ref that looks like a git option: exit 2, git writes nothing', async () => {
    const r = await asgard(['plan', 'p.asg', '--base', '--output=pwned.txt:p.asg'], { cwd: dir, env });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--base --output=pwned.txt:p.asg: a git ref cannot start with "-"');
    expect(existsSync(join(dir, 'pwned.txt'))).toBe(false);
    noStack(r.stderr);
  });

  it('compile --out /proc/x: the output writer fails at once naming the folder (it used to spin forever)', () => {
    // In a child process with a time bound: the old code looped inside a synchronous mkdir.
    const code = `const { writeTree } = await import(${JSON.stringify(join(ROOT, 'src', 'cli', 'commands', 'compile.ts'))});
      try { writeTree('/proc/asgard-x', new Map([['airbyte/a.yaml', 'x']])); console.log('written'); } catch (e) { console.log(e.constructor.name, e.exitCode, e.message); }`;
    const out = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
    expect(out.trim()).toMatch(/^CliError 1 --out \/proc\/asgard-x: cannot create files in \/proc \(ENOENT\)$/);
  });

  it('validate /dev/zero: refused as not a regular file (exit 2), without reading it', async () => {
    const r = await asgard(['validate', '/dev/zero'], { cwd: dir, env, timeoutMs: 60_000 });
    expect(r.code).toBe(2);
    expect(r.stdout + r.stderr).toContain('cannot read `/dev/zero`: it is not a regular file (a device, pipe or socket)');
  });

  it("apply --select '': exit 2, nothing applied", async () => {
    const before = tree(join(dir, '.asgard'));
    const r = await asgard(['apply', 'p.asg', '--yes', '--select', ''], { cwd: dir, env });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--select "" names no node');
    expect(tree(join(dir, '.asgard'))).toEqual(before);
  });

  it('a state file {"schemaVersion":2}: exit 1 saying which fields are wrong; the file is left as it is', async () => {
    const d = mkdtempSync(join(tmpdir(), 'asgard-state-'));
    writeFileSync(join(d, 'p.asg'), SPEC);
    mkdirSync(join(d, '.asgard', 'state'), { recursive: true });
    writeFileSync(join(d, '.asgard', 'state', 'items.json'), '{"schemaVersion":2}');
    for (const cmd of [
      ['plan', 'p.asg'],
      ['apply', 'p.asg', '--yes'],
    ]) {
      const r = await asgard(cmd, { cwd: d, env });
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/state file .*items\.json is not a valid asgard state: pipeline: .*; lineage: .*; serial: .*; nodes: /);
      noStack(r.stderr);
    }
    expect(readFileSync(join(d, '.asgard', 'state', 'items.json'), 'utf8')).toBe('{"schemaVersion":2}');
  });

  it('--state FILE: exit 2 with a clear message', async () => {
    writeFileSync(join(dir, 'a-file'), 'x');
    const r = await asgard(['plan', 'p.asg', '--state', 'a-file'], { cwd: dir, env });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`--state a-file: ${join(dir, 'a-file')} is a file, not a folder`);
    noStack(r.stderr);
  });
});
