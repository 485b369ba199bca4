// The `asgard` process (after src/cli/main.ts): run the CLI on the real streams, then exit with its
// code once stdout has drained (so a large JSON document is never cut off, and a handle an executor
// left open — a database pool, a timer — cannot keep the process alive after the work is done).
//
// Two safety nets keep a bug from ending the process without a word (issue: a MariaDB server
// killed mid-read once made apply exit 13 with nothing printed): an unhandled rejection is
// reported and makes the exit code at least 1 while the command goes on to its summary, and a
// command whose work can no longer finish (the event loop emptied while it was pending, Node's
// exit 13) is reported as an execution failure, with the JSON error document under --format json.
//
// V8's WebAssembly flags (--liftoff-only, --wasm-lazy-validation: ./wasm-flags.cts) are set before
// the SQL toolkit can load, hence the dynamic imports below (the bundle defers them further).
import { processWasmFlags } from './wasm-flags.cjs';
import { writeFileAtomic } from '../util/fs-atomic.js';
import type { Invocation, ReplayProof } from './plan-replay.cjs';

/** A plan process a later one may replay: what it prints is recorded (src/cli/plan-replay.cts). */
export interface Recording {
  readonly replay: typeof import('./plan-replay.cjs');
  readonly invocation: Invocation;
}

export async function runProcess(argv: readonly string[], recording?: Recording): Promise<void> {
  processWasmFlags(process.env);

  // `asgard serve` runs in a node started with a server's young generation (relaunch.ts).
  const { followParent, relaunch, relaunchArgs, ServeGcError } = await import('./relaunch.js');
  let nodeArgs: string[] | undefined;
  try {
    nodeArgs = await relaunchArgs(argv, process.execArgv);
  } catch (e) {
    if (!(e instanceof ServeGcError)) throw e;
    process.stderr.write(`error: ${e.message}\n`);
    process.exit(2); // EXIT.invalid (src/cli/command.ts)
  }
  if (nodeArgs) process.exit(await relaunch(nodeArgs, process.argv[1], argv));
  followParent();

  const { processIO, runCli, wantsJson } = await import('./run.js');
  const io = processIO();
  let printed = false;
  const out = io.out;
  // What a replayable plan prints, kept for the next one; anything on stderr (a warning), and it is not.
  const record = recording ? { out: [] as string[], err: false, proof: undefined as ReplayProof | undefined } : undefined;
  io.out = (t) => {
    printed = true;
    record?.out.push(t);
    out(t);
  };
  if (record) {
    const err = io.err;
    io.err = (t) => {
      record.err = true;
      err(t);
    };
  }
  let internalError = false;
  const debug = process.env.ASGARD_DEBUG === '1';
  const describe = (e: unknown) => (debug ? String((e as Error)?.stack ?? e) : String((e as Error)?.message ?? e));
  process.on('unhandledRejection', (e) => {
    internalError = true;
    io.err(`error: internal error (a bug in asgard): ${describe(e)}\n`);
  });
  const exit = (code: number) => {
    process.exitCode = code;
    process.stdout.write('', () => process.stderr.write('', () => process.exit(code)));
  };
  let finished = false;
  process.on('beforeExit', () => {
    if (finished) return;
    finished = true;
    const message = 'the command stopped before finishing: an operation it waited for can never complete (a bug in asgard; ASGARD_DEBUG=1 shows more)';
    io.err(`error: ${message}\n`);
    if (wantsJson(argv) && !printed) out(JSON.stringify({ ok: false, error: { message } }) + '\n');
    exit(1);
  });
  const code = await runCli(argv, io, record ? { replayable: (proof) => (record.proof = proof) } : {});
  finished = true;
  if (recording && record?.proof && !record.err && !internalError)
    recording.replay.recordReplay(recording.invocation, record.proof, record.out.join(''), code, writeFileAtomic);
  exit(internalError && code === 0 ? 1 : code);
}
