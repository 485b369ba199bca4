// What the scheduler did to a process and to the machine's cores over a measurement window, from
// /proc (Linux; elsewhere every figure is 0), for the serving benches (bench/serve-server.ts,
// bench/loadgen.ts, bench/serve.bench.ts): how long each thread ran and waited for a core while
// runnable (/proc/PID/task/TID/schedstat), its involuntary context switches, and per core the time
// spent on user, niced, kernel and interrupt work, idle, and stolen by the hypervisor (/proc/stat).

import { closeSync, openSync, readdirSync, readFileSync, readSync } from 'node:fs';

export interface ThreadTimes {
  readonly tid: number;
  readonly name: string;
  /** ns on a CPU, ns runnable but waiting for one. */
  readonly runNs: number;
  readonly waitNs: number;
  readonly preempted: number;
}

const read = (f: string): string => {
  try {
    return readFileSync(f, 'utf8');
  } catch {
    return '';
  }
};

/** Every thread of process `pid` now. */
export function threadTimes(pid: number): ThreadTimes[] {
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return [];
  }
  return tids.map((t) => {
    const dir = `/proc/${pid}/task/${t}`;
    const [run, wait] = read(`${dir}/schedstat`).split(' ').map(Number);
    const preempted = Number(/nonvoluntary_ctxt_switches:\s*(\d+)/.exec(read(`${dir}/status`))?.[1] ?? 0);
    return { tid: Number(t), name: read(`${dir}/comm`).trim(), runNs: run || 0, waitNs: wait || 0, preempted };
  });
}

/** Per thread name (the main thread as "main"): threads, ms on a CPU, ms waiting for one, involuntary switches, between two threadTimes of `pid`. */
export function threadDelta(
  pid: number,
  before: readonly ThreadTimes[],
  after: readonly ThreadTimes[],
): Record<string, { threads: number; cpu_ms: number; wait_ms: number; preempted: number }> {
  const was = new Map(before.map((t) => [t.tid, t]));
  const out: Record<string, { threads: number; cpu_ms: number; wait_ms: number; preempted: number }> = {};
  for (const t of after) {
    const b = was.get(t.tid);
    const k = t.tid === pid ? 'main' : t.name;
    const o = (out[k] ??= { threads: 0, cpu_ms: 0, wait_ms: 0, preempted: 0 });
    o.threads++;
    o.cpu_ms += (t.runNs - (b?.runNs ?? 0)) / 1e6;
    o.wait_ms += (t.waitNs - (b?.waitNs ?? 0)) / 1e6;
    o.preempted += t.preempted - (b?.preempted ?? 0);
  }
  for (const o of Object.values(out)) {
    o.cpu_ms = Math.round(o.cpu_ms * 10) / 10;
    o.wait_ms = Math.round(o.wait_ms * 10) / 10;
  }
  return out;
}

/**
 * One thread's ns on a CPU and waiting for one, read through a descriptor kept open (one pread per
 * call: cheap enough for a 1 ms timer).
 */
export class ThreadClock {
  private readonly fd: number | undefined;
  private readonly buf = Buffer.alloc(128);
  constructor(pid: number, tid = pid) {
    try {
      this.fd = openSync(`/proc/${pid}/task/${tid}/schedstat`, 'r');
    } catch {
      this.fd = undefined;
    }
  }
  /** [ns on a CPU, ns waiting for one] so far. */
  now(): [number, number] {
    if (this.fd === undefined) return [0, 0];
    const n = readSync(this.fd, this.buf, 0, this.buf.length, 0);
    const s = this.buf.toString('latin1', 0, n);
    const a = s.indexOf(' ');
    return [Number(s.slice(0, a)), Number(s.slice(a + 1, s.indexOf(' ', a + 1)))];
  }
  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
  }
}

const CPU_FIELDS = ['user', 'nice', 'system', 'idle', 'iowait', 'irq', 'softirq', 'steal'] as const;
export type CoreTimes = Record<(typeof CPU_FIELDS)[number], number>;

/** Per core (cpu0, cpu1, …): ticks of /proc/stat (USER_HZ, 100 a second) so far. */
export function coreTimes(): Record<string, CoreTimes> {
  const out: Record<string, CoreTimes> = {};
  for (const line of read('/proc/stat').split('\n')) {
    const m = /^(cpu\d+) (.*)$/.exec(line);
    if (!m) continue;
    const v = m[2].split(' ').map(Number);
    out[m[1]] = Object.fromEntries(CPU_FIELDS.map((f, i) => [f, v[i] ?? 0])) as CoreTimes;
  }
  return out;
}

/** Per core, ms of each kind of time between two coreTimes. */
export function coreDelta(before: Record<string, CoreTimes>, after: Record<string, CoreTimes>): Record<string, CoreTimes> {
  const out: Record<string, CoreTimes> = {};
  for (const [cpu, a] of Object.entries(after)) {
    const b = before[cpu];
    if (!b) continue;
    out[cpu] = Object.fromEntries(CPU_FIELDS.map((f) => [f, (a[f] - b[f]) * 10])) as CoreTimes;
  }
  return out;
}
