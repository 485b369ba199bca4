// The equality check of the incremental figures: tables maintained incrementally must equal the
// same tables built from scratch, row for row (EXCEPT ALL both ways; a table missing on either side
// is a difference).

import { openDuck } from '../src/engine/duckdb.js';
import type { PipelineState } from '../src/planner/state-store.js';
import type { Warehouse } from '../src/warehouse/warehouse.js';

export interface Side {
  readonly state: PipelineState;
  readonly warehouse: Warehouse;
}

/** The tables among `ids` whose rows differ between the two sides (empty: all equal). */
export async function differingTables(a: Side, b: Side, ids: readonly string[]): Promise<string[]> {
  const conn = await openDuck();
  const out: string[] = [];
  try {
    for (const id of ids) {
      const na = a.state.nodes[id];
      const nb = b.state.nodes[id];
      if (!na?.snapshot || !nb?.snapshot) {
        out.push(id);
        continue;
      }
      const x = await a.warehouse.snapshotSelect(na.snapshot, na.schema);
      const y = await b.warehouse.snapshotSelect(nb.snapshot, nb.schema);
      const r = await conn.runAndReadAll(`SELECT count(*) FROM (((${x}) EXCEPT ALL (${y})) UNION ALL ((${y}) EXCEPT ALL (${x})))`);
      if (Number(r.getRows()[0][0]) !== 0) out.push(id);
    }
  } finally {
    conn.closeSync();
  }
  return out;
}
