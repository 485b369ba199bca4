// `asgard serve` runs in a node process started with a young generation sized for a server: V8's
// default shrinks it to 1 MiB semi-spaces after an idle spell, and at 2,000 req/s (~18 KB allocated
// per request) the event loop then stops for a scavenge every ~50 requests, each pause charged to
// the requests that arrive during it (bench/serve.md). V8 takes these flags only at process start
// (not in NODE_OPTIONS, and v8.setFlagsFromString once the heap exists changes nothing: measured), so
// main.ts starts `serve` again as a child process with them. The first process forwards SIGTERM,
// SIGINT and SIGHUP and exits with the child's code; the child stops as on SIGTERM when the first
// process ends without it (killed), so no server outlives its command.
//
// On a machine of SMALL_MACHINE_CORES cores or fewer, the server's garbage collector also runs on its
// main thread alone (--single-threaded-gc): V8 otherwise scavenges, marks and sweeps on up to four
// helper threads besides the main thread, and on two cores shared with the clients those helpers take
// the core the event loop is waiting for (preemptions of the server's main thread by its own threads,
// bench/serve.md session 7). ASGARD_SERVE_GC=main or =parallel chooses either way (docs/http.md).

/**
 * Semi-spaces of 64 MiB (a young generation of 128 MiB, ~3,600 requests of ~18 KB between scavenges),
 * kept when idle: without --no-memory-reducer, V8's memory reducer collects after ~8 s of little
 * allocation and gives the young generation's pages back, and the first requests after an idle spell
 * pay for faulting the pages in and for optimizing code again on helper threads
 * (measured, 25 s idle before each 8 s window at 2,000 req/s: ~29,500 page faults and ~300 ms of
 * helper-thread CPU per window with it, ~14,000 and ~55 ms without; bench/serve.md session 7).
 */
export const SERVE_NODE_FLAGS = ['--min-semi-space-size=64', '--max-semi-space-size=64', '--no-memory-reducer'] as const;
/** At most this many cores: the server's GC stays on its main thread (ASGARD_SERVE_GC unset). */
export const SMALL_MACHINE_CORES = 2;
const GC_CHOICES = ['main', 'parallel'] as const;

/** ASGARD_SERVE_GC is neither `main` nor `parallel`. */
export class ServeGcError extends Error {}

/** The node flags the server process starts with: its young generation, and where its GC runs (ASGARD_SERVE_GC, else by `cores`, os.availableParallelism()). */
export function serveNodeFlags(env: Readonly<Record<string, string | undefined>>, cores: number): string[] {
  const choice = env.ASGARD_SERVE_GC;
  if (choice !== undefined && choice !== '' && !(GC_CHOICES as readonly string[]).includes(choice))
    throw new ServeGcError(`ASGARD_SERVE_GC must be ${GC_CHOICES.join(' or ')}, got ${JSON.stringify(choice)}`);
  const mainOnly = choice ? choice === 'main' : cores <= SMALL_MACHINE_CORES;
  return [...SERVE_NODE_FLAGS, ...(mainOnly ? ['--single-threaded-gc'] : [])];
}
const YOUNG_FLAG = /^--(min|max)[-_]semi[-_]space[-_]size(=|$)/;
const PARENT = 'ASGARD_SERVE_PARENT';
const SIGNALS = ['SIGTERM', 'SIGINT', 'SIGHUP'] as const;

/** Node under a debugger: the process the user attached to serves (a second one would also clash on the inspector's port). */
const INSPECT_FLAG = /^--inspect(-brk|-wait)?(=|$)/;

/**
 * The node arguments to run the command `argv` again with, or undefined when this process runs it
 * itself: not `serve`, only its help, node already started with a young-generation flag (the
 * re-launched process, or the user's own choice), or under the inspector.
 */
export async function relaunchArgs(
  argv: readonly string[],
  execArgv: readonly string[],
  env: Readonly<Record<string, string | undefined>> = process.env,
  cores?: number,
): Promise<string[] | undefined> {
  if (argv[0] !== 'serve' || argv.includes('--help') || argv.includes('-h')) return undefined;
  if (execArgv.some((a) => YOUNG_FLAG.test(a) || INSPECT_FLAG.test(a))) return undefined;
  // Loaded here, not at the top: every command starts through this module (see relaunch below).
  return [...execArgv, ...serveNodeFlags(env, cores ?? (await import('node:os')).availableParallelism())];
}

/** Runs `script argv` in a child node with `nodeArgs` and the same stdio; resolves to its exit code (128 + signal when killed). */
export async function relaunch(nodeArgs: readonly string[], script: string, argv: readonly string[]): Promise<number> {
  // Loaded here, not at the top: every command starts through this module, and only `serve` spawns.
  const { spawn } = await import('node:child_process');
  const { constants } = await import('node:os');
  const child = spawn(process.execPath, [...nodeArgs, script, ...argv], {
    stdio: ['inherit', 'inherit', 'inherit', 'ipc'],
    env: { ...process.env, [PARENT]: String(process.pid) },
  });
  for (const s of SIGNALS) process.on(s, () => child.kill(s));
  await keepRealtime(child.pid);
  return new Promise((resolve) => {
    child.once('error', (e) => {
      process.stderr.write(`error: could not start the server process: ${e.message}\n`);
      resolve(1);
    });
    child.once('exit', (code, signal) => resolve(code ?? 128 + (signal ? constants.signals[signal] : 0)));
  });
}

/** The real-time policy and priority a /proc/PID/stat text shows (fields 41 and 40: SCHED_FIFO 1, SCHED_RR 2), or undefined. */
export function realtimeOf(stat: string): { policy: '--fifo' | '--rr'; priority: number } | undefined {
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const policy = Number(fields[38]);
  return policy === 1 || policy === 2 ? { policy: policy === 1 ? '--fifo' : '--rr', priority: Number(fields[37]) } : undefined;
}

/**
 * `chrt --fifo --reset-on-fork 10 asgard serve …` (docs/http.md, "Latency on a busy machine"): the
 * re-launched process does not inherit the policy (reset on fork), so its main thread is given this
 * process's; its other threads and the processes it starts stay at normal priority. Linux only.
 */
async function keepRealtime(pid: number | undefined): Promise<void> {
  if (pid === undefined || process.platform !== 'linux') return;
  const { readFileSync } = await import('node:fs');
  const rt = realtimeOf(readFileSync('/proc/self/stat', 'utf8'));
  if (!rt) return;
  const { CHRT } = await import('../serve/query-door.js');
  const { spawnSync } = await import('node:child_process');
  const args = ['--reset-on-fork', rt.policy, '-p', String(rt.priority), String(pid)];
  const done = CHRT ? spawnSync(CHRT, args, { encoding: 'utf8' }) : undefined;
  if (done?.status !== 0) process.stderr.write(`warning: the server process runs at normal priority: ${done?.stderr?.trim() || 'chrt is not installed'}\n`);
}

/** In the re-launched process: when the first process ends (its IPC channel closes), stop as on SIGTERM. */
export function followParent(): void {
  if (process.env[PARENT] !== String(process.ppid) || !process.channel) return;
  delete process.env[PARENT];
  process.channel.unref();
  process.once('disconnect', () => process.kill(process.pid, 'SIGTERM'));
}
