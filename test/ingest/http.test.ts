// The HTTP connector against the demo ticket API (demo/ticket-api.ts, started in-process on a free
// loopback port): pagination, bearer token, retry on 429, and each fault (500, garbage, hang) failing
// the node with a message that says what and where while the previous snapshot stays.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { gzipSync } from 'node:zlib';
import { join } from 'node:path';
import { openDuck, queryAll } from '../../src/engine/duckdb.js';
import type { SourceNode } from '../../src/ir/types.js';
import { httpConnector } from '../../src/ingest/http.js';
import { generate, type Ticket } from '../../demo/generate.js';
import { startTicketApi, type TicketApi } from '../../demo/ticket-api.js';
import { SourceHarness, filesContaining, lit, secret, sourceNode } from '../helpers/services.js';
import { startOrdersApi, type Order } from '../helpers/webshop.js';
import { dataFilesOnDisk } from '../helpers/warehouse.js';
import { repoRoot } from '../cli/helpers.js';

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
  it('reads text as the declared types: a timestamp with a UTC offset is stored in UTC, a DECIMAL sent as a string keeps every digit', async () => {
    // read_json with TIMESTAMP columns dropped the offset: 10:00+02:00 was stored as 10:00, not 08:00 UTC.
    const order = (order_id: number, ordered_at: string, total: string): Order => ({
      order_id,
      visitor_id: 'v-0001',
      ordered_at,
      total,
      coupon: false,
      status: 'paid',
      updated_at: ordered_at,
    });
    const orders = [
      order(1, '2025-05-01T10:00:00+02:00', '12345678901234567.89'),
      order(2, '2025-05-01T10:00:00Z', '0.10'),
      order(3, '2025-05-01 10:00:00', '19.99'),
      order(4, '2025-03-30T03:30:00+02:00', '1.00'), // just after the CEST switch: 01:30 UTC
    ];
    const api = await startOrdersApi({ orders: () => orders, key: 'shop-key' });
    try {
      const cols = [
        { name: 'order_id', type: 'BIGINT' },
        { name: 'ordered_at', type: 'TIMESTAMP' },
        { name: 'total', type: 'DECIMAL(38,2)' },
      ];
      const node = sourceNode(
        'orders',
        { type: 'http', settings: { base_url: lit(api.url), token: secret('SHOP_KEY'), auth_header: lit('X-Api-Key') } },
        {
          path: '/v2/orders',
          primaryKey: ['order_id'],
          columns: cols,
          pagination: { style: 'page', pageParam: 'p', sizeParam: 'per_page', pageSize: 3, recordsField: 'orders' },
        },
      );
      const h = new SourceHarness();
      const { result } = await h.run(node, { SHOP_KEY: 'shop-key' });
      expect(result.schema).toEqual(cols);
      const snap = h.state().nodes['bronze.orders']!.snapshot!;
      const c = await openDuck();
      try {
        const got = await queryAll(
          c,
          `SELECT order_id, CAST(ordered_at AS VARCHAR) AS at, CAST(total AS VARCHAR) AS total FROM (${await h.warehouse.snapshotSelect(snap)}) ORDER BY order_id`,
        );
        expect(got.rows).toEqual([
          { order_id: 1, at: '2025-05-01 08:00:00', total: '12345678901234567.89' },
          { order_id: 2, at: '2025-05-01 10:00:00', total: '0.10' },
          { order_id: 3, at: '2025-05-01 10:00:00', total: '19.99' },
          { order_id: 4, at: '2025-03-30 01:30:00', total: '1.00' },
        ]);
      } finally {
        c.closeSync();
      }
    } finally {
      await api.close();
    }
  });

  it('answers the last sync read are known as received: nothing is staged; other answers are staged as before', async () => {
    const node = ticketsNode(open);
    const cols = columns.map((c) => ({ name: c.name, sourceType: 'json', duckType: c.type }));
    const extract = async (lastRead?: (answers: string) => boolean) => {
      const stagingDir = mkdtempSync(join(tmpdir(), 'asgard-http-answers-'));
      const connector = httpConnector({ node, settings: { base_url: open.url }, baseDir: '.', warn: () => undefined });
      try {
        await connector.discover();
        const got = await connector.extract({
          columns: cols,
          stagingDir,
          signal: new AbortController().signal,
          onRows: () => undefined,
          ...(lastRead ? { lastRead } : {}),
        });
        const staged = readdirSync(stagingDir).map((f) => readFileSync(join(stagingDir, f), 'utf8'));
        return { got, staged };
      } finally {
        await connector.close();
        rmSync(stagingDir, { recursive: true, force: true });
      }
    };
    const first = await extract();
    expect(first.got.rows).toBe(tickets.length);
    expect(first.got.answers).toMatch(/^[0-9a-f]{64}$/);
    expect(first.staged).toHaveLength(1);
    expect(first.staged[0].split('\n')).toHaveLength(tickets.length + 1);

    const same = await extract((answers) => answers === first.got.answers);
    expect(same.got).toMatchObject({ rows: tickets.length, answers: first.got.answers, unchanged: true });
    expect(same.got.digest).toBeUndefined();
    expect(same.staged).toEqual([]);

    const other = await extract(() => false);
    expect(other.got.unchanged).toBeUndefined();
    expect(other.got.digest).toBe(first.got.digest);
    expect(other.staged).toEqual(first.staged);
  });

  it("keeps the snapshot when the answers or the rows are the last sync's, with a state from before answers were hashed too; other records are read", async () => {
    // Two arrays in each answer and a field that changes with every answer.
    let list = [
      { id: 1, v: 'a' },
      { id: 2, v: 'b' },
    ];
    let served = 0;
    const server = createServer((_req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ served: envelope ? ++served : 0, one: list, two: list.map((r) => ({ ...r, v: r.v.toUpperCase() })) }));
    });
    let envelope = false;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const id = 'bronze.things';
    const node = (recordsField: string) =>
      sourceNode(
        'things',
        { type: 'http', settings: { base_url: lit(`http://127.0.0.1:${port}`) } },
        {
          path: '/things',
          primaryKey: ['id'],
          columns: [
            { name: 'id', type: 'BIGINT' },
            { name: 'v', type: 'VARCHAR' },
          ],
          pagination: { style: 'page', pageSize: 100, recordsField },
        },
      );
    const values = async (h: SourceHarness) => {
      const c = await openDuck();
      try {
        const r = await queryAll(c, `SELECT string_agg(v, '' ORDER BY id) AS v FROM (${await h.warehouse.snapshotSelect(h.state().nodes[id]!.snapshot!)})`);
        return r.rows[0].v;
      } finally {
        c.closeSync();
      }
    };
    try {
      const h = new SourceHarness();
      await h.run(node('one'), {});
      const first = h.state().nodes[id]!;
      expect(first.read?.answers).toMatch(/^[0-9a-f]{64}$/);
      expect(await h.run(node('one'), {}).then((r) => r.result.snapshot)).toEqual(first.snapshot);
      expect(h.state().nodes[id]!.read).toEqual(first.read);

      // A state written before answers were hashed: the same rows are still the same read, and the
      // answers are recorded for the next sync.
      h.store.commitNode(id, { ...first, read: { digest: first.read!.digest } });
      expect(await h.run(node('one'), {}).then((r) => r.result.snapshot)).toEqual(first.snapshot);
      expect(h.state().nodes[id]!.read).toEqual(first.read);

      // Other answers with the same records: the same rows, the snapshot kept.
      envelope = true;
      expect(await h.run(node('one'), {}).then((r) => r.result.snapshot)).toEqual(first.snapshot);
      expect(h.state().nodes[id]!.read?.digest).toBe(first.read!.digest);
      expect(h.state().nodes[id]!.read?.answers).not.toBe(first.read!.answers);
      envelope = false;
      served = 0;
      await h.run(node('one'), {});
      expect(h.state().nodes[id]!.read).toEqual(first.read);

      // The same answers read for the records of another field: other rows.
      await h.run(node('two'), {});
      expect(h.state().nodes[id]!.snapshot!.id).not.toBe(first.snapshot!.id);
      expect(await values(h)).toBe('AB');
      // A changed record.
      await h.run(node('one'), {});
      expect(await values(h)).toBe('ab');
      list = [list[0], { id: 2, v: 'c' }];
      await h.run(node('one'), {});
      expect(await values(h)).toBe('ac');
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('reads compressed answers; a sync loads no undici (what fetch is), only node:http', async () => {
    const list = [
      { id: 1, v: 'é' },
      { id: 2, v: 'b' },
    ];
    const server = createServer((req, res) => {
      const body = JSON.stringify({ things: list });
      const gzip = /gzip/.test(String(req.headers['accept-encoding']));
      res.writeHead(200, { 'content-type': 'application/json', ...(gzip ? { 'content-encoding': 'gzip' } : {}) });
      res.end(gzip ? gzipSync(body) : body);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const dir = mkdtempSync(join(tmpdir(), 'asgard-http-undici-'));
    try {
      const node = sourceNode(
        'things',
        { type: 'http', settings: { base_url: lit(url) } },
        {
          path: '/things',
          primaryKey: ['id'],
          columns: [
            { name: 'id', type: 'BIGINT' },
            { name: 'v', type: 'VARCHAR' },
          ],
          pagination: { style: 'page', pageSize: 100, recordsField: 'things' },
        },
      );
      const h = new SourceHarness();
      await h.run(node, {});
      // The sync ends its kept-alive connections: an idle one held `asgard apply` up until the server dropped it.
      const open = () => new Promise<number>((resolve) => server.getConnections((_e, n) => resolve(n)));
      for (let i = 0; i < 100 && (await open()) > 0; i++) await new Promise((r) => setTimeout(r, 20));
      expect(await open()).toBe(0);
      const c = await openDuck();
      try {
        const r = await queryAll(
          c,
          `SELECT string_agg(v, '' ORDER BY id) AS v FROM (${await h.warehouse.snapshotSelect(h.state().nodes['bronze.things']!.snapshot!)})`,
        );
        expect(r.rows[0].v).toBe('éb');
      } finally {
        c.closeSync();
      }
      // The command as users run it, with Node's own modules listed at exit.
      writeFileSync(
        join(dir, 'things.asg'),
        `pipeline things {\n  warehouse = "./.asgard/warehouse"\n  source api http {\n    base_url = "${url}"\n    stream things {\n      path = "/things"\n      primary_key = id\n      pagination = { style = page  page_size = 100  records_field = "things" }\n      columns = { id = "BIGINT"  v = "VARCHAR" }\n    }\n  }\n}\n`,
      );
      const listFile = join(dir, 'modules.txt');
      writeFileSync(
        join(dir, 'list.cjs'),
        `process.on('exit', () => require('node:fs').writeFileSync(${JSON.stringify(listFile)}, process.moduleLoadList.join('\\n')));\n`,
      );
      const code = await new Promise<number | null>((resolve) => {
        const p = spawn(process.execPath, ['--require', join(dir, 'list.cjs'), join(repoRoot, 'bin', 'asgard.js'), 'apply', 'things.asg', '--yes'], {
          cwd: dir,
          env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '' },
          stdio: 'ignore',
        });
        p.on('close', resolve);
      });
      expect(code).toBe(0);
      const modules = readFileSync(listFile, 'utf8').split('\n');
      expect(modules).toContain('NativeModule http');
      expect(modules.filter((m) => /undici/.test(m))).toEqual([]);
    } finally {
      await new Promise((resolve) => server.close(resolve));
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
