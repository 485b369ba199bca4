// A repeated `asgard plan` process, answered before the CLI loads (#16.3). The last plan process of
// a spec whose plan was replayable (src/cli/plan-cache.ts) leaves what it printed in the workspace's
// `cache/plans/<spec>.out`, with the proof of what it was made from: the very command line, folder
// and terminal, the build id (asgard's own code and the tools' versions: src/workspace/build-id.ts),
// the spec's path and whole text (compared byte for byte: cheaper than hashing it), the state file's
// hash, every file of the warehouse's snapshots the plan relied on being there, and which of the
// spec's secrets were set. The next process with the same command line checks all of it and prints
// the same bytes with the same exit code; any difference, or anything it cannot prove (another flag,
// a `--var`, a state or warehouse that a profile's env() setting places, an `--out` to write), runs
// the CLI as usual.
//
// CommonJS (compiled to plan-replay.cjs), as are the two modules it loads (src/workspace/
// cache-paths.cts, build-signature.cts): bin/asgard.js asks it before Node's ES module loader starts,
// and nothing on the way loads node:crypto (unless a state file is there to hash), Node's streams or
// process.stdout (the output is written to fd 1 directly). That loading was most of what a replayed
// plan cost beyond Node's own start (bench/plan.md, session 10).

import { closeSync, constants, existsSync, fstatSync, openSync, readFileSync, readSync, writeSync } from 'node:fs';
import { resolve } from 'node:path';
import { runningMemoizedId } from '../workspace/build-signature.cjs';
import { buildIdMemoFile, cacheDirOf, replayFile, stateDirOf } from '../workspace/cache-paths.cjs';

/** What a plan's output was made from, besides the command line (given by the plan command: plan-cache.ts replayProof). */
export interface ReplayProof {
  /** Where the record is kept (WorkspaceCaches.replayFile). */
  readonly record: string;
  /** The build id (src/workspace/build-id.ts) of the code that made the plan. */
  readonly build: string;
  /** The spec's absolute path and the text the plan was made from (kept whole, compared byte for byte). */
  readonly spec: { readonly file: string; readonly text: string };
  /** The state file and its hash (StateStore.lastRead; `none`: no file). */
  readonly state: { readonly file: string; readonly hash: string };
  /** Local paths the plan found there (the warehouse's snapshots): each must still exist. */
  readonly present: readonly string[];
  /** Environment variables whose being set changes what is printed (the spec's secrets). */
  readonly env: readonly string[];
}

/** How the process was started, as far as it changes what `plan` prints. */
export interface Invocation {
  readonly argv: readonly string[];
  readonly cwd: string;
  readonly stdoutIsTTY: boolean;
  readonly stderrIsTTY: boolean;
  readonly env: Readonly<Record<string, string | undefined>>;
}

/**
 * The record's first line. The spec's text follows it (`specBytes` bytes), then the paths that must
 * exist (JSON, `presentBytes`), then the output: read in that order, each part only if the one
 * before matched (an edited spec is found without reading a large plan's output).
 */
interface Header {
  readonly version: 2;
  readonly invocation: string;
  readonly build: string;
  readonly spec: string;
  readonly specBytes: number;
  readonly presentBytes: number;
  readonly state: ReplayProof['state'];
  readonly env: readonly string[];
  readonly code: number;
}

const isSet = (env: Invocation['env'], name: string) => (env[name] ?? '') !== '';

const invocationKey = (inv: Invocation, envNames: readonly string[]): string =>
  JSON.stringify([inv.argv, inv.cwd, inv.stdoutIsTTY, inv.stderrIsTTY, isSet(inv.env, 'NO_COLOR'), envNames.map((n) => isSet(inv.env, n))]);

const VALUED = new Set(['--format', '--state', '--profile']);
const FLAGS = new Set(['--detailed-exitcode', '--no-color']);

/** The spec and `--state` of `plan SPEC` with only the options a replay may have; undefined for anything else. */
function planArgs(argv: readonly string[]): { spec: string; stateDir?: string } | undefined {
  if (argv[0] !== 'plan') return undefined;
  let spec: string | undefined;
  let stateDir: string | undefined;
  for (let i = 1; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('-')) {
      if (spec !== undefined) return undefined;
      spec = a;
      continue;
    }
    if (FLAGS.has(a)) continue;
    const eq = a.indexOf('=');
    const name = eq < 0 ? a : a.slice(0, eq);
    if (!VALUED.has(name)) return undefined;
    const value = eq < 0 ? argv[++i] : a.slice(eq + 1);
    if (value === undefined || value === '' || value.startsWith('-')) return undefined;
    if (name === '--state') stateDir = value;
  }
  return spec === undefined || spec === '' ? undefined : { spec, ...(stateDir !== undefined ? { stateDir } : {}) };
}

/** Whether a plan process with this command line may be replayed later (and so records its output). */
export const replayableArgs = (argv: readonly string[]): boolean => planArgs(argv) !== undefined;

/** What the last plan process with this very invocation printed and its exit code, if nothing it was made from changed. */
export function replayed(inv: Invocation): { out: Buffer; code: number } | undefined {
  const args = planArgs(inv.argv);
  if (!args) return undefined;
  const spec = resolve(inv.cwd, args.spec);
  const cacheDir = cacheDirOf(stateDirOf(spec, { stateDir: args.stateDir, cwd: inv.cwd }));
  let fd: number;
  try {
    fd = openSync(replayFile(cacheDir, spec), 'r');
  } catch {
    return undefined; // no record
  }
  try {
    const size = fstatSync(fd).size;
    const first = readAt(fd, 0, Math.min(size, HEADER_BYTES));
    const nl = first.indexOf(10);
    if (nl < 0) return undefined;
    const h = JSON.parse(first.toString('utf8', 0, nl)) as Header;
    if (h.version !== 2 || h.spec !== spec || h.invocation !== invocationKey(inv, h.env)) return undefined;
    let at = nl + 1;
    if (at + h.specBytes + h.presentBytes > size || !sameBytes(spec, fd, at, h.specBytes)) return undefined;
    at += h.specBytes;
    // The build id the memo names for the code as it is now (none: the plan hashes the code).
    if (runningMemoizedId(buildIdMemoFile(cacheDir)) !== h.build || stateHash(h.state.file) !== h.state.hash) return undefined;
    const present = JSON.parse(readAt(fd, at, h.presentBytes).toString('utf8')) as string[];
    if (!present.every((p) => existsSync(p))) return undefined;
    at += h.presentBytes;
    return { out: readAt(fd, at, size - at), code: h.code };
  } catch {
    return undefined; // a torn or foreign record: planned as usual
  } finally {
    closeSync(fd);
  }
}

let asked: { readonly invocation: Invocation; readonly answered: boolean } | undefined;

/** This process's invocation (its terminals found without process.stdout, which loads Node's streams). */
export const processInvocation = (): Invocation =>
  asked?.invocation ?? {
    argv: process.argv.slice(2),
    cwd: process.cwd(),
    stdoutIsTTY: isTTY(1),
    stderrIsTTY: isTTY(2),
    env: process.env,
  };

/**
 * Answers this `asgard plan` process from the record, if it may: prints the recorded output, sets the
 * exit code and returns true. Asked once per process (bin/asgard.js asks, then src/cli/main.ts, which
 * is also an entry of its own): a second ask returns the first answer.
 */
export function replayProcess(): boolean {
  if (asked) return asked.answered;
  const invocation = processInvocation();
  const hit = replayed(invocation);
  asked = { invocation, answered: hit !== undefined };
  if (hit) {
    process.exitCode = hit.code;
    writeOut(hit.out);
  }
  return asked.answered;
}

/** Whether the file descriptor `fd` is a terminal, as process.stdout.isTTY says (a terminal is a character device: anything else is known from one fstat). */
function isTTY(fd: number): boolean {
  try {
    if (!fstatSync(fd).isCharacterDevice()) return false;
  } catch {
    return false; // closed
  }
  return (require('node:tty') as typeof import('node:tty')).isatty(fd);
}

/** Writes `out` to stdout: to fd 1 directly; what a non-blocking or failing stdout does not take goes through process.stdout, as before. */
function writeOut(out: Buffer): void {
  let n = 0;
  try {
    while (n < out.length) n += writeSync(1, out, n, out.length - n);
  } catch {
    process.stdout.write(out.subarray(n));
  }
}

/** The header line is short (the command line, paths, hashes): read in one go with what follows. */
const HEADER_BYTES = 64 * 1024;

/** `length` bytes of the open file `fd` from `offset` (fewer at its end). */
function readAt(fd: number, offset: number, length: number): Buffer {
  const buf = Buffer.allocUnsafe(length);
  const n = readInto(fd, buf, length, offset);
  return n === length ? buf : buf.subarray(0, n);
}

/**
 * Whether the file `file` holds exactly the `length` bytes of the open file `fd` from `offset` (a
 * regular file: the recorded text was read under the spec size limit, src/cli/spec-text.ts). Compared
 * a piece at a time in two small buffers: reading both whole cost a fresh 1 MB for a 1,000-node spec.
 */
function sameBytes(file: string, fd: number, offset: number, length: number): boolean {
  let other: number;
  try {
    other = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK); // a FIFO named as the spec must not block the open
  } catch {
    return false;
  }
  try {
    const st = fstatSync(other);
    if (!st.isFile() || st.size !== length) return false;
    const a = Buffer.allocUnsafe(Math.min(length, PIECE) + 1);
    const b = Buffer.allocUnsafe(a.length);
    for (let at = 0; at < length; at += PIECE) {
      const n = Math.min(PIECE, length - at);
      if (readInto(fd, a, n, offset + at) !== n || readInto(other, b, n, at) !== n || a.compare(b, 0, n, 0, n) !== 0) return false;
    }
    return readInto(other, b, 1, length) === 0; // and nothing after (the file grew since it was stated)
  } catch {
    return false;
  } finally {
    closeSync(other);
  }
}

const PIECE = 64 * 1024;

/** Reads `length` bytes of `fd` from `position` into the start of `buf`; how many there were. */
function readInto(fd: number, buf: Buffer, length: number, position: number): number {
  let n = 0;
  while (n < length) {
    const r = readSync(fd, buf, n, length - n, position + n);
    if (r === 0) break;
    n += r;
  }
  return n;
}

/** StateStore.lastRead's hash of the state file now (node:crypto loaded only when there is a file to hash). */
function stateHash(file: string): string | undefined {
  if (!existsSync(file)) return 'none';
  try {
    const { createHash } = require('node:crypto') as typeof import('node:crypto');
    return createHash('sha256').update(readFileSync(file, 'utf8')).digest('hex');
  } catch {
    return undefined;
  }
}

/** How the record is written: src/util/fs-atomic.ts writeFileAtomic, handed over by the process (this module loads no ES module). */
export type AtomicWrite = (path: string, data: readonly Uint8Array[], durable: boolean) => void;

/** Keeps what a plan process printed (stdout; it printed nothing on stderr) for the next one with the same invocation. */
export function recordReplay(inv: Invocation, proof: ReplayProof, out: string, code: number, write: AtomicWrite): void {
  const text = Buffer.from(proof.spec.text);
  const present = Buffer.from(JSON.stringify(proof.present));
  const header: Header = {
    version: 2,
    invocation: invocationKey(inv, proof.env),
    build: proof.build,
    spec: proof.spec.file,
    specBytes: text.length,
    presentBytes: present.length,
    state: proof.state,
    env: proof.env,
    code,
  };
  const head = Buffer.from(`${JSON.stringify(header)}\n`);
  if (head.length > HEADER_BYTES) return; // a command line too long to be worth keeping
  try {
    write(proof.record, [head, text, present, Buffer.from(out)], false);
  } catch {
    // a cache: a read-only state folder means the next plan is made (or replayed) as usual
  }
}
