// A pipeline unlike churn and bikeshare, end to end as a user runs it (test/fixtures/webshop/webshop.asg):
// a CSV, NDJSON files by glob and a page-numbered API with an API-key header → sessions by window
// functions → per visitor and day → as-of metrics with correlated subqueries → features → gradient
// boosting → batch scores. Every fifth pageview's time is written with a +02:00 offset (the same
// instant): read with the offset dropped, sessions and days would shift. Counts are computed
// independently from the generated data.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { cli, type CliRun } from '../cli/helpers.js';
import { startOrdersApi, webshopData, writeWebshopFiles, type OrdersApi, type Pageview, type WebshopData } from '../helpers/webshop.js';
import { tempDir } from './helpers.js';

const ROOT = resolve(import.meta.dirname, '..', '..');
let data: WebshopData;
let api: OrdersApi;
let dir: string;
let env: Record<string, string>;

const run = (args: string[]): Promise<CliRun> => cli(args, { cwd: dir, env });
const json = (r: CliRun) => {
  expect(r.code, r.stderr.slice(-2000)).toBe(0);
  return JSON.parse(r.stdout);
};
async function scalar(sql: string): Promise<string> {
  const doc = json(await run(['query', 'webshop.asg', sql, '--format', 'json']));
  return String(Object.values(doc.rows[0])[0]);
}

/** The same instant written in +02:00. */
const plus2 = (iso: string): string => `${new Date(Date.parse(iso) + 2 * 3_600_000).toISOString().slice(0, 19)}+02:00`;

/** Independent of asgard: human pageviews, sessions (30 minutes of quiet end one), visitor-days, checkout hits. */
function expected(pageviews: readonly Pageview[]) {
  const byVisitor = new Map<string, Pageview[]>();
  for (const p of pageviews.filter((x) => !x.is_bot)) byVisitor.set(p.visitor_id, [...(byVisitor.get(p.visitor_id) ?? []), p]);
  let human = 0;
  let sessions = 0;
  let checkouts = 0;
  const days = new Set<string>();
  for (const [v, ps] of byVisitor) {
    ps.sort((a, b) => Date.parse(a.ts) - Date.parse(b.ts) || a.event_id - b.event_id);
    let last: number | undefined;
    for (const p of ps) {
      const t = Date.parse(p.ts);
      if (last === undefined || Math.floor((t - last) / 60_000) > 30) sessions++;
      last = t;
      human++;
      days.add(`${v}|${new Date(t).toISOString().slice(0, 10)}`);
      if (p.page.trim().toLowerCase() === '/checkout') checkouts++;
    }
  }
  return { human, sessions, visitorDays: days.size, checkouts };
}

beforeAll(async () => {
  data = webshopData({ visitors: 60, days: 30 });
  dir = tempDir('asg-webshop-e2e-');
  const pageviews = data.pageviews.map((p, i) => (i % 5 === 0 ? { ...p, ts: plus2(p.ts) } : p));
  writeWebshopFiles(join(dir, 'data'), data, pageviews);
  api = await startOrdersApi({ orders: () => data.orders, key: 'shop-key' });
  copyFileSync(join(ROOT, 'test/fixtures/webshop/webshop.asg'), join(dir, 'webshop.asg'));
  env = { ORDERS_API_URL: api.url, ORDERS_API_KEY: 'shop-key', ASGARD_CACHE_DIR: tempDir('asg-cache-') };
}, 120_000);

afterAll(async () => {
  await api?.close();
});

describe('webshop end to end', () => {
  it('validates, plans and applies; counts match the generated data', async () => {
    expect(json(await run(['validate', 'webshop.asg', '--format', 'json']))).toMatchObject({ ok: true });
    expect(json(await run(['plan', 'webshop.asg', '--format', 'json'])).summary.create).toBe(11);
    const doc = json(await run(['apply', 'webshop.asg', '--yes', '--format', 'json']));
    for (const n of doc.nodes as { node: string; status: string }[]) expect(n.status, n.node).toBe('succeeded');
    const want = expected(data.pageviews);
    expect(await scalar('SELECT count(*) FROM silver.pageviews_clean')).toBe(String(want.human));
    expect(await scalar('SELECT count(*) FROM (SELECT DISTINCT visitor_id, session_no FROM silver.pageviews_clean)')).toBe(String(want.sessions));
    expect(await scalar('SELECT count(*) FROM gold.visitor_daily')).toBe(String(want.visitorDays));
    expect(await scalar('SELECT sum(checkouts) FROM gold.visitor_daily')).toBe(String(want.checkouts));
    // Money stays exact: the sum of the paid orders' totals, in cents.
    const paid = data.orders.filter((o) => o.status === 'paid');
    expect(await scalar('SELECT count(*) FROM silver.orders_clean')).toBe(String(paid.length));
    const cents = paid.reduce((a, o) => a + Math.round(Number(o.total) * 100), 0);
    expect(await scalar('SELECT CAST(sum(total) * 100 AS BIGINT) FROM silver.orders_clean')).toBe(String(cents));
    expect(await scalar('SELECT count(*) FROM features.visitor_features')).toBe('60');
    expect(await scalar('SELECT count(*) FROM gold.order_predictions')).toBe('60');
  }, 900_000);
});
