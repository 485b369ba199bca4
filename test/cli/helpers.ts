// Running the CLI in-process (fast, injectable executors) or as a real child process (exit codes,
// stdout purity, no stack traces).
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CliServices } from '../../src/cli/command.js';
import { parsePlanEntry, planEntryParts } from '../../src/cli/plan-cache.js';
import type { PlannedAction } from '../../src/planner/plan.js';
import { runCli } from '../../src/cli/run.js';

export const repoRoot = fileURLToPath(new URL('../..', import.meta.url)).replace(/\/$/, '');

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

export async function cli(
  argv: string[],
  opts: { cwd: string; env?: Record<string, string | undefined>; stdinIsTTY?: boolean; answer?: string; tty?: boolean; services?: CliServices },
): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  const code = await runCli(
    argv,
    {
      out: (t) => void (stdout += t),
      err: (t) => void (stderr += t),
      stdoutIsTTY: opts.tty ?? false,
      stderrIsTTY: opts.tty ?? false,
      stdinIsTTY: opts.stdinIsTTY ?? false,
      prompt: async (q) => {
        stderr += q;
        return opts.answer ?? '';
      },
      env: { PATH: process.env.PATH, ...(opts.env ?? {}) },
      cwd: opts.cwd,
    },
    opts.services,
  );
  return { code, stdout, stderr };
}

/** `node bin/asgard.js …` as a user runs it. */
export function spawnCli(argv: string[], opts: { cwd: string; env?: Record<string, string>; input?: string }): CliRun {
  const r = spawnSync(process.execPath, [join(repoRoot, 'bin', 'asgard.js'), ...argv], {
    cwd: opts.cwd,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...(opts.env ?? {}) },
    input: opts.input ?? '',
    encoding: 'utf8',
    timeout: 120_000,
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** A small pipeline (a CSV source, a cleanse, a model) the plan-cache tests plan again and again. */
export const SHOP_SPEC = `pipeline shop {
  source files file {
    path = "./data"
    stream orders { path = "orders.csv"  primary_key = order_id
      columns = { order_id = "BIGINT"  store = "VARCHAR"  amount = "DOUBLE" } }
  }
  cleanse orders_clean {
    sql """ SELECT order_id, store, amount FROM bronze.orders WHERE amount > 0 """
  }
  model store_sales {
    sql """ SELECT store, count(*) AS orders FROM silver.orders_clean GROUP BY store """
  }
}
`;

/** A new temporary folder with SHOP_SPEC's data: data/orders.csv, one of its rows filtered out by the cleanse. */
export function shopFolder(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  mkdirSync(join(dir, 'data'));
  writeFileSync(join(dir, 'data', 'orders.csv'), 'order_id,store,amount\n1,north,10\n2,south,20\n3,north,-1\n');
  return dir;
}

/** Changes the actions of the plan cache's entry in `file` (src/cli/plan-cache.ts) as `edit` says: a marker planted in the last plan. */
export function editCachedPlan(file: string, edit: (actions: { -readonly [K in keyof PlannedAction]: PlannedAction[K] }[]) => void): void {
  const { key, ...entry } = parsePlanEntry(readFileSync(file, 'utf8'))!;
  const actions = entry.plan.actions.map((a) => structuredClone(a));
  edit(actions);
  writeFileSync(file, Buffer.concat(planEntryParts(key, { ...entry, plan: { ...entry.plan, actions } })));
}
