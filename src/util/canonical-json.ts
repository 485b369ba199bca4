import * as crypto from 'node:crypto';
import { sortStrings } from './sort.js';

/** JSON with object keys sorted at every depth: the one serialisation that is hashed or compared. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    const keys = sortStrings(Object.keys(v as object));
    for (let i = 0; i < keys.length; i++) {
      const k = keys[i] as string;
      const x = (v as Record<string, unknown>)[k];
      if (x !== undefined) out[k] = sortKeys(x);
    }
    return out;
  }
  if (typeof v === 'bigint') return v.toString();
  return v;
}

/**
 * SHA-256 of `data` in hex. Node's one-shot `crypto.hash` where it has it (20.12 and later): ~3× less
 * CPU than a Hash object on the short texts hashed per node and per SQL body (a cold 1,000-node plan
 * hashes ~5,000); the digest is the same.
 */
export const sha256: (data: string | Uint8Array) => string =
  typeof crypto.hash === 'function' ? (data) => crypto.hash('sha256', data, 'hex') : (data) => crypto.createHash('sha256').update(data).digest('hex');
