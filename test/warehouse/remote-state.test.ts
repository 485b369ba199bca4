// A warehouse on the real S3 server (versitygw, scripts/s3-server.sh) through the CLI: apply writes
// the snapshots, the state and the registry beside the warehouse; a fresh checkout (another state
// folder) sees the same state and applies nothing; two applies at once: exactly one proceeds, the
// other exits 1 naming the holder; a crashed holder's lock stays until force-unlock; S3 faults exit 1
// with the location named and leave the remote state as it was, and the next apply resumes.

import { existsSync, mkdtempSync, readFileSync, writeFileSync, appendFileSync } from 'node:fs';
import { type AddressInfo, connect, createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ObjectLock } from '../../src/warehouse/lock.js';
import { RemoteState, RemoteStateConflict } from '../../src/warehouse/remote-state.js';
import { Warehouse } from '../../src/warehouse/warehouse.js';
import { S3ObjectStore } from '../../src/warehouse/s3-store.js';
import type { PipelineState } from '../../src/planner/state-store.js';
import type { ObjectStore } from '../../src/warehouse/object-store.js';
import { awsEnv, freshBucket, s3Server, useAwsEnv } from '../helpers/s3.js';
import { cli } from '../cli/helpers.js';
import { asgardProcess, ordersPipeline, type Proc } from '../helpers/orders-lake.js';

function spec(bucket: string, csv: string, endpoint: string): string {
  const profiles = `  profile shared {
    target      = "local"
    warehouse   = "s3://${bucket}/lake"
    s3_endpoint = env("LAKE_S3_ENDPOINT", "${endpoint}")
  }`;
  return ordersPipeline({ name: 'orders_lake', csv, profiles });
}

function asgard(args: string[], cwd: string, env: Record<string, string> = {}): Promise<Proc> {
  return asgardProcess(args, { cwd, env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...awsEnv(), ...env } });
}

/** The store, recording each request as `method key` (a conditional read also says what it found). */
function counted(store: ObjectStore, calls: string[]): ObjectStore {
  return new Proxy(store, {
    get(target, prop, receiver) {
      const v = Reflect.get(target, prop, receiver) as unknown;
      if (typeof v !== 'function') return v;
      return async (...args: unknown[]) => {
        const r = await (v as (...a: unknown[]) => Promise<unknown>).apply(target, args);
        calls.push(`${String(prop)} ${String(args[0])}${prop === 'getIfChanged' ? (r === 'unchanged' ? ' → unchanged' : ' → changed') : ''}`);
        return r;
      };
    },
  });
}

/**
 * A TCP proxy to the S3 server that goes away for good at the first request whose first line
 * matches `at`: that connection and every other is cut, and new ones are refused (the port closes).
 */
async function cutOnce(target: URL, at: RegExp): Promise<{ readonly endpoint: string; readonly cut: () => string | undefined }> {
  const sockets = new Set<Socket>();
  let cutAt: string | undefined;
  const server = createServer((client) => {
    const upstream = connect(Number(target.port), target.hostname);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => undefined);
      s.on('close', () => sockets.delete(s));
    }
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
    upstream.on('data', (d) => client.write(d));
    client.on('data', (d: Buffer) => {
      const line = d.toString('latin1', 0, 300).split('\r\n')[0];
      if (cutAt === undefined && at.test(line)) {
        cutAt = line;
        server.close();
        for (const s of sockets) s.destroy();
        return;
      }
      if (cutAt === undefined) upstream.write(d);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, cut: () => cutAt };
}

describe('remote state beside an S3 warehouse', () => {
  let bucket: string;
  let dir: string;
  let csv: string;
  let store: S3ObjectStore;
  const inProc = (argv: string[], env: Record<string, string> = {}, stateDir = join(dir, '.asgard')) =>
    cli([...argv, '--profile', 'shared', '--state', stateDir], { cwd: dir, env: { ...awsEnv(), ...env } });
  const remoteState = async (): Promise<PipelineState | undefined> => {
    const got = await store.get('_asgard/state/orders_lake.json');
    return got ? (JSON.parse(got.body.toString()) as PipelineState) : undefined;
  };

  beforeAll(async () => {
    const s = useAwsEnv();
    bucket = await freshBucket('lake');
    dir = mkdtempSync(join(tmpdir(), 'asgard-remote-'));
    csv = join(dir, 'orders.csv');
    writeFileSync(csv, 'order_id,country,amount,placed_at\n1,nl,10,2025-01-01 10:00:00\n2,de,5,2025-01-01 11:00:00\n3,nl,-1,2025-01-01 12:00:00\n');
    writeFileSync(join(dir, 'lake.asg'), spec(bucket, csv, s.endpoint));
    store = new S3ObjectStore({ bucket, prefix: 'lake' }, { endpoint: s.endpoint, pathStyle: true });
  });

  it('apply writes snapshots and state to S3; another checkout sees them and applies nothing', async () => {
    const r = await inProc(['apply', 'lake.asg', '--yes', '--format', 'json']);
    expect(r.stderr).not.toMatch(/error/);
    expect(r.code).toBe(0);
    const state = (await remoteState())!;
    expect(Object.keys(state.nodes).sort()).toEqual(['bronze.orders', 'gold.revenue_by_country', 'silver.orders_clean']);
    for (const n of Object.values(state.nodes)) {
      const files = await store.list(`${n.snapshot!.path}/`);
      expect(files.length, n.snapshot!.path).toBeGreaterThan(0);
      expect(files.every((f) => f.size > 0)).toBe(true);
    }
    // The lock is gone after the apply.
    expect(await store.get('_asgard/locks/orders_lake.lock')).toBeUndefined();

    // A second checkout (an empty state folder) plans against the remote state: nothing to do.
    const other = join(dir, 'other-checkout');
    const plan = await inProc(['plan', 'lake.asg', '--detailed-exitcode'], {}, other);
    expect(plan.code).toBe(0);
    const again = await inProc(['apply', 'lake.asg', '--yes', '--format', 'json'], {}, other);
    expect(again.code).toBe(0);
    const nodes = JSON.parse(again.stdout).nodes as { node: string; status: string }[];
    expect(nodes.filter((n) => n.node !== 'bronze.orders').every((n) => n.status === 'unchanged')).toBe(true);
    expect((await remoteState())!.serial).toBeGreaterThanOrEqual(state.serial);
    // The second checkout can query the data the first one wrote.
    const q = await inProc(['query', 'lake.asg', 'SELECT country, revenue FROM gold.revenue_by_country ORDER BY country', '--format', 'json'], {}, other);
    expect(q.code, q.stderr).toBe(0);
    expect(JSON.parse(q.stdout).rows).toEqual([
      { country: 'DE', revenue: 5 },
      { country: 'NL', revenue: 10 },
    ]);
  }, 300_000);

  it('a no-op apply writes no state object: the remote state (ETag, serial) and the local serial stay as they were', async () => {
    const key = '_asgard/state/orders_lake.json';
    const before = (await store.get(key))!;
    const r = await inProc(['apply', 'lake.asg', '--yes', '--format', 'json']);
    expect(r.code, r.stderr).toBe(0);
    // The source was synced (its files checked) and found unchanged; nothing downstream ran.
    const nodes = JSON.parse(r.stdout).nodes as { node: string; status: string }[];
    expect(nodes.find((n) => n.node === 'bronze.orders')!.status).toBe('succeeded');
    expect(nodes.filter((n) => n.node !== 'bronze.orders').every((n) => n.status === 'unchanged')).toBe(true);
    const after = (await store.get(key))!;
    expect(after.etag).toBe(before.etag);
    expect(JSON.parse(after.body.toString()).serial).toBe(JSON.parse(before.body.toString()).serial);
    expect(JSON.parse(readFileSync(join(dir, '.asgard', 'state', 'orders_lake.json'), 'utf8')).serial).toBe(JSON.parse(before.body.toString()).serial);
  });

  it('a working copy in sync costs a conditional state read and one registry listing: nothing fetched, no HEAD, no upload', async () => {
    const work = mkdtempSync(join(tmpdir(), 'asgard-sync-'));
    const local = {
      stateFile: join(work, 'state', 'orders_lake.json'),
      registryDir: join(work, 'registry'),
      warehouse: new Warehouse(join(work, 'wh')),
      syncFile: join(work, 'state', 'orders_lake.remote.json'),
    };
    await store.put('_asgard/registry/m/index.json', '{"versions": []}\n');
    await store.put('_asgard/registry/m/1/model.onnx', 'not really onnx');
    const state = (await new RemoteState(store, 'orders_lake', local).pull())!;
    expect(readFileSync(join(work, 'registry', 'm', '1', 'model.onnx'), 'utf8')).toBe('not really onnx');

    // The next process (a no-op apply: pull, plan, push the registry) on the same working copy.
    const calls: string[] = [];
    const again = new RemoteState(counted(store, calls), 'orders_lake', local);
    expect(await again.pull()).toEqual(state);
    for (const n of Object.values(state.nodes)) expect(await again.hasSnapshot(n.snapshot!)).toBe(true);
    await again.pushRegistry();
    expect(calls.sort()).toEqual(['getIfChanged _asgard/state/orders_lake.json → unchanged', 'list _asgard/registry/']);

    // A file this run wrote is the one upload; a state another writer moved is fetched again.
    calls.length = 0;
    writeFileSync(join(work, 'registry', 'm', 'index.json'), '{"versions": [1]}\n');
    await again.pushRegistry();
    expect(calls).toEqual(['upload _asgard/registry/m/index.json']);
    expect((await store.get('_asgard/registry/m/index.json'))!.body.toString()).toBe('{"versions": [1]}\n');
    const moved = { ...state, serial: state.serial + 100 };
    const key = '_asgard/state/orders_lake.json';
    await store.put(key, JSON.stringify(moved, null, 2) + '\n');
    try {
      calls.length = 0;
      expect((await new RemoteState(counted(store, calls), 'orders_lake', local).pull())!.serial).toBe(moved.serial);
      expect(calls).toContain('getIfChanged _asgard/state/orders_lake.json → changed');
      expect(JSON.parse(readFileSync(local.stateFile, 'utf8')).serial).toBe(moved.serial);
    } finally {
      await store.put(key, JSON.stringify(state, null, 2) + '\n');
      await store.delete('_asgard/registry/m/index.json');
      await store.delete('_asgard/registry/m/1/model.onnx');
    }
  });

  it('two applies started together: exactly one proceeds, the other exits 1 naming the holder', async () => {
    appendFileSync(csv, '4,fr,7,2025-01-02 10:00:00\n');
    const a = join(dir, 'checkout-a');
    const b = join(dir, 'checkout-b');
    const [ra, rb] = await Promise.all([
      asgard(['apply', 'lake.asg', '--yes', '--profile', 'shared', '--state', a], dir),
      asgard(['apply', 'lake.asg', '--yes', '--profile', 'shared', '--state', b], dir),
    ]);
    const codes = [ra.code, rb.code].sort();
    expect(codes).toEqual([0, 1]);
    const loser = ra.code === 1 ? ra : rb;
    expect(loser.stderr).toMatch(/the state is locked: apply by \S+@\S+ \(pid \d+\) since \S+/);
    expect(loser.stderr).toMatch(/asgard force-unlock lake\.asg [0-9a-f-]{36}/);
    expect(loser.stderr).not.toMatch(/\n\s+at /); // no stack trace
    expect(await store.get('_asgard/locks/orders_lake.lock')).toBeUndefined();
  });

  it("a crashed holder's lock is never taken silently; force-unlock with its ID frees it", async () => {
    const lock = new ObjectLock(store, '_asgard/locks/orders_lake.lock', 'lake.asg');
    const crashed = await lock.acquire({ operation: 'apply', planId: 'p-crashed' });
    const before = (await remoteState())!.serial;
    const r = await inProc(['apply', 'lake.asg', '--yes']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`lock ID ${crashed.info.id}`);
    expect(r.stderr).toContain('plan p-crashed');
    expect((await remoteState())!.serial).toBe(before);

    const wrong = await inProc(['force-unlock', 'lake.asg', 'nope']);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain(`has ID ${crashed.info.id}, not nope`);
    const ok = await inProc(['force-unlock', 'lake.asg', crashed.info.id, '--format', 'json']);
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.stdout).unlocked.id).toBe(crashed.info.id);
    const after = await inProc(['apply', 'lake.asg', '--yes']);
    expect(after.code, after.stderr).toBe(0);
  });

  it('force-unlock on a local warehouse says there is no remote lock (exit 2)', async () => {
    const r = await cli(['force-unlock', 'lake.asg', 'x'], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/is local: there is no remote lock/);
  });

  it('S3 unreachable, bucket missing, wrong credentials: exit 1 naming the location; the remote state stays; the next apply resumes', async () => {
    appendFileSync(csv, '5,de,9,2025-01-03 10:00:00\n');
    const before = (await remoteState())!;
    const down = await inProc(['apply', 'lake.asg', '--yes'], { LAKE_S3_ENDPOINT: 'http://127.0.0.1:9' });
    expect(down.code).toBe(1);
    expect(down.stderr).toMatch(/s3:\/\/[a-z0-9-]+\/lake\/_asgard\/locks\/orders_lake\.lock: the S3 endpoint http:\/\/127\.0\.0\.1:9 cannot be reached/);

    const creds = await inProc(['apply', 'lake.asg', '--yes'], { AWS_SECRET_ACCESS_KEY: 'wrong-secret-xyz' });
    expect(creds.code).toBe(1);
    expect(creds.stderr).toMatch(/refused the credentials/);
    expect(creds.stderr).not.toContain('wrong-secret-xyz');

    const other = spec(`missing-${bucket}`, csv, s3Server().endpoint);
    writeFileSync(join(dir, 'missing.asg'), other);
    const missing = await inProc(['apply', 'missing.asg', '--yes']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/the bucket "missing-[a-z0-9-]+" does not exist/);

    expect((await remoteState())!.serial).toBe(before.serial);
    const resumed = await inProc(['apply', 'lake.asg', '--yes', '--format', 'json']);
    expect(resumed.code, resumed.stderr).toBe(0);
    const after = (await remoteState())!;
    expect(after.serial).toBeGreaterThan(before.serial);
    expect(after.nodes['bronze.orders'].snapshot!.id).not.toBe(before.nodes['bronze.orders'].snapshot!.id);
    // Only the objects of the snapshots the state keeps (current and history) remain in the bucket.
    const keptSnapshots = [after.nodes['bronze.orders'].snapshot!, ...(after.nodes['bronze.orders'].history ?? [])];
    const workingCopy = new Warehouse(join(dir, '.asgard', 's3', bucket, 'lake'));
    const kept = [...new Set((await Promise.all(keptSnapshots.map((s) => workingCopy.snapshotKeys(s)))).flat())].sort();
    const inBucket = (await store.list('bronze/orders/')).map((o) => o.key).sort();
    expect(inBucket).toEqual(kept);
    expect(keptSnapshots.length).toBeGreaterThan(1);
    expect(inBucket.filter((k) => /\/metadata\/snap-/.test(k))).toHaveLength(keptSnapshots.length);
  });

  it('an apply whose state write loses the race (its lock broken, another writer committed) exits 1; the winner stays; the next apply resumes', async () => {
    appendFileSync(csv, '6,nl,3,2025-01-04 10:00:00\n');
    const key = '_asgard/state/orders_lake.json';
    const lock = new ObjectLock(store, '_asgard/locks/orders_lake.lock', 'lake.asg');
    const running = inProc(['apply', 'lake.asg', '--yes', '--format', 'json']);
    // Once it has pulled and planned (the plan id is in its lock): break the lock, commit another state.
    let held = await lock.read();
    for (let i = 0; i < 1200 && !held?.planId; i++) {
      await new Promise((r) => setTimeout(r, 50));
      held = await lock.read();
    }
    expect(held?.planId).toBeTruthy();
    await lock.forceUnlock(held!.id);
    const winner = { ...(await remoteState())!, serial: (await remoteState())!.serial + 1000 };
    await store.put(key, JSON.stringify(winner, null, 2) + '\n');
    const lost = await running;
    expect(lost.code).toBe(1);
    expect(lost.stderr).toMatch(/the remote state s3:\/\/[a-z0-9-]+\/lake\/_asgard\/state\/orders_lake\.json changed underneath this run/);
    expect(lost.stderr).not.toMatch(/\n\s+at /);
    expect((await remoteState())!.serial).toBe(winner.serial);
    expect((await remoteState())!.nodes['bronze.orders'].snapshot!.id).toBe(winner.nodes['bronze.orders'].snapshot!.id);

    const next = await inProc(['apply', 'lake.asg', '--yes', '--format', 'json']);
    expect(next.code, next.stderr).toBe(0);
    const after = (await remoteState())!;
    expect(after.serial).toBeGreaterThan(winner.serial);
    expect(after.nodes['bronze.orders'].snapshot!.rows).toBe(winner.nodes['bronze.orders'].snapshot!.rows + 1);
  }, 300_000);

  it('a state changed underneath a run is not overwritten (compare-and-swap): the push fails, the newer state stays', async () => {
    const work = mkdtempSync(join(tmpdir(), 'asgard-cas-'));
    const remote = new RemoteState(store, 'orders_lake', {
      stateFile: join(work, 'state.json'),
      registryDir: join(work, 'registry'),
      warehouse: new Warehouse(join(work, 'wh')),
      syncFile: join(work, 'sync.json'),
    });
    const pulled = (await remote.pull({ data: false }))!;
    // Another writer commits in between (a broken lock, a second tool).
    const key = '_asgard/state/orders_lake.json';
    await store.put(key, JSON.stringify({ ...pulled, serial: 9999 }));
    remote.schedulePush({ ...pulled, serial: pulled.serial + 1, nodes: {} });
    const e = await remote.flush().catch((x: unknown) => x);
    expect(e).toBeInstanceOf(RemoteStateConflict);
    expect((e as Error).message).toMatch(/changed underneath this run/);
    expect((await remoteState())!.serial).toBe(9999);
    await store.put(key, JSON.stringify(pulled));
  });
  it('S3 going away mid-apply (the first snapshot upload): exit 1 naming the location, the remote state stays, the lock stays until force-unlock; then the next apply resumes', async () => {
    appendFileSync(csv, '7,de,4,2025-01-05 10:00:00\n');
    const before = (await remoteState())!;
    const proxy = await cutOnce(new URL(s3Server().endpoint), /^PUT \S*\/lake\/(bronze|silver|gold)\//);
    const cut = await asgard(['apply', 'lake.asg', '--yes', '--profile', 'shared'], dir, { LAKE_S3_ENDPOINT: proxy.endpoint });
    expect(proxy.cut()).toMatch(/^PUT /);
    expect(cut.code).toBe(1);
    expect(cut.stderr).toMatch(new RegExp(`s3://${bucket}/lake/\\S+: the S3 endpoint ${proxy.endpoint.replace(/[.]/g, '\\.')} cannot be reached`));
    expect(cut.stderr).not.toMatch(/\n\s+at /);
    expect(await remoteState()).toEqual(before);

    // The lock could not be released while S3 was away: the next apply names it, as for a crash.
    const held = await asgard(['apply', 'lake.asg', '--yes', '--profile', 'shared'], dir);
    expect(held.code).toBe(1);
    const id = /lock ID ([0-9a-f-]{36})/.exec(held.stderr)?.[1];
    expect(id, held.stderr).toBeDefined();
    expect((await inProc(['force-unlock', 'lake.asg', id!])).code).toBe(0);
    const resumed = await asgard(['apply', 'lake.asg', '--yes', '--profile', 'shared'], dir);
    expect(resumed.code, resumed.stderr).toBe(0);
    const after = (await remoteState())!;
    expect(after.serial).toBeGreaterThan(before.serial);
    expect(after.nodes['bronze.orders'].snapshot!.rows).toBe(before.nodes['bronze.orders'].snapshot!.rows + 1);
    const q = await inProc(
      ['query', 'lake.asg', "SELECT revenue FROM gold.revenue_by_country WHERE country = 'DE'", '--format', 'json'],
      {},
      join(dir, 'fresh-checkout'),
    );
    expect(q.code, q.stderr).toBe(0);
    expect(JSON.parse(q.stdout).rows).toEqual([{ revenue: 18 }]);
  }, 300_000);
});

describe('a node removed from the spec', () => {
  it("has its table's objects deleted from the bucket and the working copy; nothing of a kept table is", async () => {
    const s = useAwsEnv();
    const bucket = await freshBucket('sweep');
    const dir = mkdtempSync(join(tmpdir(), 'asgard-sweep-'));
    const csv = join(dir, 'orders.csv');
    writeFileSync(csv, 'order_id,country,amount,placed_at\n1,nl,10,2025-01-01 10:00:00\n2,de,5,2025-01-01 11:00:00\n');
    const base = spec(bucket, csv, s.endpoint);
    const extra = `  model big_orders {\n    materialized = table\n    sql """ SELECT order_id, amount FROM silver.orders_clean WHERE amount > 6 """\n  }\n\n  profile shared {`;
    writeFileSync(join(dir, 'lake.asg'), base.replace('  profile shared {', extra));
    const store = new S3ObjectStore({ bucket, prefix: 'lake' }, { endpoint: s.endpoint, pathStyle: true });
    const run = () =>
      cli(['apply', 'lake.asg', '--yes', '--format', 'json', '--profile', 'shared', '--state', join(dir, '.asgard')], { cwd: dir, env: awsEnv() });
    const keys = async () => (await store.list('')).map((o) => o.key).filter((k) => !k.startsWith('_asgard/'));

    const first = await run();
    expect(first.code, first.stderr).toBe(0);
    const before = await keys();
    expect(before.filter((k) => k.startsWith('gold/big_orders/')).length).toBeGreaterThan(2);
    const workingCopy = join(dir, '.asgard', 's3', bucket, 'lake', 'gold', 'big_orders');
    expect(existsSync(workingCopy)).toBe(true);

    writeFileSync(join(dir, 'lake.asg'), base);
    const second = await run();
    expect(second.code, second.stderr).toBe(0);
    const after = await keys();
    expect(after.filter((k) => k.startsWith('gold/big_orders/'))).toEqual([]);
    expect(after).toEqual(before.filter((k) => !k.startsWith('gold/big_orders/')));
    expect(existsSync(workingCopy)).toBe(false);
    const state = JSON.parse((await store.get('_asgard/state/orders_lake.json'))!.body.toString()) as PipelineState;
    expect(Object.keys(state.nodes).sort()).toEqual(['bronze.orders', 'gold.revenue_by_country', 'silver.orders_clean']);
  }, 300_000);
});
