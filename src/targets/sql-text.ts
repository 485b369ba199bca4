// SQL for people to read: rendered through src/sql (renderSql), then pretty-printed. Table
// references are rendered as plain marker identifiers first, so the formatter sees valid SQL
// even when the final text is Jinja (`{{ ref('x') }}`); the markers are swapped afterwards.

import { format } from '@polyglot-sql/sdk';
import type { NodeId, SqlBody } from '../ir/types.js';
import type { Diagnostic } from '../diagnostics/diagnostic.js';
import { diag } from '../diagnostics/catalogue.js';
import { Codes } from '../diagnostics/catalogue.js';
import type { RenderSql, SqlDialect } from './registry.js';
import { SENTINEL, clashesWithSentinel, swapLogicalTime } from './logical-time.js';
import { sha256 } from '../util/canonical-json.js';

const POLYGLOT: Record<SqlDialect, string> = { duckdb: 'duckdb', spark: 'spark', trino: 'trino', postgres: 'postgresql' };

export interface SqlTextOptions {
  readonly dialect: SqlDialect;
  readonly tableRef: (nodeId: NodeId) => string;
  /** Run-time text replacing the quoted literals of the logical timestamp and date (keep it quoted). */
  readonly logicalTimestamp: string;
  readonly logicalDate: string;
}

/**
 * A memo of rendered SQL across compiles (rendering through polyglot costs tens of ms a body). The
 * key covers everything the text depends on, the CLI salts it with the renderer's own code; the
 * output is the same with or without it.
 */
export interface SqlTextCache {
  get(key: string): string | undefined;
  set(key: string, value: string): void;
}

export function sqlText(renderSql: RenderSql, body: SqlBody, opts: SqlTextOptions, diags: Diagnostic[], cache?: SqlTextCache): string | undefined {
  if (!cache) return renderText(renderSql, body, opts, diags);
  const key = sha256(JSON.stringify([opts.dialect, body.text, body.reads.map((id) => [id, opts.tableRef(id)]), opts.logicalTimestamp, opts.logicalDate]));
  const hit = cache.get(key);
  if (hit !== undefined) return hit;
  const before = diags.length;
  const text = renderText(renderSql, body, opts, diags);
  // Only clean renders are memoised: a body with diagnostics is rendered again (and reported) next time.
  if (text !== undefined && diags.length === before) cache.set(key, text);
  return text;
}

function renderText(renderSql: RenderSql, body: SqlBody, opts: SqlTextOptions, diags: Diagnostic[]): string | undefined {
  if (clashesWithSentinel(body)) {
    diags.push(diag(Codes.SqlRender, 'this SQL contains the date 2999-12-31, which compile reserves for the logical time', body.span));
    return undefined;
  }
  const refs: string[] = [];
  const r = renderSql(body, {
    dialect: opts.dialect,
    tableRef: (id) => {
      refs.push(opts.tableRef(id));
      return `asgref${refs.length - 1}x`;
    },
    logicalTime: SENTINEL,
  });
  const { sql, diagnostics } = r;
  if (diagnostics.length) {
    diags.push(...diagnostics);
    if (diagnostics.some((d) => d.severity === 'error')) return undefined;
  }
  const pretty = format(sql, POLYGLOT[opts.dialect] as never);
  let text = pretty.success && pretty.sql?.length === 1 ? pretty.sql[0] : sql;
  text = text.replace(/"?asgref(\d+)x"?/g, (_m, i: string) => refs[Number(i)]);
  return swapLogicalTime(text, opts.logicalTimestamp, opts.logicalDate);
}
