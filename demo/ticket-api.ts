// The demo support-ticket API (the seed's `/api/v1/tickets`): a node:http server over tickets the
// generator wrote (demo/generate.ts). Paginated by page number:
//   GET /api/v1/tickets?page=1&page_size=5000
//   → {"tickets": [...], "page": 1, "page_size": 5000, "total": 45000, "next_page": 2 | null}
// Started with a token it requires `Authorization: Bearer <token>`; without one it answers anyone.
// Test hooks (faults) make it answer 500, 429, garbage JSON or hang, to exercise the connector.

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

export interface Ticket {
  readonly ticket_id: number;
  readonly customer_id: number | null;
  readonly created_at: string;
  readonly resolution_time_hours: number | null;
  readonly satisfaction_score: number | null;
}

export interface TicketApiFaults {
  /** Answer every tickets request with this status (500, 503 …) and a JSON error body. */
  status?: number;
  /** Fail the first N tickets requests with 429 (then answer normally): exercises retry. */
  failFirst?: number;
  /** Answer `200` with a body that is not JSON. */
  garbage?: boolean;
  /** Never answer tickets requests. */
  hang?: boolean;
  /** Fail from this page on (1-based) with status 500. */
  failFromPage?: number;
}

export interface TicketApiOptions {
  /** Tickets in memory, or a function returning the current list (re-read on change). */
  readonly tickets: readonly Ticket[] | (() => readonly Ticket[]);
  readonly token?: string;
  readonly faults?: TicketApiFaults;
  readonly maxPageSize?: number;
}

export interface TicketApi {
  readonly server: Server;
  readonly url: string;
  /** Requests received on /api/v1/tickets (tests assert retries and pagination). */
  readonly requests: () => number;
  readonly setFaults: (f: TicketApiFaults) => void;
  close(): Promise<void>;
}

export async function startTicketApi(opts: TicketApiOptions, port = 0, host = '127.0.0.1'): Promise<TicketApi> {
  let faults: TicketApiFaults = { ...(opts.faults ?? {}) };
  let count = 0;
  const hung = new Set<ServerResponse>();
  const list = typeof opts.tickets === 'function' ? opts.tickets : () => opts.tickets as readonly Ticket[];
  const maxPageSize = opts.maxPageSize ?? 10_000;

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname === '/health') return json(res, 200, { status: 'ok' });
    if (url.pathname !== '/api/v1/tickets') return json(res, 404, { error: { code: 'not_found', message: `no route ${url.pathname}` } });
    count++;
    if (opts.token && req.headers.authorization !== `Bearer ${opts.token}`) {
      return json(res, 401, { error: { code: 'unauthorized', message: 'missing or wrong bearer token' } });
    }
    const page = intParam(url, 'page', 1);
    const size = intParam(url, 'page_size', 100);
    if (page === undefined || page < 1 || size === undefined || size < 1 || size > maxPageSize) {
      return json(res, 400, { error: { code: 'bad_request', message: `page must be >= 1 and page_size in 1..${maxPageSize}` } });
    }
    if (faults.hang) {
      hung.add(res);
      return;
    }
    if (faults.failFirst && faults.failFirst > 0) {
      faults.failFirst--;
      res.setHeader('Retry-After', '0');
      return json(res, 429, { error: { code: 'rate_limited', message: 'slow down' } });
    }
    if (faults.status) return json(res, faults.status, { error: { code: 'fault', message: 'injected failure' } });
    if (faults.failFromPage && page >= faults.failFromPage) return json(res, 500, { error: { code: 'fault', message: 'injected failure' } });
    if (faults.garbage) {
      res.writeHead(200, { 'content-type': 'application/json' });
      return res.end('{"tickets": [{"ticket_id": 1, "customer_id": <<garbage');
    }
    const all = list();
    const start = (page - 1) * size;
    const tickets = all.slice(start, start + size);
    const next = start + size < all.length ? page + 1 : null;
    json(res, 200, { tickets, page, page_size: size, total: all.length, next_page: next });
  });
  await new Promise<void>((resolve) => server.listen(port, host, resolve));
  const addr = server.address();
  const actualPort = typeof addr === 'object' && addr ? addr.port : port;
  return {
    server,
    url: `http://${host}:${actualPort}`,
    requests: () => count,
    setFaults: (f) => (faults = { ...f }),
    close: () =>
      new Promise<void>((resolve) => {
        for (const r of hung) r.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function intParam(url: URL, name: string, dflt: number): number | undefined {
  const v = url.searchParams.get(name);
  if (v === null) return dflt;
  return /^\d+$/.test(v) ? Number(v) : undefined;
}

function json(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/** Tickets from the generator's file, re-read when the file changes (the loader may rewrite it). */
export function ticketsFromFile(file: string): () => readonly Ticket[] {
  let mtime = -1;
  let size = -1;
  let cached: readonly Ticket[] = [];
  return () => {
    if (!existsSync(file)) return [];
    const st = statSync(file);
    if (st.mtimeMs !== mtime || st.size !== size) {
      cached = JSON.parse(readFileSync(file, 'utf8')) as Ticket[];
      mtime = st.mtimeMs;
      size = st.size;
    }
    return cached;
  };
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const arg = (name: string): string | undefined => {
    const i = args.indexOf(`--${name}`);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const port = Number(arg('port') ?? process.env.TICKET_API_PORT ?? 58080);
  const host = arg('host') ?? '127.0.0.1';
  const data = arg('data') ?? '.services/data/tickets.json';
  const token = process.env.SUPPORT_API_TOKEN || undefined;
  const api = await startTicketApi({ tickets: ticketsFromFile(data), token }, port, host);
  process.stdout.write(`ticket API listening on ${api.url} (data: ${data}${token ? ', bearer token required' : ''})\n`);
  const stop = () => void api.close().then(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main().catch((e: unknown) => {
    process.stderr.write(`ticket API: ${(e as Error).message}\n`);
    process.exit(1);
  });
}
