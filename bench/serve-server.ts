// Child process of the serving benches (bench/serve.bench.ts, bench/query-load.bench.ts): `asgard
// serve`'s server on a prepared registry, so no load generator or bench code shares its event loop.
// Argument: a JSON file {"ir", "spec", "stateDir"} (the warehouse is the spec's, beside it); prints
// the port on stdout, exits on SIGTERM or when its stdin closes (the bench ended). The bench starts
// it with `asgard serve`'s node flags (src/cli/relaunch.ts).
//
// What the server itself went through, measured inside it (figures that do not depend on what else
// the machine runs): on a line `mark` on stdin it starts a measurement window, on `stats` it prints
// one JSON line with, since the mark: its event loop's delay (µs) and the part of it spent on the CPU,
// its CPU time and its main thread's time waiting for a core while runnable (schedstat) and
// involuntary context switches, its garbage collections (count and pause totals by kind, bytes allocated), and for every query-door
// engine process: its CPU time and every thread's nice value (/proc).

import { readdirSync, readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import * as hdr from 'hdr-histogram-js';
import { createAsgardServer } from '../src/serve/server.js';
import { Workspace } from '../src/workspace/workspace.js';
import { GcWindow } from './gc-window.js';

const cfg = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const srv = createAsgardServer({ ir: cfg.ir, workspace: Workspace.open(cfg.spec, { stateDir: cfg.stateDir }) });

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
let lastTick = process.hrtime.bigint();
let lastTickCpu = cpuNowUs();
setInterval(() => {
  const t = process.hrtime.bigint();
  const c = cpuNowUs();
  const late = Math.max(0, Math.round(Number(t - lastTick) / 1000) - TICK_MS * 1000);
  eld.recordValue(late);
  eldCpu.recordValue(Math.min(late, c - lastTickCpu));
  lastTick = t;
  lastTickCpu = c;
}, TICK_MS).unref();
const gcWindow = new GcWindow();
let cpu0 = process.cpuUsage();
/** The main thread's time waiting for a core while runnable (ns, /proc/PID/task/PID/schedstat) and its involuntary switches. */
function waits(): { runqueueNs: number; preempted: number } {
  try {
    const sched = readFileSync(`/proc/${process.pid}/task/${process.pid}/schedstat`, 'utf8').split(' ');
    const status = readFileSync(`/proc/${process.pid}/task/${process.pid}/status`, 'utf8');
    return { runqueueNs: Number(sched[1]), preempted: Number(/nonvoluntary_ctxt_switches:\s*(\d+)/.exec(status)?.[1] ?? 0) };
  } catch {
    return { runqueueNs: 0, preempted: 0 };
  }
}
let waits0 = waits();

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
  const w = waits();
  return {
    eld_p50_us: eld.getValueAtPercentile(50),
    eld_p99_us: eld.getValueAtPercentile(99),
    eld_max_us: eld.maxValue,
    eld_cpu_p99_us: eldCpu.getValueAtPercentile(99),
    eld_cpu_max_us: eldCpu.maxValue,
    cpu_ms: Math.round((cpu.user + cpu.system) / 1000),
    runqueue_wait_ms: Math.round((w.runqueueNs - waits0.runqueueNs) / 1e6),
    preempted: w.preempted - waits0.preempted,
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
    waits0 = waits();
    process.stdout.write('{}\n');
  } else if (line === 'stats') process.stdout.write(`${JSON.stringify(stats())}\n`);
});
