// Two texts' difference as one edit, and spans moved by the lines an edit added or removed: what a
// patched spec (src/dsl/patch.ts) and its cache entry kept as a delta (src/cli/spec-cache.ts) share.
// No parser here: the spec cache loads this module without loading the DSL.

/** `after` as `before` with [start, end) replaced by `insert`: the one range where they differ. */
export interface TextEdit {
  readonly start: number;
  readonly end: number;
  readonly insert: string;
}

const CHUNK = 4096;

/** The edit that makes `after` of `before`: the first and the last character that differ. */
export function textEdit(before: string, after: string): TextEdit {
  const max = Math.min(before.length, after.length);
  // By chunks first (a native comparison), then by character.
  let p = 0;
  while (p + CHUNK <= max && before.slice(p, p + CHUNK) === after.slice(p, p + CHUNK)) p += CHUNK;
  while (p < max && before.charCodeAt(p) === after.charCodeAt(p)) p++;
  let s = 0;
  while (s + CHUNK <= max - p && before.slice(before.length - s - CHUNK, before.length - s) === after.slice(after.length - s - CHUNK, after.length - s))
    s += CHUNK;
  while (s < max - p && before.charCodeAt(before.length - 1 - s) === after.charCodeAt(after.length - 1 - s)) s++;
  return { start: p, end: before.length - s, insert: after.slice(p, after.length - s) };
}

export const applyTextEdit = (before: string, e: TextEdit): string => before.slice(0, e.start) + e.insert + before.slice(e.end);

/** Moves, in place, every span (and span end) of `v` below line `after` down by `lines`. */
export function shiftSpans(v: unknown, after: number, lines: number): void {
  if (v === null || typeof v !== 'object') return;
  if (Array.isArray(v)) {
    for (const x of v) shiftSpans(x, after, lines);
    return;
  }
  const o = v as Record<string, unknown>;
  if (typeof o.file === 'string' && typeof o.line === 'number' && typeof o.endLine === 'number') {
    if (o.line > after) o.line += lines;
    if (o.endLine > after) o.endLine += lines;
  }
  for (const k in o) {
    const x = o[k];
    if (x !== null && typeof x === 'object') shiftSpans(x, after, lines);
  }
}
