// Child process of the serving benches (bench/serve.bench.ts, bench/query-load.bench.ts): `asgard
// serve`'s server on a prepared registry, so no load generator or bench code shares its event loop.
// Argument: a JSON file {"ir", "spec", "stateDir", "doorPolicy"?} (the warehouse is the spec's,
// beside it; doorPolicy: how the query door's engines yield the CPU, src/serve/query-door.ts); prints
// the port on stdout, exits on SIGTERM or when its stdin closes (the bench ended). The bench starts
// it with `asgard serve`'s node flags (src/cli/relaunch.ts).
//
// What the server itself went through, measured inside it (figures that do not depend on what else
// the machine runs): on a line `mark` on stdin it starts a measurement window, on `stats` it prints
// one JSON line with, since the mark: its event loop's delay (µs) and the part of it spent on the CPU,
// its CPU time and its main thread's time waiting for a core while runnable (schedstat) and
// involuntary context switches, the same per thread name (V8's helpers, libuv's pool, onnxruntime's,
// DuckDB's), its page faults, its stalls (ticks late by 2 ms or more: how much of each the main
// thread ran, waited for a core, or neither), its garbage collections (count and pause totals by
// kind, bytes allocated), and for every query-door engine process: its CPU time and every thread's
// nice value (/proc).

import { readdirSync, readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import * as hdr from 'hdr-histogram-js';
import { createAsgardServer } from '../src/serve/server.js';
import { Workspace } from '../src/workspace/workspace.js';
import { GcWindow } from './gc-window.js';
import { ThreadClock, threadDelta, threadTimes } from './sched.js';

const cfg = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const srv = createAsgardServer({ ir: cfg.ir, workspace: Workspace.open(cfg.spec, { stateDir: cfg.stateDir }), doorPolicy: cfg.doorPolicy });

// Event-loop delay: a timer due every TICK_MS, each tick's lateness (the time since the last one
// beyond TICK_MS; libuv's timers count whole ms, so ±1 ms) and how much of it the process spent on
// the CPU (its own work or GC: that delays requests whatever else the machine runs; the rest is
// waiting for a core). perf_hooks.monitorEventLoopDelay records the whole interval, its resolution
// included: its p99 of 7.5 ms (session 5, resolution 5 ms) was a delay of ~2.5 ms.
const TICK_MS = 1;
const histogram = () => hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: 3 });
const eld = histogram();
const eldCpu = histogram();
const cpuNowUs = () => {
  const c = process.cpuUsage();
  return c.user + c.system;
};
// A tick at least STALL_US late is a stall: how its time split between the main thread on a CPU
// (work, GC), the main thread runnable but waiting for a core (other threads or processes ran), and
// the rest (the main thread blocked, e.g. joining GC helpers, or the core stolen by the hypervisor).
const STALL_US = 2000;
const mainClock = new ThreadClock(process.pid);
const noStalls = () => ({ count: 0, late_ms: 0, main_cpu_ms: 0, main_wait_ms: 0, process_cpu_ms: 0, worst: [] as number[][] });
let stalls = noStalls();
let lastTick = 0n;
let lastTickCpu = 0;
let lastRun = 0;
let lastWait = 0;
const tick = () => {
  const t = process.hrtime.bigint();
  const c = cpuNowUs();
  const [run, wait] = mainClock.now();
  const late = Math.max(0, Math.round(Number(t - lastTick) / 1000) - TICK_MS * 1000);
  eld.recordValue(late);
  eldCpu.recordValue(Math.min(late, c - lastTickCpu));
  if (late >= STALL_US) {
    const mainCpu = Math.round((run - lastRun) / 1000);
    const mainWait = Math.round((wait - lastWait) / 1000);
    stalls.count++;
    stalls.late_ms += late / 1000;
    stalls.main_cpu_ms += mainCpu / 1000;
    stalls.main_wait_ms += mainWait / 1000;
    stalls.process_cpu_ms += (c - lastTickCpu) / 1000;
    stalls.worst.push([late, mainCpu, mainWait, c - lastTickCpu]);
    stalls.worst.sort((a, b) => b[0] - a[0]).splice(5);
  }
  lastTick = t;
  lastTickCpu = c;
  lastRun = run;
  lastWait = wait;
};
// The timer runs only inside a measurement window: the serving bench runs a second server on the
// same core, and an idle server's timer woke that core 1,000 times a second while the other was measured.
let ticks: NodeJS.Timeout | undefined;
function startTicks(): void {
  clearInterval(ticks);
  lastTick = process.hrtime.bigint();
  lastTickCpu = cpuNowUs();
  [lastRun, lastWait] = mainClock.now();
  ticks = setInterval(tick, TICK_MS).unref();
}
const gcWindow = new GcWindow();
let cpu0 = process.cpuUsage();
let threads0 = threadTimes(process.pid);
/** Minor and major page faults of the process so far (/proc/self/stat). */
function faults(): [number, number] {
  try {
    const f = readFileSync('/proc/self/stat', 'utf8').split(') ')[1].split(' ');
    return [Number(f[7]), Number(f[9])];
  } catch {
    return [0, 0];
  }
}
let faults0 = faults();

/** A door engine process: CPU ms (utime + stime at 100 ticks/s) and every thread's nice (/proc/PID/task/TID/stat). */
function doorProcess(pid: number): { pid: number; cpu_ms: number; nice: number[] } | undefined {
  try {
    const fields = (f: string) => readFileSync(f, 'utf8').split(') ')[1].split(' ');
    const own = fields(`/proc/${pid}/stat`);
    const nice = readdirSync(`/proc/${pid}/task`).map((t) => Number(fields(`/proc/${pid}/task/${t}/stat`)[16]));
    return { pid, cpu_ms: (Number(own[11]) + Number(own[12])) * 10, nice };
  } catch {
    return undefined;
  }
}

function stats() {
  const cpu = process.cpuUsage(cpu0);
  const threads = threadDelta(process.pid, threads0, threadTimes(process.pid));
  const f = faults();
  const round = (x: number) => Math.round(x * 10) / 10;
  return {
    eld_p50_us: eld.getValueAtPercentile(50),
    eld_p99_us: eld.getValueAtPercentile(99),
    eld_max_us: eld.maxValue,
    eld_cpu_p99_us: eldCpu.getValueAtPercentile(99),
    eld_cpu_max_us: eldCpu.maxValue,
    cpu_ms: Math.round((cpu.user + cpu.system) / 1000),
    runqueue_wait_ms: Math.round(threads.main?.wait_ms ?? 0),
    preempted: threads.main?.preempted ?? 0,
    threads,
    minor_faults: f[0] - faults0[0],
    stalls: {
      ...stalls,
      late_ms: round(stalls.late_ms),
      main_cpu_ms: round(stalls.main_cpu_ms),
      main_wait_ms: round(stalls.main_wait_ms),
      process_cpu_ms: round(stalls.process_cpu_ms),
    },
    ...gcWindow.take(),
    door: srv.door.pids().flatMap((p) => doorProcess(p) ?? []),
  };
}

const stop = () => void srv.close(2000).then(() => process.exit(0));
process.on('SIGTERM', stop);
const { port } = await srv.listen(0, '127.0.0.1');
process.stdout.write(`${port}\n`);
// Its stdin is the bench's pipe: when the bench ends, even by a crash, so does the server.
const commands = createInterface({ input: process.stdin });
commands.on('close', stop);
commands.on('line', (line) => {
  if (line === 'mark') {
    eld.reset();
    eldCpu.reset();
    gcWindow.take();
    cpu0 = process.cpuUsage();
    threads0 = threadTimes(process.pid);
    faults0 = faults();
    stalls = noStalls();
    startTicks();
    process.stdout.write('{}\n');
  } else if (line === 'stats') {
    clearInterval(ticks);
    process.stdout.write(`${JSON.stringify(stats())}\n`);
  }
});
