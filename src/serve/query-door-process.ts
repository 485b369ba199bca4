// One engine of the query door (src/serve/query-door.ts), in a process of its own at a low
// scheduling priority (DOOR_NICE): a heavy query takes only the CPU that the server's inference, features and
// health endpoints leave (issue #11: two heavy queries in the server's process added 111 ms to the
// inference p99 on two cores). Started by the server under `nice` (query-door.ts engineCommand), so
// its start already runs at DOOR_NICE; speaks over the IPC channel:
//   in:  {type: 'query', id, sql, limit, timeoutMs}   one at a time
//        {type: 'ack', id, more}                      the previous chunk of rows was taken; more?
//   out: {type: 'ready'}                              once, at start
//        {type: 'running', id}                        the engine is open; the time limit starts
//        {type: 'columns', id, columns}
//        {type: 'rows', id, rows}                     each row already JSON (bigints as strings)
//        {type: 'done', id, rows, truncated}
//        {type: 'error', id, kind: 'query' | 'http' | 'internal', …}
// The engine (one DuckDB thread, QUERY_MEMORY_LIMIT) is opened over the committed snapshots and
// reopened when the state file changes; its guards are the engine's (src/engine/query.ts).
// Once warm, with DoorPolicy 'idle', every thread of the engine runs under SCHED_IDLE, and a query
// that starves there runs on at nice DOOR_NICE until it ends (query-door.ts).

import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { setPriority } from 'node:os';
import type { DuckDBConnection } from '@duckdb/node-api';
import type { PipelineIR } from '../ir/types.js';
import { Workspace } from '../workspace/workspace.js';
import { openReadOnlyWarehouse, QueryError, readOnlySql, streamReadOnlyQuery } from '../engine/query.js';
import { HttpError } from './http.js';
import { readServedState } from './state.js';
import { CHRT, DOOR_NICE, type DoorReply, type DoorRequest, type DoorSetup, idlePossible, STARVE_WINDOW_MS, starved } from './query-door.js';

/**
 * Where the engine was started without a nice command: on Linux a nice value belongs to a thread,
 * and a new thread inherits its creator's: every thread that exists now is lowered (V8's and libuv's
 * helpers), and those made later (DuckDB's, libuv's pool) are made by lowered threads. Elsewhere the
 * process's priority is the one there is. Under nice it changes nothing.
 */
function lowerPriority(): void {
  try {
    setPriority(0, DOOR_NICE);
  } catch {
    // not permitted here: the door still works, at the server's priority
  }
  let tasks: string[] = [];
  try {
    tasks = readdirSync('/proc/self/task');
  } catch {
    return;
  }
  for (const t of tasks) {
    try {
      setPriority(Number(t), DOOR_NICE);
    } catch {
      // a thread that ended meanwhile
    }
  }
}

/** Every thread of this process under SCHED_IDLE, or back under SCHED_OTHER (at its nice, DOOR_NICE); whether chrt did it. */
function schedule(toIdle: boolean): boolean {
  if (!CHRT) return false;
  return spawnSync(CHRT, ['--all-tasks', toIdle ? '--idle' : '--other', '--pid', '0', String(process.pid)], { stdio: 'ignore' }).status === 0;
}

/** ns on a core and ns runnable but waiting for one, summed over this process's threads (/proc/self/task/TID/schedstat). */
function schedTimes(): [number, number] {
  let run = 0;
  let wait = 0;
  for (const t of readdirSync('/proc/self/task')) {
    try {
      const [r, w] = readFileSync(`/proc/self/task/${t}/schedstat`, 'utf8').split(' ').map(Number);
      run += r || 0;
      wait += w || 0;
    } catch {
      // a thread that ended meanwhile
    }
  }
  return [run, wait];
}

/**
 * While a query runs under SCHED_IDLE: every STARVE_WINDOW_MS, whether the engine starved in the
 * window (query-door.ts starved); if it did, back to nice DOOR_NICE until the query ends. Returns
 * the guard's end, which puts the engine under SCHED_IDLE again.
 */
function guardStarvation(): () => void {
  let [run0, wait0] = schedTimes();
  let t0 = process.hrtime.bigint();
  let lifted = false;
  const timer = setInterval(() => {
    const [run, wait] = schedTimes();
    const t = process.hrtime.bigint();
    if (starved(run - run0, wait - wait0, Number(t - t0))) {
      lifted = schedule(false);
      if (lifted) clearInterval(timer);
    }
    [run0, wait0, t0] = [run, wait, t];
  }, STARVE_WINDOW_MS);
  return () => {
    clearInterval(timer);
    if (lifted) schedule(true);
  };
}

const setup = JSON.parse(process.argv[2] ?? '{}') as DoorSetup;
/** Whether this engine runs under SCHED_IDLE once warm (DoorPolicy 'idle', where it can). */
const underIdle = setup.policy === 'idle' && idlePossible();
const ir = setup.ir as PipelineIR;
const { state: store, warehouse } = Workspace.reopen({ ...setup, name: ir.name });
let engine: { mtimeMs: number; conn: DuckDBConnection } | undefined;

const send = (m: DoorReply): void => void process.send?.(m);

function stateMtime(): number {
  try {
    return statSync(store.file).mtimeMs;
  } catch {
    return -1;
  }
}

async function connection(): Promise<DuckDBConnection> {
  const mtimeMs = stateMtime();
  if (engine && engine.mtimeMs === mtimeMs) return engine.conn;
  engine?.conn.closeSync();
  engine = undefined;
  const state = readServedState(store);
  const conn = await openReadOnlyWarehouse(state, warehouse, ir, { memory_limit: setup.memoryLimit, threads: '1' });
  engine = { mtimeMs, conn };
  lowerPriority();
  return conn;
}

/** Acks of the chunk in flight, by query id. */
const waiting = new Map<number, (more: boolean) => void>();

async function run(q: Extract<DoorRequest, { type: 'query' }>): Promise<void> {
  const unguard = underIdle ? guardStarvation() : undefined;
  let last: DoorReply;
  try {
    const conn = await connection();
    send({ type: 'running', id: q.id });
    const json = (v: unknown): string => JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? x.toString() : x));
    const r = await streamReadOnlyQuery(
      conn,
      q.sql,
      { limit: q.limit, timeoutMs: q.timeoutMs },
      {
        columns: (columns) => send({ type: 'columns', id: q.id, columns }),
        rows: (rows) =>
          new Promise<boolean>((resolve) => {
            waiting.set(q.id, resolve);
            send({ type: 'rows', id: q.id, rows: rows.map(json) });
          }),
      },
    );
    last = { type: 'done', id: q.id, rows: r.rows, truncated: r.truncated };
  } catch (e) {
    if (e instanceof QueryError) last = { type: 'error', id: q.id, kind: 'query', code: e.code, message: e.message };
    else if (e instanceof HttpError)
      last = { type: 'error', id: q.id, kind: 'http', status: e.status, code: e.code, message: e.message, retryAfter: e.retryAfter };
    else last = { type: 'error', id: q.id, kind: 'internal', message: (e as Error)?.message ?? String(e) };
  } finally {
    waiting.delete(q.id);
  }
  // Back under SCHED_IDLE before the answer ends: once the server has it, the engine yields again.
  unguard?.();
  send(last);
}

process.on('message', (m: DoorRequest) => {
  if (m.type === 'query') void run(m);
  else if (m.type === 'ack') waiting.get(m.id)?.(m.more);
});
// The server went away: so does its engine.
process.on('disconnect', () => process.exit(0));

// Ready once warm: the SQL toolkit loaded (its first parse compiles it) and the engine open over the
// current snapshots when there are any, so a query's time limit counts the query alone.
try {
  readOnlySql('SELECT 1');
} catch {
  // a query reports it
}
await connection().catch(() => undefined);
lowerPriority();
if (underIdle) schedule(true);
send({ type: 'ready' });
