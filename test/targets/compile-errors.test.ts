// A profile that lacks what a target needs is a diagnostic naming the missing setting, on the
// profile's span, and `asgard compile` then leaves --out exactly as it was (no half-written tree).

import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/run.js';
import type { CliIO } from '../../src/cli/command.js';
import { CHURN, compileChurn } from './churn.js';

const churn = readFileSync(CHURN, 'utf8');
const profileLine = churn.split('\n').findIndex((l) => l.trim().startsWith('profile kubernetes')) + 1;
const without = (setting: string) => churn.replace(new RegExp(`\\n\\s*${setting}\\s*=[^\\n]*`), '');
const replacing = (setting: string, value: string) => churn.replace(new RegExp(`(\\n\\s*${setting}\\s*=)[^\\n]*`), `$1 ${value}`);

const tmp = mkdtempSync(join(tmpdir(), 'asgard-compile-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function io(cwd: string): CliIO & { stdout: string; stderr: string } {
  const o = {
    stdout: '',
    stderr: '',
    out(t: string) {
      o.stdout += t;
    },
    err(t: string) {
      o.stderr += t;
    },
    stdoutIsTTY: false,
    stderrIsTTY: false,
    stdinIsTTY: false,
    prompt: async () => '',
    env: {},
    cwd,
  };
  return o;
}

const listTree = (dir: string): string[] =>
  readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath ?? (e as unknown as { path: string }).path, e.name).slice(dir.length + 1))
    .sort();

describe('missing or malformed profile settings', () => {
  it('names a missing spark_image on the profile span, and compiles nothing', async () => {
    const r = await compileChurn(without('spark_image'));
    expect(r.files).toBeUndefined();
    const d = r.diagnostics.filter((x) => x.severity === 'error');
    expect(d.map((x) => x.code)).toEqual(['ASG4002']);
    expect(d[0].message).toContain('`spark_image`');
    expect(d[0].span?.line).toBe(profileLine);
    expect(d[0].hint).toContain('spark_image');
  });

  it('reports every gap in one run, each setting once', async () => {
    const text = without('image').replace(/\n\s*warehouse\s*=\s*"s3a:[^\n]*/, '');
    const r = await compileChurn(text);
    expect(r.files).toBeUndefined();
    const named = r.diagnostics.filter((x) => x.code === 'ASG4002').map((x) => /`(\w+)`/.exec(x.message.replace(/^profile `\w+` has no /, ''))?.[1]);
    expect(named.sort()).toEqual(['image', 'warehouse']);
  });

  it('refuses a warehouse that is not on S3', async () => {
    const r = await compileChurn(
      replacing('spark_version', '"4.0.1"').replace('warehouse     = "s3a://asgard-lake/warehouse"', 'warehouse     = "/data/warehouse"'),
    );
    expect(r.files).toBeUndefined();
    const d = r.diagnostics.filter((x) => x.code === 'ASG4003');
    expect(d.length).toBe(1);
    expect(d[0].message).toContain('`warehouse`');
    expect(d[0].span?.line).toBe(profileLine);
  });
});

describe('asgard compile (CLI)', () => {
  const specDir = join(tmp, 'project');
  mkdirSync(join(specDir, 'pipelines'), { recursive: true });
  writeFileSync(join(specDir, 'pipelines', 'churn.asg'), churn);
  writeFileSync(join(specDir, 'pipelines', 'broken.asg'), without('spark_version'));

  it('writes the tree, then keeps it untouched when a later compile fails', async () => {
    const a = io(specDir);
    expect(await runCli(['compile', 'pipelines/churn.asg', '--out', 'build', '--profile', 'kubernetes'], a)).toBe(0);
    const before = listTree(join(specDir, 'build'));
    expect(before).toContain('manifest.json');
    expect(before.filter((p) => p.startsWith('spark/applications/')).length).toBe(3);
    const manifest = readFileSync(join(specDir, 'build', 'manifest.json'), 'utf8');

    const b = io(specDir);
    expect(await runCli(['compile', 'pipelines/broken.asg', '--out', 'build', '--profile', 'kubernetes'], b)).toBe(2);
    expect(b.stderr).toMatch(/pipelines\/broken\.asg:\d+:\d+: error ASG4002: .*`spark_version`/);
    expect(b.stderr).not.toMatch(/\n\s+at /); // no stack trace
    expect(listTree(join(specDir, 'build'))).toEqual(before);
    expect(readFileSync(join(specDir, 'build', 'manifest.json'), 'utf8')).toBe(manifest);
    // No temporary folder is left beside --out.
    expect(readdirSync(specDir).filter((f) => f.startsWith('.build'))).toEqual([]);
  });

  it('recompiling gives the same manifest and replaces the folder as a whole', async () => {
    const out = join(specDir, 'build');
    const manifest = readFileSync(join(out, 'manifest.json'), 'utf8');
    writeFileSync(join(out, 'stale.txt'), 'left from an older compile');
    expect(await runCli(['compile', 'pipelines/churn.asg', '--out', 'build', '--profile', 'kubernetes', '--format', 'json'], io(specDir))).toBe(0);
    expect(readFileSync(join(out, 'manifest.json'), 'utf8')).toBe(manifest);
    expect(existsSync(join(out, 'stale.txt'))).toBe(false);
  });

  it('prints one JSON document with --format json', async () => {
    const c = io(specDir);
    expect(await runCli(['compile', 'pipelines/broken.asg', '--out', 'build2', '--profile', 'kubernetes', '--format', 'json'], c)).toBe(2);
    const doc = JSON.parse(c.stdout);
    expect(doc.ok).toBe(false);
    expect(doc.diagnostics[0], JSON.stringify(doc.diagnostics[0])).toMatchObject({ code: 'ASG4002', file: 'pipelines/broken.asg', line: profileLine });
    expect(existsSync(join(specDir, 'build2'))).toBe(false);
  });

  it('refuses to replace a folder that is not a compile output', async () => {
    const mine = join(specDir, 'src-of-mine');
    mkdirSync(mine);
    writeFileSync(join(mine, 'precious.txt'), 'keep me');
    const d = io(specDir);
    expect(await runCli(['compile', 'pipelines/churn.asg', '--out', 'src-of-mine', '--profile', 'kubernetes'], d)).toBe(2);
    expect(d.stderr).toContain('refusing to replace');
    expect(readFileSync(join(mine, 'precious.txt'), 'utf8')).toBe('keep me');
  });

  it('names an unknown profile', async () => {
    const e = io(specDir);
    expect(await runCli(['compile', 'pipelines/churn.asg', '--out', 'build3', '--profile', 'staging'], e)).toBe(2);
    expect(e.stderr).toMatch(/staging/);
    expect(existsSync(join(specDir, 'build3'))).toBe(false);
  });
});
