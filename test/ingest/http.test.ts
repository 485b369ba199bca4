// The HTTP connector against the demo ticket API (demo/ticket-api.ts, started in-process on a free
// loopback port): pagination, bearer token, retry on 429, and each fault (500, garbage, hang) failing
// the node with a message that says what and where while the previous snapshot stays.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { openDuck, queryAll } from '../../src/engine/duckdb.js';
import type { SourceNode } from '../../src/ir/types.js';
import { generate, type Ticket } from '../../demo/generate.js';
import { startTicketApi, type TicketApi } from '../../demo/ticket-api.js';
import { SourceHarness, filesContaining, lit, secret, sourceNode } from '../helpers/services.js';
import { dataFilesOnDisk } from '../helpers/warehouse.js';

const TOKEN = 'tkn-5f1c2e9a-never-logged';
let tickets: Ticket[];
let open: TicketApi;
let locked: TicketApi;

const columns = [
  { name: 'ticket_id', type: 'BIGINT' },
  { name: 'customer_id', type: 'BIGINT' },
  { name: 'created_at', type: 'TIMESTAMPTZ' },
  { name: 'resolution_time_hours', type: 'DOUBLE' },
  { name: 'satisfaction_score', type: 'INTEGER' },
];

function ticketsNode(api: TicketApi, withToken = false, extra: Partial<SourceNode['stream']> = {}): SourceNode {
  return sourceNode(
    'support_tickets',
    { type: 'http', settings: { base_url: lit(api.url), ...(withToken ? { token: secret('API_TOKEN') } : {}) } },
    {
      path: '/api/v1/tickets',
      primaryKey: ['ticket_id'],
      columns,
      pagination: { style: 'page', pageParam: 'page', sizeParam: 'page_size', pageSize: 100, recordsField: 'tickets' },
      ...extra,
    },
  );
}

async function rows(h: SourceHarness, sql: string): Promise<Record<string, unknown>[]> {
  const snap = h.state().nodes['bronze.support_tickets']!.snapshot!;
  const c = await openDuck();
  try {
    await c.run(`CREATE VIEW t AS SELECT * FROM (${await h.warehouse.snapshotSelect(snap)})`);
    return [...(await queryAll(c, sql)).rows];
  } finally {
    c.closeSync();
  }
}

beforeAll(async () => {
  process.env.ASGARD_HTTP_RETRIES = '2';
  process.env.ASGARD_HTTP_BACKOFF_MS = '20';
  process.env.ASGARD_HTTP_TIMEOUT_MS = '800';
  tickets = generate({ customers: 1500, seed: 3 }).tickets;
  open = await startTicketApi({ tickets });
  locked = await startTicketApi({ tickets, token: TOKEN });
});

afterAll(async () => {
  await open?.close();
  await locked?.close();
});

describe('http connector', () => {
  it('reads every page into the declared types', async () => {
    const h = new SourceHarness();
    const before = open.requests();
    const { result } = await h.run(ticketsNode(open), {});
    expect(result.rows).toBe(tickets.length);
    expect(open.requests() - before).toBe(Math.ceil(tickets.length / 100));
    expect(result.schema).toEqual(columns);
    const [agg] = await rows(
      h,
      `SELECT count(*) AS n, count(DISTINCT ticket_id) AS ids, count(customer_id) AS with_customer, count(resolution_time_hours) AS resolved FROM t`,
    );
    expect(agg).toEqual({
      n: tickets.length,
      ids: tickets.length,
      with_customer: tickets.filter((t) => t.customer_id !== null).length,
      resolved: tickets.filter((t) => t.resolution_time_hours !== null).length,
    });
    const first = await rows(
      h,
      `SELECT ticket_id, strftime(created_at, '%Y-%m-%dT%H:%M:%SZ') AS created_at, resolution_time_hours, satisfaction_score FROM t ORDER BY ticket_id LIMIT 3`,
    );
    expect(first).toEqual(
      tickets.slice(0, 3).map((t) => ({
        ticket_id: t.ticket_id,
        created_at: t.created_at,
        resolution_time_hours: t.resolution_time_hours,
        satisfaction_score: t.satisfaction_score,
      })),
    );
  });

  it('sends the bearer token from the secret; without it the API refuses and the message says so', async () => {
    const h = new SourceHarness();
    const { result } = await h.run(ticketsNode(locked, true), { API_TOKEN: TOKEN });
    expect(result.rows).toBe(tickets.length);
    await expect(h.run(ticketsNode(locked, true), {})).rejects.toThrow(
      /bronze\.support_tickets: GET \/api\/v1\/tickets\?page=1&page_size=100 at http:\/\/127\.0\.0\.1:\d+: HTTP 401 \(the API wants a token/,
    );
    await expect(h.run(ticketsNode(locked, true), { API_TOKEN: 'wrong' })).rejects.toThrow(/HTTP 401 \(the token was refused\)/);
    expect(filesContaining(h.dir, TOKEN)).toEqual([]);
  });

  it('retries 429 with backoff and then succeeds', async () => {
    const h = new SourceHarness();
    open.setFaults({ failFirst: 2 });
    const before = open.requests();
    try {
      const { result } = await h.run(ticketsNode(open), {});
      expect(result.rows).toBe(tickets.length);
      expect(open.requests() - before).toBe(Math.ceil(tickets.length / 100) + 2);
    } finally {
      open.setFaults({});
    }
  });

  it.each([
    ['500', { status: 500 }, /GET \/api\/v1\/tickets\?page=1&page_size=100 at http:\/\/127\.0\.0\.1:\d+: HTTP 500 after 3 attempts/],
    ['garbage JSON', { garbage: true }, /GET \/api\/v1\/tickets\?page=1&page_size=100 at http:\/\/127\.0\.0\.1:\d+: the response is not valid JSON/],
    ['a hang', { hang: true }, /GET \/api\/v1\/tickets\?page=1&page_size=100 at http:\/\/127\.0\.0\.1:\d+: no answer within 0\.8 s after 3 attempts/],
    ['500 from page 3 on', { failFromPage: 3 }, /GET \/api\/v1\/tickets\?page=3&page_size=100 .*HTTP 500 after 3 attempts/],
  ])('fails on %s, keeping the previous snapshot', async (_name, faults, message) => {
    const h = new SourceHarness();
    await h.run(ticketsNode(open), {});
    const before = h.state();
    open.setFaults(faults);
    try {
      await expect(h.run(ticketsNode(open), {})).rejects.toThrow(message);
    } finally {
      open.setFaults({});
    }
    expect(h.state()).toEqual(before);
    const snap = before.nodes['bronze.support_tickets']!.snapshot!;
    const files = await h.warehouse.files(snap);
    expect(files.length).toBeGreaterThan(0);
    expect(files.every((f) => existsSync(f))).toBe(true);
    // The failed syncs left no file behind: the table holds exactly the committed snapshot's data files.
    expect(await dataFilesOnDisk(h.warehouse, 'bronze.support_tickets')).toEqual(files);
  });

  it('names a missing records field and a declared column the API does not send', async () => {
    const h = new SourceHarness();
    await expect(h.run(ticketsNode(open, false, { pagination: { style: 'page', pageSize: 100, recordsField: 'items' } }), {})).rejects.toThrow(
      /the field `items` is missing/,
    );
    await expect(h.run(ticketsNode(open, false, { columns: [...columns, { name: 'priority', type: 'VARCHAR' }] }), {})).rejects.toThrow(
      /declared column `priority` is missing in http http:\/\/127\.0\.0\.1:\d+\/api\/v1\/tickets/,
    );
  });
});
