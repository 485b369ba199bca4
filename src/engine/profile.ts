// ASGARD_PROFILE=1 prints per-phase timings of each node on stderr (src/engine/sql-executor.ts and
// ./derived.ts mark open, attach, render, compute, checks, write, commit): wall time and the
// process's CPU time (every thread, DuckDB's too), what tuning the engine's overhead against bare
// DuckDB needs on a shared machine, where wall time alone is noise.

const PROFILE = !!process.env.ASGARD_PROFILE;
let lastMark = performance.now();
let lastCpu = process.cpuUsage();

export function mark(what: string): void {
  if (!PROFILE) return;
  const now = performance.now();
  const cpu = process.cpuUsage(lastCpu);
  process.stderr.write(`  [profile] ${what}: ${(now - lastMark).toFixed(0)} ms wall, ${((cpu.user + cpu.system) / 1000).toFixed(0)} ms cpu\n`);
  lastMark = now;
  lastCpu = process.cpuUsage();
}
