// A state pointing to a snapshot folder that no longer exists (issue #11, item 4) was read as a
// table of 0 rows and `plan` said "No changes". Now reading it is an error naming the table and the
// path, plan shows the node must be rebuilt (and what it feeds), and apply rebuilds it.

import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cli } from '../cli/helpers.js';

const SPEC = `pipeline items {
  warehouse = "./.asgard/warehouse"
  source files file {
    path = "items.csv"
    format = csv
    stream items { primary_key = id }
  }
  cleanse items_clean {
    sql """ SELECT id, upper(name) AS name FROM iceberg.bronze.items """
  }
  model items_count {
    sql """ SELECT count(*) AS n FROM silver.items_clean """
  }
}
`;

describe("a snapshot removed behind asgard's back", () => {
  it('query fails naming table and path; plan says replace; apply rebuilds it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'asgard-missing-'));
    writeFileSync(join(dir, 'p.asg'), SPEC);
    writeFileSync(join(dir, 'items.csv'), 'id,name\n1,a\n2,b\n3,c\n');
    expect((await cli(['apply', 'p.asg', '--yes'], { cwd: dir })).code).toBe(0);
    const state = JSON.parse(readFileSync(join(dir, '.asgard', 'state', 'items.json'), 'utf8'));
    const path = join(dir, '.asgard', 'warehouse', state.nodes['silver.items_clean'].snapshot.path);
    rmSync(path, { recursive: true });

    const q = await cli(['query', 'p.asg', 'SELECT count(*) AS n FROM silver.items_clean'], { cwd: dir });
    expect(q.code).toBe(1);
    expect(q.stderr).toContain(`the snapshot of silver.items_clean is missing: ${path} does not exist`);

    const p = await cli(['plan', 'p.asg', '--format', 'json'], { cwd: dir });
    expect(p.code, p.stderr).toBe(0);
    const actions = Object.fromEntries((JSON.parse(p.stdout).actions as { node: string; action: string; reasons: string[] }[]).map((a) => [a.node, a]));
    expect(actions['silver.items_clean'].action).toBe('replace');
    expect(actions['silver.items_clean'].reasons).toEqual([`snapshot missing: ${path} does not exist`]);
    expect((actions['silver.items_clean'] as unknown as { downstream: string[] }).downstream).toContain('gold.items_count');
    expect(actions['bronze.items'].action).toBe('noop');
    const text = await cli(['plan', 'p.asg', '--detailed-exitcode'], { cwd: dir });
    expect(text.code).toBe(3);

    const a = await cli(['apply', 'p.asg', '--yes'], { cwd: dir });
    expect(a.code, a.stderr).toBe(0);
    const after = await cli(['query', 'p.asg', 'SELECT n FROM gold.items_count', '--format', 'json'], { cwd: dir });
    expect(JSON.parse(after.stdout).rows).toEqual([{ n: 3 }]);
  });
});
