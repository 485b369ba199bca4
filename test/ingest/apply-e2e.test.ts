// End to end through the CLI: `asgard apply pipelines/churn.asg` (a copy, with its own state and
// warehouse) against test databases and an in-process ticket API. Full sync counts per stream; an
// incremental apply after 1,000 new transactions adds exactly 1,000 rows; updated customers stay one
// row each; a broken source fails its node (exit 1, message naming host:port) while the others run;
// no file asgard wrote holds a password.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { copyFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { openDuck, queryAll } from '../../src/engine/duckdb.js';
import { Warehouse } from '../../src/warehouse/warehouse.js';
import { startTicketApi, type TicketApi } from '../../demo/ticket-api.js';
import { addTransactions } from '../../demo/add-transactions.js';
import { filesContaining, services, testDatabases, withDatabase, type TestDatabases } from '../helpers/services.js';

const run = promisify(execFile);
const ROOT = resolve(import.meta.dirname, '..', '..');
const BRONZE = 'bronze.customers,bronze.transactions,bronze.support_tickets';
let dbs: TestDatabases;
let api: TicketApi;
let dir: string;
let env: NodeJS.ProcessEnv;

async function apply(
  extraEnv: NodeJS.ProcessEnv = {},
): Promise<{ code: number; json: { ok: boolean; nodes: { node: string; status: string; rows?: number; error?: string }[] }; stderr: string }> {
  const r = await run('node', [join(ROOT, 'bin', 'asgard.js'), 'apply', join(dir, 'churn.asg'), '--yes', '--format', 'json', '--select', BRONZE], {
    cwd: dir,
    env: { ...env, ...extraEnv },
    timeout: 300_000,
    maxBuffer: 1 << 24,
  }).then(
    (x) => ({ code: 0, stdout: x.stdout, stderr: x.stderr }),
    (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
  );
  return { code: r.code, json: JSON.parse(r.stdout), stderr: r.stderr };
}

async function count(table: string, sql = 'SELECT count(*) AS n, count(DISTINCT k) AS keys FROM t'): Promise<Record<string, unknown>> {
  const state = JSON.parse((await import('node:fs')).readFileSync(join(dir, '.asgard', 'state', 'churn.json'), 'utf8'));
  const snap = state.nodes[table].snapshot;
  const key = { 'bronze.customers': 'customer_id', 'bronze.transactions': 'transaction_id', 'bronze.support_tickets': 'ticket_id' }[table]!;
  const c = await openDuck();
  try {
    const snapshot = await new Warehouse(join(dir, '.asgard', 'warehouse')).snapshotSelect(snap);
    await c.run(`CREATE VIEW t AS SELECT *, ${key} AS k FROM (${snapshot})`);
    return (await queryAll(c, sql)).rows[0];
  } finally {
    c.closeSync();
  }
}

beforeAll(async () => {
  const s = services();
  dbs = await testDatabases(3000, 11);
  api = await startTicketApi({ tickets: dbs.data.tickets });
  dir = mkdtempSync(join(tmpdir(), 'asgard-e2e-'));
  copyFileSync(join(ROOT, 'pipelines', 'churn.asg'), join(dir, 'churn.asg'));
  env = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    CUSTOMER_DB_URL: withDatabase(s.CUSTOMER_DB_URL, dbs.pg.database),
    CUSTOMER_DB_PASSWORD: s.CUSTOMER_DB_PASSWORD,
    TRANSACTIONS_DB_URL: withDatabase(s.TRANSACTIONS_DB_URL, dbs.mysql.database),
    TRANSACTIONS_DB_PASSWORD: s.TRANSACTIONS_DB_PASSWORD,
    SUPPORT_API_URL: api.url,
    ASGARD_CONNECT_TIMEOUT_MS: '2000',
  };
}, 240_000);

afterAll(async () => {
  await api?.close();
  await dbs?.drop();
});

describe('asgard apply: ingestion end to end', () => {
  it('full sync, then an incremental one after 1,000 new transactions and 5 updated customers', async () => {
    const first = await apply();
    expect(first.code, first.stderr).toBe(0);
    const rows = Object.fromEntries(first.json.nodes.map((n) => [n.node, n.rows]));
    expect(rows).toEqual({ 'bronze.customers': 3000, 'bronze.transactions': dbs.data.transactions.length, 'bronze.support_tickets': dbs.data.tickets.length });
    expect(await count('bronze.transactions')).toEqual({ n: dbs.data.transactions.length, keys: dbs.data.transactions.length });

    await addTransactions(dbs.mysql, 1000);
    await dbs.pgQuery(`UPDATE customers SET status = 'premium', updated_at = '2025-11-12 10:00:00' WHERE customer_id BETWEEN 1001 AND 1005`);
    const second = await apply();
    expect(second.code, second.stderr).toBe(0);
    const tx = second.json.nodes.find((n) => n.node === 'bronze.transactions')!;
    expect(tx.rows).toBe(1000);
    expect(await count('bronze.transactions')).toEqual({ n: dbs.data.transactions.length + 1000, keys: dbs.data.transactions.length + 1000 });
    expect(second.json.nodes.find((n) => n.node === 'bronze.customers')!.rows).toBe(5);
    expect(
      await count(
        'bronze.customers',
        `SELECT count(*) AS n, count(DISTINCT k) AS keys, count(*) FILTER (WHERE k BETWEEN 1001 AND 1005 AND status = 'premium') AS updated FROM t`,
      ),
    ).toEqual({ n: 3000, keys: 3000, updated: 5 });
  });

  it('a broken source fails alone with exit code 1; the others still run; no file holds a password', async () => {
    const r = await apply({ TRANSACTIONS_DB_URL: 'mysql://asgard@127.0.0.1:1/orders' });
    expect(r.code).toBe(1);
    const byNode = Object.fromEntries(r.json.nodes.map((n) => [n.node, n]));
    expect(byNode['bronze.transactions'].status).toBe('failed');
    expect(byNode['bronze.transactions'].error).toMatch(/cannot connect to mysql 127\.0\.0\.1:1\/orders: connection refused at 127\.0\.0\.1:1/);
    expect(byNode['bronze.customers'].status).toBe('succeeded');
    expect(byNode['bronze.support_tickets'].status).toBe('succeeded');
    // Still the previous snapshot.
    expect((await count('bronze.transactions')).n).toBe(dbs.data.transactions.length + 1000);
    const pw = services().TRANSACTIONS_DB_PASSWORD;
    expect(filesContaining(dir, pw)).toEqual([]);
    expect(filesContaining(dir, services().CUSTOMER_DB_PASSWORD)).toEqual([]);
    expect(r.stderr).not.toContain(pw);
  });
});
