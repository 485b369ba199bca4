// asgard query, features historical and lineage through the CLI (in-process), over a warehouse
// built by `asgard apply` with the real engine executors and a stand-in source.

import { beforeAll, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openDuck } from '../../src/engine/duckdb.js';
import type { NodeExecutor } from '../../src/engine/executor.js';
import { engineExecutors, executorResolver } from '../../src/engine/executors.js';
import type { NodeKind, SourceNode } from '../../src/ir/types.js';
import { cli } from '../cli/helpers.js';
import { tempDir } from './helpers.js';

const SPEC = `pipeline shop {
  warehouse = "./.asgard/warehouse"
  logical_time = "2025-03-01T00:00:00Z"
  source db postgres {
    url = "postgres://x@127.0.0.1:1/shop"
    stream orders {
      primary_key = order_id
      columns = { order_id = "BIGINT"  customer_id = "BIGINT"  amount = "DECIMAL(10,2)"  ordered_at = "TIMESTAMP" }
    }
  }
  cleanse orders_clean {
    sql """
      SELECT order_id, customer_id, amount, ordered_at
      FROM bronze.orders
      WHERE amount > 0
    """
  }
  model spend {
    materialized = table
    sql """
      SELECT customer_id, CAST(ordered_at AS DATE) AS day, SUM(amount) AS spent, COUNT(*) AS orders,
             CAST(CAST(ordered_at AS DATE) AS TIMESTAMP) AS as_of
      FROM silver.orders_clean
      GROUP BY customer_id, CAST(ordered_at AS DATE), CAST(CAST(ordered_at AS DATE) AS TIMESTAMP)
    """
  }
  features spend_features {
    entity customer { join_key = customer_id }
    from = gold.spend
    timestamp = as_of
    ttl = 2d
    feature orders int64
    feature spent float64
  }
}
`;

// Orders: customer 1 on Jan 1 (2 orders) and Jan 3; customer 2 on Jan 2; one refund (amount <= 0).
const ORDERS = `SELECT * FROM (VALUES
  (1, 1, 10.50, TIMESTAMP '2025-01-01 09:00:00'), (2, 1, 4.50, TIMESTAMP '2025-01-01 18:00:00'),
  (3, 1, 7.00, TIMESTAMP '2025-01-03 10:00:00'), (4, 2, 99.99, TIMESTAMP '2025-01-02 12:00:00'),
  (5, 2, -5.00, TIMESTAMP '2025-01-02 13:00:00')) v(order_id, customer_id, amount, ordered_at)`;

const source: NodeExecutor<SourceNode> = {
  kind: 'source',
  async run(ctx) {
    const p = await ctx.warehouse.begin(ctx.node.id, ctx.node.stream.columns!);
    const conn = await openDuck();
    try {
      await conn.run(
        ctx.warehouse.copySql(
          p,
          `SELECT order_id::BIGINT AS order_id, customer_id::BIGINT AS customer_id, amount::DECIMAL(10,2) AS amount, ordered_at FROM (${ORDERS})`,
        ),
      );
      return { rows: 5, snapshot: await ctx.warehouse.commit(p, conn), schema: ctx.node.stream.columns };
    } finally {
      conn.closeSync();
    }
  },
};
const real = executorResolver(engineExecutors);
const services = { executors: async (kind: NodeKind) => (kind === 'source' ? (source as NodeExecutor) : real(kind)) };

let dir: string;
beforeAll(async () => {
  process.env.ASGARD_CACHE_DIR = tempDir('asg-cache-');
  dir = tempDir('asg-cmds-');
  writeFileSync(join(dir, 'shop.asg'), SPEC);
  const r = await cli(['apply', 'shop.asg', '--yes', '--format', 'json'], { cwd: dir, services });
  expect(r.code, r.stderr).toBe(0);
  writeFileSync(
    join(dir, 'entities.csv'),
    'customer_id,event_timestamp,label\n1,2025-01-01 12:00:00,a\n1,2025-01-02 23:00:00,b\n1,2025-01-04 00:00:00,c\n2,2025-01-05 00:00:00,d\n3,2025-01-02 00:00:00,e\n',
  );
}, 300_000);

describe('asgard query', () => {
  it('prints JSON, CSV and a text table', async () => {
    const sql = 'SELECT customer_id, spent, orders FROM gold.spend ORDER BY customer_id, day';
    const j = await cli(['query', 'shop.asg', sql, '--format', 'json'], { cwd: dir });
    expect(j.code, j.stderr).toBe(0);
    expect(JSON.parse(j.stdout)).toEqual({
      columns: [
        { name: 'customer_id', type: 'BIGINT' },
        { name: 'spent', type: 'DECIMAL(38,2)' },
        { name: 'orders', type: 'BIGINT' },
      ],
      rows: [
        { customer_id: 1, spent: '15.00', orders: 2 },
        { customer_id: 1, spent: '7.00', orders: 1 },
        { customer_id: 2, spent: '99.99', orders: 1 },
      ],
    });
    const c = await cli(['query', 'shop.asg', sql, '--format', 'csv'], { cwd: dir });
    expect(c.stdout).toBe('customer_id,spent,orders\n1,15.00,2\n1,7.00,1\n2,99.99,1\n');
    const t = await cli(['query', 'shop.asg', 'SELECT count(*) AS n FROM iceberg.silver.orders_clean'], { cwd: dir });
    expect(t.stdout).toBe('n\n-\n4\n');
  });

  it('refuses writes with exit 2 and no stack trace', async () => {
    const r = await cli(['query', 'shop.asg', 'DROP TABLE gold.spend'], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('only a SELECT is allowed');
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});

describe('asgard features historical', () => {
  it('joins point in time: as of each row, within the TTL, NULL without features', async () => {
    const r = await cli(['features', 'historical', 'shop.asg', 'spend_features', '--entities', 'entities.csv', '--format', 'json'], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout) as { columns: { name: string }[]; rows: Record<string, unknown>[] };
    expect(doc.columns.map((c) => c.name)).toEqual(['customer_id', 'event_timestamp', 'label', 'orders', 'spent']);
    // a: Jan 1 row (as_of Jan 1 00:00 <= 12:00); b: still Jan 1 (Jan 3 is later); c: Jan 3 row;
    // d: customer 2's Jan 2 row is older than the 2-day TTL at Jan 5; e: no features at all.
    expect(doc.rows.map((x) => [x.label, x.orders, x.spent])).toEqual([
      ['a', 2, 15],
      ['b', 2, 15],
      ['c', 1, 7],
      ['d', null, null],
      ['e', null, null],
    ]);
  });

  it('names a missing entity column and an unknown view', async () => {
    writeFileSync(join(dir, 'bad.csv'), 'customer,when\n1,2025-01-01\n');
    const r = await cli(['features', 'historical', 'shop.asg', 'spend_features', '--entities', 'bad.csv'], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('lacks columns customer_id, event_timestamp');
    const u = await cli(['features', 'historical', 'shop.asg', 'spend_feature', '--entities', 'entities.csv'], { cwd: dir });
    expect(u.code).toBe(2);
    expect(u.stderr).toContain('did you mean spend_features?');
  });
});

describe('asgard features historical with a text join key', () => {
  it('reads a CSV file\'s key as the view\'s key type: "42" is not "0042"', async () => {
    // CSV has no types: sniffed, a key column of digits was a BIGINT, and the join compared the
    // view's VARCHAR key as a number, so entity "42" got the features of "0042" (and "7" of "007").
    const d = tempDir('asg-textkey-');
    writeFileSync(join(d, 'accounts.csv'), 'account,as_of,balance\n0042,2025-01-01 00:00:00,10\n007,2025-01-01 00:00:00,70\n');
    writeFileSync(
      join(d, 'acct.asg'),
      `pipeline acct {
  source files file {
    path = "./accounts.csv"
    stream accounts {
      primary_key = account
      columns = { account = "VARCHAR"  as_of = "TIMESTAMP"  balance = "BIGINT" }
    }
  }
  features account_features {
    entity account { join_key = account }
    from      = bronze.accounts
    timestamp = as_of
    feature balance int64
  }
}
`,
    );
    const a = await cli(['apply', 'acct.asg', '--yes'], { cwd: d });
    expect(a.code, a.stderr).toBe(0);
    const rows = async (csv: string) => {
      writeFileSync(join(d, 'e.csv'), `account,event_timestamp\n${csv}`);
      const r = await cli(['features', 'historical', 'acct.asg', 'account_features', '--entities', 'e.csv', '--format', 'json'], { cwd: d });
      expect(r.code, r.stderr).toBe(0);
      return (JSON.parse(r.stdout) as { rows: Record<string, unknown>[] }).rows.map((x) => [x.account, x.balance]);
    };
    expect(await rows('42,2025-01-02 00:00:00\n7,2025-01-02 00:00:00\n')).toEqual([
      ['42', null],
      ['7', null],
    ]);
    expect(await rows('0042,2025-01-02 00:00:00\n007,2025-01-02 00:00:00\n')).toEqual([
      ['0042', 10],
      ['007', 70],
    ]);
  }, 120_000);
});

describe('asgard lineage', () => {
  it('traces a feature column back to the source system', async () => {
    const r = await cli(['lineage', 'shop.asg', 'gold.spend.spent'], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe(
      [
        'gold.spend.spent',
        '├── upstream (where it comes from)',
        '│   └── silver.orders_clean.amount',
        '│       └── bronze.orders.amount',
        '│           └── db (postgres orders.amount)',
        '└── downstream (what uses it)',
        '    └── features.spend_features.spent',
        '',
      ].join('\n'),
    );
    const bad = await cli(['lineage', 'shop.asg', 'gold.spend.nope'], { cwd: dir });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('gold.spend has no column nope');
  });
});
