// The real `asgard` binary: exit codes, stdout holding exactly one JSON document, stderr free of
// stack traces for user errors. (scripts/test.sh builds dist/ first; without it bin/ runs the
// sources through tsx.)
import { copyFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot, spawnCli } from './helpers.js';

const shopBase = join(repoRoot, 'test', 'planner', 'cases', 'sql-edit-cascades', 'base.asg');
const noStack = (s: string) => expect(s).not.toMatch(/\n\s+at .+:\d+:\d+\)?\n/);

describe('asgard as a process', () => {
  const dir = mkdtempSync(join(tmpdir(), 'asgard-proc-'));
  copyFileSync(join(repoRoot, 'pipelines', 'churn.asg'), join(dir, 'churn.asg'));
  copyFileSync(shopBase, join(dir, 'shop.asg'));

  it('validate pipelines/churn.asg exits 0', () => {
    const r = spawnCli(['validate', 'pipelines/churn.asg'], {
      cwd: repoRoot,
      env: { CUSTOMER_DB_PASSWORD: 'x', TRANSACTIONS_DB_PASSWORD: 'x', SUPPORT_API_TOKEN: 'x' },
    });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
  });

  it('plan --format json prints exactly one JSON document on stdout', () => {
    const r = spawnCli(['plan', 'churn.asg', '--format', 'json'], { cwd: dir });
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc.summary.create).toBe(11);
    expect(r.stdout.trim().startsWith('{') && r.stdout.trim().endsWith('}')).toBe(true);
  });

  it('plan --detailed-exitcode exits 3 when there are changes', () => {
    expect(spawnCli(['plan', 'shop.asg', '--detailed-exitcode'], { cwd: dir }).code).toBe(3);
    expect(spawnCli(['plan', 'shop.asg', '--base', 'shop.asg', '--detailed-exitcode'], { cwd: dir }).code).toBe(0);
  });

  it('user errors exit 2 with `error: …` and no stack trace', () => {
    const flag = spawnCli(['plan', 'shop.asg', '--detailed-exitcodes'], { cwd: dir });
    expect(flag.code).toBe(2);
    expect(flag.stderr).toContain('did you mean --detailed-exitcode?');
    noStack(flag.stderr);
    writeFileSync(join(dir, 'broken.asg'), 'pipeline x {\n  cleanse a {\n    sql """ SELECT FROM WHERE """\n  }\n');
    const bad = spawnCli(['validate', 'broken.asg'], { cwd: dir });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^broken\.asg:\d+:\d+: error ASG\d{4}/m);
    noStack(bad.stderr);
    const json = spawnCli(['plan', 'missing.asg', '--format', 'json'], { cwd: dir });
    expect(json.code).toBe(2);
    const doc = JSON.parse(json.stdout);
    expect(doc.ok).toBe(false);
    expect(doc.diagnostics).toMatchObject([{ code: 'ASG1001', file: 'missing.asg', line: 1, column: 1 }]);
    const unknownCmd = spawnCli(['plna', 'x', '--format', 'json'], { cwd: dir });
    expect(unknownCmd.code).toBe(2);
    expect(JSON.parse(unknownCmd.stdout)).toEqual({
      ok: false,
      error: { message: 'unknown command "plna" (did you mean plan?); run asgard --help for the list' },
    });
  });

  it('apply without --yes and without a terminal exits 2 and runs nothing', () => {
    const r = spawnCli(['apply', 'shop.asg'], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('pass --yes');
    noStack(r.stderr);
  });
});
