// Shared tools of the adversarial suite: a TCP proxy in front of a real server that a test can cut
// mid-stream (the server "dies" for asgard without touching the shared services other tests use),
// a snapshot of every file under a folder (to assert that a refused or failed run changed nothing),
// the real `asgard` process, and a served model behind a real `asgard serve` server.

import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import type { ServeNode, TrainNode } from '../../src/ir/types.js';
import { createAsgardServer, type AsgardServer } from '../../src/serve/server.js';
import { Workspace } from '../../src/workspace/workspace.js';
import { makeWarehouse, mlIR, persistState, runContext, serveNode, serveOn, trainNode, trainOn } from '../ml/fixtures.js';

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
    execFile(
      process.execPath,
      [join(ROOT, 'bin', 'asgard.js'), ...args],
      { cwd: opts.cwd, env: opts.env, timeout: opts.timeoutMs ?? 180_000, maxBuffer: 1 << 26 },
      (err, stdout, stderr) => {
        const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : -1) : 0;
        done({ code, stdout, stderr });
      },
    );
  });
}

export interface Served {
  readonly dir: string;
  readonly base: string;
  readonly srv: AsgardServer;
  /** The state file the server reads. */
  readonly stateFile: string;
  close(): Promise<void>;
}

/**
 * A trained and served model (test/ml/fixtures.ts: a random forest on `n` customers, the serve
 * node's batch output applied once) behind a real `asgard serve` server on a free port.
 */
export async function servedModel(
  prefix: string,
  opts: { n?: number; serve?: Partial<ServeNode>; log?: (l: string) => void; env?: Record<string, string>; queryTimeoutMs?: number } = {},
): Promise<Served> {
  const ir = mlIR(trainNode({ algorithm: { name: 'random_forest', params: { n_estimators: 5, max_depth: 4 } } }), serveNode(opts.serve));
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const fx = await makeWarehouse(dir, opts.n ?? 3000);
  const train = ir.nodes[1] as TrainNode;
  const serve = ir.nodes[2] as ServeNode;
  const t = await trainOn(fx).run(runContext(ir, train, fx));
  const s = await serveOn(fx).run(runContext(ir, serve, fx));
  persistState(fx, ir, {
    [train.id]: { kind: 'train', fingerprint: 'f', metaFingerprint: 'm', definition: {}, modelVersion: t.modelVersion, appliedAt: new Date().toISOString() },
    [serve.id]: {
      kind: 'serve',
      fingerprint: 'f',
      metaFingerprint: 'm',
      definition: {},
      snapshot: s.snapshot,
      schema: s.schema,
      modelVersion: s.modelVersion,
      appliedAt: new Date().toISOString(),
    },
  });
  const workspace = Workspace.open(join(dir, 'spec.asg'), { stateDir: dir });
  const srv = createAsgardServer({ ir, workspace, log: opts.log ?? (() => {}), env: opts.env ?? {}, queryTimeoutMs: opts.queryTimeoutMs });
  const base = `http://127.0.0.1:${(await srv.listen(0, '127.0.0.1')).port}`;
  return {
    dir,
    base,
    srv,
    stateFile: workspace.state(ir).file,
    async close() {
      await srv.close(1000);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
