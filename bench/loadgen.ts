// An open-loop HTTP load generator for bench/serve.bench.ts, run as its own process (pinned to a core
// of its own with taskset by the bench). Requests leave on a fixed schedule — request k at
// t0 + k / rate — whether or not earlier ones have answered, and each latency is measured from the
// request's scheduled time to the end of its response, so a stalled server is charged for the
// requests that queued behind the stall (no coordinated omission). Latencies go into an HDR
// histogram in microseconds (hdr-histogram-js).
//
//   node --import tsx bench/loadgen.ts '{"url":"http://127.0.0.1:PORT/path","body":"{…}","rate":2000,"seconds":8,"warmupSeconds":2}'
// Prints {"count", "errors", "non2xx", "p50_us", "p90_us", "p99_us", "p999_us", "max_us", "achieved_rps"} on stdout.

import { Agent, request } from 'node:http';
import * as hdr from 'hdr-histogram-js';

interface Options {
  readonly url: string;
  readonly body: string;
  readonly rate: number;
  readonly seconds: number;
  readonly warmupSeconds?: number;
  /** Sockets kept open; a request waits for a free one (its wait counts in its latency). */
  readonly sockets?: number;
}

const opts = JSON.parse(process.argv[2]) as Options;
const url = new URL(opts.url);
const agent = new Agent({ keepAlive: true, maxSockets: opts.sockets ?? 64 });
const payload = Buffer.from(opts.body);
const nowNs = (): bigint => process.hrtime.bigint();

function fire(scheduled: bigint, done: (ok: boolean, status: number, latencyNs: bigint) => void): void {
  const req = request(
    { host: url.hostname, port: url.port, path: url.pathname, method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': payload.length } },
    (res) => {
      res.on('data', () => {});
      res.on('end', () => done(true, res.statusCode ?? 0, nowNs() - scheduled));
    },
  );
  req.on('error', () => done(false, 0, nowNs() - scheduled));
  req.end(payload);
}

/** Runs the schedule for `seconds`; records into `h` when given. Resolves when every request answered. */
function phase(seconds: number, h?: hdr.Histogram): Promise<{ count: number; errors: number; non2xx: number; wallS: number }> {
  return new Promise((resolve) => {
    const intervalNs = BigInt(Math.round(1e9 / opts.rate));
    const total = Math.round(seconds * opts.rate);
    const t0 = nowNs();
    let sent = 0;
    let answered = 0;
    let errors = 0;
    let non2xx = 0;
    const finish = () => resolve({ count: answered, errors, non2xx, wallS: Number(nowNs() - t0) / 1e9 });
    const tick = () => {
      const due = Math.min(total, Number((nowNs() - t0) / intervalNs) + 1);
      while (sent < due) {
        const scheduled = t0 + BigInt(sent) * intervalNs;
        sent++;
        fire(scheduled, (ok, status, latencyNs) => {
          answered++;
          if (!ok) errors++;
          else if (status < 200 || status >= 300) non2xx++;
          h?.recordValue(Math.max(1, Math.round(Number(latencyNs) / 1000)));
          if (answered === total) finish();
        });
      }
      // setImmediate lets responses in between sends; the schedule is kept by `due`, not by timers.
      if (sent < total) setImmediate(tick);
    };
    tick();
  });
}

const h = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: 3 });
if (opts.warmupSeconds) await phase(opts.warmupSeconds);
const r = await phase(opts.seconds, h);
agent.destroy();
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
  }) + '\n',
);
