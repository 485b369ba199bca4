// POST /data-products/query's engines, outside the server's process (issue #11). Each engine of the
// pool (QUERY_POOL_SIZE, one DuckDB thread and QUERY_MEMORY_LIMIT each) runs in a process of its own
// (query-door-process.ts) whose every thread runs at nice DOOR_NICE, so heavy queries take only the
// CPU that inference, features and /health leave: on a 2-core machine two heavy queries in the
// server's own process had added 111 ms to the inference p99. Why 10 and not 19: the weight decides
// the split while both stay busy (nice 10: the server keeps ~90%); at nice 19 (~1.5%) a door query on
// a machine busy with other work ran a hundred times slower and met its time limit.
// Nice does not decide how soon a server thread that wakes gets the core, though: Linux's scheduler
// (EEVDF) lets the running thread finish its slice whatever its weight, and notices the end of a
// slice at the next tick (4 ms at 250 Hz), so under heavy queries the server waited up to that long
// for its core at each request (bench/serve.md, session 9). Hence DoorPolicy 'idle' (the default):
// once warm, an engine runs its threads under SCHED_IDLE, which any other thread preempts at once
// when it wakes; an engine that gets almost no CPU so (starved: other work keeps the cores busy) goes
// back to nice DOOR_NICE for the rest of that query (query-door-process.ts).
// - A query beyond the pool gets 503 with Retry-After at once instead of queueing.
// - Rows come back chunk by chunk, already serialised, one chunk in flight: a slow NDJSON reader
//   holds the engine back instead of filling the server's memory (query-answer.ts).
// - The time limit is the engine's (a DuckDB interrupt); an engine that has not stopped shortly after
//   it is killed with its process, and the slot starts a new one on its next query.
// Engine processes start on first use and end with the server (or when it dies: they watch the IPC
// channel).

import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import type { PipelineIR } from '../ir/types.js';
import type { QueryErrorCode } from '../engine/query.js';
import type { QueryResult } from '../engine/duckdb.js';
import { HttpError } from './http.js';

export const DEFAULT_QUERY_LIMIT = 1000;
export const MAX_QUERY_LIMIT = 10_000;
export const QUERY_TIMEOUT_MS = 10_000;
/** Query engines running at once (each one thread, in its own process); a query beyond them gets 503 + Retry-After. */
export const QUERY_POOL_SIZE = 2;
/** DuckDB memory limit of each query engine. */
export const QUERY_MEMORY_LIMIT = '512MB';
/** Nice value of every thread of an engine process (query-door-process.ts). */
export const DOOR_NICE = 10;
/**
 * How an engine yields the CPU once warm: 'idle' (SCHED_IDLE, preempted at once by any other
 * thread's wake-up; back at nice DOOR_NICE while starved) or 'nice' (nice DOOR_NICE only). 'idle'
 * needs Linux, util-linux's chrt and the right to leave SCHED_IDLE again (CAP_SYS_NICE or
 * RLIMIT_NICE): elsewhere an engine stays at 'nice'.
 */
export type DoorPolicy = 'idle' | 'nice';
/** A window of an engine's query (STARVE_WINDOW_MS) in which it was runnable at least half the time and on a core under this share of that: starved. */
export const STARVED_SHARE = 0.05;
export const STARVE_WINDOW_MS = 500;

/**
 * Whether an engine that ran `runNs` and waited `waitNs` for a core (summed over its threads) during
 * a window of `windowNs` is starved. Under SCHED_IDLE beside one busy thread of normal priority an
 * engine gets ~0.3% of the core; at nice 10 it got ~10%: below half of that, nice 10 serves the
 * query better. Two engines sharing a core with each other and a server get far more (~35% each).
 */
export function starved(runNs: number, waitNs: number, windowNs: number): boolean {
  const runnable = runNs + waitNs;
  return runnable >= windowNs / 2 && runNs < STARVED_SHARE * runnable;
}

/** util-linux's chrt, which sets the scheduling policy of every thread of a process (Linux). */
export const CHRT = process.platform === 'linux' ? ['/usr/bin/chrt', '/bin/chrt'].find((f) => existsSync(f)) : undefined;

/**
 * Whether an engine started by this process can run under SCHED_IDLE: chrt is there and the engine
 * may leave SCHED_IDLE again for SCHED_OTHER at DOOR_NICE when starved (sched(7): with CAP_SYS_NICE,
 * or an RLIMIT_NICE of at least 20 - DOOR_NICE; the engine inherits both). Without that right a
 * starved engine could not go back, so it stays at nice DOOR_NICE.
 */
export function idlePossible(): boolean {
  if (!CHRT) return false;
  try {
    const capEff = /^CapEff:\s*([0-9a-f]+)/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1];
    if (capEff && (BigInt(`0x${capEff}`) >> 23n) & 1n) return true; // CAP_SYS_NICE
    const softLimit = /^Max nice priority\s+(\d+)/m.exec(readFileSync('/proc/self/limits', 'utf8'))?.[1];
    return Number(softLimit) >= 20 - DOOR_NICE;
  } catch {
    return false;
  }
}

/** How long an engine process may take to start. */
const START_TIMEOUT_MS = 60_000;
/** After the time limit: how long an engine gets to stop before its process is killed. */
const STOP_GRACE_MS = 250;

/** What an engine process needs: the pipeline, where its state is, the warehouse's local root. */
export interface DoorSetup {
  readonly ir: PipelineIR;
  readonly stateDir: string;
  readonly warehouseRoot: string;
  /** The URI the tables' Iceberg metadata records for that root (`s3://…` for the working copy of an S3 warehouse). */
  readonly warehouseUri: string;
  readonly memoryLimit: string;
  readonly policy: DoorPolicy;
}

export type DoorRequest = { type: 'query'; id: number; sql: string; limit: number; timeoutMs: number } | { type: 'ack'; id: number; more: boolean };

export type DoorReply =
  | { type: 'ready' }
  | { type: 'running'; id: number }
  | { type: 'columns'; id: number; columns: QueryResult['columns'] }
  | { type: 'rows'; id: number; rows: string[] }
  | { type: 'done'; id: number; rows: number; truncated: boolean }
  | { type: 'error'; id: number; kind: 'query'; code: QueryErrorCode; message: string }
  | { type: 'error'; id: number; kind: 'http'; status: number; code: string; message: string; retryAfter?: number }
  | { type: 'error'; id: number; kind: 'internal'; message: string };

/** Where a query's answer goes: its columns once, then its rows (each one JSON text) chunk by chunk. */
export interface SerializedSink {
  columns(columns: QueryResult['columns']): void | Promise<void>;
  /** Return false to stop the query (the rest of the result is never read). */
  rows(rows: readonly string[]): boolean | Promise<boolean>;
}

const QUERY_STATUS: Record<QueryErrorCode, [number, string]> = {
  refused: [400, 'read_only'],
  invalid: [400, 'invalid_sql'],
  timeout: [400, 'query_timeout'],
  failed: [400, 'query_failed'],
};

/** The engine module beside this one, run through tsx when this is the TypeScript source. */
function engineModule(): { file: string; execArgv: string[] } {
  const ts = import.meta.url.endsWith('.ts');
  const file = new URL(`./query-door-process.${ts ? 'ts' : 'js'}`, import.meta.url).pathname;
  return { file, execArgv: ts ? ['--import', pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href] : [] };
}

/** coreutils' nice, where there is one (every Linux, macOS). */
const NICE_BIN = ['/usr/bin/nice', '/bin/nice'].find((f) => process.platform !== 'win32' && existsSync(f));

/**
 * The command line of an engine process: node under `nice -n DOOR_NICE`, so the process is at the
 * door's priority from its first instruction, and with --liftoff-only (as every asgard process, see
 * src/cli/main.ts) so V8 does not re-compile the SQL toolkit's WebAssembly with TurboFan on
 * background threads. An engine starts on the first query and again after one is killed at its time
 * limit; a start measured 7.5 s of CPU, 5.8 s of it that re-compilation, 1.7 s with the flag, and it
 * ran at the server's priority until the engine lowered itself once warm: on the 2-core machine two
 * starts took the server's core for seconds (bench/query-load.md, 2026-12-02 session 5). Without a
 * nice command the engine lowers itself (query-door-process.ts), later.
 */
export function engineCommand(setup: DoorSetup): { command: string; args: string[] } {
  const { file, execArgv } = engineModule();
  const tierUp = process.env.ASGARD_WASM_TIER_UP === '1';
  const node = [...(tierUp ? [] : ['--liftoff-only']), ...execArgv, file, JSON.stringify(setup)];
  return NICE_BIN ? { command: NICE_BIN, args: ['-n', String(DOOR_NICE), process.execPath, ...node] } : { command: process.execPath, args: node };
}

interface Engine {
  readonly child: ChildProcess;
  readonly ready: Promise<void>;
  /** The query running on it, told of every reply and of the process's end. */
  current?: (m: DoorReply | { type: 'exit'; why: string }) => void;
}

interface Slot {
  engine?: Engine;
  busy: boolean;
}

export class QueryDoor {
  private readonly slots: Slot[] = Array.from({ length: QUERY_POOL_SIZE }, () => ({ busy: false }));
  private nextId = 1;
  private closed = false;

  constructor(private readonly setup: DoorSetup) {}

  /** Query engines busy now, of how many (GET /health). */
  load(): { busy: number; size: number } {
    return { busy: this.slots.filter((s) => s.busy).length, size: this.slots.length };
  }

  /** Process ids of the running engines (tests look at their priority). */
  pids(): number[] {
    return this.slots.flatMap((s) => (s.engine?.child.pid !== undefined && s.engine.child.exitCode === null ? [s.engine.child.pid] : []));
  }

  private start(slot: Slot): Engine {
    const { command, args } = engineCommand(this.setup);
    const child = spawn(command, args, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], serialization: 'json' });
    let onReady: () => void = () => {};
    let onFail: (e: Error) => void = () => {};
    const ready = new Promise<void>((resolve, reject) => {
      onReady = resolve;
      onFail = reject;
    });
    ready.catch(() => undefined);
    const timer = setTimeout(() => {
      onFail(
        new HttpError(503, 'query_door_unavailable', `the query engine did not start within ${START_TIMEOUT_MS / 1000} s; retry in a moment`, undefined, 1),
      );
      child.kill('SIGKILL');
    }, START_TIMEOUT_MS);
    const engine: Engine = { child, ready };
    child.on('message', (m: DoorReply) => {
      if (m.type === 'ready') {
        clearTimeout(timer);
        onReady();
      } else engine.current?.(m);
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      const why = signal ? `signal ${signal}` : `exit code ${code}`;
      onFail(new HttpError(503, 'query_door_unavailable', `the query engine stopped (${why}); retry in a moment`, undefined, 1));
      engine.current?.({ type: 'exit', why });
      if (slot.engine === engine) slot.engine = undefined;
    });
    child.on('error', () => undefined); // an exit follows
    // Neither the process nor its channel keeps the server's event loop alive.
    child.unref();
    (child as unknown as { channel?: { unref(): void } }).channel?.unref();
    return engine;
  }

  /**
   * One read-only SELECT, at most `limit` rows, on a free engine (else 503), its rows fed to `sink`
   * as they are read.
   */
  async query(sql: string, sink: SerializedSink, limit = DEFAULT_QUERY_LIMIT, timeoutMs = QUERY_TIMEOUT_MS): Promise<{ rows: number; truncated: boolean }> {
    const slot = this.slots.find((s) => !s.busy);
    if (!slot || this.closed) throw new HttpError(503, 'query_door_busy', `all ${QUERY_POOL_SIZE} query engines are busy; retry in a moment`, undefined, 1);
    slot.busy = true;
    try {
      slot.engine ??= this.start(slot);
      const engine = slot.engine;
      await engine.ready;
      return await this.run(slot, engine, sql, sink, limit, timeoutMs);
    } finally {
      slot.busy = false;
    }
  }

  private run(slot: Slot, engine: Engine, sql: string, sink: SerializedSink, limit: number, timeoutMs: number): Promise<{ rows: number; truncated: boolean }> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      let settled = false;
      const finish = (f: () => void) => {
        if (settled) return;
        settled = true;
        clearTimeout(deadline);
        engine.current = undefined;
        f();
      };
      // The engine interrupts itself at the limit; one still busy shortly after is killed. Until the
      // engine is open over the current snapshots (it reopens when an apply committed), the start's
      // limit applies.
      const kill = (e: HttpError) => {
        finish(() => reject(e));
        if (slot.engine === engine) slot.engine = undefined;
        engine.child.kill('SIGKILL');
      };
      const timedOut = () => kill(new HttpError(400, 'query_timeout', `the query ran longer than ${timeoutMs} ms and was stopped`, { field: 'sql' }));
      let deadline = setTimeout(
        () =>
          kill(
            new HttpError(
              503,
              'query_door_unavailable',
              `the query engine did not open the warehouse within ${START_TIMEOUT_MS / 1000} s; retry in a moment`,
              undefined,
              1,
            ),
          ),
        START_TIMEOUT_MS,
      );
      const ack = (more: boolean) => {
        if (!settled && engine.child.connected) engine.child.send({ type: 'ack', id, more } satisfies DoorRequest);
      };
      // The sink's errors (413 of a JSON answer over its limit) stop the query and are the answer.
      const toSink = (f: () => unknown, then: (v: unknown) => void) => {
        Promise.resolve()
          .then(f)
          .then(then, (e: unknown) => {
            ack(false);
            finish(() => reject(e));
          });
      };
      engine.current = (m) => {
        if ('id' in m && m.id !== id) return;
        switch (m.type) {
          case 'running':
            clearTimeout(deadline);
            deadline = setTimeout(timedOut, timeoutMs + STOP_GRACE_MS);
            return;
          case 'columns':
            toSink(
              () => sink.columns(m.columns),
              () => undefined,
            );
            return;
          case 'rows':
            toSink(
              () => sink.rows(m.rows),
              (more) => ack(more !== false),
            );
            return;
          case 'done':
            // After the sink took every chunk (they are queued on the same promise chain order).
            Promise.resolve().then(() => finish(() => resolve({ rows: m.rows, truncated: m.truncated })));
            return;
          case 'error':
            finish(() => reject(replyError(m)));
            return;
          case 'exit':
            finish(() => reject(new HttpError(503, 'query_door_unavailable', `the query engine stopped (${m.why}); retry in a moment`, undefined, 1)));
            return;
        }
      };
      engine.child.send({ type: 'query', id, sql, limit, timeoutMs } satisfies DoorRequest);
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    const running = this.slots.flatMap((s) => (s.engine ? [s.engine] : []));
    for (const s of this.slots) s.engine = undefined;
    await Promise.all(
      running.map(
        (e) =>
          new Promise<void>((resolve) => {
            if (e.child.exitCode !== null || e.child.signalCode !== null) return resolve();
            e.child.once('exit', () => resolve());
            e.child.kill('SIGTERM');
          }),
      ),
    );
  }
}

function replyError(m: Extract<DoorReply, { type: 'error' }>): Error {
  if (m.kind === 'query') {
    const [status, code] = QUERY_STATUS[m.code] ?? [400, 'invalid_sql'];
    return new HttpError(status, code, m.message, { field: 'sql' });
  }
  if (m.kind === 'http') return new HttpError(m.status, m.code, m.message, undefined, m.retryAfter);
  return new Error(`query engine: ${m.message}`);
}
