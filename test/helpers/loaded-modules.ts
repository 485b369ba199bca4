// `asgard ARGV` as a process with test/helpers/module-log.mjs: its output and every module and
// package it loaded (test/cli/startup.test.ts, test/ingest/noop-sync.test.ts check what a command loads).
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '../cli/helpers.js';

export interface LoggedRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  /** npm packages loaded (`@duckdb/node-api`, `avsc`…). */
  readonly packages: Set<string>;
  /** Every module URL loaded, in order. */
  readonly modules: string[];
}

/** Runs the command to its end (blocking this process: a server the command needs must not live in it). */
export function runLoggingModules(argv: string[], cwd: string, env: Record<string, string> = {}): LoggedRun {
  const log = logFile();
  const r = spawnSync(process.execPath, nodeArgs(argv), { cwd, encoding: 'utf8', env: logEnv(env, log), timeout: 120_000 });
  return collect(log, r.status ?? -1, r.stdout, r.stderr);
}

/** The same without blocking: for a command that talks to a server in this process (a test API). */
export function runLoggingModulesAsync(argv: string[], cwd: string, env: Record<string, string> = {}): Promise<LoggedRun> {
  const log = logFile();
  return new Promise((resolve) => {
    const p = spawn(process.execPath, nodeArgs(argv), { cwd, env: logEnv(env, log), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => (stdout += d));
    p.stderr.on('data', (d) => (stderr += d));
    p.on('close', (code) => resolve(collect(log, code ?? -1, stdout, stderr)));
  });
}

const nodeArgs = (argv: string[]) => ['--import', join(repoRoot, 'test', 'helpers', 'module-log.mjs'), join(repoRoot, 'bin', 'asgard.js'), ...argv];
const logEnv = (env: Record<string, string>, log: string) => ({
  PATH: process.env.PATH ?? '',
  HOME: process.env.HOME ?? '',
  ...env,
  ASGARD_TEST_MODULE_LOG: log,
});

function logFile(): string {
  const log = join(mkdtempSync(join(tmpdir(), 'asgard-modules-')), 'modules.txt');
  writeFileSync(log, '');
  return log;
}

function collect(log: string, code: number, stdout: string, stderr: string): LoggedRun {
  const packages = new Set<string>();
  // A CommonJS module the ES module loader loaded is logged again at exit (module-log.mjs): once each.
  const modules = [
    ...new Set(
      readFileSync(log, 'utf8')
        .split('\n')
        .filter((u) => u !== ''),
    ),
  ];
  const held = bundledModules(modules);
  for (const url of held) {
    // A package as it ships, or bundled by the build into dist/vendor/<package>.js or .cjs (scripts/bundle-packages.mjs).
    const m = /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url) ?? /\/dist\/vendor\/((?:@[^/]+\/)?[^/]+)\.c?js$/.exec(url);
    if (m) packages.add(m[1]);
  }
  rmSync(join(log, '..'), { recursive: true, force: true });
  return { code, stdout, stderr, packages, modules: held };
}

/**
 * The URLs with each chunk of dist/bundle/ replaced by the dist modules it holds (its modules.json,
 * scripts/bundle-packages.mjs): a chunk is loaded exactly when one of its modules would be.
 */
function bundledModules(urls: readonly string[]): string[] {
  const out: string[] = [];
  for (const url of urls) {
    const m = /^(file:\/\/.*\/dist\/)bundle\/([^/]+\.c?js)$/.exec(url);
    if (!m) {
      out.push(url);
      continue;
    }
    const chunks = JSON.parse(readFileSync(new URL(`${m[1]}bundle/modules.json`), 'utf8')) as Record<string, string[]>;
    const held = chunks[m[2]];
    if (!held) throw new Error(`${url} is not in dist/bundle/modules.json: run npm run build`);
    out.push(...held.map((rel) => `${m[1]}${rel}`));
  }
  return [...new Set(out)];
}

/** Which of `names` were loaded. */
export const loaded = (packages: Set<string>, names: readonly string[]): string[] => names.filter((n) => packages.has(n));
