// pipelines/churn.asg on small generated data, in a folder of its own: per-test databases on the
// shared PostgreSQL and MariaDB (test/helpers/services.ts), the demo ticket API on a free port, and
// `asgard apply` run as a real process (the source tree through tsx).

import { spawn } from 'node:child_process';
import { copyFileSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { startTicketApi, type TicketApi } from '../../demo/ticket-api.js';
import { services, testDatabases, withDatabase, type TestDatabases } from './services.js';

export const ROOT = resolve(import.meta.dirname, '..', '..');

export interface CliRun {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface ChurnWorkspace {
  readonly dir: string;
  readonly spec: string;
  readonly env: Readonly<Record<string, string>>;
  readonly dbs: TestDatabases;
  /** `asgard ARGS…` in the workspace; `killWhen` sends SIGKILL once stderr matches it. */
  asgard(args: readonly string[], killWhen?: RegExp): Promise<CliRun>;
  close(): Promise<void>;
}

export async function churnWorkspace(dir: string, customers = 1500, seed = 11): Promise<ChurnWorkspace> {
  const s = services();
  const dbs = await testDatabases(customers, seed);
  let api: TicketApi | undefined;
  try {
    api = await startTicketApi({ tickets: () => dbs.data.tickets, token: 'tkt' });
  } catch (e) {
    await dbs.drop();
    throw e;
  }
  mkdirSync(dir, { recursive: true });
  const spec = join(dir, 'churn.asg');
  copyFileSync(join(ROOT, 'pipelines/churn.asg'), spec);
  const env = {
    CUSTOMER_DB_URL: withDatabase(s.CUSTOMER_DB_URL, dbs.pg.database),
    CUSTOMER_DB_PASSWORD: s.CUSTOMER_DB_PASSWORD,
    TRANSACTIONS_DB_URL: withDatabase(s.TRANSACTIONS_DB_URL, dbs.mysql.database),
    TRANSACTIONS_DB_PASSWORD: s.TRANSACTIONS_DB_PASSWORD,
    SUPPORT_API_URL: api.url,
    SUPPORT_API_TOKEN: 'tkt',
    ASGARD_CACHE_DIR: join(dir, '.cache'),
  };
  const asgard = (args: readonly string[], killWhen?: RegExp): Promise<CliRun> =>
    new Promise((done, fail) => {
      const child = spawn(
        process.execPath,
        ['--import', pathToFileURL(join(ROOT, 'node_modules/tsx/dist/loader.mjs')).href, join(ROOT, 'src/cli/main.ts'), ...args],
        {
          cwd: dir,
          env: { ...process.env, ...env },
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => (stdout += String(d)));
      child.stderr.on('data', (d) => {
        stderr += String(d);
        if (killWhen && killWhen.test(stderr)) child.kill('SIGKILL');
      });
      child.on('error', fail);
      child.on('exit', (code, signal) => done({ code, signal, stdout, stderr }));
    });
  return {
    dir,
    spec,
    env,
    dbs,
    asgard,
    async close() {
      await api?.close();
      await dbs.drop();
    },
  };
}
