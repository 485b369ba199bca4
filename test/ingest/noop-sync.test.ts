// A no-op sync is cheap and still sees new rows (#13: every apply syncs the sources). Each source
// records what its last read returned (`NodeState.read`: the cursor bound and a digest of the rows
// staged; a sync that moved the cursor reads the next sync's window and records that instead); an
// apply whose reads return the same rows again keeps the snapshots without loading DuckDB or
// reading a manifest, and writes no state: the first no-op after an apply included. A row committed since (a tie at the cursor
// value, a new ticket) changes the read: it is merged as before.

import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generate, type Ticket } from '../../demo/generate.js';
import { startTicketApi, type TicketApi } from '../../demo/ticket-api.js';
import { services, testDatabases, withDatabase, type TestDatabases } from '../helpers/services.js';
import { loaded, runLoggingModulesAsync } from '../helpers/loaded-modules.js';

let dbs: TestDatabases;
let api: TicketApi;
let tickets: Ticket[];
let dir: string;
let env: Record<string, string>;

const spec = (pgUrl: string, myUrl: string, apiUrl: string) => `pipeline noop_sync {
  warehouse = "./.asgard/warehouse"

  source customer_db postgres {
    url      = "${pgUrl}"
    password = secret("PGPW")
    stream customers {
      primary_key = customer_id
      cursor      = updated_at
      columns = { customer_id = "BIGINT"  email = "VARCHAR"  status = "VARCHAR"  updated_at = "TIMESTAMP" }
    }
  }

  source transaction_system mysql {
    url      = "${myUrl}"
    password = secret("MYPW")
    stream transactions {
      primary_key = transaction_id
      cursor      = created_at
      columns = { transaction_id = "BIGINT"  customer_id = "BIGINT"  amount = "DECIMAL(10,2)"  created_at = "TIMESTAMP" }
    }
  }

  source support_api http {
    base_url = "${apiUrl}"
    stream support_tickets {
      path        = "/api/v1/tickets"
      primary_key = ticket_id
      pagination  = { style = page  page_param = "page"  size_param = "page_size"  page_size = 100  records_field = "tickets" }
      columns = { ticket_id = "BIGINT"  customer_id = "BIGINT"  satisfaction_score = "INTEGER" }
    }
  }

  model per_customer {
    materialized = table
    sql """ SELECT customer_id, COUNT(*) AS n FROM bronze.transactions GROUP BY customer_id """
  }
}
`;

const apply = () => runLoggingModulesAsync(['apply', 'noop.asg', '--yes', '--format', 'json'], dir, env);
const state = () => JSON.parse(readFileSync(join(dir, '.asgard', 'state', 'noop_sync.json'), 'utf8'));

beforeAll(async () => {
  dbs = await testDatabases(200, 11);
  tickets = generate({ customers: 200, seed: 11 }).tickets;
  api = await startTicketApi({ tickets: () => tickets });
  dir = mkdtempSync(join(tmpdir(), 'asgard-noop-sync-'));
  const s = services();
  writeFileSync(
    join(dir, 'noop.asg'),
    spec(withDatabase(s.CUSTOMER_DB_URL, dbs.pg.database), withDatabase(s.TRANSACTIONS_DB_URL, dbs.mysql.database), api.url),
  );
  env = { PGPW: s.CUSTOMER_DB_PASSWORD, MYPW: s.TRANSACTIONS_DB_PASSWORD };
}, 300_000);

afterAll(async () => {
  await api?.close();
  await dbs?.drop();
});

describe('a no-op sync', () => {
  it('reads the same rows: keeps every snapshot, loads neither DuckDB nor Avro, writes no state; a new row is still merged', async () => {
    const first = await apply();
    expect(first.code, first.stderr).toBe(0);
    // The apply records what the next sync reads (rows at and after the cursor it moved to), so
    // the first no-op after it is already the no-op.
    const before = state();

    const noop = await apply();
    expect(noop.code, noop.stderr).toBe(0);
    const nodes = JSON.parse(noop.stdout).nodes as { node: string; status: string; rows?: number }[];
    expect(nodes.filter((n) => n.node.startsWith('bronze.')).map((n) => n.status)).toEqual(['succeeded', 'succeeded', 'succeeded']);
    expect(nodes.find((n) => n.node === 'gold.per_customer')!.status).toBe('unchanged');
    expect(loaded(noop.packages, ['@duckdb/node-api', 'avsc', 'pg', 'mysql2'])).toEqual(['pg', 'mysql2']);
    expect(state()).toEqual(before);

    // A late commit at exactly the cursor value (a tie), and a new ticket: both are read and merged.
    const cursor = before.nodes['bronze.customers'].cursor as string;
    await dbs.pgQuery(
      `INSERT INTO customers (customer_id, email, first_name, last_name, registration_date, status, country, city, created_at, updated_at)
      VALUES (990001, 'tie@example.com', 'Tie', 'Row', '2025-01-01', 'active', 'US', 'Austin', '2025-01-01 00:00:00', $1::timestamp)`,
      [cursor],
    );
    tickets = [...tickets, { ...tickets[0], ticket_id: 9_900_001 }];
    const after = await apply();
    expect(after.code, after.stderr).toBe(0);
    const s = state();
    expect(s.nodes['bronze.customers'].snapshot.rows).toBe(before.nodes['bronze.customers'].snapshot.rows + 1);
    expect(s.nodes['bronze.support_tickets'].snapshot.rows).toBe(before.nodes['bronze.support_tickets'].snapshot.rows + 1);
    expect(s.nodes['bronze.transactions'].snapshot.id).toBe(before.nodes['bronze.transactions'].snapshot.id);

    // The apply that merged them left the read of the next sync too: the apply after it is a no-op.
    const again = await apply();
    expect(again.code, again.stderr).toBe(0);
    expect(loaded(again.packages, ['@duckdb/node-api', 'avsc', 'pg', 'mysql2'])).toEqual(['pg', 'mysql2']);
    expect(state()).toEqual(s);
  }, 600_000);
});
