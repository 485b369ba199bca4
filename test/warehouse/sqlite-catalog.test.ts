// The embedded Iceberg catalog (src/warehouse/iceberg/catalog.ts SqliteCatalog): a lost create or
// commit is a CommitConflict and changes nothing (the six-process race is in ./iceberg.test.ts).
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CommitConflict, SqliteCatalog } from '../../src/warehouse/iceberg/catalog.js';

const table = { namespace: 'silver', name: 'orders' };
const outcome = (p: Promise<unknown>) =>
  p.then(
    () => 'done',
    (e: unknown) => (e instanceof CommitConflict ? 'CommitConflict' : String(e)),
  );

describe('the SQLite catalog', () => {
  it('a second create of a table and a commit from a stale location are refused as CommitConflict, and change nothing', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'asgard-sqlite-catalog-')), 'catalog.db');
    const c = new SqliteCatalog(file);
    await c.create(table, 'file:///m/v1.metadata.json');
    expect(await outcome(c.create(table, 'file:///m/other.metadata.json'))).toBe('CommitConflict');
    expect(await outcome(c.commit(table, 'file:///m/v1.metadata.json', 'file:///m/v2.metadata.json'))).toBe('done');
    expect(await outcome(c.commit(table, 'file:///m/v1.metadata.json', 'file:///m/v3.metadata.json'))).toBe('CommitConflict');
    expect(await c.load(table)).toBe('file:///m/v2.metadata.json');
    expect(await c.list()).toEqual([table]);
    await c.close();
    // Another connection reads the same.
    const again = new SqliteCatalog(file);
    expect(await again.load(table)).toBe('file:///m/v2.metadata.json');
    await again.close();
  });
});
