// An HTTP source redirected to another origin (issue #11, item 12): the token went along with a
// 302 to another host or port when it was carried by a custom `auth_header` (fetch only drops
// `Authorization`). Credentials go to base_url's origin only, for every auth style; a redirect
// within the origin keeps them.

import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { asgard } from './helpers.js';

const TOKEN = 'tok-4f1c9e-never-elsewhere';
const ROWS = [
  { id: 1, name: 'a' },
  { id: 2, name: 'b' },
];

const servers: Server[] = [];
const dirs: string[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await new Promise((r) => s.close(r));
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** An API on a free port: `handle` answers, every request's path and headers are recorded. */
async function api(handle: (path: string, headers: IncomingHttpHeaders) => { status: number; location?: string; body?: unknown }) {
  const seen: { path: string; headers: IncomingHttpHeaders }[] = [];
  const server = createServer((req, res) => {
    seen.push({ path: req.url ?? '', headers: req.headers });
    const a = handle(req.url ?? '', req.headers);
    res.writeHead(a.status, { 'content-type': 'application/json', ...(a.location ? { location: a.location } : {}) });
    res.end(a.body === undefined ? '' : JSON.stringify(a.body));
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, seen };
}

const authStyles = {
  'a custom auth_header': { settings: `token = secret("API_TOKEN")\n auth_header = "X-Api-Key"`, userinfo: '', header: 'x-api-key', value: TOKEN },
  'the bearer token': { settings: `token = secret("API_TOKEN")`, userinfo: '', header: 'authorization', value: `Bearer ${TOKEN}` },
  'Basic auth from base_url': {
    settings: '',
    userinfo: `reader:${TOKEN}@`,
    header: 'authorization',
    value: `Basic ${Buffer.from(`reader:${TOKEN}`).toString('base64')}`,
  },
};

async function apply(baseUrl: string, settings: string) {
  const dir = mkdtempSync(join(tmpdir(), 'asgard-redirect-'));
  dirs.push(dir);
  writeFileSync(
    join(dir, 'p.asg'),
    `pipeline redirects {\n warehouse = "./.asgard/warehouse"\n source api http {\n base_url = "${baseUrl}"\n ${settings}\n stream items {\n path = "/items"\n primary_key = id\n }\n }\n}\n`,
  );
  const env = { PATH: process.env.PATH, HOME: process.env.HOME, API_TOKEN: TOKEN, ASGARD_HTTP_RETRIES: '0' };
  return asgard(['apply', 'p.asg', '--yes', '--format', 'json'], { cwd: dir, env });
}

describe.each(Object.entries(authStyles))('%s', (_name, style) => {
  it('a 302 to another port: followed without the credentials', async () => {
    const other = await api(() => ({ status: 200, body: ROWS }));
    const origin = await api(() => ({ status: 302, location: `${other.url}/elsewhere/items` }));
    const r = await apply(origin.url.replace('http://', `http://${style.userinfo}`), style.settings);
    expect(origin.seen.length).toBeGreaterThan(0);
    expect(origin.seen[0].headers[style.header]).toBe(style.value); // the origin gets them
    expect(other.seen.length).toBeGreaterThan(0); // the redirect was followed
    for (const req of other.seen) {
      expect(JSON.stringify(req.headers)).not.toContain(TOKEN);
      expect(JSON.stringify(req.headers)).not.toContain(Buffer.from(`reader:${TOKEN}`).toString('base64'));
      expect(req.headers.authorization).toBeUndefined();
      expect(req.headers['x-api-key']).toBeUndefined();
    }
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout + r.stderr).not.toContain(TOKEN);
  }, 120_000);

  it('a redirect within the origin keeps them', async () => {
    const origin = await api((path, headers) =>
      path.startsWith('/items')
        ? { status: 307, location: '/v2/items' }
        : headers[style.header] === style.value
          ? { status: 200, body: ROWS }
          : { status: 401, body: { error: 'no credentials' } },
    );
    const r = await apply(origin.url.replace('http://', `http://${style.userinfo}`), style.settings);
    expect(r.code, r.stderr).toBe(0);
    expect(origin.seen.map((s) => s.path)).toContain('/v2/items');
    expect(r.stdout + r.stderr).not.toContain(TOKEN);
  }, 120_000);
});

it('a redirect loop ends with exit 1 naming the source, not a hang', async () => {
  const loop = await api(() => ({ status: 302, location: '/items' }));
  const r = await apply(loop.url, '');
  expect(r.code, r.stderr).toBe(1);
  const out = JSON.parse(r.stdout) as { nodes: { node: string; error?: string }[] };
  expect(out.nodes.find((n) => n.node === 'bronze.items')?.error).toMatch(/bronze\.items.*more than 5 redirects|more than 5 redirects.*/s);
}, 120_000);
