// Child process of the serving benches (bench/serve.bench.ts, bench/query-load.bench.ts): `asgard
// serve`'s server on a prepared registry, so no load generator or bench code shares its event loop.
// Argument: a JSON file {"ir", "spec", "stateDir"} (the warehouse is the spec's, beside it); prints
// the port on stdout, exits on SIGTERM or when its stdin closes (the bench ended).
//
// What the server itself went through, measured inside it (figures that do not depend on what else
// the machine runs): on a line `mark` on stdin it starts a measurement window, on `stats` it prints
// one JSON line with, since the mark: its event loop's delay (perf_hooks.monitorEventLoopDelay, µs),
// its CPU time and its main thread's time waiting for a core while runnable (schedstat) and
// involuntary context switches, its garbage collections (count and pause totals by kind, bytes allocated), and for every query-door
// engine process: its CPU time and every thread's nice value (/proc).

import { readdirSync, readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { createAsgardServer } from '../src/serve/server.js';
import { Workspace } from '../src/workspace/workspace.js';
import { GcWindow } from './gc-window.js';

const cfg = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const srv = createAsgardServer({ ir: cfg.ir, workspace: Workspace.open(cfg.spec, { stateDir: cfg.stateDir }) });

const eld = monitorEventLoopDelay({ resolution: 5 });
eld.enable();
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
  const us = (ns: number) => Math.round(ns / 1000);
  return {
    eld_p50_us: us(eld.percentile(50)),
    eld_p99_us: us(eld.percentile(99)),
    eld_max_us: us(eld.max),
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
    gcWindow.take();
    cpu0 = process.cpuUsage();
    waits0 = waits();
    process.stdout.write('{}\n');
  } else if (line === 'stats') process.stdout.write(`${JSON.stringify(stats())}\n`);
});
