// CURRENT_DATE / CURRENT_TIMESTAMP in compiled SQL: every run substitutes ONE logical time, known
// only when the job runs. renderSql (src/sql/transpile.ts) turns them into literals of a given
// time on the parsed tree; we render with a sentinel time no spec uses and swap its two literals
// for the run-time form each target needs (a runner placeholder for Spark, a dbt macro call).

import type { SqlBody } from '../ir/types.js';

export const SENTINEL = new Date('2999-12-31T23:58:59.987Z');
const SENTINEL_TIMESTAMP = '2999-12-31 23:58:59.987';
const SENTINEL_DATE = '2999-12-31';

/** True when the body itself contains the sentinel (then swapping would touch user text). */
export const clashesWithSentinel = (body: SqlBody): boolean => body.text.includes(SENTINEL_DATE);

/** Replace the sentinel literals (in any quoting the dialect generated) with the given expressions. */
export function swapLogicalTime(sql: string, timestamp: string, date: string): string {
  return sql.replaceAll(`'${SENTINEL_TIMESTAMP}'`, timestamp).replaceAll(`'${SENTINEL_DATE}'`, date);
}

/** The spec's logical time as the runner's and dbt's defaults: env name and default text. */
export function logicalTimeDefaults(lt: import('../ir/types.js').Resolvable | undefined): { env?: string; default?: string } {
  if (!lt) return {};
  if (lt.kind === 'literal') return { default: String(lt.value) };
  if (lt.kind === 'env') return { env: lt.name, ...(lt.default !== undefined ? { default: lt.default } : {}) };
  return { env: lt.name };
}
