// The file connector: CSV, Parquet and NDJSON on disk into bronze, declared types checked,
// incremental by cursor, a missing file named.

import { describe, expect, it } from 'vitest';
import { mkdtempSync, readdirSync, writeFileSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDuck, queryAll } from '../../src/engine/duckdb.js';
import { SourceHarness, lit, sourceNode } from '../helpers/services.js';

const dir = mkdtempSync(join(tmpdir(), 'asgard-file-src-'));

async function rows(h: SourceHarness, id: string, sql: string): Promise<Record<string, unknown>[]> {
  const c = await openDuck();
  try {
    await c.run(`CREATE VIEW t AS SELECT * FROM read_parquet('${h.warehouse.parquetGlob(h.state().nodes[id]!.snapshot!)}')`);
    return [...(await queryAll(c, sql)).rows];
  } finally {
    c.closeSync();
  }
}

describe('file connector', () => {
  it('CSV with declared columns, then incremental by cursor', async () => {
    const csv = join(dir, 'orders.csv');
    writeFileSync(csv, 'id,amount,at\n1,10.50,2025-01-01 10:00:00\n2,0.10,2025-01-02 10:00:00\n');
    const node = sourceNode('orders', { type: 'file', settings: { path: lit(csv) } }, {
      primaryKey: ['id'], cursor: 'at', mode: 'incremental',
      columns: [{ name: 'id', type: 'BIGINT' }, { name: 'amount', type: 'DOUBLE' }, { name: 'at', type: 'TIMESTAMP' }],
    });
    const h = new SourceHarness();
    const first = await h.run(node, {});
    expect(first.result.rows).toBe(2);
    expect(first.result.cursor).toBe('2025-01-02 10:00:00.000000');
    appendFileSync(csv, '2,0.20,2025-01-03 10:00:00\n3,7.00,2025-01-03 11:00:00\n');
    const second = await h.run(node, {});
    expect(second.result.rows).toBe(2);
    expect(await rows(h, 'bronze.orders', 'SELECT id, amount FROM t ORDER BY id')).toEqual([
      { id: 1, amount: 10.5 },
      { id: 2, amount: 0.2 },
      { id: 3, amount: 7 },
    ]);
  });

  it('Parquet and NDJSON keep their own types; a missing file is named', async () => {
    const pq = join(dir, 'x.parquet');
    const c = await openDuck();
    await c.run(`COPY (SELECT 9007199254740993::BIGINT AS big, 12.34::DECIMAL(10,2) AS money) TO '${pq}' (FORMAT parquet)`);
    c.closeSync();
    const h = new SourceHarness();
    const r = await h.run(sourceNode('x', { type: 'file', settings: { path: lit(pq) } }), {});
    expect(r.result.schema).toEqual([{ name: 'big', type: 'BIGINT' }, { name: 'money', type: 'DECIMAL(10,2)' }]);
    expect(await rows(h, 'bronze.x', 'SELECT big::VARCHAR AS big, money::VARCHAR AS money FROM t')).toEqual([{ big: '9007199254740993', money: '12.34' }]);

    // Nothing changed: a second full read keeps the same snapshot (nothing downstream rebuilds).
    const again = await h.run(sourceNode('x', { type: 'file', settings: { path: lit(pq) } }), {});
    expect(again.result.snapshot!.id).toBe(r.result.snapshot!.id);
    expect(readdirSync(h.warehouse.tableDir('bronze.x'))).toEqual([r.result.snapshot!.id]);

    const nd = join(dir, 'events.ndjson');
    writeFileSync(nd, '{"id": 1, "kind": "a"}\n{"id": 2, "kind": null}\n');
    const r2 = await h.run(sourceNode('events', { type: 'file', settings: { path: lit(nd), format: lit('ndjson') } }), {});
    expect(r2.result.rows).toBe(2);

    await expect(h.run(sourceNode('gone', { type: 'file', settings: { path: lit(join(dir, 'gone.csv')) } }), {})).rejects.toThrow(/bronze\.gone: file .*gone\.csv: no such file/);
  });
});
