// An open-loop HTTP load generator for bench/serve.bench.ts and bench/query-load.bench.ts, run as its own process (pinned to a core
// of its own with taskset by the bench). Requests leave on a fixed schedule — request k at
// t0 + k / rate — whether or not earlier ones have answered, and each latency is measured from the
// request's scheduled time to the end of its response, so a stalled server is charged for the
// requests that queued behind the stall (no coordinated omission). Latencies go into an HDR
// histogram in microseconds (hdr-histogram-js).
// The generator must not spin: on the 2-core machine a client busy-polling its own core at 100%
// (it did, with setImmediate) pushes every other runnable task (the bench runner, the services)
// onto the server's core and gets preempted itself, and both show up as server latency. Between
// sends it sleeps (Clock below); `wakes` reports how often it woke to send, `send_lag_p99_us` how late
// its sends left against the schedule (that lateness is inside every latency it reports).
//
//   node --import tsx bench/loadgen.ts '{"url":"http://127.0.0.1:PORT/path","body":"{…}","rate":2000,"seconds":8,"warmupSeconds":2}'
// (without "body": GET)
// Prints {"count", "errors", "non2xx", "p50_us", "p90_us", "p99_us", "p999_us", "max_us", "achieved_rps",
// "wakes", "send_lag_p99_us", "client_cpu_us_per_request", "client_gc_count", "client_gc_max_us"} on stdout.
// Its own garbage collections stop its sends too: bench/open-loop.ts starts it with a young generation
// large enough (~16 KB allocated per request) for a handful of scavenges in a run instead of one
// every couple of hundred requests; client_gc_* say how many there were and the longest.

import { Agent, request } from 'node:http';
import { GCProfiler } from 'node:v8';
import { Worker } from 'node:worker_threads';
import * as hdr from 'hdr-histogram-js';

interface Options {
  readonly url: string;
  /** POSTed as JSON; without one, GET. */
  readonly body?: string;
  readonly rate: number;
  readonly seconds: number;
  readonly warmupSeconds?: number;
  /** Sockets kept open; a request waits for a free one (its wait counts in its latency). */
  readonly sockets?: number;
}

const opts = JSON.parse(process.argv[2]) as Options;
const url = new URL(opts.url);
const agent = new Agent({ keepAlive: true, maxSockets: opts.sockets ?? 64 });
const payload = opts.body === undefined ? undefined : Buffer.from(opts.body);
const headers = payload ? { 'content-type': 'application/json', 'content-length': payload.length } : {};
const nowNs = (): bigint => process.hrtime.bigint();

function fire(scheduled: bigint, done: (ok: boolean, status: number, latencyNs: bigint) => void): void {
  const req = request({ host: url.hostname, port: url.port, path: url.pathname, method: payload ? 'POST' : 'GET', agent, headers }, (res) => {
    res.on('data', () => {});
    res.on('end', () => done(true, res.statusCode ?? 0, nowNs() - scheduled));
  });
  req.on('error', () => done(false, 0, nowNs() - scheduled));
  if (payload) req.end(payload);
  else req.end();
}

/**
 * A clock that wakes the event loop at each send time without spinning: a worker thread sleeps on
 * Atomics.wait (a futex with a high-resolution timeout) until the next send is due and posts a
 * message, which wakes the main loop out of epoll. Started (and warm) before a phase's schedule
 * starts; `start(t0, intervalNs, total, tick)` runs `tick` at each send time.
 */
class Clock {
  private readonly worker: Worker;
  private tick: () => void = () => {};
  readonly ready: Promise<void>;
  constructor() {
    const src = `const { parentPort } = require('node:worker_threads');
      const cell = new Int32Array(new SharedArrayBuffer(4));
      parentPort.on('message', ({ t0, intervalNs, total }) => {
        for (let k = 1; k < total; k++) {
          const wait = Number(t0 + BigInt(k) * intervalNs - process.hrtime.bigint()) / 1e6;
          if (wait > 0) Atomics.wait(cell, 0, 0, wait);
          parentPort.postMessage(k);
        }
      });
      parentPort.postMessage(0);`;
    this.worker = new Worker(src, { eval: true });
    this.ready = new Promise((resolve) => this.worker.once('message', () => resolve()));
    this.worker.on('message', () => this.tick());
  }
  start(t0: bigint, intervalNs: bigint, total: number, tick: () => void): void {
    this.tick = tick;
    this.worker.postMessage({ t0, intervalNs, total });
  }
  stop(): void {
    this.tick = () => {};
  }
  close(): Promise<number> {
    return this.worker.terminate();
  }
}
const clock = new Clock();
await clock.ready;

/** Runs the schedule for `seconds`; records into `h` when given. Resolves when every request answered. */
function phase(
  seconds: number,
  h?: hdr.Histogram,
  lag?: hdr.Histogram,
): Promise<{ count: number; errors: number; non2xx: number; wallS: number; wakes: number }> {
  return new Promise((resolve) => {
    const intervalNs = BigInt(Math.round(1e9 / opts.rate));
    const total = Math.round(seconds * opts.rate);
    const t0 = nowNs();
    let sent = 0;
    let answered = 0;
    let errors = 0;
    let non2xx = 0;
    let wakes = 0;
    const finish = () => {
      clock.stop();
      resolve({ count: answered, errors, non2xx, wallS: Number(nowNs() - t0) / 1e9, wakes });
    };
    const tick = () => {
      wakes++;
      const now = nowNs();
      const due = Math.min(total, Number((now - t0) / intervalNs) + 1);
      while (sent < due) {
        const scheduled = t0 + BigInt(sent) * intervalNs;
        lag?.recordValue(Math.max(1, Math.round(Number(now - scheduled) / 1000)));
        sent++;
        fire(scheduled, (ok, status, latencyNs) => {
          answered++;
          if (!ok) errors++;
          else if (status < 200 || status >= 300) non2xx++;
          h?.recordValue(Math.max(1, Math.round(Number(latencyNs) / 1000)));
          if (answered === total) finish();
        });
      }
    };
    clock.start(t0, intervalNs, total, tick);
    tick();
  });
}

const histogram = () => hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: 3 });
const h = histogram();
const lag = histogram();
if (opts.warmupSeconds) await phase(opts.warmupSeconds);
const cpu0 = process.cpuUsage();
const gcProfiler = new GCProfiler();
gcProfiler.start();
const r = await phase(opts.seconds, h, lag);
const gcs = gcProfiler.stop().statistics;
const cpu = process.cpuUsage(cpu0);
agent.destroy();
await clock.close();
process.stdout.write(
  JSON.stringify({
    count: r.count,
    errors: r.errors,
    non2xx: r.non2xx,
    p50_us: h.getValueAtPercentile(50),
    p90_us: h.getValueAtPercentile(90),
    p99_us: h.getValueAtPercentile(99),
    p999_us: h.getValueAtPercentile(99.9),
    max_us: h.maxValue,
    achieved_rps: Math.round(r.count / r.wallS),
    wakes: r.wakes,
    send_lag_p99_us: lag.getValueAtPercentile(99),
    client_cpu_us_per_request: Math.round((cpu.user + cpu.system) / Math.max(1, r.count)),
    client_gc_count: gcs.length,
    client_gc_max_us: Math.round(Math.max(0, ...gcs.map((g) => g.cost))),
  }) + '\n',
);
