// The bike-share rides API of pipelines/bikeshare.asg: a node:http server over rides in memory,
// paginated by cursor and behind a bearer token:
//   GET /api/v1/rides?limit=500&cursor=<opaque>   Authorization: Bearer <token>
//   → {"data": [...rides], "next_cursor": "<opaque>" | ""}
// The list is re-read on every request (a function), so a test can add late rides between applies.

import { createServer, type Server } from 'node:http';
import type { Ride } from './data.js';

export interface RidesApi {
  readonly url: string;
  readonly requests: () => number;
  close(): Promise<void>;
}

export async function startRidesApi(opts: { rides: () => readonly Ride[]; token: string; port?: number }): Promise<RidesApi> {
  let requests = 0;
  const server: Server = createServer((req, res) => {
    requests++;
    const u = new URL(req.url ?? '/', 'http://localhost');
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (u.pathname !== '/api/v1/rides') return send(404, { error: 'not found' });
    if (req.headers.authorization !== `Bearer ${opts.token}`) return send(401, { error: 'missing or wrong bearer token' });
    const limit = Math.min(1000, Math.max(1, Number(u.searchParams.get('limit') ?? 100) || 100));
    const after = Number(Buffer.from(u.searchParams.get('cursor') ?? '', 'base64url').toString() || 0);
    const all = opts.rides();
    const page = all.slice(after, after + limit);
    const next = after + limit < all.length ? Buffer.from(String(after + limit)).toString('base64url') : '';
    send(200, { data: page, next_cursor: next });
  });
  await new Promise<void>((resolve) => server.listen(opts.port ?? 0, '127.0.0.1', resolve));
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    requests: () => requests,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
