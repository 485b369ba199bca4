// Positions inside SQL bodies → positions in the spec file, and the diagnostics the SQL layer emits.

import type { Diagnostic } from '../diagnostics/diagnostic.js';
import type { Span, SqlBody } from '../ir/types.js';

/** A span in the spec file for 1-based `line`/`column` inside `body.text` (one character wide). */
export function bodySpan(body: SqlBody, line: number, column: number, length = 1): Span {
  const s = body.span;
  const fileLine = s.line + line - 1;
  const fileCol = line === 1 ? s.column + column - 1 : column;
  return { file: s.file, line: fileLine, column: fileCol, endLine: fileLine, endColumn: fileCol + Math.max(1, length) };
}

/** The span of a 0-based character offset inside `body.text`. */
export function offsetSpan(body: SqlBody, offset: number, length = 1): Span {
  const before = body.text.slice(0, Math.max(0, offset));
  const line = before.split('\n').length;
  const column = offset - (before.lastIndexOf('\n') + 1) + 1;
  return bodySpan(body, line, column, length);
}

/** The first line of the body that holds SQL (bodies usually start with a newline). */
export function firstSqlLine(body: SqlBody): Span {
  const m = /\S/.exec(body.text);
  return offsetSpan(body, m ? m.index : 0);
}

export function sqlDiag(code: string, message: string, span: Span | undefined, hint?: string): Diagnostic {
  return { code, severity: 'error', message, ...(span ? { span } : {}), ...(hint ? { hint } : {}) };
}
