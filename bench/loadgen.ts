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
// its sends left against the schedule (that lateness is inside every latency it reports), and
// `p99_from_send_us` the p99 counted from when each request actually left instead (the server and
// the wire without the generator's lateness: a diagnostic, never the figure). HDR's own correction
// for coordinated omission (recordValueWithExpectedInterval) back-fills the requests a closed-loop
// client failed to send; an open-loop schedule sends them all and charges each its wait instead.
//
//   node --import tsx bench/loadgen.ts '{"url":"http://127.0.0.1:PORT/path","body":"{…}","rate":2000,"seconds":8,"warmupSeconds":2}'
// (without "body": GET)
// Prints {"count", "errors", "non2xx", "p50_us", "p90_us", "p99_us", "p999_us", "max_us", "achieved_rps",
// "wakes", "send_lag_p99_us", "p99_from_send_us", "client_cpu_us_per_request", "client_alloc_bytes_per_request", "client_gc_count",
// "client_gc_max_us", "client_wait_ms", "client_preempted"} on stdout (the last two: its main thread's
// time runnable but waiting for a core, and involuntary switches, bench/sched.ts).
// Its own work per request and its garbage collections delay the sends due meanwhile: it writes
// pre-encoded requests on its own keep-alive connections and reads no more of each answer than
// where it ends (~2 KB allocated per request; node:http's client took ~14 KB and twice the CPU),
// and bench/open-loop.ts starts it with a young generation large enough for no scavenge in a run;
// client_gc_* say how many there were and the longest.

import { connect, type Socket } from 'node:net';
import { Worker } from 'node:worker_threads';
import * as hdr from 'hdr-histogram-js';
import { GcWindow } from './gc-window.js';
import { threadDelta, threadTimes } from './sched.js';

interface Options {
  readonly url: string;
  /** POSTed as JSON; without one, GET. */
  readonly body?: string;
  readonly rate: number;
  readonly seconds: number;
  readonly warmupSeconds?: number;
  /** Keep-alive connections, opened before the schedule starts; a request waits for a free one (its wait counts in its latency). */
  readonly sockets?: number;
}

const opts = JSON.parse(process.argv[2]) as Options;
const url = new URL(opts.url);
const nowNs = (): bigint => process.hrtime.bigint();

/** The whole request, encoded once: every send writes the same bytes. */
const wire = (() => {
  const head = `${opts.body === undefined ? 'GET' : 'POST'} ${url.pathname}${url.search} HTTP/1.1\r\nHost: ${url.host}\r\n`;
  if (opts.body === undefined) return Buffer.from(`${head}\r\n`);
  const body = Buffer.from(opts.body);
  return Buffer.concat([Buffer.from(`${head}Content-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`), body]);
})();

type Done = (ok: boolean, status: number, latencyNs: bigint) => void;

/**
 * One keep-alive connection on node:net, reading just enough of each response to know where it ends
 * (the status line, then Content-Length or chunked encoding). node:http's client allocated ~16 KB
 * and took tens of µs of the generator's one thread per request; every µs of it delays the sends due
 * meanwhile, and that lateness is inside every latency measured.
 */
class Connection {
  private socket: Socket | undefined;
  private buf: Buffer | undefined;
  private current: { scheduled: bigint; done: Done } | undefined;
  private opening: Promise<void> | undefined;

  /** Connected; again after the server closed the connection (`connection: close`, or an idle one). */
  open(): Promise<void> {
    this.opening ??= new Promise<void>((resolve, reject) => {
      const s = connect({ host: url.hostname, port: Number(url.port || 80), noDelay: true });
      const mine = (f: () => void) => () => s === this.socket && f();
      s.once('connect', mine(resolve));
      s.on('data', (d: Buffer) => s === this.socket && this.data(d));
      s.on('error', (e) => s === this.socket && reject(e));
      s.on(
        'close',
        mine(() => this.fail()),
      );
      this.socket = s;
    }).finally(() => (this.opening = undefined));
    return this.opening;
  }

  send(scheduled: bigint, done: Done): void {
    this.current = { scheduled, done };
    if (this.socket) this.socket.write(wire);
    else
      this.open().then(
        () => this.socket?.write(wire),
        () => this.fail(),
      );
  }

  close(): void {
    const s = this.socket;
    this.socket = undefined;
    s?.destroy();
  }

  /** The connection closed: the request on it (if any) failed; the next one opens a new connection. */
  private fail(): void {
    this.socket = undefined;
    this.buf = undefined;
    const c = this.current;
    this.current = undefined;
    if (!c) return;
    c.done(false, 0, nowNs() - c.scheduled);
    release(this);
  }

  private data(d: Buffer): void {
    const b = this.buf ? Buffer.concat([this.buf, d]) : d;
    const end = b.indexOf('\r\n\r\n');
    if (end < 0 || !this.current) return void (this.buf = b);
    const head = b.latin1Slice(0, end);
    const status = Number(head.slice(9, 12));
    const length = /\r\ncontent-length: *(\d+)/i.exec(head);
    let complete: boolean;
    if (length) complete = b.length >= end + 4 + Number(length[1]);
    else if (/\r\ntransfer-encoding: *chunked/i.test(head)) complete = chunkedEnd(b, end + 4);
    else throw new Error(`a response without Content-Length or chunked encoding: ${head}`);
    if (!complete) return void (this.buf = b);
    this.buf = undefined;
    if (/\r\nconnection: *close/i.test(head)) this.close();
    const c = this.current;
    this.current = undefined;
    c.done(true, status, nowNs() - c.scheduled);
    release(this);
  }
}

/** Whether a chunked body starting at `at` is complete (its last, empty chunk and the blank line after it are there). */
function chunkedEnd(b: Buffer, at: number): boolean {
  for (;;) {
    const eol = b.indexOf('\r\n', at);
    if (eol < 0) return false;
    const size = Number.parseInt(b.latin1Slice(at, eol), 16);
    if (size === 0) return b.length >= eol + 4; // no trailers
    at = eol + 2 + size + 2;
    if (at > b.length) return false;
  }
}

const connections = Array.from({ length: opts.sockets ?? 64 }, () => new Connection());
await Promise.all(connections.map((c) => c.open()));
/** Free connections, used in turn (first in, first out) so that none sits idle long enough for the server to close it. */
const free: Connection[] = [...connections];
/** Requests due while every connection was busy, in schedule order. */
const waiting: { scheduled: bigint; done: Done }[] = [];

function release(c: Connection): void {
  const next = waiting.shift();
  if (next) c.send(next.scheduled, next.done);
  else free.push(c);
}

function fire(scheduled: bigint, done: Done): void {
  const c = free.shift();
  if (c) c.send(scheduled, done);
  else waiting.push({ scheduled, done });
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
  fromSend?: hdr.Histogram,
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
        const late = now - scheduled;
        lag?.recordValue(Math.max(1, Math.round(Number(late) / 1000)));
        sent++;
        fire(scheduled, (ok, status, latencyNs) => {
          answered++;
          if (!ok) errors++;
          else if (status < 200 || status >= 300) non2xx++;
          h?.recordValue(Math.max(1, Math.round(Number(latencyNs) / 1000)));
          fromSend?.recordValue(Math.max(1, Math.round(Number(latencyNs - late) / 1000)));
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
const fromSend = histogram();
if (opts.warmupSeconds) await phase(opts.warmupSeconds);
const cpu0 = process.cpuUsage();
const gcWindow = new GcWindow();
const threads0 = threadTimes(process.pid);
const r = await phase(opts.seconds, h, lag, fromSend);
const gcs = gcWindow.take();
const cpu = process.cpuUsage(cpu0);
const main = threadDelta(process.pid, threads0, threadTimes(process.pid)).main;
for (const c of connections) c.close();
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
    p99_from_send_us: fromSend.getValueAtPercentile(99),
    client_cpu_us_per_request: Math.round((cpu.user + cpu.system) / Math.max(1, r.count)),
    client_alloc_bytes_per_request: Math.round(gcs.alloc_bytes / Math.max(1, r.count)),
    client_gc_count: Object.values(gcs.gc).reduce((n, g) => n + g.count, 0),
    client_gc_max_us: Math.round(1000 * Math.max(0, ...Object.values(gcs.gc).map((g) => g.max_ms))),
    client_wait_ms: Math.round(main?.wait_ms ?? 0),
    client_preempted: main?.preempted ?? 0,
  }) + '\n',
);
