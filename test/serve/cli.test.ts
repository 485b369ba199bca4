// `asgard models list|show` and `asgard serve` as the user runs them, on a copy of
// pipelines/churn.asg whose state, warehouse and registry were made by the ML executors: the JSON
// shapes of PRODUCT.md, user errors with exit 2, and serve as a real process that answers, then
// finishes an in-flight request and exits 0 on SIGTERM.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { runCli } from '../../src/cli/run.js';
import { serveNodeFlags } from '../../src/cli/relaunch.js';
import { makeWarehouse, mlIR, persistState, runContext, serveNode, trainNode, trainOn } from '../ml/fixtures.js';

const repo = resolve(__dirname, '..', '..');
let dir: string;
let spec: string;

async function cli(argv: string[]) {
  let stdout = '';
  let stderr = '';
  const code = await runCli(argv, {
    out: (t) => void (stdout += t),
    err: (t) => void (stderr += t),
    stdoutIsTTY: false,
    stderrIsTTY: false,
    stdinIsTTY: false,
    prompt: async () => '',
    env: { PATH: process.env.PATH },
    cwd: dir,
  });
  return { code, stdout, stderr };
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'asgard-serve-cli-'));
  spec = join(dir, 'churn.asg');
  copyFileSync(join(repo, 'pipelines', 'churn.asg'), spec);
  // The spec's warehouse is ./.asgard/warehouse and its state dir .asgard/ beside it.
  const fx = await makeWarehouse(join(dir, '.asgard'), 2000);
  const ir = { ...mlIR(trainNode({ algorithm: { name: 'random_forest', params: { n_estimators: 15, max_depth: 6 } } }), serveNode()), name: 'churn' };
  const t = await trainOn(fx).run(runContext(ir, ir.nodes[1] as ReturnType<typeof trainNode>, fx));
  persistState(fx, ir, {
    'train.churn_predictor': {
      kind: 'train',
      fingerprint: 'f',
      metaFingerprint: 'm',
      definition: {},
      modelVersion: t.modelVersion,
      appliedAt: new Date().toISOString(),
    },
  });
}, 120_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('asgard models', () => {
  it('lists the registry in the PRODUCT.md JSON shape', async () => {
    const r = await cli(['models', 'list', 'churn.asg', '--format', 'json']);
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.models).toHaveLength(1);
    expect(j.models[0].name).toBe('customer_churn_predictor');
    expect(Object.keys(j.models[0].versions[0]).sort()).toEqual(['createdAt', 'metrics', 'promoted', 'version']);
    expect(j.models[0].versions[0]).toMatchObject({ version: 1, promoted: true });
    const one = await cli(['models', 'list', 'churn.asg', 'customer_churn_predictor', '--format', 'json']);
    expect(JSON.parse(one.stdout)).toEqual(j);
    expect((await cli(['models', 'list', 'churn.asg', 'nope'])).code).toBe(2);
    const text = await cli(['models', 'list', 'churn.asg']);
    expect(text.stdout).toMatch(/customer_churn_predictor\n\s+v1\s+promoted/);
  }, 60_000);

  it('shows a version with its metrics, gate and feature schema', async () => {
    const r = await cli(['models', 'show', 'churn.asg', 'customer_churn_predictor@1', '--format', 'json']);
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.metrics.confusion_matrix).toHaveLength(2);
    expect(j.features.features).toHaveLength(8);
    expect(j.lineage.inputs.label.source.node).toBe('gold.churn_labels');
    const text = await cli(['models', 'show', 'churn.asg', 'customer_churn_predictor@1']);
    expect(text.stdout).toMatch(/f1\s+0\.\d{4}/);
  }, 60_000);

  it('refuses unknown models, versions and subcommands with exit 2 and no stack', async () => {
    for (const argv of [
      ['models', 'show', 'churn.asg', 'nope'],
      ['models', 'show', 'churn.asg', 'customer_churn_predictor@x'],
      ['models', 'frobnicate', 'churn.asg'],
    ]) {
      const r = await cli(argv);
      expect(r.code, argv.join(' ')).toBe(2);
      expect(r.stderr).toMatch(/error:/);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
    const missing = await cli(['models', 'show', 'churn.asg', 'customer_churn_predictor@9']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/no version 9/);
  }, 60_000);
});

/** `asgard serve` as a user starts it, until it printed where it listens. */
async function startServe() {
  const child = spawn(process.execPath, ['--import', 'tsx', join(repo, 'src', 'cli', 'main.ts'), 'serve', spec, '--port', '0', '--format', 'json'], {
    cwd: repo,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
  const started = await new Promise<{ port: number }>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      try {
        resolve(JSON.parse(out));
      } catch {
        // not complete yet
      }
    });
    exited.then((c) => reject(new Error(`asgard serve exited ${c}: ${stderr}`)));
  });
  return { child, started, exited, stderr: () => stderr };
}

describe('asgard serve (process)', () => {
  it('serves, then on SIGTERM finishes the in-flight request and exits 0', async () => {
    const { child, started, exited, stderr } = await startServe();
    const base = `http://127.0.0.1:${started.port}`;
    const health = await fetch(`${base}/health`);
    expect(health.status).toBe(200);
    const body = {
      model_name: 'customer_churn_predictor',
      inputs: Array.from({ length: 1000 }, (_, i) => ({
        total_purchases: i % 40,
        customer_lifetime_value: 100,
        avg_purchase_value: 50,
        days_since_last_purchase: i % 200,
        purchase_frequency: 1,
        account_age_days: 300,
        support_tickets: i % 8,
        avg_support_resolution_hours: 12,
      })),
    };
    const inflight = fetch(`${base}/mlops/inference`, { method: 'POST', body: JSON.stringify(body) });
    await new Promise((r) => setTimeout(r, 5));
    child.kill('SIGTERM');
    const res = await inflight;
    expect(res.status).toBe(200);
    expect(((await res.json()) as { predictions: unknown[] }).predictions).toHaveLength(1000);
    expect(await exited).toBe(0);
    expect(stderr()).not.toMatch(/\n\s+at /);
  }, 120_000);

  it("serves from a node started with a server's young generation (src/cli/relaunch.ts), which ends when its command is killed", async () => {
    const { child, started } = await startServe();
    // The command's process started the server's, with the flags V8 takes only at start.
    const cmdline = (pid: string) => readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    const children = readFileSync(`/proc/${child.pid}/task/${child.pid}/children`, 'utf8').trim().split(' ').filter(Boolean);
    const servers = children.filter((pid) => cmdline(pid).includes('serve'));
    expect(servers).toHaveLength(1);
    const server = servers[0];
    expect(cmdline(server)).toEqual(expect.arrayContaining([...serveNodeFlags(process.env, availableParallelism()), spec]));
    expect((await fetch(`http://127.0.0.1:${started.port}/health`)).status).toBe(200);
    child.kill('SIGKILL');
    // The server notices its command is gone and stops (no timing asserted: the test's own limit bounds it).
    while (existsSync(`/proc/${server}`) && !readFileSync(`/proc/${server}/stat`, 'utf8').split(') ')[1].startsWith('Z'))
      await new Promise((r) => setTimeout(r, 100));
  }, 120_000);

  it('refuses an ASGARD_SERVE_GC it does not know with exit 2, naming it, and no stack', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(repo, 'src', 'cli', 'main.ts'), 'serve', spec, '--port', '0'], {
      cwd: repo,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ASGARD_SERVE_GC: 'threads' },
    });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    expect(await new Promise((r) => child.once('exit', r))).toBe(2);
    expect(stderr).toBe('error: ASGARD_SERVE_GC must be main or parallel, got "threads"\n');
  }, 60_000);
});
