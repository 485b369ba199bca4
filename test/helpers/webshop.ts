// A web shop's data, unlike churn and bikeshare: visitors (CSV: string ids, postcodes with leading
// zeros, a boolean, ISO timestamps with a zone), pageviews (one NDJSON file a day, read with a glob)
// and orders behind a page-numbered API (`?p=N&per_page=M`, records in `orders`, `next_page`) with an
// API-key header and money as JSON strings, as payment APIs send it. Generated deterministically with
// a signal: visitors who reach the checkout tend to order within the week. test/engine/webshop-e2e.test.ts
// runs test/fixtures/webshop/webshop.asg on it; the orders API also serves test/ingest/http.test.ts.

import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { mulberry32 } from './prng.js';

export interface Pageview {
  readonly event_id: number;
  readonly visitor_id: string;
  readonly ts: string;
  readonly page: string;
  readonly device: string;
  readonly is_bot: boolean;
  readonly dwell_ms: number;
}

export interface Order {
  readonly order_id: number;
  readonly visitor_id: string;
  readonly ordered_at: string;
  readonly total: string;
  readonly coupon: boolean;
  readonly status: string;
  readonly updated_at: string;
}

export interface WebshopData {
  readonly visitors: string; // CSV text
  readonly pageviews: Pageview[];
  readonly orders: Order[];
  readonly days: string[];
}

const DAY_MS = 86_400_000;
const isoZ = (ms: number) => `${new Date(ms).toISOString().slice(0, 19)}Z`;
const DEVICES = ['mobile', 'desktop', 'tablet'];
const PAGES = ['/', '/search', '/product/00017', '/product/00342', '/product/01200', '/cart'];

export const visitorId = (v: number) => `v-${String(v).padStart(4, '0')}`;

export function webshopData(opts: { visitors?: number; days?: number; seed?: number; lastDay?: string } = {}): WebshopData {
  const nVisitors = opts.visitors ?? 40;
  const nDays = opts.days ?? 30;
  const rnd = mulberry32(opts.seed ?? 11);
  const last = Date.parse(`${opts.lastDay ?? '2025-05-30'}T00:00:00Z`);
  const first = last - (nDays - 1) * DAY_MS;
  const days = Array.from({ length: nDays }, (_, i) => new Date(first + i * DAY_MS).toISOString().slice(0, 10));

  const lines = ['visitor_id,postcode,newsletter,signed_up_at'];
  const intent: number[] = [];
  const device: string[] = [];
  for (let v = 1; v <= nVisitors; v++) {
    // Oslo postcodes start with 0: a CSV reader that guesses numbers loses it.
    lines.push(`${visitorId(v)},${String((v * 37) % 9000).padStart(4, '0')},${v % 3 === 0},${isoZ(first - (5 + v) * DAY_MS + v * 3_600_000)}`);
    intent.push(rnd());
    device.push(DEVICES[v % 3]);
  }

  const pageviews: Pageview[] = [];
  const orders: Order[] = [];
  let eid = 1;
  let oid = 1;
  for (let d = 0; d < nDays; d++) {
    for (let v = 1; v <= nVisitors; v++) {
      const p = intent[v - 1];
      if (rnd() > 0.15 + 0.5 * p) continue;
      // One or two sessions a day, hours apart; pageviews a few minutes apart within one.
      const sessions = rnd() < 0.3 ? 2 : 1;
      let checkout = false;
      for (let s = 0; s < sessions; s++) {
        let t = first + d * DAY_MS + (8 + s * 6) * 3_600_000 + Math.floor(rnd() * 3_600_000);
        const hits = 1 + Math.floor(rnd() * 6);
        for (let h = 0; h < hits; h++) {
          const reach = h === hits - 1 && rnd() < p * 0.8;
          checkout ||= reach;
          pageviews.push({
            event_id: eid++,
            visitor_id: visitorId(v),
            ts: isoZ(t),
            page: reach ? '/Checkout ' : PAGES[Math.floor(rnd() * PAGES.length)],
            device: device[v - 1],
            is_bot: v === nVisitors && h === 0, // one crawler-like visitor: its first hit of a session
            dwell_ms: 2000 + Math.floor(rnd() * 60_000),
          });
          t += 60_000 + Math.floor(rnd() * 8 * 60_000);
        }
      }
      if (checkout && rnd() < 0.7) {
        // The order comes a day or two after the checkout visit (within the label's week).
        const at = first + (d + 1 + Math.floor(rnd() * 2)) * DAY_MS + 12 * 3_600_000;
        if (at >= last + DAY_MS) continue;
        const cents = 1500 + Math.floor(rnd() * 30000);
        orders.push({
          order_id: oid++,
          visitor_id: visitorId(v),
          ordered_at: isoZ(at),
          total: `${Math.floor(cents / 100)}.${String(cents % 100).padStart(2, '0')}`,
          coupon: rnd() < 0.25,
          status: rnd() < 0.1 ? 'cancelled' : 'paid',
          updated_at: isoZ(at + 60_000),
        });
      }
    }
  }
  return { visitors: `${lines.join('\n')}\n`, pageviews, orders, days };
}

/** visitors.csv and events/<day>.ndjson (one file per day with pageviews). */
export function writeWebshopFiles(dir: string, data: WebshopData, pageviews: readonly Pageview[] = data.pageviews): void {
  mkdirSync(join(dir, 'events'), { recursive: true });
  writeFileSync(join(dir, 'visitors.csv'), data.visitors);
  const byDay = new Map<string, string[]>();
  for (const p of pageviews) byDay.set(p.ts.slice(0, 10), [...(byDay.get(p.ts.slice(0, 10)) ?? []), JSON.stringify(p)]);
  for (const [day, rows] of byDay) writeFileSync(join(dir, 'events', `${day}.ndjson`), `${rows.join('\n')}\n`);
}

export interface OrdersApi {
  readonly url: string;
  close(): Promise<void>;
}

/** GET /v2/orders?p=N&per_page=M with `X-Api-Key: <key>` → {"orders": [...], "next_page": N+1 | null}. */
export async function startOrdersApi(opts: { orders: () => readonly Order[]; key: string; port?: number }): Promise<OrdersApi> {
  const server: Server = createServer((req, res) => {
    const u = new URL(req.url ?? '/', 'http://localhost');
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (u.pathname !== '/v2/orders') return send(404, { error: 'not found' });
    if (req.headers['x-api-key'] !== opts.key) return send(401, { error: 'bad api key' });
    const per = Math.max(1, Number(u.searchParams.get('per_page') ?? 50) || 50);
    const page = Math.max(1, Number(u.searchParams.get('p') ?? 1) || 1);
    const all = opts.orders();
    const rows = all.slice((page - 1) * per, page * per);
    send(200, { orders: rows, next_page: page * per < all.length ? page + 1 : null });
  });
  await new Promise<void>((resolve) => server.listen(opts.port ?? 0, '127.0.0.1', resolve));
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  return { url: `http://127.0.0.1:${port}`, close: () => new Promise((resolve) => server.close(() => resolve())) };
}
