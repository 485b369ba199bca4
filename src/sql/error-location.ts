// Map a DuckDB error about the SQL we generated back to the user's SQL body in the spec file.
//
// DuckDB reports `LINE n: <text of that line>` and a caret under the offending token. The SQL it
// ran is polyglot's output (one line), so the caret's token is looked up among the tokens of the
// user's body: the first token with the same text, in the same order of occurrence when the token
// repeats. When nothing matches, the body's first SQL line is the location.

import { sqlToolkit } from './toolkit.js';
import type { Span, SqlBody } from '../ir/types.js';
import { firstSqlLine, offsetSpan } from './spans.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

/** `token`: the identifier the error is about, when the caller knows it better than the message's caret. */
export function locateSqlError(body: SqlBody, generatedSql: string, message: string, token = caretToken(message) ?? quotedName(message)): Span {
  if (!token) return firstSqlLine(body);
  const occurrence = occurrenceInGenerated(generatedSql, message, token);
  const { tokenize } = sqlToolkit();
  const toks = (tokenize(body.text, 'spark' as never) as Json).tokens as Json[] | undefined;
  if (!toks) return firstSqlLine(body);
  const same = toks.filter((t) => sameToken(String(t.text), token));
  const hit = same[Math.min(occurrence, same.length - 1)];
  if (!hit) return firstSqlLine(body);
  const start = typeof hit.span?.start === 'number' ? charOffset(body.text, hit.span.start) : -1;
  if (start < 0) return firstSqlLine(body);
  return offsetSpan(body, start, String(hit.text).length);
}

/** DuckDB's `LINE n: <shown text>` and the caret's offset inside the shown text. */
function caretLine(message: string): { shown: string; caret: number } | undefined {
  const m = /(LINE \d+: )(.*)\n( *)\^/.exec(message);
  if (!m) return undefined;
  return { shown: m[2], caret: m[3].length - m[1].length };
}

/** The identifier or keyword that starts under DuckDB's caret. */
function caretToken(message: string): string | undefined {
  const c = caretLine(message);
  if (!c) return undefined;
  const t = /^"?([A-Za-z_][A-Za-z0-9_]*)"?/.exec(c.shown.slice(Math.max(0, c.caret)));
  return t ? t[1] : undefined;
}

function quotedName(message: string): string | undefined {
  const m = /(?:column|Table|function)[^"]*"([^"]+)"/i.exec(message);
  return m ? m[1] : undefined;
}

/** How many times `token` appears before the caret in the generated SQL (0-based occurrence). */
function occurrenceInGenerated(sql: string, message: string, token: string): number {
  const c = caretLine(message);
  if (!c) return 0;
  const shown = c.shown.replace(/^\.\.\./, '').replace(/\.\.\.$/, '');
  const at = sql.indexOf(shown);
  if (at < 0) return 0;
  const abs = at + c.caret - (c.shown.startsWith('...') ? 3 : 0);
  const toks = ((sqlToolkit().tokenize(sql, 'duckdb' as never) as Json).tokens ?? []) as Json[];
  return toks.filter((t) => sameToken(String(t.text), token) && charOffset(sql, t.span?.start ?? 0) < abs).length;
}

const sameToken = (text: string, token: string): boolean => unquote(text).toLowerCase() === token.toLowerCase();

const unquote = (s: string): string => s.replace(/^[`"]|[`"]$/g, '');

/** polyglot spans count Unicode characters; JS strings count UTF-16 units. */
function charOffset(text: string, chars: number): number {
  let units = 0;
  let i = 0;
  for (const ch of text) {
    if (i === chars) return units;
    units += ch.length;
    i++;
  }
  return i === chars ? units : -1;
}
