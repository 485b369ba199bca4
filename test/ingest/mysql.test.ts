// The MySQL/MariaDB connector against the real MariaDB server (scripts/services.sh): full sync
// counts and exact values (DECIMAL sums, unsigned BIGINT past 2^53, DATETIME naive vs TIMESTAMP in
// UTC, JSON, NULL vs ''), and an incremental sync that adds exactly the inserted rows.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDuck, queryAll } from '../../src/engine/duckdb.js';
import type { SourceNode } from '../../src/ir/types.js';
import { SourceHarness, lit, secret, services, sourceNode, testDatabases, withDatabase, type TestDatabases } from '../helpers/services.js';

const CUSTOMERS = 2000;
let dbs: TestDatabases;
let env: Record<string, string>;

const txColumns = [
  { name: 'transaction_id', type: 'BIGINT' },
  { name: 'customer_id', type: 'BIGINT' },
  { name: 'order_id', type: 'BIGINT' },
  { name: 'amount', type: 'DECIMAL(10,2)' },
  { name: 'transaction_date', type: 'DATE' },
  { name: 'payment_method', type: 'VARCHAR' },
  { name: 'status', type: 'VARCHAR' },
  { name: 'created_at', type: 'TIMESTAMP' },
];

function myNode(name: string, stream: Partial<SourceNode['stream']> = {}): SourceNode {
  return sourceNode(
    name,
    { type: 'mysql', settings: { url: lit(withDatabase(services().TRANSACTIONS_DB_URL, dbs.mysql.database)), password: secret('MYPW') } },
    stream,
  );
}

async function table(h: SourceHarness, id: string, sql: string): Promise<Record<string, unknown>[]> {
  const snap = h.state().nodes[id]!.snapshot!;
  const c = await openDuck();
  try {
    await c.run(`CREATE VIEW t AS SELECT * FROM (${await h.warehouse.snapshotSelect(snap)})`);
    return [...(await queryAll(c, sql)).rows];
  } finally {
    c.closeSync();
  }
}

beforeAll(async () => {
  dbs = await testDatabases(CUSTOMERS);
  env = { MYPW: services().TRANSACTIONS_DB_PASSWORD };
  await dbs.myQuery(`CREATE TABLE typed (
    id INT PRIMARY KEY, ubig BIGINT UNSIGNED, big BIGINT, money DECIMAL(12,2), dt DATETIME(3), ts TIMESTAMP NULL, d DATE,
    doc JSON, txt VARCHAR(100), tiny TINYINT, ratio DOUBLE, bin VARBINARY(8))`);
  const c = `INSERT INTO typed VALUES
    (1, 18446744073709551615, 9007199254740993, 12345678.91, '2025-03-30 02:30:00.123', FROM_UNIXTIME(1743298200), '2025-03-30', '{"a": [1, 2]}', 'comma, "quote"\\nnewline', -128, 0.1, X'00ff'),
    (2, NULL, -9223372036854775808, -0.01, NULL, NULL, NULL, NULL, '', NULL, NULL, NULL),
    (3, 0, NULL, 0.00, '2025-10-26 02:30:00', FROM_UNIXTIME(1761442200), '0000-00-00', '[]', NULL, 127, 1e300, X'')`;
  await dbs.myQuery(c);
}, 180_000);

afterAll(async () => {
  await dbs?.drop();
});

describe('mysql connector (MariaDB)', () => {
  it('full sync: every transaction, amounts exact to the cent', async () => {
    const h = new SourceHarness();
    const { result } = await h.run(myNode('transactions', { primaryKey: ['transaction_id'], columns: txColumns }), env);
    const n = dbs.data.transactions.length;
    expect(result.rows).toBe(n);
    expect(result.schema).toEqual(txColumns);
    const [mine] = await table(
      h,
      'bronze.transactions',
      `SELECT count(*) AS n, count(DISTINCT transaction_id) AS ids, sum(amount)::VARCHAR AS total, count(customer_id) AS with_customer, any_value(typeof(amount)) AS ty FROM t`,
    );
    const [theirs] = await dbs.myQuery('SELECT COUNT(*) AS n, CAST(SUM(amount) AS CHAR) AS total, COUNT(customer_id) AS with_customer FROM transactions');
    expect(mine).toEqual({ n, ids: n, total: theirs.total, with_customer: Number(theirs.with_customer), ty: 'DECIMAL(10,2)' });
    const sample = await table(
      h,
      'bronze.transactions',
      `SELECT transaction_id, amount::VARCHAR AS amount, strftime(created_at, '%Y-%m-%d %H:%M:%S') AS created_at FROM t ORDER BY transaction_id LIMIT 20`,
    );
    const src = await dbs.myQuery(
      `SELECT transaction_id, CAST(amount AS CHAR) AS amount, DATE_FORMAT(created_at, '%Y-%m-%d %H:%i:%S') AS created_at FROM transactions ORDER BY transaction_id LIMIT 20`,
    );
    expect(sample).toEqual(src.map((r) => ({ ...r, transaction_id: Number(r.transaction_id) })));
  });

  it('keeps values exact: unsigned BIGINT, DECIMAL, DATETIME naive, TIMESTAMP as UTC, JSON, NULL vs empty string', async () => {
    const h = new SourceHarness();
    const { result } = await h.run(myNode('typed', { primaryKey: ['id'] }), env);
    expect(result.schema).toEqual([
      { name: 'id', type: 'INTEGER' },
      { name: 'ubig', type: 'UBIGINT' },
      { name: 'big', type: 'BIGINT' },
      { name: 'money', type: 'DECIMAL(12,2)' },
      { name: 'dt', type: 'TIMESTAMP' },
      { name: 'ts', type: 'TIMESTAMPTZ' },
      { name: 'd', type: 'DATE' },
      { name: 'doc', type: 'JSON' },
      { name: 'txt', type: 'VARCHAR' },
      { name: 'tiny', type: 'TINYINT' },
      { name: 'ratio', type: 'DOUBLE' },
      { name: 'bin', type: 'BLOB' },
    ]);
    const rows = await table(
      h,
      'bronze.typed',
      `SELECT id, ubig::VARCHAR AS ubig, big::VARCHAR AS big, money::VARCHAR AS money,
      strftime(dt, '%Y-%m-%d %H:%M:%S.%g') AS dt, epoch(ts)::BIGINT AS ts_epoch, d::VARCHAR AS d, json_extract(doc, '$') AS doc, txt, tiny, ratio, hex(bin) AS bin FROM t ORDER BY id`,
    );
    expect(rows).toEqual([
      {
        id: 1,
        ubig: '18446744073709551615',
        big: '9007199254740993',
        money: '12345678.91',
        dt: '2025-03-30 02:30:00.123',
        ts_epoch: 1743298200,
        d: '2025-03-30',
        doc: '{"a":[1,2]}',
        txt: 'comma, "quote"\nnewline',
        tiny: -128,
        ratio: 0.1,
        bin: '00FF',
      },
      {
        id: 2,
        ubig: null,
        big: '-9223372036854775808',
        money: '-0.01',
        dt: null,
        ts_epoch: null,
        d: null,
        doc: null,
        txt: '',
        tiny: null,
        ratio: null,
        bin: null,
      },
      {
        id: 3,
        ubig: '0',
        big: null,
        money: '0.00',
        dt: '2025-10-26 02:30:00.000',
        ts_epoch: 1761442200,
        d: null,
        doc: '[]',
        txt: null,
        tiny: 127,
        ratio: 1e300,
        bin: '',
      },
    ]);
    // TIMESTAMP columns are instants (whatever the server's zone); DATETIME is wall-clock text kept as is.
    const src = await dbs.myQuery(`SELECT UNIX_TIMESTAMP(ts) AS e FROM typed ORDER BY id`);
    expect(rows.map((r) => r.ts_epoch)).toEqual(src.map((r) => (r.e === null ? null : Number(r.e))));
  });

  it('incremental: 1,000 new transactions add exactly 1,000 rows', async () => {
    const h = new SourceHarness();
    const node = myNode('transactions', { primaryKey: ['transaction_id'], cursor: 'created_at', mode: 'incremental', columns: txColumns });
    const first = await h.run(node, env);
    const n = dbs.data.transactions.length;
    expect(first.result.snapshot!.rows).toBe(n);
    const [{ maxId }] = await dbs.myQuery('SELECT MAX(transaction_id) AS maxId FROM transactions');
    const values = Array.from(
      { length: 1000 },
      (_, i) => `(${Number(maxId) + 1 + i}, 1001, ${900000 + i}, ${(i % 50) + 0.99}, '2025-11-11', 'paypal', 'completed', '2025-11-11 0${i % 10}:00:00')`,
    );
    await dbs.myQuery(`INSERT INTO transactions VALUES ${values.join(',')}`);
    const second = await h.run(node, env);
    expect(second.result.rows).toBe(1000);
    expect(second.result.snapshot!.rows).toBe(n + 1000);
    const [agg] = await table(h, 'bronze.transactions', `SELECT count(*) AS n, count(DISTINCT transaction_id) AS ids, sum(amount)::VARCHAR AS total FROM t`);
    const [src] = await dbs.myQuery('SELECT CAST(SUM(amount) AS CHAR) AS total FROM transactions');
    expect(agg).toEqual({ n: n + 1000, ids: n + 1000, total: src.total });
    expect(h.state().nodes['bronze.transactions']!.cursor).toBe('2025-11-11 09:00:00.000000');
  });
});
