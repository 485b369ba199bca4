// The PostgreSQL connector against the real server (scripts/services.sh): full sync counts and
// types, exact values (int8 past 2^53, numeric, timestamptz across a DST change, NULL vs ''),
// incremental sync with ties at the cursor, updates merged on the primary key, schema checks.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDuck, queryAll } from '../../src/engine/duckdb.js';
import { NodeError } from '../../src/engine/executor.js';
import type { SourceNode } from '../../src/ir/types.js';
import { SourceHarness, lit, secret, services, sourceNode, testDatabases, withDatabase, type TestDatabases } from '../helpers/services.js';

const CUSTOMERS = 2500;
let dbs: TestDatabases;
let env: Record<string, string>;

const customersColumns = [
  { name: 'customer_id', type: 'BIGINT' },
  { name: 'email', type: 'VARCHAR' },
  { name: 'first_name', type: 'VARCHAR' },
  { name: 'last_name', type: 'VARCHAR' },
  { name: 'registration_date', type: 'DATE' },
  { name: 'status', type: 'VARCHAR' },
  { name: 'country', type: 'VARCHAR' },
  { name: 'city', type: 'VARCHAR' },
  { name: 'created_at', type: 'TIMESTAMP' },
  { name: 'updated_at', type: 'TIMESTAMP' },
];

function pgNode(name: string, stream: Partial<SourceNode['stream']> = {}, settings: Record<string, ReturnType<typeof lit>> = {}): SourceNode {
  return sourceNode(
    name,
    { type: 'postgres', settings: { url: lit(withDatabase(services().CUSTOMER_DB_URL, dbs.pg.database)), password: secret('PGPW'), ...settings } },
    stream,
  );
}

async function table(h: SourceHarness, id: string, sql = 'SELECT * FROM t'): Promise<Record<string, unknown>[]> {
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
  env = { PGPW: services().CUSTOMER_DB_PASSWORD };
  await dbs.pgQuery(`CREATE TABLE typed (
    id int8 PRIMARY KEY, big int8, money numeric(12,2), wide numeric(38,10), loose numeric, ts timestamp, tstz timestamptz,
    d date, flag boolean, doc jsonb, txt text, small int2, ratio float8)`);
  await dbs.pgQuery(`INSERT INTO typed VALUES
    (1, 9007199254740993, 12345678.91, 1234567890123456789012345678.0123456789, 3.14159265358979323846264338327950288,
     '2025-03-30 01:30:00', '2025-03-30 01:30:00 Europe/Berlin', '2025-03-30', true, '{"a": [1, 2], "b": null}', 'comma, "quote"' || chr(10) || 'newline', -32768, 0.1),
    (2, -9223372036854775808, -0.01, 0, NULL, NULL, '2025-03-30 03:30:00 Europe/Berlin', NULL, NULL, NULL, '', NULL, NULL),
    (3, NULL, NULL, NULL, NULL, '2025-10-26 02:30:00', '2025-10-26 02:30:00+01', NULL, false, '[]', NULL, 1, 1e300)`);
}, 180_000);

afterAll(async () => {
  await dbs?.drop();
});

describe('postgres connector', () => {
  it('full sync: every row, the declared types', async () => {
    const h = new SourceHarness();
    const { result } = await h.run(pgNode('customers', { primaryKey: ['customer_id'], columns: customersColumns }), env);
    expect(result.rows).toBe(CUSTOMERS);
    expect(result.snapshot!.rows).toBe(CUSTOMERS);
    expect(result.schema).toEqual(customersColumns);
    const [agg] = await table(
      h,
      'bronze.customers',
      `SELECT count(*) AS n, count(DISTINCT customer_id) AS ids, sum(customer_id) AS s, count(email) AS emails, typeof(created_at) AS ty FROM t GROUP BY ALL`,
    );
    const [src] = await dbs.pgQuery('SELECT count(*)::int AS n, sum(customer_id)::text AS s, count(email)::int AS emails FROM customers');
    expect(agg).toEqual({ n: CUSTOMERS, ids: CUSTOMERS, s: Number(src.s), emails: src.emails, ty: 'TIMESTAMP' });
    // Same rows, value for value (sampled through the text form of both sides).
    const mine = await table(
      h,
      'bronze.customers',
      `SELECT customer_id, email, registration_date::VARCHAR AS r, strftime(updated_at, '%Y-%m-%d %H:%M:%S') AS u FROM t ORDER BY customer_id LIMIT 50`,
    );
    const theirs = await dbs.pgQuery(
      `SELECT customer_id::int AS customer_id, email, registration_date::text AS r, to_char(updated_at, 'YYYY-MM-DD HH24:MI:SS') AS u FROM customers ORDER BY customer_id LIMIT 50`,
    );
    expect(mine).toEqual(theirs);
  });

  it('a full read of a table of many pages streams page ranges on one snapshot: every row once, a data file per stream', async () => {
    // Well over 1,024 pages of 8 KiB: two ranges of at least 512 pages (src/ingest/postgres.ts).
    await dbs.pgQuery(`CREATE TABLE wide AS SELECT i::int8 AS id, repeat(md5(i::text), 4) AS pad FROM generate_series(1, 120000) i`);
    await dbs.pgQuery('ALTER TABLE wide ADD PRIMARY KEY (id)');
    const h = new SourceHarness();
    const { result } = await h.run(pgNode('wide', { primaryKey: ['id'] }), env);
    expect(result.rows).toBe(120000);
    expect((await h.warehouse.files(result.snapshot!)).length).toBe(2);
    const [agg] = await table(h, 'bronze.wide', `SELECT count(*) AS n, count(DISTINCT id) AS ids, sum(id) AS s, min(length(pad)) AS l FROM t`);
    expect(agg).toEqual({ n: 120000, ids: 120000, s: (120000 * 120001) / 2, l: 128 });
  });

  it('keeps values exact: int8 past 2^53, numeric, NULL vs empty string, JSON, timestamptz as UTC across DST', async () => {
    const h = new SourceHarness();
    const { result } = await h.run(pgNode('typed', { primaryKey: ['id'] }), env);
    expect(result.schema).toEqual([
      { name: 'id', type: 'BIGINT' },
      { name: 'big', type: 'BIGINT' },
      { name: 'money', type: 'DECIMAL(12,2)' },
      { name: 'wide', type: 'DECIMAL(38,10)' },
      { name: 'loose', type: 'VARCHAR' },
      { name: 'ts', type: 'TIMESTAMP' },
      { name: 'tstz', type: 'TIMESTAMPTZ' },
      { name: 'd', type: 'DATE' },
      { name: 'flag', type: 'BOOLEAN' },
      { name: 'doc', type: 'JSON' },
      { name: 'txt', type: 'VARCHAR' },
      { name: 'small', type: 'SMALLINT' },
      { name: 'ratio', type: 'DOUBLE' },
    ]);
    const rows = await table(
      h,
      'bronze.typed',
      `SELECT id, big::VARCHAR AS big, money::VARCHAR AS money, wide::VARCHAR AS wide, loose,
      strftime(ts, '%Y-%m-%d %H:%M:%S') AS ts, strftime(tstz AT TIME ZONE 'UTC', '%Y-%m-%d %H:%M:%S') AS tstz_utc,
      flag, doc::VARCHAR AS doc, json_extract(doc, '$.a[1]')::INTEGER AS a1, txt, txt IS NULL AS txt_null, small, ratio FROM t ORDER BY id`,
    );
    expect(rows).toEqual([
      {
        id: 1,
        big: '9007199254740993',
        money: '12345678.91',
        wide: '1234567890123456789012345678.0123456789',
        loose: '3.14159265358979323846264338327950288',
        ts: '2025-03-30 01:30:00',
        tstz_utc: '2025-03-30 00:30:00',
        flag: true,
        doc: '{"a": [1, 2], "b": null}',
        a1: 2,
        txt: 'comma, "quote"\nnewline',
        txt_null: false,
        small: -32768,
        ratio: 0.1,
      },
      // 03:30 in Berlin on the spring-forward day is CEST (+02): 01:30 UTC, one hour after row 1.
      {
        id: 2,
        big: '-9223372036854775808',
        money: '-0.01',
        wide: '0.0000000000',
        loose: null,
        ts: null,
        tstz_utc: '2025-03-30 01:30:00',
        flag: null,
        doc: null,
        a1: null,
        txt: '',
        txt_null: false,
        small: null,
        ratio: null,
      },
      {
        id: 3,
        big: null,
        money: null,
        wide: null,
        loose: null,
        ts: '2025-10-26 02:30:00',
        tstz_utc: '2025-10-26 01:30:00',
        flag: false,
        doc: '[]',
        a1: null,
        txt: null,
        txt_null: true,
        small: 1,
        ratio: 1e300,
      },
    ]);
  });

  it('incremental: new and updated rows since the cursor, ties included, one row per key', async () => {
    const h = new SourceHarness();
    const node = pgNode('customers', { primaryKey: ['customer_id'], cursor: 'updated_at', mode: 'incremental', columns: customersColumns });
    const first = await h.run(node, env);
    expect(first.result.snapshot!.rows).toBe(CUSTOMERS);
    const cursor = h.state().nodes['bronze.customers']!.cursor!;
    const [maxRow] = await dbs.pgQuery(`SELECT to_char(max(updated_at), 'YYYY-MM-DD HH24:MI:SS.US') AS m FROM customers`);
    expect(cursor).toBe(maxRow.m);

    // A row committed late with exactly the cursor value (a tie), 3 new customers, 2 updates.
    await dbs.pgQuery(
      `INSERT INTO customers VALUES (990001, 'tie@example.com', 'Tie', 'Row', '2025-01-01', 'active', 'US', 'Austin', '2025-01-01 00:00:00', $1::timestamp)`,
      [cursor],
    );
    await dbs.pgQuery(
      `INSERT INTO customers SELECT 990001 + g, 'new' || g || '@example.com', 'New', 'Customer', '2025-11-10', 'active', 'DE', 'Berlin', '2025-11-10 10:00:00', '2025-11-12 08:00:00' FROM generate_series(1, 3) g`,
    );
    await dbs.pgQuery(`UPDATE customers SET status = 'premium', updated_at = '2025-11-12 09:00:00' WHERE customer_id IN (1001, 1002)`);

    const second = await h.run(node, env);
    const rows = await table(h, 'bronze.customers', `SELECT count(*) AS n, count(DISTINCT customer_id) AS ids FROM t`);
    expect(rows[0]).toEqual({ n: CUSTOMERS + 4, ids: CUSTOMERS + 4 });
    const updated = await table(
      h,
      'bronze.customers',
      `SELECT customer_id, status, strftime(updated_at, '%Y-%m-%d %H:%M:%S') AS u FROM t WHERE customer_id IN (1001, 1002, 990001) ORDER BY 1`,
    );
    expect(updated).toEqual([
      { customer_id: 1001, status: 'premium', u: '2025-11-12 09:00:00' },
      { customer_id: 1002, status: 'premium', u: '2025-11-12 09:00:00' },
      { customer_id: 990001, status: 'active', u: cursor.slice(0, 19) },
    ]);
    // Read >= cursor: the unchanged rows at the old cursor value are read again and merged away;
    // what counts is what changed: 1 tie + 3 new + 2 updated.
    expect(second.result.rows).toBe(6);
    expect(h.state().nodes['bronze.customers']!.cursor).toBe('2025-11-12 09:00:00.000000');

    // Nothing new: same snapshot, same cursor.
    const before = h.state().nodes['bronze.customers']!;
    const third = await h.run(node, env);
    expect(third.result.snapshot!.id).toBe(before.snapshot!.id);
    expect(third.result.rows).toBe(0);
    expect(h.state().nodes['bronze.customers']!.cursor).toBe(before.cursor);
  });

  it('a declared column the table lacks, or of a type that cannot hold it, fails naming stream and column', async () => {
    const h = new SourceHarness();
    const missing = pgNode('customers', { primaryKey: ['customer_id'], columns: [...customersColumns, { name: 'loyalty_tier', type: 'VARCHAR' }] });
    await expect(h.run(missing, env)).rejects.toThrow(/bronze\.customers: declared column `loyalty_tier` is missing in postgres .*customers_t_/);
    const narrow = pgNode('customers', {
      primaryKey: ['customer_id'],
      columns: [
        { name: 'customer_id', type: 'INTEGER' },
        { name: 'created_at', type: 'TIMESTAMPTZ' },
      ],
    });
    await expect(h.run(narrow, env)).rejects.toThrow(/column `customer_id` is declared INTEGER but .* has bigint \(BIGINT\)/);
    const zone = pgNode('customers', {
      primaryKey: ['customer_id'],
      columns: [
        { name: 'customer_id', type: 'BIGINT' },
        { name: 'created_at', type: 'TIMESTAMPTZ' },
      ],
    });
    await expect(h.run(zone, env)).rejects.toThrow(/column `created_at` is declared TIMESTAMPTZ/);
    const cursor = pgNode('customers', { primaryKey: ['customer_id'], cursor: 'modified_at', mode: 'incremental' });
    await expect(h.run(cursor, env)).rejects.toThrow(/cursor column `modified_at` is missing/);
    const table = pgNode('customers', { table: 'clients' });
    await expect(h.run(table, env)).rejects.toThrow(NodeError);
    await expect(h.run(table, env)).rejects.toThrow(/table public\.clients not found in postgres 127\.0\.0\.1:\d+\/customers_t_/);
    expect(h.state().nodes).toEqual({});
  });

  it('the sessions a full read starts ahead (prepareFullRead) are ended: after a full read in page ranges, and after a sync failing before its read', async () => {
    // Over 1,024 pages: the full read is sized for two streams, whose second session starts beside discover.
    await dbs.pgQuery(`CREATE TABLE ahead AS SELECT i::int8 AS id, repeat(md5(i::text), 4) AS pad FROM generate_series(1, 120000) i`);
    const h = new SourceHarness();
    expect((await h.run(pgNode('ahead', { primaryKey: ['id'] }), env)).result.rows).toBe(120000);
    expect((await h.warehouse.files(h.state().nodes['bronze.ahead']!.snapshot!)).length).toBe(2);
    const missing = pgNode('ahead', {
      primaryKey: ['id'],
      columns: [
        { name: 'id', type: 'BIGINT' },
        { name: 'loyalty_tier', type: 'VARCHAR' },
      ],
    });
    await expect(h.run(missing, env)).rejects.toThrow(/declared column `loyalty_tier` is missing/);
    // A session ended is gone from pg_stat_activity once its backend exits; one left open stays.
    const open = () =>
      dbs.pgQuery(
        `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'asgard' AND pid <> pg_backend_pid()`,
      );
    let n = -1;
    for (let i = 0; i < 100 && n !== 0; i++) {
      n = (await open())[0].n as number;
      if (n !== 0) await new Promise((r) => setTimeout(r, 200));
    }
    expect(n).toBe(0);
  });

  it('says when the table guarantees the primary key (a full read then counts no keys); without the guarantee duplicates are still dropped', async () => {
    await dbs.pgQuery(`CREATE TABLE k_none (id int8 NOT NULL, v text);
      INSERT INTO k_none VALUES (1, 'a'), (1, 'b'), (2, 'c');
      CREATE TABLE k_nullable (id int8 UNIQUE, v text);
      CREATE TABLE k_parent (id int8 PRIMARY KEY, v text);
      CREATE TABLE k_child () INHERITS (k_parent);
      CREATE TABLE k_pair (a int NOT NULL, b int NOT NULL, c int, UNIQUE (a, b));`);
    const unique = async (name: string, primaryKey: string[]): Promise<boolean | undefined> => {
      const { postgresConnector } = await import('../../src/ingest/postgres.js');
      const settings = { url: withDatabase(services().CUSTOMER_DB_URL, dbs.pg.database), password: env.PGPW };
      const c = postgresConnector({ node: pgNode(name, { primaryKey }), settings, baseDir: '.', warn: () => undefined });
      try {
        await c.discover();
        return c.keyIsUnique?.();
      } finally {
        await c.close();
      }
    };
    expect(await unique('typed', ['id'])).toBe(true);
    expect(await unique('k_pair', ['a', 'b'])).toBe(true);
    // No index; a unique index on a column that may be NULL; a parent whose children the read also returns;
    // a key column outside the index that may be NULL; an index over a column outside the key.
    expect(await unique('k_none', ['id'])).toBe(false);
    expect(await unique('k_nullable', ['id'])).toBe(false);
    expect(await unique('k_parent', ['id'])).toBe(false);
    expect(await unique('k_pair', ['a', 'b', 'c'])).toBe(false);
    expect(await unique('k_pair', ['a'])).toBe(false);
    const h = new SourceHarness();
    const r = await h.run(pgNode('k_none', { primaryKey: ['id'] }), env);
    expect(r.result.snapshot?.rows).toBe(2);
    expect(await table(h, 'bronze.k_none', 'SELECT id, v FROM t ORDER BY id')).toEqual([
      { id: 1, v: 'b' },
      { id: 2, v: 'c' },
    ]);
  });

  it('a value DuckDB cannot load while PostgreSQL is still streaming: the sync fails at once, naming the source, and leaves nothing', async () => {
    // The full read streams through a named pipe into DuckDB; the first row is a numeric NaN that
    // DECIMAL(12,2) cannot hold, 300,000 rows behind it are still being exported.
    await dbs.pgQuery(
      `CREATE TABLE amounts AS SELECT g AS id, (CASE WHEN g = 1 THEN 'NaN' ELSE g::text END)::numeric(12,2) AS amount FROM generate_series(1, 300000) g`,
    );
    const h = new SourceHarness();
    const t0 = performance.now();
    await expect(h.run(pgNode('amounts', { primaryKey: ['id'] }), env)).rejects.toThrow(/bronze\.amounts/);
    expect(performance.now() - t0).toBeLessThan(120_000);
    expect(h.state().nodes).toEqual({});
    // The connection is usable again for the next sync (nothing left blocked on the pipe).
    await dbs.pgQuery(`UPDATE amounts SET amount = 0 WHERE id = 1`);
    const ok = await h.run(pgNode('amounts', { primaryKey: ['id'] }), env);
    expect(ok.result.rows).toBe(300000);
    expect(ok.result.snapshot!.rows).toBe(300000);
  }, 300_000);
});
