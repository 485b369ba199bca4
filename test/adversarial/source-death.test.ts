// A source server dying mid-read (issue #11, item 1). Each connector reads through a TCP proxy that
// is cut once part of the rows came back, as when the server is killed: the real `asgard apply`
// process must exit 1 with a message naming the source, host and table, still print the JSON
// summary, and leave the previous snapshot, cursor and state exactly as they were.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTicketApi, type TicketApi } from '../../demo/ticket-api.js';
import { services, testDatabases, withDatabase, type TestDatabases } from '../helpers/services.js';
import { asgard, cutProxy, tree } from './helpers.js';

let dbs: TestDatabases;
let api: TicketApi;

beforeAll(async () => {
  dbs = await testDatabases(3000, 13);
  api = await startTicketApi({ tickets: dbs.data.tickets, maxPageSize: 500 });
}, 240_000);

afterAll(async () => {
  await api?.close();
  await dbs?.drop();
});

const kinds = {
  mysql: { stream: 'transactions', key: 'transaction_id', table: 'transactions' },
  postgres: { stream: 'customers', key: 'customer_id', table: 'customers' },
  http: { stream: 'support_tickets', key: 'ticket_id', table: '/api/v1/tickets' },
} as const;

function spec(kind: keyof typeof kinds, port: number): string {
  const k = kinds[kind];
  const s = services();
  const src =
    kind === 'http'
      ? `source api http {\n base_url = "http://127.0.0.1:${port}"\n stream ${k.stream} {\n path = "/api/v1/tickets"\n primary_key = ${k.key}\n pagination = { style = page  page_param = "page"  size_param = "page_size"  page_size = 500  records_field = "tickets" }\n }\n }`
      : `source db ${kind} {\n url = "${withHost(kind === 'mysql' ? withDatabase(s.TRANSACTIONS_DB_URL, dbs.mysql.database) : withDatabase(s.CUSTOMER_DB_URL, dbs.pg.database), port)}"\n password = secret("DB_PW")\n stream ${k.stream} {\n primary_key = ${k.key}\n }\n }`;
  return `pipeline deaths {\n warehouse = "./.asgard/warehouse"\n ${src}\n}\n`;
}

function withHost(url: string, port: number): string {
  const u = new URL(url);
  u.hostname = '127.0.0.1';
  u.port = String(port);
  return u.toString();
}

function target(kind: keyof typeof kinds): { host: string; port: number } {
  const s = services();
  const u = new URL(kind === 'mysql' ? s.TRANSACTIONS_DB_URL : kind === 'postgres' ? s.CUSTOMER_DB_URL : api.url);
  return { host: u.hostname, port: Number(u.port) };
}

describe.each(['mysql', 'postgres', 'http'] as const)('%s server killed mid-read', (kind) => {
  it('exit 1, a message naming source, host and table, the JSON summary printed, previous snapshot kept', async () => {
    const dir = mkdtempSync(join(tmpdir(), `asgard-death-${kind}-`));
    const env = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      DB_PW: kind === 'mysql' ? services().TRANSACTIONS_DB_PASSWORD : services().CUSTOMER_DB_PASSWORD,
      ASGARD_CONNECT_TIMEOUT_MS: '3000',
    };
    const whole = await cutProxy(target(kind), Infinity);
    writeFileSync(join(dir, 'p.asg'), spec(kind, whole.port));
    const first = await asgard(['apply', 'p.asg', '--yes', '--format', 'json'], { cwd: dir, env });
    expect(first.code, first.stderr).toBe(0);
    const fullBytes = whole.served();
    await whole.close();

    const before = tree(join(dir, '.asgard', 'state'));
    const warehouse = tree(join(dir, '.asgard', 'warehouse'));
    // Cut the connection once half of what a full read brings back has arrived.
    const proxy = await cutProxy(target(kind), Math.floor(fullBytes / 2));
    writeFileSync(join(dir, 'p.asg'), spec(kind, proxy.port));
    const r = await asgard(['apply', 'p.asg', '--yes', '--format', 'json'], { cwd: dir, env });
    await proxy.close();
    expect(proxy.served()).toBeGreaterThan(fullBytes / 2);
    expect(r.code, r.stderr).toBe(1);
    const out = JSON.parse(r.stdout) as { ok: boolean; nodes: { node: string; status: string; error?: string }[] };
    expect(out.ok).toBe(false);
    const node = out.nodes.find((n) => n.node === `bronze.${kinds[kind].stream}`)!;
    expect(node.status).toBe('failed');
    expect(node.error).toContain(`bronze.${kinds[kind].stream}`);
    expect(node.error).toContain(`127.0.0.1:${proxy.port}`);
    expect(node.error).toContain(kinds[kind].table);
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
    // Nothing changed: same state file, same warehouse (the previous snapshot only, no partial folder).
    expect(tree(join(dir, '.asgard', 'state'))).toEqual(before);
    expect(tree(join(dir, '.asgard', 'warehouse'))).toEqual(warehouse);
  }, 240_000);
});
