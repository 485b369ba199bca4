// The CLI contract (PRODUCT.md §2): exit codes, formats, help, did-you-mean, saved plans, --base
// from git, confirmation, apply's JSON document. In-process through runCli with fake executors;
// test/cli/process.test.ts runs the real binary.
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { NodeError, type NodeExecutor } from '../../src/engine/executor.js';
import type { NodeKind } from '../../src/ir/types.js';
import { outputTable } from '../../src/ir/types.js';
import { cli, repoRoot } from './helpers.js';
import { commitRows } from '../helpers/warehouse.js';

const churn = join(repoRoot, 'pipelines', 'churn.asg');
const shop = join(repoRoot, 'test', 'planner', 'cases', 'sql-edit-cascades');

function tempWith(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'asgard-cli-'));
  for (const [name, from] of Object.entries(files)) copyFileSync(from, join(dir, name));
  return dir;
}

function fakes(fail: string[] = [], ran: string[] = []) {
  return async (kind: NodeKind): Promise<NodeExecutor> => ({
    kind,
    async run(ctx) {
      ran.push(ctx.node.id);
      if (fail.includes(ctx.node.id)) throw new NodeError(`cannot build ${ctx.node.id}`);
      const table = outputTable(ctx.node);
      if (!table) return kind === 'train' ? { modelVersion: 1 } : {};
      return { rows: 3, snapshot: await commitRows(ctx.warehouse, table, 3) };
    },
  });
}

describe('asgard CLI', () => {
  it('--help lists every command with its summary; --version prints the version', async () => {
    const h = await cli(['--help'], { cwd: repoRoot });
    expect(h.code).toBe(0);
    for (const c of ['validate', 'plan', 'apply', 'graph']) expect(h.stdout).toMatch(new RegExp(`^  ${c} +\\S`, 'm'));
    const v = await cli(['--version'], { cwd: repoRoot });
    expect(v.stdout).toBe(`asgard ${JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')).version}\n`);
    const ph = await cli(['plan', '--help'], { cwd: repoRoot });
    expect(ph.code).toBe(0);
    expect(ph.stdout).toContain('Usage: asgard plan SPEC');
    expect(ph.stdout).toContain('--detailed-exitcode');
    expect(ph.stdout).toContain('Examples:');
  });

  it('rejects unknown commands, flags and formats with exit 2 and a did-you-mean', async () => {
    const c = await cli(['plna', 'x.asg'], { cwd: repoRoot });
    expect(c).toMatchObject({ code: 2, stdout: '' });
    expect(c.stderr).toContain('did you mean plan?');
    const f = await cli(['plan', churn, '--fromat', 'json'], { cwd: repoRoot });
    expect(f.code).toBe(2);
    expect(f.stderr).toBe('error: unknown option --fromat (did you mean --format?)\n');
    const g = await cli(['graph', churn, '--format', 'mermiad'], { cwd: repoRoot });
    expect(g.code).toBe(2);
    expect(g.stderr).toContain('(did you mean mermaid?)');
    const m = await cli(['plan'], { cwd: repoRoot });
    expect(m.code).toBe(2);
    expect(m.stderr).toContain('missing argument');
  });

  const secrets = { CUSTOMER_DB_PASSWORD: 'x', TRANSACTIONS_DB_PASSWORD: 'x', SUPPORT_API_TOKEN: 'x' };
  it('validate: exit 0 and {"ok": true} for the churn spec', async () => {
    const t = await cli(['validate', churn], { cwd: repoRoot, env: secrets });
    expect(t.code).toBe(0);
    expect(t.stdout).toBe('pipelines/churn.asg: ok, pipeline churn with 11 nodes\n');
    const j = await cli(['validate', churn, '--format', 'json'], { cwd: repoRoot, env: secrets });
    expect(JSON.parse(j.stdout)).toEqual({ ok: true, diagnostics: [] });
  });

  it('validate and plan warn about a secret that is unset, naming the variable, at the source', async () => {
    const { SUPPORT_API_TOKEN: _unset, ...others } = secrets;
    const j = await cli(['validate', churn, '--format', 'json'], { cwd: repoRoot, env: others });
    expect(j.code).toBe(0);
    const d = JSON.parse(j.stdout).diagnostics;
    expect(d).toEqual([
      expect.objectContaining({
        code: 'ASG2032',
        severity: 'warning',
        file: 'pipelines/churn.asg',
        message: expect.stringContaining('`token` of source `support_api` is `secret("SUPPORT_API_TOKEN")`, but SUPPORT_API_TOKEN is not set'),
      }),
    ]);
    expect(d[0].line).toBeGreaterThan(1);
    const p = await cli(['plan', churn, '--state', mkdtempSync(join(tmpdir(), 'asg-secret-'))], { cwd: repoRoot, env: others });
    expect(p.stderr).toMatch(/warning ASG2032: `token` of source `support_api`.*SUPPORT_API_TOKEN is not set/);
  });

  it('validate: diagnostics with file:line:col, the source line and a caret; exit 2', async () => {
    const dir = tempWith({ 'bad.asg': join(shop, 'base.asg') });
    const text = readFileSync(join(dir, 'bad.asg'), 'utf8').replace('FROM silver.orders_clean\n', 'FROM silver.orders_clen\n');
    writeFileSync(join(dir, 'bad.asg'), text);
    const line = text.split('\n').findIndex((l) => l.includes('silver.orders_clen')) + 1;
    const t = await cli(['validate', 'bad.asg'], { cwd: dir });
    expect(t.code).toBe(2);
    expect(t.stderr).toMatch(new RegExp(`^bad\\.asg:${line}:\\d+: error ASG\\d{4}: `, 'm'));
    expect(t.stderr).toContain('      FROM silver.orders_clen\n');
    expect(t.stderr).toMatch(/\n +\^+\n/);
    const j = await cli(['validate', 'bad.asg', '--format', 'json'], { cwd: dir });
    const doc = JSON.parse(j.stdout);
    expect(j.code).toBe(2);
    expect(doc.ok).toBe(false);
    expect(doc.diagnostics[0]).toMatchObject({ severity: 'error', file: 'bad.asg', line });
    expect(j.stderr).toBe('');
    const missing = await cli(['validate', 'nope.asg'], { cwd: dir });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/^nope\.asg:1:1: error ASG1001: cannot read .*nope\.asg.*: no such file\n/);
  });

  it('validate and plan: an unknown SQL column is reported in the same run as a misspelt setting, with did-you-mean and a caret under the column', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'asgard-cli-'));
    writeFileSync(join(dir, 'txns.csv'), 'id,amount,merchant\n1,10.5,acme\n');
    const spec = [
      'pipeline fraud {',
      '  source files file {',
      '    path = "./txns.csv"',
      '    stream txns { primary_key = id  columns = { id = "BIGINT"  amount = "DOUBLE"  merchant = "VARCHAR" } }',
      '  }',
      '  cleanse txns_clean {',
      '    partition_byy = [merchant]',
      '    sql """ SELECT t.id, amount, t.merchnt FROM bronze.txns t """',
      '  }',
      '}',
      '',
    ].join('\n');
    writeFileSync(join(dir, 'fraud.asg'), spec);
    for (const cmd of ['validate', 'plan']) {
      const t = await cli([cmd, 'fraud.asg'], { cwd: dir });
      expect(t.code, t.stderr).toBe(2);
      expect(t.stderr).toMatch(/^fraud\.asg:7:5: error ASG2002: unknown setting `partition_byy`/m);
      expect(t.stderr).toContain('fraud.asg:8:36: error ASG3102: silver.txns_clean: unknown column `t.merchnt`');
      expect(t.stderr).toContain('\n' + ' '.repeat(2 + 35) + '^^^^^^^\n  hint: did you mean `merchant`?');
      expect(t.stderr).not.toContain('Binder Error');
      expect(t.stderr).toContain('fraud.asg: 2 errors');
    }
    const j = await cli(['validate', 'fraud.asg', '--format', 'json'], { cwd: dir });
    expect(
      JSON.parse(j.stdout).diagnostics.map((d: { code: string; line: number; column: number; hint?: string }) => [d.code, d.line, d.column, d.hint ?? null]),
    ).toEqual([
      ['ASG2002', 7, 5, 'did you mean `partition_by`?'],
      ['ASG3102', 8, 36, 'did you mean `merchant`?'],
    ]);
  });

  it('validate: a stream with a misspelt setting is reported, not a crash (its half-checked source is left out of SQL binding)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'asgard-cli-'));
    const spec = [
      'pipeline cards {',
      '  source files file {',
      '    path = "./data"',
      '    stream disputes { path = "d/*.json"  formt = ndjson  primary_key = id }',
      '    stream txns { path = "t.csv"  columns = { id = "BIGINT"  amount = "DOUBLE" } }',
      '  }',
      '  cleanse disputes_clean { sql """ SELECT id FROM bronze.disputes """ }',
      '  cleanse txns_clean { sql """ SELECT id, amont FROM bronze.txns """ }',
      '}',
      '',
    ].join('\n');
    writeFileSync(join(dir, 'cards.asg'), spec);
    const t = await cli(['validate', 'cards.asg'], { cwd: dir });
    expect(t.code, t.stderr).toBe(2);
    expect(t.stderr).toMatch(/^cards\.asg:4:42: error ASG2002: unknown setting `formt` in stream `disputes`/m);
    expect(t.stderr).toContain('error ASG3102: silver.txns_clean: unknown column `amont`');
    expect(t.stderr).not.toMatch(/TypeError|Cannot read properties/);
    expect(t.stderr).toContain('cards.asg: 2 errors');
  });

  it('plan --format json lists every churn node as create against an empty state', async () => {
    const dir = tempWith({ 'churn.asg': churn });
    const r = await cli(['plan', 'churn.asg', '--format', 'json', '--detailed-exitcode'], { cwd: dir });
    expect(r.code).toBe(3);
    const doc = JSON.parse(r.stdout);
    expect(doc.pipeline).toBe('churn');
    expect(doc.profile).toBe('local');
    expect(doc.summary).toEqual({ create: 11, update: 0, replace: 0, delete: 0, noop: 0 });
    expect(doc.actions.map((a: { node: string; action: string }) => a.action)).toEqual(Array(11).fill('create'));
    expect(doc.actions.map((a: { node: string }) => a.node)).toContain('silver.customers_cleaned');
  });

  it('plan colours only on a TTY without NO_COLOR or --no-color', async () => {
    const dir = tempWith({ 'spec.asg': join(shop, 'spec.asg') });
    expect((await cli(['plan', 'spec.asg'], { cwd: dir, tty: true })).stdout).toContain('\x1b[');
    expect((await cli(['plan', 'spec.asg'], { cwd: dir, tty: true, env: { NO_COLOR: '1' } })).stdout).not.toContain('\x1b[');
    expect((await cli(['plan', 'spec.asg', '--no-color'], { cwd: dir, tty: true })).stdout).not.toContain('\x1b[');
    expect((await cli(['plan', 'spec.asg'], { cwd: dir })).stdout).not.toContain('\x1b[');
  });

  it('graph prints mermaid, dot and json', async () => {
    const dir = tempWith({ 'spec.asg': join(shop, 'base.asg') });
    const m = await cli(['graph', 'spec.asg', '--format', 'mermaid'], { cwd: dir });
    expect(m.stdout.split('\n')[0]).toBe('flowchart LR');
    expect(m.stdout).toContain('  silver_orders_clean --> gold_revenue');
    const d = await cli(['graph', 'spec.asg', '--format', 'dot'], { cwd: dir });
    expect(d.stdout).toContain('"bronze.orders" -> "silver.orders_clean";');
    const j = JSON.parse((await cli(['graph', 'spec.asg', '--format', 'json'], { cwd: dir })).stdout);
    expect(j.nodes[0]).toEqual({ id: 'bronze.customers', kind: 'source' });
    expect(j.edges).toContainEqual({ from: 'silver.customers_clean', to: 'gold.revenue' });
    expect(j.edges).toHaveLength(5);
  });

  it('plan --base gitref:path compares with the spec at a git revision, without state', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'asgard-git-'));
    mkdirSync(join(dir, 'pipelines'));
    const git = (...a: string[]) =>
      execFileSync('git', a, {
        cwd: dir,
        stdio: 'pipe',
        env: { ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@t', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@t' },
      });
    git('init', '-q', '-b', 'main');
    copyFileSync(join(shop, 'base.asg'), join(dir, 'pipelines', 'shop.asg'));
    git('add', '.');
    git('commit', '-qm', 'base');
    copyFileSync(join(shop, 'spec.asg'), join(dir, 'pipelines', 'shop.asg'));
    const r = await cli(['plan', 'pipelines/shop.asg', '--base', 'main:pipelines/shop.asg', '--format', 'json'], { cwd: dir });
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc.against).toEqual({ kind: 'base', ref: 'main:pipelines/shop.asg' });
    expect(doc.actions.find((a: { node: string }) => a.node === 'silver.orders_clean')).toMatchObject({ action: 'update', reasons: ['sql changed'] });
    const bad = await cli(['plan', 'pipelines/shop.asg', '--base', 'nosuchref:pipelines/shop.asg'], { cwd: dir });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^error: --base nosuchref:pipelines\/shop\.asg: git cannot read it/);
  });

  it('apply refuses without --yes when stdin is not a terminal, and asks on a terminal', async () => {
    const dir = tempWith({ 'spec.asg': join(shop, 'base.asg') });
    const ran: string[] = [];
    const r = await cli(['apply', 'spec.asg'], { cwd: dir, services: { executors: fakes([], ran) } });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('pass --yes');
    const no = await cli(['apply', 'spec.asg'], { cwd: dir, stdinIsTTY: true, answer: 'no', services: { executors: fakes([], ran) } });
    expect(no.code).toBe(1);
    expect(no.stderr).toContain('apply cancelled');
    expect(ran).toEqual([]);
    const yes = await cli(['apply', 'spec.asg'], { cwd: dir, stdinIsTTY: true, answer: 'yes', services: { executors: fakes([], ran) } });
    expect(yes.code).toBe(0);
    expect(ran).toHaveLength(6);
    expect(yes.stdout).toContain('Apply complete: 6 succeeded, 0 failed, 0 skipped, 0 unchanged.');
  });

  it('apply --format json prints one document with every node; a failure exits 1 and skips downstream', async () => {
    const dir = tempWith({ 'spec.asg': join(shop, 'base.asg') });
    const r = await cli(['apply', 'spec.asg', '--yes', '--format', 'json'], { cwd: dir, services: { executors: fakes(['silver.orders_clean']) } });
    expect(r.code).toBe(1);
    const doc = JSON.parse(r.stdout);
    expect(doc.ok).toBe(false);
    const status = Object.fromEntries(doc.nodes.map((n: { node: string; status: string }) => [n.node, n.status]));
    expect(status).toEqual({
      'bronze.customers': 'succeeded',
      'bronze.orders': 'succeeded',
      'silver.customers_clean': 'succeeded',
      'silver.orders_clean': 'failed',
      'gold.order_counts': 'skipped',
      'gold.revenue': 'skipped',
    });
    const failed = doc.nodes.find((n: { node: string }) => n.node === 'silver.orders_clean');
    expect(failed.error).toBe('cannot build silver.orders_clean');
    expect(typeof failed.seconds).toBe('number');
    expect(doc.nodes[0].rows).toBe(3);
  });

  it('a saved plan is applied exactly, then refused once the state moved', async () => {
    const dir = tempWith({ 'spec.asg': join(shop, 'base.asg') });
    const saved = await cli(['plan', 'spec.asg', '--out', 'plan.json'], { cwd: dir });
    expect(saved.code).toBe(0);
    const doc = JSON.parse(readFileSync(join(dir, 'plan.json'), 'utf8'));
    expect(doc).toMatchObject({ schemaVersion: 1, spec: 'spec.asg', stateSerial: 0, stateLineage: '' });
    const ran: string[] = [];
    const first = await cli(['apply', 'plan.json'], { cwd: dir, services: { executors: fakes([], ran) } });
    expect(first.code).toBe(0);
    expect(ran).toHaveLength(6);
    // a saved plan of one change runs that change only (no source sync)
    copyFileSync(join(shop, 'spec.asg'), join(dir, 'spec.asg'));
    await cli(['plan', 'spec.asg', '--out', 'edit.json'], { cwd: dir });
    ran.length = 0;
    expect((await cli(['apply', 'edit.json'], { cwd: dir, services: { executors: fakes([], ran) } })).code).toBe(0);
    expect(ran).toEqual(['silver.orders_clean', 'gold.order_counts', 'gold.revenue']);
    ran.length = 0;
    const again = await cli(['apply', 'plan.json'], { cwd: dir, services: { executors: fakes([], ran) } });
    expect(again.code).toBe(2);
    expect(again.stderr).toBe('error: Saved plan is stale: state serial 9, plan made at 0. Make a new plan.\n');
    expect(ran).toEqual([]);
    // a plan made with --base is not applicable
    copyFileSync(join(shop, 'base.asg'), join(dir, 'next.asg'));
    await cli(['plan', 'next.asg', '--base', 'spec.asg', '--out', 'review.json'], { cwd: dir });
    const review = await cli(['apply', 'review.json'], { cwd: dir, services: { executors: fakes([], ran) } });
    expect(review.code).toBe(2);
    expect(review.stderr).toContain('cannot be applied');
  });

  it('apply --select NODE+ runs that node and its downstream; a later plan shows the state', async () => {
    const dir = tempWith({ 'spec.asg': join(shop, 'base.asg') });
    await cli(['apply', 'spec.asg', '--yes'], { cwd: dir, services: { executors: fakes() } });
    copyFileSync(join(shop, 'spec.asg'), join(dir, 'spec.asg'));
    const p = JSON.parse((await cli(['plan', 'spec.asg', '--format', 'json'], { cwd: dir })).stdout);
    expect(p.stateSerial).toBe(6);
    expect(p.summary).toMatchObject({ update: 3, noop: 3 });
    const ran: string[] = [];
    const r = await cli(['apply', 'spec.asg', '--yes', '--select', 'silver.orders_clean+', '--format', 'json'], {
      cwd: dir,
      services: { executors: fakes([], ran) },
    });
    expect(r.code).toBe(0);
    expect(ran).toEqual(['silver.orders_clean', 'gold.order_counts', 'gold.revenue']);
    const after = JSON.parse((await cli(['plan', 'spec.asg', '--format', 'json', '--detailed-exitcode'], { cwd: dir })).stdout);
    expect(after.summary).toMatchObject({ create: 0, update: 0, replace: 0, delete: 0, noop: 6 });
    const unknown = await cli(['apply', 'spec.asg', '--yes', '--select', 'gold.nope'], { cwd: dir, services: { executors: fakes() } });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('no node gold.nope');
  });

  it('apply --profile kubernetes needs cluster credentials (exit 1 saying where it looked); unknown profiles are refused', async () => {
    const dir = tempWith({ 'churn.asg': churn });
    // The profile's catalog password is a secret the command needs set (pipelines/churn.asg, profile kubernetes).
    const k = await cli(['apply', 'churn.asg', '--yes', '--profile', 'kubernetes'], {
      cwd: dir,
      env: { HOME: dir, ICEBERG_CATALOG_PASSWORD: 'pw' },
      services: { executors: fakes() },
    });
    expect(k.code).toBe(1);
    expect(k.stderr).toContain('no Kubernetes credentials: set KUBECONFIG, write ~/.kube/config, or run asgard inside the cluster');
    const u = await cli(['plan', 'churn.asg', '--profile', 'prod'], { cwd: dir });
    expect(u.code).toBe(2);
    expect(u.stderr).toBe('error: unknown profile "prod" (this spec has: local, kubernetes, cluster)\n');
  });
});
