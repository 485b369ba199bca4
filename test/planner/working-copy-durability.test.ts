// A state kept elsewhere is the truth (a remote state in S3, src/warehouse/remote-state.ts); the
// local files that mirror it — the working copy of the state and the record of what was synced —
// are written atomically but without fsync, which blocks the process on every node's commit (a
// lost copy is fetched again). So are caches and the runs log (history only): lost, they are
// rebuilt. A state that is only local is still fsynced.

import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';

const fsyncs = vi.hoisted(() => ({ n: 0 }));
vi.mock('node:fs', async (importOriginal) => {
  const fs = await importOriginal<typeof import('node:fs')>();
  return {
    ...fs,
    fsyncSync: (fd: number) => {
      fsyncs.n++;
      return fs.fsyncSync(fd);
    },
  };
});

const { StateStore } = await import('../../src/planner/state-store.js');
const { RemoteState } = await import('../../src/warehouse/remote-state.js');
const { Warehouse } = await import('../../src/warehouse/warehouse.js');
const { JsonCacheFile } = await import('../../src/util/json-cache.js');
const { RunsLog } = await import('../../src/planner/runs-log.js');

const entry = { kind: 'cleanse', fingerprint: 'f', metaFingerprint: 'm', definition: {}, appliedAt: '2025-01-01T00:00:00Z' };

describe('fsync of state files', () => {
  it('a local-only state is fsynced on every commit', () => {
    const store = new StateStore(mkdtempSync(join(tmpdir(), 'asgard-durable-')), 'p');
    fsyncs.n = 0;
    store.commitNode('silver.a', entry);
    expect(fsyncs.n).toBeGreaterThan(0);
  });

  it("a remote state's working copy is not: neither the commit, nor the pulled state, nor the sync record", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'asgard-copy-'));
    const pushed: unknown[] = [];
    const store = new StateStore(dir, 'p', (w) => pushed.push(w));
    fsyncs.n = 0;
    store.commitNode('silver.a', entry);
    expect(pushed).toHaveLength(1);
    expect(fsyncs.n).toBe(0);

    const body = Buffer.from(JSON.stringify(pushed[0]));
    const objects = { location: 'mem://bucket', get: async () => ({ body, etag: '"e1"' }), list: async () => [] };
    const remote = new RemoteState(objects as never, 'p', {
      stateFile: join(dir, 'pulled.json'),
      registryDir: join(dir, 'registry'),
      warehouse: new Warehouse(join(dir, 'wh')),
      syncFile: join(dir, 'sync.json'),
    });
    await remote.pull({ data: false });
    expect(fsyncs.n).toBe(0);
  });

  it('nor are caches and the runs log', () => {
    const dir = mkdtempSync(join(tmpdir(), 'asgard-caches-'));
    fsyncs.n = 0;
    const cache = new JsonCacheFile<string>(join(dir, 'cache.json'), 'salt');
    cache.set('k', 'v');
    expect(cache.save()).toBe(true);
    new RunsLog(dir, 'p').append({ startedAt: 'a', finishedAt: 'b', ok: true, concurrency: 1, nodes: [] });
    expect(fsyncs.n).toBe(0);
  });
});
