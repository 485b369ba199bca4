// Database faults: unreachable host, a server that never answers, wrong password, missing database.
// Each fails the node within a bounded time with a message naming what and where (host:port,
// database, user), never the password; the previous snapshot and cursor stay; and no file asgard
// wrote contains the password.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type Server, type Socket } from 'node:net';
import { existsSync } from 'node:fs';
import type { SourceNode } from '../../src/ir/types.js';
import { dataFilesOnDisk } from '../helpers/warehouse.js';
import { SourceHarness, filesContaining, lit, secret, services, sourceNode, testDatabases, withDatabase, type TestDatabases } from '../helpers/services.js';

let dbs: TestDatabases;
let silent: Server;
let silentPort: number;
let closedPort: number;
const sockets = new Set<Socket>();

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

function url(kind: 'postgres' | 'mysql', port: number | undefined, database: string, password?: string): string {
  const base = new URL(kind === 'postgres' ? services().CUSTOMER_DB_URL : services().TRANSACTIONS_DB_URL);
  if (port !== undefined) base.port = String(port);
  base.pathname = `/${database}`;
  if (password !== undefined) base.password = password;
  return base.toString();
}

function node(kind: 'postgres' | 'mysql', u: string, withSecret = true, stream: Partial<SourceNode['stream']> = {}): SourceNode {
  return sourceNode(
    kind === 'postgres' ? 'customers' : 'transactions',
    { type: kind, settings: { url: lit(u), ...(withSecret ? { password: secret('DB_PW') } : {}) } },
    {
      primaryKey: [kind === 'postgres' ? 'customer_id' : 'transaction_id'],
      cursor: kind === 'postgres' ? 'updated_at' : 'created_at',
      mode: 'incremental',
      ...stream,
    },
  );
}

const pw = (kind: 'postgres' | 'mysql') => (kind === 'postgres' ? services().CUSTOMER_DB_PASSWORD : services().TRANSACTIONS_DB_PASSWORD);
const db = (kind: 'postgres' | 'mysql') => (kind === 'postgres' ? dbs.pg.database : dbs.mysql.database);

beforeAll(async () => {
  process.env.ASGARD_CONNECT_TIMEOUT_MS = '1500';
  dbs = await testDatabases(800);
  closedPort = await freePort();
  silent = createServer((s) => {
    sockets.add(s); // accept and say nothing
  });
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
  silentPort = (silent.address() as { port: number }).port;
}, 180_000);

afterAll(async () => {
  for (const s of sockets) s.destroy();
  await new Promise<void>((r) => silent?.close(() => r()));
  await dbs?.drop();
});

describe.each(['postgres', 'mysql'] as const)('%s faults', (kind) => {
  it('unreachable host: refused, named with host and port, fast', async () => {
    const h = new SourceHarness();
    const t0 = Date.now();
    await expect(h.run(node(kind, url(kind, closedPort, db(kind))), { DB_PW: pw(kind) })).rejects.toThrow(
      new RegExp(`cannot connect to ${kind} 127\\.0\\.0\\.1:${closedPort}/${db(kind)}: connection refused at 127\\.0\\.0\\.1:${closedPort}`),
    );
    expect(Date.now() - t0).toBeLessThan(5000);
  });

  it('a server that never answers: a timeout naming host and port, within the bound', async () => {
    const h = new SourceHarness();
    const t0 = Date.now();
    await expect(h.run(node(kind, url(kind, silentPort, db(kind))), { DB_PW: pw(kind) })).rejects.toThrow(
      new RegExp(`cannot connect to ${kind} 127\\.0\\.0\\.1:${silentPort}/${db(kind)}: no answer from 127\\.0\\.0\\.1:${silentPort} within 1\\.5 s`),
    );
    expect(Date.now() - t0).toBeLessThan(8000);
  });

  it('wrong password and missing database: clear messages; the previous snapshot and cursor stay; no file holds the password', async () => {
    const h = new SourceHarness();
    const good = node(kind, url(kind, undefined, db(kind)));
    await h.run(good, { DB_PW: pw(kind) });
    const before = h.state();
    const snap = before.nodes[good.id]!.snapshot!;
    expect(before.nodes[good.id]!.cursor).toBeTruthy();

    const wrong = 'Wr0ng-pa55word-zz9';
    const err1 = await h.run(good, { DB_PW: wrong }).catch((e: Error) => e);
    expect(String((err1 as Error).message)).toMatch(new RegExp(`authentication failed for user asgard at ${kind} 127\\.0\\.0\\.1:\\d+/${db(kind)}`));
    // The password inside the URL (no secret) is used, and never shown.
    const err2 = await h.run(node(kind, url(kind, undefined, db(kind), wrong), false), {}).catch((e: Error) => e);
    expect(String((err2 as Error).message)).toMatch(/authentication failed/);
    const err3 = await h.run(good, { DB_PW: pw(kind) }, undefined).then(() => undefined);
    expect(err3).toBeUndefined();
    const missingDb = await h.run(node(kind, url(kind, undefined, 'no_such_db_zz')), { DB_PW: pw(kind) }).catch((e: Error) => e);
    expect(String((missingDb as Error).message)).toMatch(/database no_such_db_zz does not exist on 127\.0\.0\.1:\d+/);
    for (const e of [err1, err2, missingDb]) {
      expect(String((e as Error).message)).not.toContain(wrong);
      expect(String((e as Error).message)).not.toContain(pw(kind));
    }
    // The failed runs changed nothing; the good rerun found nothing new (same snapshot, same cursor).
    const after = h.state();
    expect(after.nodes[good.id]!.snapshot).toEqual(snap);
    expect(after.nodes[good.id]!.cursor).toBe(before.nodes[good.id]!.cursor);
    expect((await h.warehouse.files(snap)).every((f) => existsSync(f))).toBe(true);
    expect(filesContaining(h.dir, pw(kind))).toEqual([]);
    expect(filesContaining(h.dir, wrong)).toEqual([]);
  });
});

describe('a URL that carries the password works without the secret', () => {
  it('postgres://user:password@…', async () => {
    const h = new SourceHarness();
    const { result } = await h.run(node('postgres', url('postgres', undefined, dbs.pg.database, services().CUSTOMER_DB_PASSWORD), false), {});
    expect(result.snapshot!.rows).toBe(dbs.data.customers.length);
    expect(filesContaining(h.dir, services().CUSTOMER_DB_PASSWORD)).toEqual([]);
    expect(withDatabase(services().CUSTOMER_DB_URL, 'x')).not.toContain(services().CUSTOMER_DB_PASSWORD);
  });
});

describe('an interrupted sync', () => {
  it.each(['postgres', 'mysql'] as const)('%s: aborting mid-read leaves the previous snapshot and cursor, and no partial folder', async (kind) => {
    const h = new SourceHarness();
    const good = node(kind, url(kind, undefined, db(kind)), true, { mode: 'full_refresh' });
    await h.run(good, { DB_PW: pw(kind) });
    const before = h.state();
    const ac = new AbortController();
    await expect(
      h.run(good, { DB_PW: pw(kind) }, ac.signal, (p) => {
        if (p.message?.startsWith('reading')) ac.abort();
      }),
    ).rejects.toThrow(new RegExp(`${good.id}: .*(aborted|interrupted)`));
    expect(h.state()).toEqual(before);
    expect(await dataFilesOnDisk(h.warehouse, good.id)).toEqual(await h.warehouse.files(before.nodes[good.id]!.snapshot!));
  });
});
