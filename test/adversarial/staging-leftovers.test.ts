// Raw source rows staged by a killed apply (issue #11, item 14): after a kill -9 mid-read, the
// staging file of the source (rows.ndjson here; rows-*.csv for MariaDB, rows.csv for PostgreSQL)
// stayed under the state folder forever. The next apply, once it holds the pipeline's lock (so no
// other apply of the pipeline can be using them), removes what a previous run left there.

import { afterEach, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { asgard, ROOT } from './helpers.js';

let server: Server | undefined;
let dir: string | undefined;
afterEach(async () => {
  server?.closeAllConnections();
  if (server) await new Promise((r) => server!.close(r));
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Every file under `d`, as paths relative to it. */
function files(d: string, rel = ''): string[] {
  if (!existsSync(d)) return [];
  return readdirSync(d).flatMap((e) => (statSync(join(d, e)).isDirectory() ? files(join(d, e), join(rel, e)) : [join(rel, e)]));
}

it('a kill -9 mid-read leaves staged rows; the next apply removes them and succeeds', async () => {
  // Page 1 answers; page 2 hangs while `stall` is true (the source "dies" for the first apply).
  let stall = true;
  const page = (n: number) => ({ items: n <= 2 ? Array.from({ length: 200 }, (_, i) => ({ id: (n - 1) * 200 + i, name: `item ${i}` })) : [] });
  server = createServer((req, res) => {
    const n = Number(new URL(req.url ?? '/', 'http://x').searchParams.get('page') ?? 1);
    if (n > 1 && stall) return; // never answers
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(page(n)));
  });
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  dir = mkdtempSync(join(tmpdir(), 'asgard-staging-'));
  writeFileSync(
    join(dir, 'p.asg'),
    `pipeline leftovers {\n warehouse = "./.asgard/warehouse"\n source api http {\n base_url = "http://127.0.0.1:${port}"\n stream items {\n path = "/items"\n primary_key = id\n pagination = { style = page  page_size = 200  records_field = "items" }\n }\n }\n}\n`,
  );
  const env = { PATH: process.env.PATH, HOME: process.env.HOME, ASGARD_HTTP_RETRIES: '0' };
  const cache = join(dir, '.asgard', 'cache');

  const child = spawn(process.execPath, [join(ROOT, 'bin', 'asgard.js'), 'apply', 'p.asg', '--yes'], { cwd: dir, env, stdio: 'ignore' });
  const exited = new Promise((r) => child.once('exit', r));
  let staged: string[] = [];
  for (let i = 0; i < 1200 && staged.length === 0; i++) {
    await new Promise((r) => setTimeout(r, 100));
    staged = files(cache).filter((f) => /rows[^/]*$/.test(f));
  }
  expect(staged.length, 'the first apply staged the rows of page 1').toBeGreaterThan(0);
  child.kill('SIGKILL');
  await exited;
  expect(files(cache).filter((f) => /rows[^/]*$/.test(f))).toEqual(staged); // left behind by the kill

  stall = false;
  const r = await asgard(['apply', 'p.asg', '--yes', '--format', 'json'], { cwd: dir, env });
  expect(r.code, r.stderr).toBe(0);
  expect((JSON.parse(r.stdout) as { nodes: { node: string; status: string }[] }).nodes.find((n) => n.node === 'bronze.items')?.status).toBe('succeeded');
  expect(files(cache).filter((f) => /rows[^/]*$/.test(f))).toEqual([]);
  for (const f of staged) expect(existsSync(join(cache, f))).toBe(false);
}, 240_000);
