// bench/loadgen.ts, the open-loop generator of the serving benches (bench/serve.bench.ts,
// bench/query-load.bench.ts): it must keep its schedule without spinning. It used to poll with
// setImmediate and held its core at 100% for the whole run, which on the 2-core machine pushed
// every other runnable task onto the server's core. `wakes` counts the times it woke to send: at
// most once per request when it sleeps between sends, tens of thousands when it spins.

import { execFile } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const loadgen = fileURLToPath(new URL('../../bench/loadgen.ts', import.meta.url));
let server: Server;
let port = 0;

beforeAll(async () => {
  server = createServer((req, res) => {
    req.resume();
    req.on('end', () => res.end('{}'));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

describe('bench/loadgen.ts', () => {
  it('sends every request of the schedule and wakes at most once per request (it sleeps between sends)', async () => {
    const args = JSON.stringify({ url: `http://127.0.0.1:${port}/x`, body: '{}', rate: 50, seconds: 2, warmupSeconds: 1 });
    const out = await new Promise<string>((resolve, reject) =>
      execFile(process.execPath, ['--import', 'tsx', loadgen, args], { timeout: 60_000 }, (e, stdout, stderr) =>
        e ? reject(new Error(`${e.message}\n${stderr}`)) : resolve(stdout),
      ),
    );
    const r = JSON.parse(out) as { count: number; errors: number; non2xx: number; wakes: number };
    expect(r).toMatchObject({ count: 100, errors: 0, non2xx: 0 });
    expect(r.wakes).toBeGreaterThan(0);
    expect(r.wakes).toBeLessThanOrEqual(r.count);
  }, 90_000);
});
