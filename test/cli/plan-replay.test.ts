// A repeated `asgard plan` process prints the last one's output before the CLI loads
// (src/cli/plan-replay.cts), and only while everything that output was made from is unchanged: the
// command line, the spec's text, asgard's own code (the build id), the state, the warehouse's
// snapshot files and which of the spec's secrets are set. Each change below is made after the
// record was planted (its output replaced), so a stale replay would print the planted text.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, repoRoot, SHOP_SPEC, shopFolder } from './helpers.js';
import { type LoggedRun, runLoggingModules } from '../helpers/loaded-modules.js';

/** The process ran the CLI (its dispatcher loaded), rather than printing a recorded output. */
const ranCli = (r: LoggedRun) => r.modules.some((m) => /\/cli\/run\.(js|ts)$/.test(m));

/** The record of the last plan process of `spec` in the default state folder: the paths it found, everything before the output, and the output. */
function record(dir: string, spec: string): { present: string[]; head: Buffer; out: string; file: string } {
  const file = join(dir, '.asgard', 'cache', 'plans', `${spec}.out`);
  const bytes = readFileSync(file);
  const nl = bytes.indexOf(10);
  const header = JSON.parse(bytes.toString('utf8', 0, nl)) as { specBytes: number; presentBytes: number };
  const at = nl + 1 + header.specBytes;
  const end = at + header.presentBytes;
  return { present: JSON.parse(bytes.toString('utf8', at, end)), head: bytes.subarray(0, end), out: bytes.toString('utf8', end), file };
}

/** Replaces the recorded output: a replay now prints `planted`. */
function plant(dir: string, spec: string): void {
  const r = record(dir, spec);
  writeFileSync(r.file, Buffer.concat([r.head, Buffer.from('"planted"\n')]));
}

describe('plan replay (a repeated plan process)', () => {
  it('prints the last output without loading the CLI; an edited spec, another command line, a moved state, another build or a removed snapshot file plans again', async () => {
    const dir = shopFolder('asgard-plan-replay-');
    writeFileSync(join(dir, 'shop.asg'), SHOP_SPEC);
    const argv = ['plan', 'shop.asg', '--format', 'json', '--detailed-exitcode'];
    const plan = (args = argv) => {
      const r = runLoggingModules(args, dir);
      expect([0, 3], r.stderr).toContain(r.code);
      return r;
    };
    /** The same plan made with no cache at all (the state and warehouse stay). */
    const uncached = () => {
      rmSync(join(dir, '.asgard', 'cache'), { recursive: true, force: true });
      return plan();
    };

    const first = plan();
    expect(ranCli(first)).toBe(true);
    expect(first.code).toBe(3);
    const again = plan();
    expect(ranCli(again)).toBe(false);
    expect(again.stdout).toBe(first.stdout);
    expect(again.code).toBe(3);
    // What is printed is the record: planted, the planted text is printed.
    plant(dir, 'shop.asg');
    expect(plan().stdout).toBe('"planted"\n');

    // Another command line (text, not json) is not answered by the json record.
    const text = plan(['plan', 'shop.asg']);
    expect(ranCli(text)).toBe(true);
    expect(text.stdout).not.toContain('planted');
    expect(text.stdout).toContain('silver.orders_clean');

    // The spec edited.
    plan();
    plant(dir, 'shop.asg');
    writeFileSync(join(dir, 'shop.asg'), SHOP_SPEC.replace('count(*) AS orders', 'count(order_id) AS orders'));
    const edited = plan();
    expect(ranCli(edited)).toBe(true);
    expect(edited.stdout).not.toContain('planted');
    expect(edited.stdout).not.toBe(first.stdout); // gold.store_sales's fingerprint
    expect(uncached().stdout).toBe(edited.stdout);
    // An edit of the same length (the text is compared byte for byte, not by size).
    writeFileSync(join(dir, 'shop.asg'), SHOP_SPEC);
    plan();
    plant(dir, 'shop.asg');
    const sameLength = SHOP_SPEC.replace('amount > 0', 'amount > 5');
    expect(sameLength.length).toBe(SHOP_SPEC.length);
    writeFileSync(join(dir, 'shop.asg'), sameLength);
    const reworded = plan();
    expect(ranCli(reworded)).toBe(true);
    expect(reworded.stdout).not.toContain('planted');
    expect(uncached().stdout).toBe(reworded.stdout);
    writeFileSync(join(dir, 'shop.asg'), SHOP_SPEC);

    // The state moved (an apply).
    plan();
    expect(ranCli(plan())).toBe(false);
    plant(dir, 'shop.asg');
    const applied = await cli(['apply', 'shop.asg', '--yes'], { cwd: dir });
    expect(applied.code, applied.stderr).toBe(0);
    const noop = plan();
    expect(ranCli(noop)).toBe(true);
    expect(noop.code).toBe(0);
    expect(JSON.parse(noop.stdout).summary.noop).toBe(3);
    expect(uncached().stdout).toBe(noop.stdout);

    // Another build: the build id's memo (src/workspace/build-id.ts) names another id for this code.
    expect(ranCli(plan())).toBe(false);
    plant(dir, 'shop.asg');
    const memo = join(dir, '.asgard', 'cache', 'build-id.json');
    writeFileSync(memo, JSON.stringify({ ...JSON.parse(readFileSync(memo, 'utf8')), id: 'another-build' }));
    const rebuilt = plan();
    expect(ranCli(rebuilt)).toBe(true);
    expect(rebuilt.stdout).toBe(noop.stdout);

    // A data file of a snapshot the state points to, removed from the warehouse.
    expect(ranCli(plan())).toBe(false);
    const parquet = record(dir, 'shop.asg').present.find((p) => p.endsWith('.parquet'));
    expect(parquet).toBeDefined();
    plant(dir, 'shop.asg');
    rmSync(parquet!);
    const missing = plan();
    expect(ranCli(missing)).toBe(true);
    expect(missing.stdout).not.toContain('planted');
    expect(missing.stdout).toContain('snapshot missing');
    expect(uncached().stdout).toBe(missing.stdout);
  }, 600_000);

  it('a replayed plan loads no more of Node than an empty script: not its ES module loader, node:crypto, streams or net', () => {
    const dir = shopFolder('asgard-plan-replay-');
    writeFileSync(join(dir, 'shop.asg'), SHOP_SPEC);
    // A CommonJS preload that lists Node's own modules at exit (--import would start the ES module loader itself).
    const preload = join(dir, 'module-list.cjs');
    const list = join(dir, 'modules.txt');
    writeFileSync(preload, `process.on('exit', () => require('node:fs').writeFileSync(${JSON.stringify(list)}, process.moduleLoadList.join('\\n')));\n`);
    const run = (script: string, args: string[] = []) => {
      const r = spawnSync(process.execPath, ['--require', preload, script, ...args], { cwd: dir, encoding: 'utf8', env: { PATH: process.env.PATH ?? '' } });
      expect(r.status, r.stderr).toBe(0);
      return { stdout: r.stdout, modules: readFileSync(list, 'utf8').split('\n') };
    };
    const plan = () => run(join(repoRoot, 'bin', 'asgard.js'), ['plan', 'shop.asg', '--format', 'json']);
    const first = plan();
    expect(first.modules).toContain('NativeModule crypto'); // made: the CLI hashes
    const replayed = plan();
    expect(replayed.stdout).toBe(first.stdout);
    writeFileSync(join(dir, 'empty.cjs'), '');
    const empty = run(join(dir, 'empty.cjs')).modules;
    expect(replayed.modules.filter((m) => !empty.includes(m))).toEqual([]);
    for (const m of ['crypto', 'stream', 'net']) expect(replayed.modules).not.toContain(`NativeModule ${m}`);
    // Node 20 loads its ES module loader for an ES module only; Node 24 for every script, an empty
    // one included, so there the comparison with the empty script above is what holds it.
    const esmLoader = 'NativeModule internal/modules/esm/loader';
    expect(empty.includes(esmLoader)).toBe(Number(process.versions.node.split('.')[0]) >= 24);
    if (!empty.includes(esmLoader)) expect(replayed.modules).not.toContain(esmLoader);
  }, 600_000);

  it('a `--var`, another `--profile`, a profile whose warehouse env() places and a removed state plan again; a `--var` or env() plan is never recorded', async () => {
    const dir = shopFolder('asgard-plan-replay-');
    // A variable in the cleanse's filter; a profile whose warehouse the environment picks.
    const spec = SHOP_SPEC.replace('WHERE amount > 0', "WHERE amount > var('min_amount')").replace(
      '  cleanse orders_clean',
      '  var min_amount { type = number  default = 0 }\n  profile dev {\n    target    = "local"\n    warehouse = env("SHOP_WH", "./wh-dev")\n  }\n  cleanse orders_clean',
    );
    writeFileSync(join(dir, 'shop.asg'), spec);
    const plan = (args: string[], env: Record<string, string> = {}) => {
      const r = runLoggingModules(['plan', 'shop.asg', '--format', 'json', ...args], dir, env);
      expect(r.code, r.stderr).toBe(0);
      return r;
    };
    const applied = await cli(['apply', 'shop.asg', '--yes'], { cwd: dir });
    expect(applied.code, applied.stderr).toBe(0);
    const first = plan([]);
    expect(JSON.parse(first.stdout).summary.noop).toBe(3);
    expect(ranCli(plan([]))).toBe(false);
    plant(dir, 'shop.asg');

    // --var: the variable's new value reaches the cleanse; never recorded, so planned every time.
    for (let i = 0; i < 2; i++) {
      const withVar = plan(['--var', 'min_amount=5']);
      expect(ranCli(withVar)).toBe(true);
      expect(withVar.stdout).not.toContain('planted');
      expect(JSON.parse(withVar.stdout).summary).toMatchObject({ noop: 1, update: 2 }); // the cleanse and the model below it
    }
    expect(plan([]).stdout).toBe('"planted"\n'); // the record of the plain command line is still there

    // Another profile: its own command line; and one whose warehouse env() places is never recorded.
    for (const wh of ['./wh-dev', './wh-other']) {
      const dev = plan(['--profile', 'dev'], { SHOP_WH: wh });
      expect(ranCli(dev)).toBe(true);
      expect(dev.stdout).not.toContain('planted');
    }

    // The state removed: everything is created again.
    rmSync(join(dir, '.asgard', 'state'), { recursive: true, force: true });
    const fresh = plan([]);
    expect(ranCli(fresh)).toBe(true);
    expect(fresh.stdout).not.toContain('planted');
    expect(JSON.parse(fresh.stdout).summary.create).toBe(3);
    expect(ranCli(plan([]))).toBe(false);
  }, 600_000);

  it('a secret set or unset since is planned again (its warning is printed or not)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'asgard-plan-replay-'));
    // The shop reads its database password from secret("SHOP_DB_PASSWORD").
    copyFileSync(join(__dirname, '..', 'planner', 'cases', 'sql-edit-cascades', 'base.asg'), join(dir, 'shop.asg'));
    const set = { SHOP_DB_PASSWORD: 'pw' };
    const plan = (env: Record<string, string>) => {
      const r = runLoggingModules(['plan', 'shop.asg'], dir, env);
      expect(r.code, r.stderr).toBe(0);
      return r;
    };
    const first = plan(set);
    expect(first.stderr).toBe('');
    const again = plan(set);
    expect(ranCli(again)).toBe(false);
    expect(again.stdout).toBe(first.stdout);
    plant(dir, 'shop.asg');
    const unset = plan({});
    expect(ranCli(unset)).toBe(true);
    expect(unset.stdout).toBe(first.stdout);
    expect(unset.stderr).toContain('SHOP_DB_PASSWORD is not set');
    // A plan that warned (on stderr) is not recorded: the next one warns again.
    const unsetAgain = plan({});
    expect(ranCli(unsetAgain)).toBe(true);
    expect(unsetAgain.stderr).toContain('SHOP_DB_PASSWORD is not set');
  }, 600_000);
});
