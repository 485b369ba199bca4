// Long-running servers the checks start on loopback: a real MLflow tracking server (sqlite backend,
// local artifact root) and `asgard serve`. Each runs in its own process group and is ended by it.

import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { killGroup } from './proc.js';
import type { Toolchain } from './toolchain.js';

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      const port = typeof a === 'object' && a ? a.port : 0;
      s.close(() => resolve(port));
    });
  });
}

export interface RunningServer {
  readonly url: string;
  readonly child: ChildProcess;
  stop(): Promise<void>;
}

async function waitHealthy(url: string, child: ChildProcess, timeoutMs: number, what: string, logFile: string): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (child.exitCode !== null) throw new Error(`${what} exited with ${child.exitCode} before answering; see ${logFile}`);
    try {
      const r = await fetch(url, { signal: AbortSignal.timeout(2000) });
      if (r.ok) return;
    } catch {
      /* not yet */
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`${what} did not answer ${url} within ${timeoutMs / 1000} s; see ${logFile}`);
}

function stopper(child: ChildProcess): () => Promise<void> {
  return async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    killGroup(child, 'SIGTERM');
    const t = setTimeout(() => killGroup(child, 'SIGKILL'), 10_000);
    await exited;
    clearTimeout(t);
  };
}

/** `mlflow server` with a sqlite backend store and a local artifact root, on 127.0.0.1. */
export async function startMlflow(tools: Toolchain, dir: string): Promise<RunningServer> {
  mkdirSync(join(dir, 'artifacts'), { recursive: true });
  const port = await freePort();
  const logFile = join(dir, 'mlflow-server.log');
  const out = createWriteStream(logFile);
  const child = spawn(
    join(tools.bin, 'mlflow'),
    [
      'server',
      '--backend-store-uri',
      `sqlite:///${join(dir, 'mlflow.db')}`,
      '--default-artifact-root',
      join(dir, 'artifacts'),
      '--host',
      '127.0.0.1',
      '--port',
      String(port),
      '--workers',
      '1',
    ],
    // No background job runner (huey consumers): nothing here uses MLflow jobs.
    { cwd: dir, env: { ...tools.env, MLFLOW_SERVER_ENABLE_JOB_EXECUTION: 'false' }, detached: true, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  child.stdout!.pipe(out);
  child.stderr!.pipe(out);
  const url = `http://127.0.0.1:${port}`;
  const stop = stopper(child);
  try {
    await waitHealthy(`${url}/health`, child, 240_000, 'mlflow server', logFile);
  } catch (e) {
    await stop();
    throw e;
  }
  return { url, child, stop };
}

/** `asgard serve SPEC --state DIR --port 0` (the port it picked is read from its JSON line). */
export async function startAsgardServe(argv: readonly string[], env: NodeJS.ProcessEnv, cwd: string, logFile: string): Promise<RunningServer> {
  const child = spawn(process.execPath, [...argv, '--port', '0', '--format', 'json'], { cwd, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  const out = createWriteStream(logFile);
  child.stderr!.pipe(out);
  const stop = stopper(child);
  const url = await new Promise<string>((resolve, reject) => {
    let buf = '';
    const t = setTimeout(() => reject(new Error(`asgard serve printed no address within 120 s; see ${logFile}`)), 120_000);
    child.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      // One JSON document (possibly spread over several lines) once it listens.
      const start = buf.indexOf('{');
      if (start >= 0) {
        try {
          const doc = JSON.parse(buf.slice(start)) as { url: string };
          clearTimeout(t);
          resolve(doc.url);
        } catch {
          /* not complete yet */
        }
      }
    });
    child.once('exit', (code) => {
      clearTimeout(t);
      reject(new Error(`asgard serve exited with ${code}; see ${logFile}`));
    });
  }).catch(async (e) => {
    await stop();
    throw e;
  });
  // It prints its address once it is listening.
  return { url, child, stop };
}
