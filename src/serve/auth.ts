// The token of `serve NAME { auth = { token = secret("…") } }`. When a serve node of the spec sets
// one, the endpoints that write (POST /mlops/inference/batch) and the query door
// (POST /data-products/query) answer 401 unless the request carries `Authorization: Bearer <token>`
// (any of the spec's serve tokens); online inference, features, models, /health and the site stay
// open. The token is read from the environment once, at start, compared in constant time, and never
// logged or echoed: an error names the secret, never its value.

import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { PipelineIR } from '../ir/types.js';
import { resolver } from '../engine/resolve.js';
import { HttpError } from './http.js';

/** The server cannot start: a token's secret is not set. */
export class ServeConfigError extends Error {}

const digest = (s: string): Buffer => createHash('sha256').update(s).digest();

export class ServeAuth {
  private constructor(private readonly digests: readonly Buffer[]) {}

  static of(ir: PipelineIR, env: Readonly<Record<string, string | undefined>>): ServeAuth {
    const resolve = resolver(env, new Set());
    const digests: Buffer[] = [];
    for (const n of ir.nodes) {
      if (n.kind !== 'serve' || !n.auth) continue;
      try {
        digests.push(digest(String(resolve(n.auth.token))));
      } catch (e) {
        throw new ServeConfigError(`${n.id} auth.token: ${(e as Error).message}`);
      }
    }
    return new ServeAuth(digests);
  }

  get required(): boolean {
    return this.digests.length > 0;
  }

  /** 401 unless the request carries one of the tokens (when the spec sets any). */
  check(req: IncomingMessage): void {
    if (!this.required) return;
    const header = req.headers.authorization;
    const m = typeof header === 'string' ? /^Bearer[ ]+(\S+)\s*$/i.exec(header) : null;
    if (!m) throw new HttpError(401, 'unauthorized', "this endpoint needs `Authorization: Bearer <token>` (the serve node's auth.token)");
    const given = digest(m[1]);
    if (!this.digests.some((d) => timingSafeEqual(d, given))) throw new HttpError(401, 'unauthorized', "the bearer token is not the serve node's auth.token");
  }
}
