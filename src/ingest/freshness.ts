// Source freshness (`check freshness(col, warn_after = 6h, error_after = 1d)` in a stream): how old
// the newest `col` of the synced table is against the run's logical time. Older than `error_after`
// fails the node before its snapshot is committed (the previous one stays current); older than
// `warn_after` is a warning. An empty table is as stale as it gets. docs/language.md, "Checks".

import type { DuckDBConnection } from '@duckdb/node-api';
import type { SourceNode } from '../ir/types.js';
import { ident, literal, queryAll } from '../engine/duckdb.js';
import { NodeError, type RunContext } from '../engine/executor.js';

export async function checkFreshness(ctx: RunContext<SourceNode>, duck: DuckDBConnection, relation: string): Promise<void> {
  for (const c of ctx.node.stream.checks ?? []) {
    if (c.kind !== 'freshness' || !c.column) continue;
    const at = ctx.logicalTime.toISOString();
    const r = await queryAll(
      duck,
      `SELECT CAST(max(${ident(c.column)}) AS VARCHAR) AS newest, epoch(CAST(${literal(at)} AS TIMESTAMPTZ)) - epoch(CAST(max(${ident(c.column)}) AS TIMESTAMPTZ)) AS age FROM ${relation}`,
    );
    const newest = r.rows[0]?.newest as string | null | undefined;
    const age = newest === null || newest === undefined ? Infinity : Number(r.rows[0].age);
    const told = (limit: string, seconds: number) =>
      `${ctx.node.id}: check ${c.name} ${limit === 'error_after' ? 'failed' : 'warns'}: ` +
      (newest ? `the newest ${c.column} is ${newest}, ${human(age)} before the run's logical time ${at}` : `the table has no ${c.column} value`) +
      `, older than ${limit} = ${human(seconds)}`;
    if (c.errorAfterSeconds !== undefined && age > c.errorAfterSeconds)
      throw new NodeError(`${told('error_after', c.errorAfterSeconds)}; the previous snapshot stays current`, c.span);
    if (c.warnAfterSeconds !== undefined && age > c.warnAfterSeconds) ctx.warn(told('warn_after', c.warnAfterSeconds));
  }
}

function human(seconds: number): string {
  if (!Number.isFinite(seconds)) return 'forever';
  const units: [number, string][] = [
    [86400, 'd'],
    [3600, 'h'],
    [60, 'm'],
    [1, 's'],
  ];
  const out: string[] = [];
  let rest = Math.round(seconds);
  for (const [n, u] of units) {
    if (rest >= n && out.length < 2) {
      out.push(`${Math.floor(rest / n)}${u}`);
      rest %= n;
    }
  }
  return out.join(' ') || '0s';
}
