// What the checker needs from a SQL body, from polyglot's real parser (Spark dialect): the tables it
// reads (CTE names excluded) with their offsets, a canonical re-generation of the statement for
// fingerprints, and the body rendered for schema binding. The body is parsed once: `tokenize` (only
// to drop comments), `parse` (tables + spans), then `generate` (normalised text) and the DuckDB
// rendering (src/sql/transpile.ts) from that one tree; `analyzeQuery` costs more and has no spans.
//
// Bodies in the common subset are analysed without polyglot (src/sql/fast-analyze.ts, same answer);
// only the others need the toolkit, and this module never loads it: before it is loaded, such a body
// throws SqlToolkitNotLoaded (src/sql/toolkit.ts) and the caller loads it and checks again
// (src/dsl/load-lazy.ts).
//
// Results are pure functions of (dialect, text), so they are cached by content hash — dbt's partial
// parsing idea. `SqlAnalysisCache` is the in-memory interface; `FileSqlCache` persists it as JSON.

import { sha256 } from '../util/canonical-json.js';
import { readFileSync } from 'node:fs';
import { readUtf8 } from '../util/read-utf8.js';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { JsonCacheFile } from '../util/json-cache.js';
import { SQL_DIALECT, sqlToolkit } from './toolkit.js';
import { rememberBindTemplate, renderBindTemplate, type RenderedTemplate } from './bind-templates.js';
import { fastAnalyzeSql } from './fast-analyze.js';
import { type TypeInputs, type TypedColumn, typeEarly, typedBefore } from './fast-types.js';

export { SQL_DIALECT } from './toolkit.js';

export interface TableRef {
  /** Name parts as written: `['iceberg','bronze','customers']`, `['silver','x']`, `['cte']`. */
  readonly parts: readonly string[];
  /** UTF-16 offsets into the SQL text, end exclusive. */
  readonly start: number;
  readonly end: number;
}

export type SqlAnalysis =
  | {
      readonly ok: true;
      readonly normalized: string;
      readonly tables: readonly TableRef[];
      /**
       * The body rendered for schema binding, from the same tree (src/sql/transpile.ts,
       * renderForBind): absent when the body has comments or variables, or cannot run on DuckDB.
       */
      readonly bind?: RenderedTemplate;
    }
  | { readonly ok: false; readonly message: string; readonly start: number; readonly end: number };

export interface SqlAnalysisCache {
  get(key: string): SqlAnalysis | undefined;
  set(key: string, value: SqlAnalysis): void;
}

export const sqlCacheKey = (text: string, dialect = SQL_DIALECT): string => sha256(`${dialect}\0${text}`);

/**
 * Results of this process, by text: `plan --base` checks two versions of a spec in one process, and
 * their unchanged bodies are analysed once. Bounded; cleared wholesale when full.
 */
const memo = new Map<string, SqlAnalysis>();
const MEMO_LIMIT = 20_000;

/** Analyses one SQL body (a single query). Never throws. */
export function analyzeSql(text: string, cache?: SqlAnalysisCache): SqlAnalysis {
  return analyzeAndType(text, cache).analysis;
}

/**
 * analyzeSql, and with `inputs` the body's output columns typed from the tree the analysis parses
 * (src/sql/fast-types.ts typeEarly, kept there for the schema pass): when the body is parsed here
 * and the fast rules type it over those inputs, or when this process typed the same text so before
 * over inputs with the same columns (typedBefore; a cache's answer alone has no tree). Never throws.
 */
export function analyzeAndType(text: string, cache?: SqlAnalysisCache, inputs?: TypeInputs): { analysis: SqlAnalysis; columns?: readonly TypedColumn[] } {
  const key = cache ? sqlCacheKey(text) : '';
  const stored = cache?.get(key);
  if (stored) {
    remember(text, stored);
    return answer(stored, inputs && typedBefore(text, inputs));
  }
  let columns: readonly TypedColumn[] | undefined;
  const known = memo.get(text);
  // The common subset needs no polyglot (src/sql/fast-analyze.ts); it answers only when sure. A text
  // met before (another node with the same body) is typed from the answer its tree gave then.
  if (known && inputs) columns = typedBefore(text, inputs);
  const result = known ?? fastAnalyzeSql(text, inputs && ((q) => (columns = typeEarly(text, q, inputs)))) ?? analyzeWithPolyglot(text);
  cache?.set(key, result);
  remember(text, result);
  return answer(result, columns);
}

const answer = (analysis: SqlAnalysis, columns: readonly TypedColumn[] | undefined) => (columns ? { analysis, columns } : { analysis });

function remember(text: string, result: SqlAnalysis): void {
  if (memo.size >= MEMO_LIMIT) memo.clear();
  memo.set(text, result);
  if (result.ok && result.bind) rememberBindTemplate(text, result.bind);
}

/** Empties this process's memo (benches measuring a cold start). */
export function forgetSqlAnalyses(): void {
  memo.clear();
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
interface PolySpan {
  start: number;
  end: number;
}

/** polyglot's analysis, whatever the body (test/sql/fast-analyze.test.ts compares the fast path with it). */
export function analyzeWithPolyglot(text: string): SqlAnalysis {
  const { tokenize } = sqlToolkit(); // outside the try blocks below: not loaded is not a SQL error
  // 1. Tokenize, and rebuild the text from its tokens alone: comments and layout are gone, so the
  //    re-generated SQL (normalized) cannot depend on them. (polyglot keeps comments when it
  //    generates SQL, and has no option to drop them.)
  const toUtf16 = codePointToUtf16(text);
  // Without `--` or `/*` there is no comment to drop: skip the tokenize pass (a quarter of the cost).
  if (!text.includes('--') && !text.includes('/*')) return analyzeStripped(text, text, [{ from: 0, to: 0, len: text.length }]);
  let toks: ReturnType<typeof tokenize>;
  try {
    toks = tokenize(text, SQL_DIALECT as never);
  } catch (e) {
    return { ok: false, message: `SQL could not be read: ${(e as Error).message}`, start: 0, end: 0 };
  }
  if (!toks.success || !toks.tokens) {
    const start = toUtf16(toks.errorStart ?? 0);
    return { ok: false, message: cleanMessage(toks.error ?? 'syntax error'), start, end: Math.max(start + 1, toUtf16(toks.errorEnd ?? 0)) };
  }
  const segments: { from: number; to: number; len: number }[] = []; // stripped offset → original offset
  let stripped = '';
  let prevEnd = -1;
  for (const t of toks.tokens) {
    const start = toUtf16(t.span.start);
    const end = toUtf16(t.span.end);
    if (prevEnd >= 0 && start > prevEnd) stripped += ' ';
    segments.push({ from: stripped.length, to: start, len: end - start });
    stripped += text.slice(start, end);
    prevEnd = end;
  }
  if (segments.length === 0) return { ok: false, message: 'SQL body is empty: expected one query', start: 0, end: text.length };
  return analyzeStripped(text, stripped, segments);
}

/** Parses the comment-free text; `segments` map its offsets back to the original text. */
function analyzeStripped(text: string, stripped: string, segments: readonly { from: number; to: number; len: number }[]): SqlAnalysis {
  if (stripped.trim() === '') return { ok: false, message: 'SQL body is empty: expected one query', start: 0, end: text.length };
  const strippedToUtf16 = codePointToUtf16(stripped);
  const back = (cp: number): number => {
    const off = strippedToUtf16(cp);
    let lo = 0;
    let hi = segments.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (segments[mid].from <= off) lo = mid;
      else hi = mid - 1;
    }
    const seg = segments[lo];
    return seg.to + Math.min(Math.max(0, off - seg.from), seg.len);
  };

  // 2. Parse for the tables read (with their positions).
  const { parse, generate } = sqlToolkit();
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(stripped, SQL_DIALECT as never);
  } catch (e) {
    return { ok: false, message: `SQL could not be parsed: ${(e as Error).message}`, start: 0, end: 0 };
  }
  if (!parsed.success) {
    const start = back(parsed.errorStart ?? 0);
    const end = Math.max(start + 1, back(parsed.errorEnd ?? (parsed.errorStart ?? 0) + 1));
    return { ok: false, message: cleanMessage(parsed.error ?? 'syntax error'), start, end };
  }
  const statements = (parsed.ast ?? []) as unknown as Json[];
  if (statements.length !== 1) {
    const msg = statements.length === 0 ? 'SQL body is empty: expected one query' : `SQL body has ${statements.length} statements: expected one query`;
    return { ok: false, message: msg, start: 0, end: text.length };
  }
  const ctes = new Set<string>();
  const tables: TableRef[] = [];
  collect(statements[0], ctes, tables, back);
  const reads = tables.filter((t) => !(t.parts.length === 1 && ctes.has(t.parts[0].toLowerCase())));
  reads.sort((a, b) => a.start - b.start);

  // 3. Re-generate from the same tree: the canonical text fingerprints hash (what transpiling
  //    spark→spark gives, without parsing again).
  const gen = generate(statements, SQL_DIALECT as never);
  const normalized = gen.success && gen.sql ? gen.sql.join(';\n') : stripped;
  // 4. The rendering schema binding needs, from the same tree again: only when the tree is the
  //    body's own (no comment was dropped) and no spec variable is substituted into it.
  const bind = stripped === text && !/\bvar\s*\(/i.test(text) ? renderBindTemplate(text, statements) : undefined;
  return { ok: true, normalized, tables: reads, ...(bind ? { bind } : {}) };
}

/** Walks polyglot's JSON AST: `table` nodes carry identifier objects; CTE names sit in `with.ctes[].alias`. */
function collect(node: Json, ctes: Set<string>, out: TableRef[], toUtf16: (n: number) => number): void {
  if (Array.isArray(node)) {
    for (const n of node) collect(n, ctes, out, toUtf16);
    return;
  }
  if (node === null || typeof node !== 'object') return;
  // for…in without Object.entries and no descent into spans/comments: this walk runs per query.
  for (const k in node) {
    if (k === 'span' || k === 'trailing_comments' || k === 'comments') continue;
    const v = node[k];
    if (v === null || typeof v !== 'object') continue;
    if (k === 'table' && !Array.isArray(v) && isIdent(v['name'])) {
      const parts: { name: string; span?: PolySpan }[] = [];
      for (const p of ['catalog', 'schema', 'name'] as const) {
        const id = v[p];
        if (isIdent(id)) parts.push({ name: id['name'] as string, span: id['span'] as unknown as PolySpan | undefined });
      }
      const first = parts.find((p) => p.span)?.span;
      const last = [...parts].reverse().find((p) => p.span)?.span;
      out.push({ parts: parts.map((p) => p.name), start: toUtf16(first?.start ?? 0), end: toUtf16(last?.end ?? 0) });
    }
    if (k === 'ctes' && Array.isArray(v)) {
      for (const c of v) {
        const alias = c && typeof c === 'object' && !Array.isArray(c) ? c['alias'] : null;
        if (isIdent(alias)) ctes.add((alias['name'] as string).toLowerCase());
      }
    }
    collect(v, ctes, out, toUtf16);
  }
}

function isIdent(x: Json | undefined): x is { [k: string]: Json } {
  return x !== null && x !== undefined && typeof x === 'object' && !Array.isArray(x) && typeof x['name'] === 'string';
}

/** polyglot counts Unicode code points; JS strings count UTF-16 units. */
function codePointToUtf16(text: string): (n: number) => number {
  if (!/[\uD800-\uDFFF]/.test(text)) return (n) => n;
  const map: number[] = [];
  let i = 0;
  for (const ch of text) {
    map.push(i);
    i += ch.length;
  }
  map.push(i);
  return (n) => map[Math.min(Math.max(0, n), map.length - 1)];
}

/** "Parse error at line 2, column 8: Expected …" → "Expected …" (the position is reported separately). */
function cleanMessage(m: string): string {
  const i = m.indexOf(': ');
  const body = /^\w+ error at line \d+, column \d+$/.test(m.slice(0, i)) ? m.slice(i + 2) : m;
  return body.replace(/ near \[[\s\S]*\]$/, '');
}

/** polyglot's version from its package.json: reading it does not load the toolkit. */
const engineVersion = (): string => {
  try {
    return `polyglot-sql ${polyglotPackage().version ?? 'unknown'}`;
  } catch {
    return 'polyglot-sql unknown';
  }
};

/**
 * polyglot's package.json, in the first `node_modules` folder from this module's folder up that has
 * it, where Node's resolution of the bare name finds it; read directly, that is ~2 ms less of a cold
 * plan than asking the resolver (its `exports` handling), which is asked only when no such folder has it.
 */
function polyglotPackage(): { version?: string } {
  for (let dir = dirname(fileURLToPath(import.meta.url)); ; ) {
    const text = readIfThere(join(dir, 'node_modules', '@polyglot-sql', 'sdk', 'package.json'));
    if (text !== undefined) return JSON.parse(text) as { version?: string };
    const up = dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  const main = createRequire(import.meta.url).resolve('@polyglot-sql/sdk');
  return JSON.parse(readFileSync(join(dirname(main), '..', 'package.json'), 'utf8')) as { version?: string };
}

function readIfThere(path: string): string | undefined {
  try {
    return readUtf8(path);
  } catch {
    return undefined;
  }
}

/**
 * Analyses kept in a JSON file keyed by content hash (src/util/json-cache.ts). The file is salted
 * with polyglot's version and the caller's salt (the workspace passes its build id): another
 * polyglot may normalise differently, so its results are not ours to reuse.
 */
export class FileSqlCache extends JsonCacheFile<SqlAnalysis> implements SqlAnalysisCache {
  constructor(path: string, salt = '') {
    super(path, FileSqlCache.saltOf(salt));
  }

  static saltOf(salt = ''): string {
    return `${engineVersion()}\n${SQL_DIALECT}\n${salt}`;
  }

  /**
   * A cache that reads nothing and keeps what is set, to append to the file at `path` with
   * `flush()` (JsonCacheFile.append): a patched spec analyses its edited bodies only.
   */
  static appending(path: string, salt = ''): SqlAnalysisCache & { flush(): void } {
    const added = new Map<string, SqlAnalysis>();
    return {
      get: () => undefined,
      set: (k, v) => void added.set(k, v),
      flush: () => void JsonCacheFile.append(path, FileSqlCache.saltOf(salt), added),
    };
  }
}
