// Data checks from the spec, run against a node's freshly written (not yet committed) snapshot.
// A failing check fails the node: the caller aborts the pending snapshot, so the previous one stays
// current and downstream nodes do not run.

import type { DuckDBConnection } from '@duckdb/node-api';
import type { Check, NodeId, Span } from '../ir/types.js';
import { renderBody, type RenderCache } from './render.js';
import { ident, literal, queryAll, type QueryResult } from './duckdb.js';
import type { WrittenFacts } from '../warehouse/warehouse.js';

export interface CheckFailure {
  readonly check: Check;
  /** The check's name, given or derived (`unique(customer_id)`, `sql_2`). */
  readonly name: string;
  /** What failed, with a few offending values. */
  readonly message: string;
  readonly span: Span;
}

const SAMPLE = 5;

/**
 * Run every check against `relation` (a qualified table or view name). `tableRef` renders the table
 * references of custom SQL checks (the node's own table must point at the pending snapshot).
 */
export async function runChecks(
  conn: DuckDBConnection,
  relation: string,
  checks: readonly Check[],
  opts: { tableRef: (id: NodeId) => string; logicalTime: Date; readonly delta?: CheckDelta; readonly known?: WrittenFacts; readonly renderCache?: RenderCache },
): Promise<CheckFailure[]> {
  // Row-wise checks (and `unique` of the merge key) of a merge read only the rows it writes.
  const over = (c: Check): string => (opts.delta && rowLocal(c, opts.delta.key) ? opts.delta.added : relation);
  // One scan per relation answers every column check in the common (passing) case; only the checks
  // that fail (and custom SQL checks) run their own queries, to count and sample the offending values.
  // What the write reported of `relation` (its row count, each column's NULLs) answers some without a scan.
  // Of a merge, `known` is what the write reported of the rows it wrote (`delta.added`), and the
  // whole table's row count is `delta.rows`.
  const delta = opts.delta;
  const factsOf = (c: Check): WrittenFacts | undefined =>
    !delta ? opts.known : over(c) === delta.added ? opts.known : { rows: delta.rows, nulls: () => undefined, range: () => undefined };
  const suspects = new Set<Check>(checks.filter((c) => c.sql));
  const simple: Check[] = [];
  for (const c of checks) {
    if (c.sql) continue;
    const v = answered(c, factsOf(c));
    if (v === undefined) simple.push(c);
    else if (v > 0) suspects.add(c);
  }
  for (const rel of new Set(simple.map(over))) {
    const these = simple.filter((c) => over(c) === rel);
    const scan = (known?: WrittenFacts): Promise<QueryResult> =>
      queryAll(conn, `SELECT ${these.map((c, i) => `${violations(c, known)} AS v${i}`).join(', ')} FROM ${rel}`);
    // The write's report is of the whole relation only for a full write (no delta). Were a reported
    // key range wrong, bitstring_agg would refuse a value outside it: the scan then counts by hash.
    const r = opts.delta || !opts.known ? await scan() : await scan(opts.known).catch(() => scan());
    these.forEach((c, i) => {
      if (Number(r.rows[0][`v${i}`]) > 0) suspects.add(c);
    });
  }
  const failures: CheckFailure[] = [];
  for (const c of checks) {
    if (!suspects.has(c)) continue;
    const message = await runOne(conn, over(c), c, { ...opts, known: factsOf(c) });
    if (message) failures.push({ check: c, name: c.name, message, span: c.span });
  }
  return failures;
}

/**
 * A merge (src/engine/merge-write.ts): the new table is rows the previous snapshot held, which
 * passed these same checks (a changed check is a changed definition: a full rebuild), plus `added`,
 * in which no `key` value of the kept rows appears; `rows` is the new table's row count.
 */
export interface CheckDelta {
  readonly added: string;
  readonly key: string;
  readonly rows: number;
}

/** Whether a check of a merge reads the whole table (not only `added`, nor only the merge's counts). */
export function readsWholeTable(c: Check, delta: CheckDelta): boolean {
  return !!c.sql || !(rowLocal(c, delta.key) || c.kind === 'row_count');
}

/** A check that holds for the whole table when it holds for the kept rows and for `added`. */
function rowLocal(c: Check, key: string): boolean {
  return c.kind === 'not_null' || c.kind === 'accepted_values' || (c.kind === 'unique' && c.column === key);
}

/** `violations(c)` from what the write reported, when that says it (not_null, row_count). */
function answered(c: Check, known: WrittenFacts | undefined): number | undefined {
  if (!known) return undefined;
  if (c.kind === 'not_null' && c.column) return known.nulls(c.column);
  if (c.kind === 'row_count') return known.rows < (c.min ?? 0) || known.rows > (c.max ?? Number.MAX_SAFE_INTEGER) ? 1 : 0;
  return undefined;
}

/**
 * An aggregate that is > 0 when the check may fail (exact for all but row_count's pass/fail). With
 * `known` (what the write reported of the whole relation), a `unique` integer column whose range
 * is at most 8 bits per row counts its distinct values in a bitmap of that range (`bitstring_agg`)
 * instead of a hash table: about a quarter of the CPU time over 712,570 keys
 * (silver.transactions_cleaned, bench/apply.md), and no more memory than a byte per row per thread.
 */
function violations(c: Check, known?: WrittenFacts): string {
  const col = c.column ? ident(c.column) : '';
  switch (c.kind) {
    case 'not_null':
      return `count(*) FILTER (WHERE ${col} IS NULL)`;
    case 'unique': {
      const r = c.column ? known?.range(c.column) : undefined;
      if (r && r.max - r.min < BigInt(Math.max(8 * known!.rows, 1 << 16))) return `count(${col}) - bit_count(bitstring_agg(${col}, ${r.min}, ${r.max}))`;
      return `count(${col}) - count(DISTINCT ${col})`;
    }
    case 'accepted_values': {
      const values = c.values ?? [];
      const allNumbers = values.length > 0 && values.every((v) => typeof v === 'number');
      const lhs = allNumbers ? col : `CAST(${col} AS VARCHAR)`;
      const list = values.map((v) => (allNumbers ? String(v) : literal(String(v)))).join(', ');
      return `count(*) FILTER (WHERE ${col} IS NOT NULL AND ${values.length ? `${lhs} NOT IN (${list})` : 'true'})`;
    }
    case 'freshness':
      return '0'; // streams: src/ingest/freshness.ts
    case 'row_count':
      return `CASE WHEN count(*) < ${c.min ?? 0} OR count(*) > ${c.max ?? Number.MAX_SAFE_INTEGER} THEN 1 ELSE 0 END`;
    default:
      return '1';
  }
}

async function runOne(
  conn: DuckDBConnection,
  rel: string,
  c: Check,
  opts: { tableRef: (id: NodeId) => string; logicalTime: Date; readonly known?: WrittenFacts; readonly renderCache?: RenderCache },
): Promise<string | undefined> {
  const col = c.column ? ident(c.column) : '';
  switch (c.kind) {
    case 'not_null': {
      const n = await count(conn, `SELECT count(*) AS n FROM ${rel} WHERE ${col} IS NULL`);
      return n > 0 ? `${n} row(s) have a NULL ${c.column}` : undefined;
    }
    case 'unique': {
      const dup = await queryAll(conn, `SELECT ${col} AS v, count(*) AS n FROM ${rel} GROUP BY ${col} HAVING count(*) > 1 ORDER BY n DESC, v LIMIT ${SAMPLE}`);
      if (dup.rows.length === 0) return undefined;
      const total = await count(conn, `SELECT count(*) AS n FROM (SELECT ${col} FROM ${rel} GROUP BY ${col} HAVING count(*) > 1)`);
      return `${total} value(s) of ${c.column} appear more than once, e.g. ${dup.rows.map((r) => `${show(r.v)} (${r.n}×)`).join(', ')}`;
    }
    case 'accepted_values': {
      const values = c.values ?? [];
      const allNumbers = values.length > 0 && values.every((v) => typeof v === 'number');
      const lhs = allNumbers ? col : `CAST(${col} AS VARCHAR)`;
      const list = values.map((v) => (allNumbers ? String(v) : literal(String(v)))).join(', ');
      const where = values.length ? `${lhs} NOT IN (${list})` : 'true';
      const bad = await queryAll(
        conn,
        `SELECT ${col} AS v, count(*) AS n FROM ${rel} WHERE ${col} IS NOT NULL AND ${where} GROUP BY ${col} ORDER BY n DESC, v LIMIT ${SAMPLE}`,
      );
      if (bad.rows.length === 0) return undefined;
      return `${c.column} has values outside the accepted list, e.g. ${bad.rows.map((r) => `${show(r.v)} (${r.n}×)`).join(', ')}`;
    }
    case 'row_count': {
      // Of a merge the relation may not hold the new table (its view is made only for the checks
      // that read it all): its row count is the one the merge computed.
      const n = opts.known?.rows ?? (await count(conn, `SELECT count(*) AS n FROM ${rel}`));
      if (c.min !== undefined && n < c.min) return `${n} row(s), fewer than the minimum ${c.min}`;
      if (c.max !== undefined && n > c.max) return `${n} row(s), more than the maximum ${c.max}`;
      return undefined;
    }
    case 'sql':
    case 'expression':
    case 'relationships': {
      if (!c.sql) return undefined;
      const r = await renderBody(c.sql, { tableRef: opts.tableRef, logicalTime: opts.logicalTime }, opts.renderCache);
      if (r.diagnostics.length) return r.diagnostics[0].message;
      const n = await count(conn, `SELECT count(*) AS n FROM (${r.sql})`);
      if (n === 0) return undefined;
      const sample = await queryAll(conn, `SELECT * FROM (${r.sql}) LIMIT ${SAMPLE}`);
      const e = `e.g. ${sample.rows.map((row) => JSON.stringify(row, (_k, v) => (typeof v === 'bigint' ? String(v) : v))).join(', ')}`;
      if (c.kind === 'expression') return `${n} row(s) where \`${c.expression}\` is false, ${e}`;
      if (c.kind === 'relationships') return `${n} row(s) whose ${c.column} is not a ${c.to!.column} of ${c.to!.table}, ${e}`;
      return `the check's query returned ${n} row(s), ${e}`;
    }
  }
}

async function count(conn: DuckDBConnection, sql: string): Promise<number> {
  const r = await queryAll(conn, sql);
  return Number(r.rows[0]?.n ?? 0);
}

const show = (v: unknown): string => (v === null ? 'NULL' : typeof v === 'string' ? JSON.stringify(v) : String(v));
