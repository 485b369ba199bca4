import { join } from 'node:path';
import { run, type RunResult } from './proc.js';
import { repoRoot } from './paths.js';
import type { Workspace } from './workspace.js';

/**
 * Runs the `asgard` command as a user would (bin/asgard.js: dist/ when built, else the sources).
 * ASGARD_CONFORMANCE_SOURCES=1 runs src/cli/main.ts through tsx instead (a checkout whose dist/
 * is stale).
 */
export function asgard(
  ws: Workspace,
  args: readonly string[],
  opts: { readonly allowFailure?: boolean; readonly timeoutMs?: number } = {},
): Promise<RunResult> {
  const root = repoRoot();
  const argv =
    process.env.ASGARD_CONFORMANCE_SOURCES === '1' ? ['--import', 'tsx', join(root, 'src/cli/main.ts'), ...args] : [join(root, 'bin/asgard.js'), ...args];
  return run(process.execPath, argv, { cwd: ws.dir, env: ws.env, log: ws.log, allowFailure: opts.allowFailure, timeoutMs: opts.timeoutMs ?? 20 * 60_000 });
}
