// Running the real tools as child processes: output captured (and kept in a log file beside the
// workspace for post-mortems), a time limit, and a failure that quotes the tail of the output.

import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync } from 'node:fs';

export interface RunOptions {
  readonly cwd?: string;
  readonly env?: NodeJS.ProcessEnv;
  readonly timeoutMs?: number;
  /** Append the command and its output here. */
  readonly log?: string;
  /** Non-zero exit is returned instead of thrown. */
  readonly allowFailure?: boolean;
  readonly stdin?: string;
}

export interface RunResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  readonly seconds: number;
}

export class ToolFailed extends Error {}

export function run(cmd: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  const started = performance.now();
  return new Promise((resolvePromise, reject) => {
    const child = spawn(cmd, args, { cwd: opts.cwd, env: opts.env ?? process.env, stdio: ['pipe', 'pipe', 'pipe'], detached: true });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdin.end(opts.stdin ?? '');
    const timer = setTimeout(
      () => {
        stderr += `\n[killed after ${opts.timeoutMs} ms]`;
        killGroup(child);
      },
      opts.timeoutMs ?? 20 * 60_000,
    );
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(new ToolFailed(`${cmd} could not start: ${e.message}`));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const seconds = (performance.now() - started) / 1000;
      const exit = code ?? (signal ? 128 : 1);
      if (opts.log) {
        appendFileSync(opts.log, `\n$ ${cmd} ${args.join(' ')}\n[exit ${exit}, ${seconds.toFixed(1)} s]\n--- stdout\n${stdout}\n--- stderr\n${stderr}\n`);
      }
      if (exit !== 0 && !opts.allowFailure) {
        reject(new ToolFailed(`${cmd} ${args.join(' ')} exited ${exit}\n${tail(stderr, 40)}\n${tail(stdout, 20)}`));
        return;
      }
      resolvePromise({ code: exit, stdout, stderr, seconds });
    });
  });
}

/** The last n lines of a text. */
export function tail(s: string, n: number): string {
  const lines = s.trimEnd().split('\n');
  return lines.slice(-n).join('\n');
}

/** Ends a child started with detached: true and everything it started (its process group). */
export function killGroup(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): void {
  if (child.pid === undefined || child.exitCode !== null) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    /* already gone */
  }
}
