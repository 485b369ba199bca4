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
import { GCProfiler, getHeapStatistics } from 'node:v8';
import { createAsgardServer } from '../src/serve/server.js';
import { Workspace } from '../src/workspace/workspace.js';

const cfg = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const srv = createAsgardServer({ ir: cfg.ir, workspace: Workspace.open(cfg.spec, { stateDir: cfg.stateDir }) });

const eld = monitorEventLoopDelay({ resolution: 5 });
eld.enable();
// Garbage collections of the window (v8.GCProfiler): pauses by kind (µs), bytes allocated (the heap
// growth between collections plus what each collected), the young generation's size at the last one.
let gcProfiler = new GCProfiler();
gcProfiler.start();
let heapAtMark = getHeapStatistics().used_heap_size;
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

function gcStats() {
  const { statistics } = gcProfiler.stop();
  gcProfiler = new GCProfiler();
  gcProfiler.start();
  const byKind: Record<string, { count: number; ms: number; max_ms: number }> = {};
  let allocated = 0;
  let before = heapAtMark;
  let youngMiB = 0;
  for (const g of statistics) {
    const k = (byKind[g.gcType] ??= { count: 0, ms: 0, max_ms: 0 });
    k.count++;
    k.ms += g.cost / 1000;
    k.max_ms = Math.max(k.max_ms, g.cost / 1000);
    allocated += Math.max(0, g.beforeGC.heapStatistics.usedHeapSize - before);
    before = g.afterGC.heapStatistics.usedHeapSize;
    youngMiB = (g.afterGC.heapSpaceStatistics.find((x) => x.spaceName === 'new_space')?.spaceSize ?? 0) / 2 ** 20;
  }
  const now = getHeapStatistics().used_heap_size;
  allocated += Math.max(0, now - before);
  heapAtMark = now;
  for (const k of Object.values(byKind)) {
    k.ms = Number(k.ms.toFixed(2));
    k.max_ms = Number(k.max_ms.toFixed(2));
  }
  return { gc: byKind, alloc_bytes: allocated, young_generation_mib: youngMiB };
}

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
    ...gcStats(),
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
    gcStats();
    cpu0 = process.cpuUsage();
    waits0 = waits();
    process.stdout.write('{}\n');
  } else if (line === 'stats') process.stdout.write(`${JSON.stringify(stats())}\n`);
});
