// The row-count drop guard: a new snapshot whose row count fell too far from the previous one (an
// API that answered 200 with no records, a truncated source table, a join that lost its keys) fails
// its node instead of replacing the table, so the previous snapshot stays current and nothing
// downstream is rebuilt from it. Streams, cleanses and models set `max_row_drop` (a fraction; 1
// turns the guard off) and `allow_empty`; the defaults below hold otherwise. See docs/language.md.

import type { PipelineNode } from '../ir/types.js';
import type { SnapshotRef } from '../planner/state-store.js';

/** Default: a table may lose at most half of its rows from one apply to the next. */
export const DEFAULT_MAX_ROW_DROP = 0.5;

/** Why the new snapshot is refused, or undefined when it may replace the previous one. */
export function rowDropRefusal(node: PipelineNode, previous: SnapshotRef | undefined, next: SnapshotRef | undefined): string | undefined {
  if (!previous || !next || next.id === previous.id || previous.rows === 0) return undefined;
  const maxDrop = node.rowGuard?.maxDrop ?? DEFAULT_MAX_ROW_DROP;
  const allowEmpty = node.rowGuard?.allowEmpty ?? false;
  const drop = (previous.rows - next.rows) / previous.rows;
  const empty = next.rows === 0;
  if (empty ? allowEmpty : drop <= maxDrop) return undefined;
  const pct = (x: number) => `${Math.round(x * 1000) / 10}%`;
  const why = empty ? 'the new snapshot is empty and allow_empty is not set' : `a drop of ${pct(drop)} is more than max_row_drop = ${maxDrop} allows`;
  return (
    `${node.id}: row count fell from ${previous.rows} to ${next.rows}: ${why}; the previous snapshot is kept. ` +
    `If this is expected, set ${empty ? '`allow_empty = true`' : `\`max_row_drop\` higher (1 accepts any drop; an empty table also needs allow_empty)`} on ${node.kind === 'source' ? 'stream' : node.kind} ${node.name}`
  );
}
