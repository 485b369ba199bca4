// Builds the conformance workspace: the demo data at a reduced scale (the same generator, so every
// kind of dirt stays) in dedicated databases of the local PostgreSQL and MariaDB and a ticket API
// of its own; `asgard apply` of pipelines/churn.asg into the workspace (the embedded run every
// tool is compared with); `asgard compile --profile kubernetes` (what the tools run).

import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadDemo } from '../../../demo/load.js';
import { startTicketApi, type TicketApi } from '../../../demo/ticket-api.js';
import { LOGICAL_TIME } from '../../../demo/generate.js';
import { repoRoot } from './paths.js';
import { asgard } from './asgard.js';
import { linkCurrentSnapshots, type Workspace } from './workspace.js';

export const CONFORMANCE_CUSTOMERS = Number(process.env.ASGARD_CONFORMANCE_CUSTOMERS ?? 10_000);
export const CONFORMANCE_SEED = 42;
const PG_DB = 'customers_conformance';
const MYSQL_DB = 'orders_conformance';

export interface Prepared {
  readonly ws: Workspace;
  readonly api: TicketApi;
  readonly applySeconds: number;
  readonly applyNodes: readonly { node: string; status: string; rows?: number; seconds: number }[];
  /** serve nodes that did not apply because the model missed its promotion gate at this scale. */
  readonly unpromoted: readonly string[];
  close(): Promise<void>;
}

/** The *_URL / *_PASSWORD variables of the local services (scripts/services.sh), started if needed. */
export function servicesEnv(): NodeJS.ProcessEnv {
  const keys = ['CUSTOMER_DB_URL', 'CUSTOMER_DB_PASSWORD', 'TRANSACTIONS_DB_URL', 'TRANSACTIONS_DB_PASSWORD', 'SUPPORT_API_URL', 'ASGARD_SERVICES_DIR'];
  if (process.env.CUSTOMER_DB_URL && process.env.TRANSACTIONS_DB_URL) return process.env;
  const r = spawnSync('bash', ['-c', 'source scripts/services.sh && services_up >&2 && env -0'], { cwd: repoRoot(), encoding: 'utf8', maxBuffer: 16 << 20 });
  if (r.status !== 0) throw new Error(`scripts/services.sh could not start the local services:\n${r.stderr.slice(-3000)}`);
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const kv of r.stdout.split('\0')) {
    const i = kv.indexOf('=');
    const k = kv.slice(0, i);
    if (keys.includes(k)) env[k] = kv.slice(i + 1);
  }
  return env;
}

/** A database URL with its database (path) replaced. */
function withDatabase(url: string, db: string): string {
  const u = new URL(url);
  u.pathname = `/${db}`;
  return u.toString();
}

export async function prepareWorkspace(
  opts: { readonly dir?: string; readonly customers?: number; readonly log?: (s: string) => void } = {},
): Promise<Prepared> {
  const log = opts.log ?? (() => undefined);
  const root = repoRoot();
  const dir = opts.dir ?? join(root, '.asgard', 'conformance');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const spec = join(dir, 'churn.asg');
  copyFileSync(join(root, 'pipelines', 'churn.asg'), spec);

  const services = servicesEnv();
  const pgUrl = withDatabase(services.CUSTOMER_DB_URL!, PG_DB);
  const myUrl = withDatabase(services.TRANSACTIONS_DB_URL!, MYSQL_DB);
  const customers = opts.customers ?? CONFORMANCE_CUSTOMERS;
  const data = await loadDemo({
    customers,
    seed: CONFORMANCE_SEED,
    pg: { url: services.CUSTOMER_DB_URL!, password: services.CUSTOMER_DB_PASSWORD || undefined, database: PG_DB },
    mysql: { url: services.TRANSACTIONS_DB_URL!, password: services.TRANSACTIONS_DB_PASSWORD || undefined, database: MYSQL_DB },
    log: (l) => log(`[load] ${l}`),
  });
  const api = await startTicketApi({ tickets: data.tickets });

  const env: NodeJS.ProcessEnv = {
    ...process.env,
    CUSTOMER_DB_URL: pgUrl,
    CUSTOMER_DB_PASSWORD: services.CUSTOMER_DB_PASSWORD ?? '',
    TRANSACTIONS_DB_URL: myUrl,
    TRANSACTIONS_DB_PASSWORD: services.TRANSACTIONS_DB_PASSWORD ?? '',
    SUPPORT_API_URL: api.url,
    SUPPORT_API_TOKEN: '',
    ASGARD_LOGICAL_TIME: LOGICAL_TIME,
    TZ: 'UTC',
  };
  const ws: Workspace = {
    dir,
    spec,
    pipeline: 'churn',
    stateDir: join(dir, '.asgard'),
    warehouse: join(dir, '.asgard', 'warehouse'),
    compiled: join(dir, 'compiled'),
    logicalTime: LOGICAL_TIME,
    env,
    log: join(dir, 'tools.log'),
  };
  writeFileSync(ws.log, '');
  try {
    const t0 = performance.now();
    const applied = await asgard(ws, ['apply', spec, '--yes', '--format', 'json'], { allowFailure: true });
    const applySeconds = (performance.now() - t0) / 1000;
    let doc: { ok: boolean; nodes: { node: string; status: string; rows?: number; seconds: number; error?: string }[] };
    try {
      doc = JSON.parse(applied.stdout);
    } catch {
      throw new Error(`asgard apply printed no JSON (exit ${applied.code}):\n${applied.stderr.slice(-3000)}`);
    }
    // At the reduced scale the model may miss the spec's promotion gate (f1 >= 0.70), and then the
    // serve node has nothing to score with: nothing the real tools are compared on. Any other
    // failure stops the run.
    const fatal = doc.nodes.filter((n) => n.status === 'failed' && !(n.node.startsWith('serve.') && /has no promoted version/.test(n.error ?? '')));
    const notRun = doc.nodes.filter((n) => n.status === 'skipped' && !n.node.startsWith('serve.'));
    if (fatal.length || notRun.length || (applied.code !== 0 && doc.nodes.every((n) => n.status !== 'failed'))) {
      throw new Error(
        `asgard apply failed (exit ${applied.code}):\n${doc.nodes
          .filter((n) => n.status !== 'succeeded')
          .map((n) => `  ${n.node}: ${n.status} ${n.error ?? ''}`)
          .join('\n')}`,
      );
    }
    log(`[apply] ${doc.nodes.map((n) => `${n.node}=${n.rows ?? '-'}`).join(' ')} in ${applySeconds.toFixed(1)} s`);
    await linkCurrentSnapshots(ws);
    await asgard(ws, ['compile', spec, '--out', ws.compiled, '--profile', 'kubernetes']);
    const unpromoted = doc.nodes.filter((n) => n.status === 'failed').map((n) => `${n.node}: ${n.error}`);
    if (unpromoted.length) log(`[apply] not applied (not compared by the conformance checks): ${unpromoted.join('; ')}`);
    return { ws, api, applySeconds, applyNodes: doc.nodes, unpromoted, close: () => api.close() };
  } catch (e) {
    await api.close();
    throw e;
  }
}
