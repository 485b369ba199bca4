// Shared tools of the adversarial suite: a TCP proxy in front of a real server that a test can cut
// mid-stream (the server "dies" for asgard without touching the shared services other tests use),
// a snapshot of every file under a folder (to assert that a refused or failed run changed nothing),
// and the real `asgard` process.

import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { join, relative, resolve } from 'node:path';

export const ROOT = resolve(import.meta.dirname, '..', '..');

export interface CutProxy {
  readonly port: number;
  /** Bytes sent from the server to the client so far. */
  readonly served: () => number;
  close(): Promise<void>;
}

/**
 * Forwards 127.0.0.1:port → target; once `cutAfter` bytes came back from the server (across all
 * connections), every socket is destroyed and new connections are refused, as when the server is
 * killed. `cutAfter: Infinity` never cuts.
 */
export async function cutProxy(target: { host: string; port: number }, cutAfter: number): Promise<CutProxy> {
  const sockets = new Set<Socket>();
  let served = 0;
  let cut = false;
  const kill = () => {
    cut = true;
    for (const s of sockets) s.destroy();
  };
  const server: Server = createServer((client) => {
    if (cut) return client.destroy();
    const upstream = createConnection(target);
    sockets.add(client);
    sockets.add(upstream);
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
    client.on('data', (d) => upstream.write(d));
    upstream.on('data', (d) => {
      served += d.length;
      if (served > cutAfter) return kill();
      client.write(d);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as { port: number }).port,
    served: () => served,
    close: () =>
      new Promise<void>((r) => {
        kill();
        server.close(() => r());
      }),
  };
}

/**
 * sha256 of every file under dir, by relative path: equal before and after = nothing changed.
 * `cache/` (the compiled-spec cache, rewritten on every load) is not data and is left out.
 */
export function tree(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const e of readdirSync(d)) {
      const p = join(d, e);
      if (relative(dir, p) === 'cache') continue;
      if (statSync(p).isDirectory()) walk(p);
      else out[relative(dir, p)] = createHash('sha256').update(readFileSync(p)).digest('hex');
    }
  };
  walk(dir);
  return out;
}

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** `node bin/asgard.js ARGS` as a user runs it (exit code, stdout, stderr). */
export function asgard(args: string[], opts: { cwd: string; env: NodeJS.ProcessEnv; timeoutMs?: number }): Promise<Run> {
  return new Promise((done) => {
    execFile(process.execPath, [join(ROOT, 'bin', 'asgard.js'), ...args], { cwd: opts.cwd, env: opts.env, timeout: opts.timeoutMs ?? 180_000, maxBuffer: 1 << 26 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : -1) : 0;
      done({ code, stdout, stderr });
    });
  });
}
