// The apply orchestrator with fake executors: what runs, in which order, how many at once, what a
// failure skips, what state records, and when a plan is refused.
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ApplyRefused, applyPlan, type ApplyEvent, type ApplyOptions } from '../../src/engine/apply.js';
import { executorResolver } from '../../src/engine/executors.js';
import { NodeError, type NodeExecutor, type RunContext } from '../../src/engine/executor.js';
import type { NodeKind, PipelineIR } from '../../src/ir/types.js';
import { outputTable } from '../../src/ir/types.js';
import { buildDag } from '../../src/planner/dag.js';
import { buildPlan, priorFromState } from '../../src/planner/plan.js';
import { parseSelect } from '../../src/planner/stages.js';
import { StateStore, StateError } from '../../src/planner/state-store.js';
import { RUNS_KEPT, RunsLog } from '../../src/planner/runs-log.js';
import { Warehouse } from '../../src/warehouse/warehouse.js';
import { diamond, features, pipeline, serve, source, train, model } from './fixtures.js';
import { commitRows, dataFilesOnDisk } from '../helpers/warehouse.js';

interface Fake {
  calls: string[];
  maxRunning: number;
  failOn: Set<string>;
  /** Nodes whose next run returns no new snapshot (a source sync that found nothing new). */
  noNewData: Set<string>;
  contexts: RunContext[];
}

function fakeExecutors(fake: Fake, delayMs = 20) {
  let running = 0;
  return async (kind: NodeKind): Promise<NodeExecutor> => ({
    kind,
    async run(ctx) {
      fake.calls.push(ctx.node.id);
      fake.contexts.push(ctx);
      running++;
      fake.maxRunning = Math.max(fake.maxRunning, running);
      try {
        await new Promise((r) => setTimeout(r, delayMs));
        ctx.progress({ rows: 5 });
        if (fake.failOn.has(ctx.node.id)) throw new NodeError(`boom in ${ctx.node.id}`);
        if (ctx.node.kind === 'train') return { modelVersion: (ctx.state.nodes[ctx.node.id]?.modelVersion ?? 0) + 1 };
        const table = outputTable(ctx.node);
        if (!table || fake.noNewData.has(ctx.node.id)) return { rows: 0 };
        return {
          rows: 10,
          snapshot: await commitRows(ctx.warehouse, table, 10),
          schema: [{ name: 'id', type: 'BIGINT' }],
          cursor: ctx.node.kind === 'source' ? '2025-01-01' : undefined,
        };
      } finally {
        running--;
      }
    },
  });
}

const dirs: string[] = [];
afterEach(() => dirs.splice(0));

function setup(ir: PipelineIR) {
  const dir = mkdtempSync(join(tmpdir(), 'asgard-apply-'));
  dirs.push(dir);
  const store = new StateStore(join(dir, '.asgard'), ir.name);
  const warehouse = new Warehouse(join(dir, 'wh'));
  const runs = new RunsLog(join(dir, '.asgard'), ir.name);
  const fake: Fake = { calls: [], maxRunning: 0, failOn: new Set(), noNewData: new Set(), contexts: [] };
  const apply = async (
    spec: PipelineIR,
    opts: { select?: string; concurrency?: number; env?: Record<string, string>; events?: ApplyEvent[]; removeNode?: ApplyOptions['removeNode'] } = {},
  ) => {
    fake.calls = [];
    fake.contexts = [];
    const state = store.read();
    const plan = buildPlan({ ir: spec, prior: priorFromState(state), stateSerial: state.serial, stateLineage: state.lineage });
    return applyPlan({
      ir: spec,
      plan,
      store,
      warehouse,
      scratchDir: join(dir, '.asgard', 'cache', 'tmp'),
      runs,
      executors: fakeExecutors(fake),
      select: opts.select ? parseSelect([opts.select], buildDag(spec)) : undefined,
      concurrency: opts.concurrency,
      env: opts.env ?? {},
      onEvent: (e) => opts.events?.push(e),
      removeNode: opts.removeNode,
    });
  };
  return { dir, store, warehouse, runs, fake, apply };
}

const statuses = (r: { nodes: readonly { node: string; status: string }[] }) => Object.fromEntries(r.nodes.map((n) => [n.node, n.status]));

describe('apply', () => {
  it('runs every node on the first apply, two at a time, and records each in state', async () => {
    const t = setup(diamond());
    const r = await t.apply(diamond());
    expect(r.ok).toBe(true);
    expect(Object.values(statuses(r))).toEqual(Array(6).fill('succeeded'));
    expect(t.fake.maxRunning).toBe(2);
    // parents before children
    const at = (id: string) => t.fake.calls.indexOf(id);
    expect(at('bronze.a')).toBeLessThan(at('silver.a_clean'));
    expect(at('silver.a_clean')).toBeLessThan(at('gold.m'));
    expect(at('silver.b_clean')).toBeLessThan(at('gold.m'));
    const state = t.store.read();
    expect(state.serial).toBe(6); // one atomic write per node
    expect(Object.keys(state.nodes).sort()).toEqual(['bronze.a', 'bronze.b', 'gold.m', 'gold.solo', 'silver.a_clean', 'silver.b_clean']);
    const m = state.nodes['gold.m'];
    expect(m.inputSnapshots).toEqual({
      'silver.a_clean': state.nodes['silver.a_clean'].snapshot!.id,
      'silver.b_clean': state.nodes['silver.b_clean'].snapshot!.id,
    });
    expect(state.nodes['bronze.a'].cursor).toBe('2025-01-01');
    expect(state.nodes['bronze.a'].schema).toEqual([{ name: 'id', type: 'BIGINT' }]);
  });

  it('records each apply in the runs log: per node its start and end (parallel nodes overlap), rows and errors', async () => {
    const t = setup(diamond());
    expect(t.runs.read()).toEqual([]);
    t.fake.failOn = new Set(['silver.b_clean']);
    const r = await t.apply(diamond());
    const runs = t.runs.read();
    expect(existsSync(join(t.dir, '.asgard', 'runs', `${r.state.pipeline}.json`))).toBe(true);
    expect(runs).toHaveLength(1);
    const run = runs[0];
    expect(run.ok).toBe(false);
    expect(run.concurrency).toBe(2);
    expect(Date.parse(run.finishedAt)).toBeGreaterThanOrEqual(Date.parse(run.startedAt));
    expect(run.nodes.map((n) => n.node).sort()).toEqual(r.nodes.map((n) => n.node).sort());
    const by = Object.fromEntries(run.nodes.map((n) => [n.node, n]));
    for (const n of run.nodes) expect(n.end, n.node).toBeGreaterThanOrEqual(n.start);
    // The two sources ran at once: their intervals overlap.
    expect(by['bronze.a'].start).toBeLessThan(by['bronze.b'].end);
    expect(by['bronze.b'].start).toBeLessThan(by['bronze.a'].end);
    // A child starts after its parent ended.
    expect(by['silver.a_clean'].start).toBeGreaterThanOrEqual(by['bronze.a'].end);
    expect(by['bronze.a']).toMatchObject({ status: 'succeeded', rows: 10 });
    expect(by['silver.b_clean']).toMatchObject({ status: 'failed', error: 'boom in silver.b_clean' });
    expect(by['gold.m']).toMatchObject({ status: 'skipped', error: 'upstream silver.b_clean failed' });

    // The log keeps the newest RUNS_KEPT applies.
    t.fake.failOn = new Set();
    for (let i = 0; i < RUNS_KEPT; i++) await t.apply(diamond());
    const kept = t.runs.read();
    expect(kept).toHaveLength(RUNS_KEPT);
    expect(kept.every((x) => x.ok)).toBe(true);
  });

  it('respects concurrency 1', async () => {
    const t = setup(diamond());
    await t.apply(diamond(), { concurrency: 1 });
    expect(t.fake.maxRunning).toBe(1);
  });

  it('on a rerun syncs sources but runs nothing downstream when no new data arrived', async () => {
    const t = setup(diamond());
    await t.apply(diamond());
    t.fake.noNewData = new Set(['bronze.a', 'bronze.b']);
    const events: ApplyEvent[] = [];
    const r = await t.apply(diamond(), { events });
    expect(t.fake.calls.sort()).toEqual(['bronze.a', 'bronze.b']);
    // only nodes that do work announce a start
    expect(
      events
        .filter((e) => e.type === 'start')
        .map((e) => (e as { node: string }).node)
        .sort(),
    ).toEqual(['bronze.a', 'bronze.b']);
    expect(events.filter((e) => e.type === 'end')).toHaveLength(6);
    expect(statuses(r)).toMatchObject({ 'silver.a_clean': 'unchanged', 'gold.m': 'unchanged', 'gold.solo': 'unchanged' });
  });

  it('reruns what a new source snapshot feeds, and only that', async () => {
    const t = setup(diamond());
    await t.apply(diamond());
    t.fake.noNewData = new Set(['bronze.b']);
    await t.apply(diamond());
    expect(t.fake.calls.sort()).toEqual(['bronze.a', 'bronze.b', 'gold.m', 'silver.a_clean']);
  });

  it('reruns only the edited node and its downstream after a SQL edit', async () => {
    const t = setup(diamond());
    await t.apply(diamond());
    t.fake.noNewData = new Set(['bronze.a', 'bronze.b']);
    const r = await t.apply(diamond({ aSql: 'SELECT id FROM bronze.a WHERE id > 1' }));
    expect(t.fake.calls.filter((c) => !c.startsWith('bronze')).sort()).toEqual(['gold.m', 'silver.a_clean']);
    expect(statuses(r)['gold.solo']).toBe('unchanged');
  });

  it('records a description edit without running anything', async () => {
    const t = setup(diamond());
    await t.apply(diamond());
    t.fake.noNewData = new Set(['bronze.a', 'bronze.b']);
    const before = t.store.read().nodes['silver.a_clean'];
    const r = await t.apply(diamond({ aDesc: 'documented' }));
    expect(t.fake.calls.sort()).toEqual(['bronze.a', 'bronze.b']);
    expect(statuses(r)['silver.a_clean']).toBe('succeeded');
    const after = t.store.read().nodes['silver.a_clean'];
    expect(after.metaFingerprint).not.toBe(before.metaFingerprint);
    expect(after.snapshot).toEqual(before.snapshot);
    // the next plan is clean
    const s = t.store.read();
    expect(buildPlan({ ir: diamond({ aDesc: 'documented' }), prior: priorFromState(s) }).summary.update).toBe(0);
  });

  it('skips the downstream of a failed node and finishes independent branches', async () => {
    const t = setup(diamond());
    t.fake.failOn = new Set(['silver.a_clean']);
    const r = await t.apply(diamond());
    expect(r.ok).toBe(false);
    expect(statuses(r)).toEqual({
      'bronze.a': 'succeeded',
      'bronze.b': 'succeeded',
      'silver.a_clean': 'failed',
      'silver.b_clean': 'succeeded',
      'gold.m': 'skipped',
      'gold.solo': 'succeeded',
    });
    expect(r.nodes.find((n) => n.node === 'silver.a_clean')!.error).toBe('boom in silver.a_clean');
    expect(r.nodes.find((n) => n.node === 'gold.m')!.error).toBe('upstream silver.a_clean failed');
    expect(t.store.read().nodes['gold.m']).toBeUndefined();
    // the next apply picks up where this one stopped
    t.fake.failOn = new Set();
    t.fake.noNewData = new Set(['bronze.a', 'bronze.b']);
    const r2 = await t.apply(diamond());
    expect(r2.ok).toBe(true);
    expect(t.fake.calls.filter((c) => !c.startsWith('bronze')).sort()).toEqual(['gold.m', 'silver.a_clean']);
  });

  it('--select node+ runs the node and its downstream only', async () => {
    const t = setup(diamond());
    await t.apply(diamond());
    const r = await t.apply(diamond({ aSql: 'SELECT 3 AS id FROM bronze.a' }), { select: 'silver.a_clean+' });
    expect(t.fake.calls).toEqual(['silver.a_clean', 'gold.m']);
    expect(r.nodes.map((n) => n.node)).toEqual(['silver.a_clean', 'gold.m']);
  });

  it('--select a node whose input was never applied fails it with a hint', async () => {
    const t = setup(diamond());
    const r = await t.apply(diamond(), { select: 'gold.solo' });
    expect(r.nodes).toEqual([
      {
        node: 'gold.solo',
        status: 'failed',
        seconds: 0,
        error: 'input silver.b_clean has not been applied yet; apply it first or select it too (--select silver.b_clean+)',
      },
    ]);
  });

  it('reruns serve when train registers a new model version', async () => {
    const ir = pipeline([
      source('a'),
      model('m', 'SELECT * FROM bronze.a', ['bronze.a']),
      features('f', 'gold.m'),
      train('t', 'features.f', 'gold.m'),
      serve('s', 'train.t'),
    ]);
    const t = setup(ir);
    await t.apply(ir);
    expect(t.store.read().nodes['train.t'].modelVersion).toBe(1);
    expect(t.store.read().nodes['serve.s'].inputSnapshots).toEqual({ 'train.t': 'model@1' });
    t.fake.noNewData = new Set(['bronze.a']);
    await t.apply(ir);
    expect(t.fake.calls).toEqual(['bronze.a']);
    t.fake.noNewData = new Set();
    await t.apply(ir);
    expect(t.fake.calls).toEqual(['bronze.a', 'gold.m', 'features.f', 'train.t', 'serve.s']);
    expect(t.store.read().nodes['serve.s'].inputSnapshots).toEqual({ 'train.t': 'model@2' });
  });

  it('keeps three snapshots per table and garbage-collects older ones', async () => {
    const ir = pipeline([source('a')]);
    const t = setup(ir);
    for (let i = 0; i < 5; i++) await t.apply(ir);
    const n = t.store.read().nodes['bronze.a'];
    expect(n.history!.length).toBe(2);
    // The Iceberg table keeps exactly those snapshots, and only their data files are left on disk.
    const kept = [n.snapshot!, ...n.history!];
    const meta = (await t.warehouse.tables.current(t.warehouse.ident('bronze.a')))!.metadata;
    expect(meta.snapshots!.map((s) => s['snapshot-id']).sort()).toEqual(kept.map((s) => s.id).sort());
    const referenced = (await Promise.all(kept.map((s) => t.warehouse.files(s)))).flat().sort();
    expect(referenced).toHaveLength(3);
    expect(await dataFilesOnDisk(t.warehouse, 'bronze.a')).toEqual(referenced);
  });

  it('deletes removed nodes from state and their snapshot folders', async () => {
    const t = setup(diamond());
    await t.apply(diamond());
    const dir = t.warehouse.tableDir('gold.solo');
    expect(existsSync(dir)).toBe(true);
    const r = await t.apply(pipeline(diamond().nodes.filter((n) => n.id !== 'gold.solo')));
    expect(statuses(r)['gold.solo']).toBe('succeeded');
    expect(t.store.read().nodes['gold.solo']).toBeUndefined();
    expect(existsSync(dir)).toBe(false);
  });

  it('removes what a removed node left outside the warehouse before the state forgets it; a failure keeps it there for the next apply', async () => {
    const t = setup(diamond());
    await t.apply(diamond());
    const without = pipeline(diamond().nodes.filter((n) => n.id !== 'gold.solo'));
    const failing = await t.apply(without, {
      removeNode: async () => {
        throw new NodeError('the Airbyte API answered 503');
      },
    });
    expect(failing.nodes.find((n) => n.node === 'gold.solo')).toMatchObject({ status: 'failed', error: 'the Airbyte API answered 503' });
    expect(t.store.read().nodes['gold.solo']).toBeDefined();
    const seen: string[] = [];
    const r = await t.apply(without, {
      removeNode: async ({ node, prev, warn }) => {
        seen.push(`${node} ${prev.kind}`);
        warn(`deleted what ${node} left`);
      },
    });
    expect(statuses(r)['gold.solo']).toBe('succeeded');
    expect(seen).toEqual(['gold.solo model']);
    expect(r.warnings).toEqual([{ node: 'gold.solo', message: 'deleted what gold.solo left' }]);
    expect(t.store.read().nodes['gold.solo']).toBeUndefined();
  });

  it('refuses a plan when the state moved since it was made', async () => {
    const t = setup(diamond());
    const stale = buildPlan({ ir: diamond(), prior: {}, stateSerial: 0, stateLineage: '' });
    await t.apply(diamond());
    const serial = t.store.read().serial;
    await expect(
      applyPlan({ ir: diamond(), plan: stale, store: t.store, warehouse: t.warehouse, scratchDir: t.dir, executors: fakeExecutors(t.fake) }),
    ).rejects.toThrow(`Saved plan is stale: state serial ${serial}, plan made at 0`);
  });

  it('refuses a plan when the spec changed since it was made', async () => {
    const t = setup(diamond());
    const plan = buildPlan({ ir: diamond(), prior: {} });
    await expect(
      applyPlan({ ir: diamond({ aSql: 'SELECT 9' }), plan, store: t.store, warehouse: t.warehouse, scratchDir: t.dir, executors: fakeExecutors(t.fake) }),
    ).rejects.toThrow(ApplyRefused);
    expect(t.fake.calls).toEqual([]);
  });

  it('refuses while another apply holds the lock, and releases its own lock', async () => {
    const t = setup(diamond());
    const release = t.store.lock();
    await expect(t.apply(diamond())).rejects.toThrow(StateError);
    release();
    await t.apply(diamond());
    expect(existsSync(join(t.dir, '.asgard', 'state', 'test.lock'))).toBe(false);
  });

  it('fails a kind that has no executor module with a clear error', async () => {
    const t = setup(diamond());
    const plan = buildPlan({ ir: diamond(), prior: {} });
    const missing = executorResolver({});
    const r = await applyPlan({ ir: diamond(), plan, store: t.store, warehouse: t.warehouse, scratchDir: t.dir, executors: missing });
    expect(r.nodes.find((n) => n.node === 'bronze.a')).toMatchObject({ status: 'failed', error: 'no executor for kind source yet' });
    expect(r.nodes.find((n) => n.node === 'silver.a_clean')).toMatchObject({ status: 'skipped' });
  });

  it('resolves env with defaults and secrets from the environment, and never leaks a secret value', async () => {
    const ir = pipeline([source('a', {}, { password: { kind: 'secret', name: 'A_PASSWORD' }, host: { kind: 'env', name: 'A_HOST', default: 'localhost' } })]);
    const t = setup(ir);
    const leaky = async (kind: NodeKind): Promise<NodeExecutor> => ({
      kind,
      async run(ctx) {
        const host = ctx.resolve({ kind: 'env', name: 'A_HOST', default: 'localhost' });
        const pw = ctx.resolve((ctx.node as import('../../src/ir/types.js').SourceNode).connector.settings.password);
        ctx.warn(`connecting to ${host} with ${pw}`);
        throw new Error(`auth failed for postgres://u:${pw}@${host}/db using ${pw}`);
      },
    });
    const plan = buildPlan({ ir, prior: {} });
    const r = await applyPlan({ ir, plan, store: t.store, warehouse: t.warehouse, scratchDir: t.dir, executors: leaky, env: { A_PASSWORD: 's3cr3t-value' } });
    const all = JSON.stringify(r);
    expect(all).not.toContain('s3cr3t-value');
    expect(r.warnings).toEqual([{ node: 'bronze.a', message: 'connecting to localhost with ***' }]);
    expect(r.nodes[0].error).toBe('auth failed for postgres://u:***@localhost/db using ***');
    const missing = await applyPlan({ ir, plan, store: t.store, warehouse: t.warehouse, scratchDir: t.dir, executors: leaky, env: {} });
    expect(missing.nodes[0].error).toBe('secret A_PASSWORD is not set: export A_PASSWORD in the environment that runs asgard');
  });

  it('gives executors the logical time of the spec, and a replaced node an empty state', async () => {
    const ir = pipeline([source('a')], { logicalTime: { kind: 'env', name: 'LT', default: '2025-11-11T00:00:00Z' } });
    const t = setup(ir);
    await t.apply(ir);
    expect(t.fake.contexts[0].logicalTime.toISOString()).toBe('2025-11-11T00:00:00.000Z');
    expect(t.fake.contexts[0].state.nodes['bronze.a']).toBeUndefined();
    await t.apply(ir);
    expect(t.fake.contexts[0].state.nodes['bronze.a']?.cursor).toBe('2025-01-01'); // incremental: the cursor is handed over
    const replaced = pipeline([source('a', { primaryKey: ['other'] })], { logicalTime: ir.logicalTime });
    const events: ApplyEvent[] = [];
    await t.apply(replaced, { events });
    expect(t.fake.contexts[0].state.nodes['bronze.a']).toBeUndefined(); // replace: start over
    expect(events.find((e) => e.type === 'start')).toMatchObject({ node: 'bronze.a', step: 'replace' });
    expect(t.store.read().nodes['bronze.a'].history).toBeUndefined();
    await expect(t.apply(ir, { env: { LT: 'not a time' } })).rejects.toThrow('logical_time "not a time" is not an ISO-8601 time');
  });
});
