// The serving benches' processes (bench/serve.bench.ts for #16 item 4, bench/query-load.bench.ts
// for #11), each pinned with taskset to a core of its own (a one-core machine shares it):
// - serveProcess: `asgard serve`'s server (bench/serve-server.ts) on SERVER_CORE, with what it
//   measured inside itself per window (event-loop delay, CPU, GC pauses, its door engines);
// - openLoop: one open-loop run of bench/loadgen.ts on CLIENT_CORE.

import { spawn, spawnSync } from 'node:child_process';
import { availableParallelism, cpus } from 'node:os';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { serveNodeFlags } from '../src/cli/relaunch.js';
import { QUERY_POOL_SIZE } from '../src/serve/query-door.js';

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
  /** The p99 counted from when each request left (without the generator's lateness): a diagnostic. */
  readonly p99_from_send_us: number;
  /** Whether the generator ran under SCHED_FIFO (CLIENT_REALTIME). */
  readonly client_realtime: boolean;
  readonly client_cpu_us_per_request: number;
  readonly client_alloc_bytes_per_request: number;
  /** The generator's own garbage collections during the run, and the longest (µs). */
  readonly client_gc_count: number;
  readonly client_gc_max_us: number;
  /** The generator's main thread during the run: ms runnable but waiting for a core, involuntary switches. */
  readonly client_wait_ms: number;
  readonly client_preempted: number;
}

/**
 * The generator runs under SCHED_FIFO where the bench may set it (root or CAP_SYS_NICE: `chrt`
 * succeeds). Its core is shared with every unpinned process (the services, the bench itself), and
 * under SCHED_OTHER a generator waking to send or to read an answer waits until the task on its core
 * has run its slice, noticed only at the next tick (4 ms at this kernel's 250 Hz): the send lag p99
 * of 1.4-2.5 ms in session 9's quiet run, inside every latency. Real-time, it takes its core at once;
 * it never spins, so it holds the core only for its own work (~80-150 µs per request).
 */
export const CLIENT_REALTIME = spawnSync('chrt', ['-f', '1', 'true'], { stdio: 'ignore' }).status === 0;
const CLIENT_PREFIX = CLIENT_REALTIME ? ['chrt', '-f', '10', 'taskset'] : ['taskset'];

/**
 * The server's main thread runs under SCHED_FIFO during a measured window where the bench may set
 * it (as the generator): on core 0 it shares the core with every unpinned process (the services,
 * other work on the machine), and under SCHED_OTHER a request arriving while one of them runs waits
 * for the end of its slice, noticed at the next 4 ms tick (schedstat's "waited for a core": 154 ms
 * of session 9's 250 ms of stalls). Only the main thread, with reset-on-fork: threads and processes
 * it starts (libuv's pool, the query door's engines) are normal. It never spins: it holds the core
 * only for its work (~55% of it at 2,000 req/s). Off outside the windows (warm-up, full load).
 */
export const SERVER_REALTIME = CLIENT_REALTIME;

/** Seconds a generator's run may take beyond its warm-up and schedule (answers still due; a loaded machine) before it is stopped. */
const LOADGEN_GRACE_S = 60;

/** The generator's young generation, large enough for no scavenge in a run (its own collections delay its sends). */
const LOADGEN_NODE_FLAGS = ['--min-semi-space-size=64', '--max-semi-space-size=64'];

/**
 * `rate` requests/s to `url` for `seconds` (after a 1 s warm-up): POST of `body`, or GET when `body`
 * is undefined; fails on any error or non-2xx.
 */
export function openLoop(url: string, body: string | undefined, rate: number, seconds: number): Promise<LoadResult> {
  const args = JSON.stringify({ url, body, rate, seconds, warmupSeconds: 1 });
  return new Promise((resolve, reject) => {
    const p = spawn(
      CLIENT_PREFIX[0],
      [
        ...CLIENT_PREFIX.slice(1),
        '-c',
        CLIENT_CORE,
        process.execPath,
        ...LOADGEN_NODE_FLAGS,
        '--import',
        'tsx',
        fileURLToPath(new URL('./loadgen.ts', import.meta.url)),
        args,
      ],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let out = '';
    let err = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (err += d));
    // A run that has not ended long after its schedule is stopped and fails the bench: a real-time
    // generator must never be left holding its core (session 11: one ran 19 minutes at load ~40-80).
    const limitS = 1 + seconds + LOADGEN_GRACE_S;
    const limit = setTimeout(() => {
      err += `\nstopped: the run had not ended ${limitS} s after it started`;
      p.kill('SIGKILL');
    }, limitS * 1000);
    p.on('close', (code) => {
      clearTimeout(limit);
      if (code !== 0) return reject(new Error(`loadgen exited ${code}: ${err.slice(-1000)}`));
      const r = { ...(JSON.parse(out.trim()) as Omit<LoadResult, 'client_realtime'>), client_realtime: CLIENT_REALTIME };
      if (r.errors || r.non2xx) return reject(new Error(`open-loop run of ${url} had ${r.non2xx} non-2xx and ${r.errors} errors`));
      resolve(r);
    });
  });
}

/**
 * Every engine of the server's query door started and warm (QUERY_POOL_SIZE queries at once, each
 * sent again while the door answers 503: an engine starts at the door's low priority, and on a loaded
 * machine a start can take longer than the door's start limit), so no measured phase includes a start.
 */
export async function warmQueryDoor(url: string): Promise<void> {
  const one = async () => {
    for (let attempt = 1; ; attempt++) {
      const r = await fetch(`${url}/data-products/query`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ sql: 'SELECT 1 AS one' }),
      });
      const text = await r.text();
      if (r.status === 200) return;
      if (r.status !== 503 || attempt === 5) throw new Error(`the query door answered ${r.status}: ${text.slice(0, 300)}`);
    }
  };
  await Promise.all(Array.from({ length: QUERY_POOL_SIZE }, one));
}

/** What the server measured inside itself since its last mark (bench/serve-server.ts). */
export interface ServerStats {
  /** Event-loop delay beyond its 1 ms timer (±1 ms), and the part of it the server spent on the CPU (its work or GC, not waiting for a core). */
  readonly eld_p50_us: number;
  readonly eld_p99_us: number;
  readonly eld_max_us: number;
  readonly eld_cpu_p99_us: number;
  readonly eld_cpu_max_us: number;
  readonly cpu_ms: number;
  /** The server's main thread: time runnable but waiting for a core, and involuntary context switches. */
  readonly runqueue_wait_ms: number;
  readonly preempted: number;
  /** Per thread name (the main thread as "main"), bench/sched.ts. */
  readonly threads: Record<string, { threads: number; cpu_ms: number; wait_ms: number; preempted: number }>;
  readonly minor_faults: number;
  /** Ticks of its 1 ms timer late by 2 ms or more: their total lateness, and how much of it the main thread ran, waited for a core, and the process's CPU (all threads); the worst five as [late, main CPU, main wait, process CPU] µs. */
  readonly stalls: {
    count: number;
    late_ms: number;
    main_cpu_ms: number;
    main_wait_ms: number;
    process_cpu_ms: number;
    worst: number[][];
  };
  /** By kind (Scavenge, MarkSweepCompact, …): count and pause totals. */
  readonly gc: Record<string, { count: number; ms: number; max_ms: number }>;
  readonly alloc_bytes: number;
  /** The young generation's size at the window's last GC (0: none). */
  readonly young_generation_mib: number;
  readonly door: readonly { pid: number; cpu_ms: number; nice: number[] }[];
}

export interface ServeProcess {
  readonly url: string;
  /** Starts a measurement window in the server. */
  mark(): Promise<void>;
  /** Puts the server's main thread under SCHED_FIFO (true) or back to SCHED_OTHER; false where SERVER_REALTIME is false. */
  realtime(on: boolean): boolean;
  /** What the server measured since the last mark. */
  stats(): Promise<ServerStats>;
  stop(): Promise<void>;
}

/** The server of bench/serve-server.ts on `cfg`, pinned to SERVER_CORE, node started with `nodeArgs` (by default as `asgard serve` starts it). */
export async function serveProcess(cfg: string, nodeArgs: readonly string[] = serveNodeFlags(process.env, availableParallelism())): Promise<ServeProcess> {
  const child = spawn(
    'taskset',
    ['-c', SERVER_CORE, process.execPath, ...nodeArgs, '--import', 'tsx', fileURLToPath(new URL('./serve-server.ts', import.meta.url)), cfg],
    {
      stdio: ['pipe', 'pipe', 'inherit'],
    },
  );
  const exited = new Promise((r) => child.once('exit', r));
  const replies: ((line: string) => void)[] = [];
  const lines = createInterface({ input: child.stdout });
  const port = await new Promise<number>((resolve, reject) => {
    lines.once('line', (l) => resolve(Number(l.trim())));
    child.once('exit', (c) => reject(new Error(`server exited ${c}`)));
  });
  lines.on('line', (l) => replies.shift()?.(l));
  const ask = (cmd: string) =>
    new Promise<string>((resolve) => {
      replies.push(resolve);
      child.stdin.write(`${cmd}\n`);
    });
  return {
    url: `http://127.0.0.1:${port}`,
    mark: async () => void (await ask('mark')),
    realtime: (on) => {
      if (!SERVER_REALTIME || child.pid === undefined) return false;
      const args = on ? ['--reset-on-fork', '-f', '-p', '10', String(child.pid)] : ['-o', '-p', '0', String(child.pid)];
      return spawnSync('chrt', args, { stdio: 'ignore' }).status === 0 && on;
    },
    stats: async () => JSON.parse(await ask('stats')) as ServerStats,
    stop: async () => {
      child.kill('SIGTERM');
      await exited;
    },
  };
}
