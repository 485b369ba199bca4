// JSON APIs: page-number or cursor pagination, an optional bearer token, retries with exponential
// backoff on 429 and 5xx (Retry-After honoured, capped), a time limit per request, redirects that
// never carry the credentials to another origin. Records are
// written as newline-delimited JSON and read back by DuckDB's read_json with the declared types
// (undeclared: DuckDB infers them). Nothing is known before the first page, so `discover` reads it.

import { createHash, type Hash } from 'node:crypto';
import { join } from 'node:path';
import { literal } from '../engine/quote.js';
import type { ConnectorInput, Extracted, ExtractRequest, SourceColumn, SourceConnector } from './source.js';
import { SourceError, StagingWriter, stagingDigest } from './staging.js';
import { redactUrls } from './connection.js';
import { textReadType } from './types.js';

const envNumber = (name: string, dflt: number): number => {
  const v = Number(process.env[name]);
  return Number.isFinite(v) && v >= 0 && process.env[name] !== '' && process.env[name] !== undefined ? v : dflt;
};

const REDIRECT = new Set([301, 302, 303, 307, 308]);
const MAX_REDIRECTS = 5;
/** Characters of answers whose pages wait to be staged until the read is known to differ from the last one. */
const HOLD_CHARS = 1 << 24;

interface Page {
  /** The response body as received. */
  readonly text: string;
  readonly records: readonly Record<string, unknown>[];
  readonly next?: { page?: number; cursor?: string };
}

export function httpConnector(input: ConnectorInput): SourceConnector {
  const node = input.node;
  const rawBase = String(input.settings.base_url ?? '');
  let base: URL;
  try {
    base = new URL(rawBase);
  } catch {
    throw new SourceError(`the http connector's base_url is not a valid URL`);
  }
  const token = input.settings.token === undefined || input.settings.token === '' ? undefined : String(input.settings.token);
  const authHeader = String(input.settings.auth_header ?? 'Authorization');
  const path = node.stream.path ?? `/${node.name}`;
  const p = node.stream.pagination;
  const style = p?.style;
  const pageParam = p?.pageParam ?? 'page';
  const sizeParam = p?.sizeParam ?? 'page_size';
  const pageSize = p?.pageSize ?? 1000;
  const cursorParam = p?.cursorParam ?? 'cursor';
  const cursorField = p?.cursorField ?? 'next_cursor';
  const recordsField = p?.recordsField;
  const timeoutMs = envNumber('ASGARD_HTTP_TIMEOUT_MS', 30_000);
  const retries = envNumber('ASGARD_HTTP_RETRIES', 4);
  const backoffMs = envNumber('ASGARD_HTTP_BACKOFF_MS', 500);
  const origin = `${base.protocol}//${base.host}`; // never includes user:password
  const where = `http ${origin}${path}`;
  let firstPage: Page | undefined;
  let agents: Agents = {};

  const urlFor = (page: number, cursor?: string): URL => {
    const u = new URL(path.replace(/^\//, ''), base.href.endsWith('/') ? base.href : base.href + '/');
    u.username = '';
    u.password = '';
    if (style === 'page') {
      u.searchParams.set(pageParam, String(page));
      u.searchParams.set(sizeParam, String(pageSize));
    } else if (style === 'cursor') {
      u.searchParams.set(sizeParam, String(pageSize));
      if (cursor !== undefined) u.searchParams.set(cursorParam, cursor);
    }
    return u;
  };

  const fetchPage = async (page: number, cursor: string | undefined, signal: AbortSignal): Promise<Page> => {
    const url = urlFor(page, cursor);
    const shown = `GET ${url.pathname}${url.search} at ${origin}`;
    const headers: Record<string, string> = { accept: 'application/json' };
    if (token) headers[authHeader] = authHeader.toLowerCase() === 'authorization' ? `Bearer ${token}` : token;
    if (base.username)
      headers.authorization ??= `Basic ${Buffer.from(`${decodeURIComponent(base.username)}:${decodeURIComponent(base.password)}`).toString('base64')}`;
    let lastProblem = '';
    for (let attempt = 0; attempt <= retries; attempt++) {
      if (signal.aborted) throw new SourceError(`${shown}: aborted`);
      const timeout = AbortSignal.timeout(timeoutMs);
      let res: Answer;
      let text: string;
      try {
        res = await follow(url, headers, AbortSignal.any([signal, timeout]), shown);
        text = await res.text();
      } catch (e) {
        if (e instanceof SourceError) throw e;
        const err = e as Error & { code?: string; cause?: { code?: string } };
        const code = err.code ?? err.cause?.code;
        if (timeout.aborted) lastProblem = `no answer within ${timeoutMs / 1000} s`;
        else if (signal.aborted) throw new SourceError(`${shown}: aborted`);
        else lastProblem = code === 'ECONNREFUSED' ? `connection refused at ${base.host}` : redactUrls(code ?? err.message);
        if (attempt < retries) await sleep(backoffMs * 2 ** attempt, signal);
        continue;
      }
      if (res.status === 429 || res.status >= 500) {
        lastProblem = `HTTP ${res.status}`;
        if (attempt < retries) {
          const ra = Number(res.header('retry-after'));
          await sleep(
            Number.isFinite(ra) && ra >= 0 && res.header('retry-after') !== undefined ? Math.min(ra * 1000, 30_000) : backoffMs * 2 ** attempt,
            signal,
          );
        }
        continue;
      }
      if (res.status === 401 || res.status === 403) {
        throw new SourceError(
          `${shown}: HTTP ${res.status} (${token ? 'the token was refused' : "the API wants a token: set the connector's `token` secret"})`,
        );
      }
      if (res.status < 200 || res.status > 299) throw new SourceError(`${shown}: HTTP ${res.status}`);
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch (e) {
        throw new SourceError(`${shown}: the response is not valid JSON (${(e as Error).message.slice(0, 120)})`);
      }
      return toPage(text, body, page, shown);
    }
    throw new SourceError(`${shown}: ${lastProblem} after ${retries + 1} attempts`);
  };

  /**
   * GET with redirects followed by hand: the credentials (the token in `auth_header`, Basic auth from
   * the URL) go to base_url's origin only. Once a redirect leaves that origin (another host, port or
   * scheme) they are dropped for the rest of the chain, whatever header carries them — fetch's own
   * redirects drop `Authorization` but would send a custom header such as `X-Api-Key` anywhere.
   */
  const follow = async (url: URL, headers: Record<string, string>, signal: AbortSignal, shown: string): Promise<Answer> => {
    let u = url;
    let trusted = true;
    for (let hop = 0; ; hop++) {
      const res = await get(u, trusted ? headers : { accept: headers.accept }, signal, agents);
      const location = REDIRECT.has(res.status) ? res.header('location') : undefined;
      if (location === undefined) return res;
      res.discard();
      if (hop >= MAX_REDIRECTS) throw new SourceError(`${shown}: more than ${MAX_REDIRECTS} redirects`);
      const next = new URL(location, u);
      if (next.protocol !== 'http:' && next.protocol !== 'https:') throw new SourceError(`${shown}: redirected to a ${next.protocol} URL`);
      if (next.origin !== u.origin) trusted = false;
      u = next;
    }
  };

  const toPage = (text: string, body: unknown, page: number, shown: string): Page => {
    let records: unknown;
    if (recordsField) {
      if (typeof body !== 'object' || body === null || Array.isArray(body))
        throw new SourceError(`${shown}: expected a JSON object with a \`${recordsField}\` array`);
      records = (body as Record<string, unknown>)[recordsField];
      if (!Array.isArray(records)) throw new SourceError(`${shown}: the field \`${recordsField}\` is ${records === undefined ? 'missing' : 'not an array'}`);
    } else {
      records = body;
      if (!Array.isArray(records)) throw new SourceError(`${shown}: expected a JSON array of records (or set pagination records_field)`);
    }
    const list = records as unknown[];
    for (let i = 0; i < list.length; i++) {
      const r = list[i];
      if (typeof r !== 'object' || r === null || Array.isArray(r)) throw new SourceError(`${shown}: record ${i} is not a JSON object`);
    }
    const obj = body as Record<string, unknown>;
    let next: Page['next'];
    if (style === 'page') {
      const np = obj && typeof obj === 'object' && !Array.isArray(obj) ? obj.next_page : undefined;
      if (typeof np === 'number') next = { page: np };
      else if (np === undefined && list.length >= pageSize) next = { page: page + 1 };
    } else if (style === 'cursor') {
      const nc = obj && typeof obj === 'object' && !Array.isArray(obj) ? obj[cursorField] : undefined;
      if (typeof nc === 'string' && nc !== '' && list.length > 0) next = { cursor: nc };
    }
    return { text, records: list as Record<string, unknown>[], next };
  };

  return {
    where,
    async discover(): Promise<readonly SourceColumn[]> {
      firstPage = await fetchPage(1, undefined, new AbortController().signal);
      const names: string[] = [];
      const seen = new Set<string>();
      for (const r of firstPage.records) {
        for (const k of Object.keys(r)) {
          if (!seen.has(k)) {
            seen.add(k);
            names.push(k);
          }
        }
      }
      return names.map((name) => ({ name, sourceType: 'json' }));
    },
    async extract(req: ExtractRequest): Promise<Extracted> {
      const file = join(req.stagingDir, 'rows.ndjson');
      const names = req.columns.map((c) => c.name);
      // The answers as received, and where the records are in them (Extracted.answers).
      const answers = createHash('sha256').update(`http answers 1\n${JSON.stringify(recordsField ?? null)}\n`);
      let digest: Hash | undefined;
      let out: StagingWriter | undefined;
      const writer = (): StagingWriter => (out ??= new StagingWriter(file, (digest = stagingDigest())));
      // Pages not staged yet: answers the last sync read (req.lastRead) are never staged. Past
      // HOLD_CHARS of answers the pages are staged as they come (memory stays bounded).
      const held: (readonly Record<string, unknown>[])[] = [];
      let heldChars = req.lastRead ? 0 : Number.POSITIVE_INFINITY;
      const stage = async (records: readonly Record<string, unknown>[]): Promise<void> => {
        let chunk = '';
        for (const r of records) {
          const o: Record<string, unknown> = {};
          for (const n of names) o[n] = r[n] === undefined ? null : r[n];
          chunk += JSON.stringify(o) + '\n';
        }
        const w = writer();
        if (chunk && !w.line(chunk)) await w.drained();
      };
      const cols = req.columns.map((c) => `${literal(c.name)}: ${literal(c.duckType ? textReadType(c.duckType) : 'JSON')}`).join(', ');
      const typed = req.columns.every((c) => c.duckType);
      const relationOf = (rows: number): string =>
        typed
          ? `read_json(${literal(file)}, format = 'newline_delimited', columns = {${cols}}, maximum_object_size = 16777216)`
          : rows === 0
            ? `(SELECT ${req.columns.map((c) => `NULL::VARCHAR AS "${c.name.replace(/"/g, '""')}"`).join(', ')} WHERE false)`
            : `read_json(${literal(file)}, format = 'newline_delimited', maximum_object_size = 16777216, sample_size = -1)`;
      let rows = 0;
      let page: Page | undefined = firstPage ?? (await fetchPage(1, undefined, req.signal));
      let pageNo = 1;
      const seenPages = new Set<string>();
      try {
        for (;;) {
          // The next page is asked for before this one is written, so the API works while we do.
          let next: Promise<Page> | undefined;
          if (page.next && page.records.length > 0) {
            const key = page.next.cursor !== undefined ? `c:${page.next.cursor}` : `p:${page.next.page}`;
            if (seenPages.has(key)) throw new SourceError(`${where}: pagination loops (the API returned ${key.slice(2)} twice)`);
            seenPages.add(key);
            pageNo = page.next.page ?? pageNo + 1;
            next = fetchPage(pageNo, page.next.cursor, req.signal);
            next.catch(() => undefined);
          }
          answers.update(`${page.text.length}:`).update(page.text);
          heldChars += page.text.length;
          if (heldChars <= HOLD_CHARS) held.push(page.records);
          else {
            for (const h of held.splice(0)) await stage(h);
            await stage(page.records);
          }
          rows += page.records.length;
          req.onRows(rows);
          if (!next) break;
          page = await next;
        }
        const answered = answers.digest('hex');
        if (out === undefined && req.lastRead?.(answered)) return { rows, answers: answered, unchanged: true, relation: '' };
        for (const h of held.splice(0)) await stage(h);
        await writer().close();
        return { rows, answers: answered, digest: digest!.digest('hex'), relation: relationOf(rows) };
      } catch (e) {
        out?.destroy();
        throw e;
      }
    },
    async close() {
      firstPage = undefined;
      agents.http?.destroy();
      agents.https?.destroy();
      agents = {};
    },
  };
}

/** A connector's keep-alive connections, by scheme: ended when it closes (an idle one would hold the process up). */
type Agents = { http?: import('node:http').Agent; https?: import('node:https').Agent };

/** An HTTP answer: its status and headers, and its body read on demand. */
interface Answer {
  readonly status: number;
  header(name: string): string | undefined;
  /** The body decoded as UTF-8 (a byte order mark dropped), gzip or deflate undone. */
  text(): Promise<string>;
  discard(): void;
}

/**
 * One GET through node:http(s), not fetch: fetch is undici, whose loading alone costs a process
 * ~30-37 ms CPU (bench/ingest.md, session 14). Connections kept alive between pages as fetch
 * keeps them, and compressed answers accepted and undone as fetch does.
 */
async function get(url: URL, headers: Record<string, string>, signal: AbortSignal, agents: Agents): Promise<Answer> {
  const https = url.protocol === 'https:';
  const lib = https ? await import('node:https') : await import('node:http');
  const agent = https
    ? (agents.https ??= new (lib as typeof import('node:https')).Agent({ keepAlive: true }))
    : (agents.http ??= new lib.Agent({ keepAlive: true }));
  return new Promise((resolve, reject) => {
    const req = lib.get(url, { headers: { 'accept-encoding': 'gzip, deflate', ...headers }, signal, agent }, (res) => {
      const one = (name: string): string | undefined => {
        const v = res.headers[name];
        return Array.isArray(v) ? v.join(', ') : v;
      };
      resolve({
        status: res.statusCode ?? 0,
        header: one,
        discard: () => res.destroy(),
        text: () =>
          new Promise<string>((done, fail) => {
            const chunks: Buffer[] = [];
            res.on('data', (c: Buffer) => chunks.push(c));
            res.on('error', fail);
            res.on('aborted', () => fail(new Error('the connection closed before the answer ended')));
            res.on('end', async () => {
              try {
                let body = Buffer.concat(chunks);
                const coding = one('content-encoding')?.trim().toLowerCase();
                if (coding === 'gzip' || coding === 'x-gzip' || coding === 'deflate') {
                  const zlib = await import('node:zlib');
                  body = coding === 'deflate' ? zlib.inflateSync(body) : zlib.gunzipSync(body);
                }
                done(new TextDecoder().decode(body));
              } catch (e) {
                fail(e);
              }
            });
          }),
      });
    });
    req.on('error', reject);
  });
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    signal.addEventListener(
      'abort',
      () => {
        clearTimeout(t);
        resolve();
      },
      { once: true },
    );
  });
}
