// The benches' side of bench/loadgen.ts: one open-loop run as its own process, pinned with taskset to
// a core of its own (the server gets SERVER_CORE, clients CLIENT_CORE; a one-core machine shares it).
// Used by serve.bench.ts (#16 item 4) and query-load.bench.ts (#11).

import { spawn } from 'node:child_process';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';

export const SERVER_CORE = '0';
export const CLIENT_CORE = cpus().length > 1 ? '1' : '0';

export interface LoadResult {
  readonly count: number;
  readonly errors: number;
  readonly non2xx: number;
  readonly p50_us: number;
  readonly p90_us: number;
  readonly p99_us: number;
  readonly p999_us: number;
  readonly max_us: number;
  readonly achieved_rps: number;
  /** Times the generator woke to send (at most one per request: it sleeps between sends). */
  readonly wakes: number;
  /** How late its sends left against the schedule, p99 (inside every latency above). */
  readonly send_lag_p99_us: number;
  readonly client_cpu_us_per_request: number;
}

/** `rate` requests/s of `body` to `url` for `seconds` (after a 1 s warm-up); fails on any error or non-2xx. */
export function openLoop(url: string, body: string, rate: number, seconds: number): Promise<LoadResult> {
  const args = JSON.stringify({ url, body, rate, seconds, warmupSeconds: 1 });
  return new Promise((resolve, reject) => {
    const p = spawn('taskset', ['-c', CLIENT_CORE, process.execPath, '--import', 'tsx', fileURLToPath(new URL('./loadgen.ts', import.meta.url)), args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (err += d));
    p.on('close', (code) => {
      if (code !== 0) return reject(new Error(`loadgen exited ${code}: ${err.slice(-1000)}`));
      const r = JSON.parse(out.trim()) as LoadResult;
      if (r.errors || r.non2xx) return reject(new Error(`open-loop run had ${r.non2xx} non-2xx and ${r.errors} errors`));
      resolve(r);
    });
  });
}
