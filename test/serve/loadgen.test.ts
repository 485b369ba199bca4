// bench/loadgen.ts, the open-loop generator of the serving benches (bench/serve.bench.ts,
// bench/query-load.bench.ts): it must keep its schedule without spinning. It used to poll with
// setImmediate and held its core at 100% for the whole run, which on the 2-core machine pushed
// every other runnable task onto the server's core. `wakes` counts the times it woke to send: at
// most once per request when it sleeps between sends, tens of thousands when it spins. Its own work
// per request delays the sends due meanwhile and its collections stop them: node:http's client
// allocated ~14 KB per request (a scavenge every few hundred requests); its own keep-alive
// connections on node:net allocate ~2 KB.

import { execFile } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const loadgen = fileURLToPath(new URL('../../bench/loadgen.ts', import.meta.url));
let server: Server;
let port = 0;
let answered = 0;

beforeAll(async () => {
  server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      // Most answers have a Content-Length; every 7th is chunked, every 10th closes its connection.
      const n = ++answered;
      if (n % 10 === 0) res.setHeader('connection', 'close');
      if (n % 7 === 0) {
        res.write('{"chunked":');
        res.end('true}');
      } else res.end('{}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

function loadgenRun(opts: object): Promise<Record<string, number>> {
  return new Promise((resolve, reject) =>
    execFile(process.execPath, ['--import', 'tsx', loadgen, JSON.stringify(opts)], { timeout: 60_000 }, (e, stdout, stderr) =>
      e ? reject(new Error(`${e.message}\n${stderr}`)) : resolve(JSON.parse(stdout)),
    ),
  );
}

describe('bench/loadgen.ts', () => {
  it('sends every request of the schedule and wakes at most once per request (it sleeps between sends)', async () => {
    const r = await loadgenRun({ url: `http://127.0.0.1:${port}/x`, body: '{}', rate: 50, seconds: 2, warmupSeconds: 1 });
    expect(r).toMatchObject({ count: 100, errors: 0, non2xx: 0 });
    expect(r.wakes).toBeGreaterThan(0);
    expect(r.wakes).toBeLessThanOrEqual(r.count);
    // Counted from the actual sends, a latency leaves out the send's lateness: never above the scheduled one.
    expect(r.p99_from_send_us).toBeGreaterThan(0);
    expect(r.p99_from_send_us).toBeLessThanOrEqual(r.p99_us);
  }, 90_000);

  it('allocates little per request, whatever the framing of the answers (Content-Length, chunked, connection: close)', async () => {
    const r = await loadgenRun({ url: `http://127.0.0.1:${port}/x`, rate: 1000, seconds: 2, sockets: 8 });
    expect(r).toMatchObject({ count: 2000, errors: 0, non2xx: 0 });
    expect(r.client_alloc_bytes_per_request).toBeLessThan(4096);
  }, 90_000);
});
