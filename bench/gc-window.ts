// Garbage collections and allocation of one process over a measurement window (v8.GCProfiler), for
// the serving benches' server (bench/serve-server.ts) and load generator (bench/loadgen.ts): pauses
// by kind (count, total and longest, ms of wall time), bytes allocated (the heap's growth between
// collections plus what each one collected) and the young generation's size at the window's last
// collection (0 when there was none).

import { GCProfiler, getHeapStatistics } from 'node:v8';

export interface GcStats {
  readonly gc: Record<string, { count: number; ms: number; max_ms: number }>;
  readonly alloc_bytes: number;
  readonly young_generation_mib: number;
}

export class GcWindow {
  private profiler = new GCProfiler();
  private heapAtMark = getHeapStatistics().used_heap_size;

  constructor() {
    this.profiler.start();
  }

  /** What happened since the window started (or since the last take), and a new window starts. */
  take(): GcStats {
    const { statistics } = this.profiler.stop();
    this.profiler = new GCProfiler();
    this.profiler.start();
    const gc: Record<string, { count: number; ms: number; max_ms: number }> = {};
    let allocated = 0;
    let before = this.heapAtMark;
    let youngMiB = 0;
    for (const g of statistics) {
      const k = (gc[g.gcType] ??= { count: 0, ms: 0, max_ms: 0 });
      k.count++;
      k.ms += g.cost / 1000;
      k.max_ms = Math.max(k.max_ms, g.cost / 1000);
      allocated += Math.max(0, g.beforeGC.heapStatistics.usedHeapSize - before);
      before = g.afterGC.heapStatistics.usedHeapSize;
      youngMiB = (g.afterGC.heapSpaceStatistics.find((x) => x.spaceName === 'new_space')?.spaceSize ?? 0) / 2 ** 20;
    }
    const now = getHeapStatistics().used_heap_size;
    allocated += Math.max(0, now - before);
    this.heapAtMark = now;
    for (const k of Object.values(gc)) {
      k.ms = Number(k.ms.toFixed(2));
      k.max_ms = Number(k.max_ms.toFixed(2));
    }
    return { gc, alloc_bytes: allocated, young_generation_mib: youngMiB };
  }
}
