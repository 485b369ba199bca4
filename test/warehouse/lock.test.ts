// The remote-state lock (src/warehouse/lock.ts) on the real S3 server and on a local folder: one
// holder at a time, a refused taker learns who holds it, release only removes one's own lock, and
// a crashed holder's lock stays until force-unlock names its ID.

import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { LockHeld, LockMismatch, ObjectLock } from '../../src/warehouse/lock.js';
import { LocalObjectStore, type ObjectStore } from '../../src/warehouse/object-store.js';
import { freshStore, useAwsEnv } from '../helpers/s3.js';

const stores: Record<string, () => Promise<ObjectStore>> = {
  s3: async () => freshStore('lake'),
  local: async () => new LocalObjectStore(mkdtempSync(join(tmpdir(), 'asgard-lock-'))),
};

describe.each(Object.keys(stores))('ObjectLock on %s', (kind) => {
  let store: ObjectStore;
  beforeAll(async () => {
    if (kind === 's3') useAwsEnv();
    store = await stores[kind]();
  });

  it('lets one holder in and tells the next who holds it, with the plan and how to break it', async () => {
    const lock = new ObjectLock(store, '_asgard/locks/p1.lock', 'pipelines/p.asg');
    const held = await lock.acquire({ operation: 'apply', planId: 'plan-123' });
    const e = await lock.acquire({ operation: 'apply' }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(LockHeld);
    const msg = (e as Error).message;
    expect(msg).toContain(`lock ID ${held.info.id}`);
    expect(msg).toContain('plan plan-123');
    expect(msg).toContain(`(pid ${process.pid})`);
    expect(msg).toContain(`asgard force-unlock pipelines/p.asg ${held.info.id}`);
    expect((e as LockHeld).holder?.who).toBe(held.info.who);
    await held.release();
    const again = await lock.acquire({ operation: 'apply' });
    expect(again.info.id).not.toBe(held.info.id);
    await again.release();
    expect(await lock.read()).toBeUndefined();
  });

  it('exactly one of several simultaneous takers wins', async () => {
    const lock = new ObjectLock(store, '_asgard/locks/race.lock', 's.asg');
    const results = await Promise.allSettled(Array.from({ length: 6 }, () => lock.acquire({ operation: 'apply' })));
    const won = results.filter((r) => r.status === 'fulfilled');
    expect(won).toHaveLength(1);
    for (const r of results) if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(LockHeld);
    await (won[0] as PromiseFulfilledResult<Awaited<ReturnType<ObjectLock['acquire']>>>).value.release();
  });

  it('a crashed holder keeps the lock until force-unlock names its ID', async () => {
    const lock = new ObjectLock(store, '_asgard/locks/crash.lock', 's.asg');
    const crashed = await lock.acquire({ operation: 'apply' }); // never released: the process "died"
    await expect(lock.acquire({ operation: 'apply' })).rejects.toBeInstanceOf(LockHeld);
    const wrong = await lock.forceUnlock('not-the-id').catch((x: unknown) => x);
    expect(wrong).toBeInstanceOf(LockMismatch);
    expect((wrong as Error).message).toContain(`has ID ${crashed.info.id}, not not-the-id`);
    expect((await lock.read())?.id).toBe(crashed.info.id);
    const removed = await lock.forceUnlock(crashed.info.id);
    expect(removed.id).toBe(crashed.info.id);
    const next = await lock.acquire({ operation: 'apply' });
    // The old holder waking up must not remove the new holder's lock.
    await expect(crashed.release()).rejects.toBeInstanceOf(LockHeld);
    expect((await lock.read())?.id).toBe(next.info.id);
    await next.release();
    await expect(lock.forceUnlock(next.info.id)).rejects.toThrow(/there is no lock/);
  });
});
