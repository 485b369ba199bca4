// Small HTTP helpers for the server: bounded body reading, JSON responses and the error shape
// `{"error": {"code", "message", "details"?}}` (docs/http.md).

import type { IncomingMessage, ServerResponse } from 'node:http';

export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
    /** Seconds for a `Retry-After` header (503 of an overloaded door). */
    readonly retryAfter?: number,
  ) {
    super(message);
  }
}

/** Past this many discarded bytes of an oversized body, the connection is dropped instead of drained. */
const MAX_DRAIN = 64 << 20;

/**
 * The request body, at most `limit` bytes. Over the limit (by Content-Length or while streaming):
 * 413, and the rest of the body is drained (up to MAX_DRAIN) so the client reads the answer.
 */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length']);
    const tooLarge = () => new HttpError(413, 'body_too_large', `request body is larger than the limit of ${limit} bytes`);
    if (Number.isFinite(declared) && declared > limit) {
      drain(req);
      reject(tooLarge());
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    const onData = (c: Buffer) => {
      if (failed) return;
      size += c.length;
      if (size > limit) {
        failed = true;
        chunks.length = 0;
        req.off('data', onData);
        drain(req, size);
        reject(tooLarge());
        return;
      }
      chunks.push(c);
    };
    req.on('data', onData);
    req.on('end', () => {
      if (!failed) resolve(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, size));
    });
    req.on('error', (e) => {
      if (!failed) {
        failed = true;
        reject(new HttpError(400, 'bad_request', `could not read the request body: ${e.message}`));
      }
    });
  });
}

function drain(req: IncomingMessage, already = 0): void {
  let seen = already;
  req.on('data', (c: Buffer) => {
    seen += c.length;
    if (seen > MAX_DRAIN) req.socket.destroy();
  });
  req.resume();
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  sendRaw(res, status, JSON.stringify(body));
}

export function sendRaw(res: ServerResponse, status: number, json: string): void {
  if (res.headersSent) return;
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(json) });
  res.end(json);
}

/** A page or asset of the site (`asgard docs`), never cached: it shows the state of the moment. */
export function sendBody(res: ServerResponse, contentType: string, body: string | Buffer): void {
  if (res.headersSent) return;
  res.writeHead(200, {
    'content-type': contentType,
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-cache',
    'x-content-type-options': 'nosniff',
  });
  res.end(body);
}

export function sendError(res: ServerResponse, e: HttpError): void {
  const error: Record<string, unknown> = { code: e.code, message: e.message };
  if (e.details !== undefined) error.details = e.details;
  if (e.status === 413) res.setHeader('connection', 'close');
  if (e.retryAfter !== undefined) res.setHeader('retry-after', String(e.retryAfter));
  if (e.status === 401) res.setHeader('www-authenticate', 'Bearer realm="asgard"');
  sendJson(res, e.status, { error });
}

export function parseJson(buf: Buffer): unknown {
  if (buf.length === 0) throw new HttpError(400, 'invalid_json', 'request body is empty; expected a JSON object');
  try {
    return JSON.parse(buf.toString('utf8'));
  } catch (e) {
    throw new HttpError(400, 'invalid_json', `request body is not valid JSON: ${(e as Error).message}`);
  }
}
