// A run after new source rows is a new `asgard apply` whose plan is all no-ops: nothing else in it
// parses the SQL, so each node's maintenance analysis (src/planner/maintenance.ts) is kept in the
// workspace's cache by content for it (test/engine/derived.test.ts shows a kept analysis is taken).

import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, SHOP_SPEC, shopFolder } from './helpers.js';

describe('the maintenance analyses an apply keeps', () => {
  it('an apply that maintains tables from their inputs’ changes writes each one’s analysis to the state folder’s cache', async () => {
    const dir = shopFolder('asgard-maintenance-cache-');
    writeFileSync(join(dir, 'spec.asg'), SHOP_SPEC);
    expect((await cli(['apply', 'spec.asg', '--yes'], { cwd: dir })).code).toBe(0);
    // New source rows: the tables are built on their last run (the first apply created them).
    appendFileSync(join(dir, 'data', 'orders.csv'), '4,south,5\n');
    const r = await cli(['apply', 'spec.asg', '--yes'], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    const kept = readFileSync(join(dir, '.asgard', 'cache', 'maintenance.json'), 'utf8');
    expect(kept.match(/"mode":/g)).toHaveLength(2);
    expect(kept).toContain('"text":"derived (row-wise on order_id)"');
    expect(kept).toContain('"text":"derived (groups by store, aggregates merged)"');
  });
});
