// Loads the generated demo data (demo/generate.ts) into the demo's sources:
//   PostgreSQL `customers.customers` (COPY FROM STDIN), MariaDB `orders.transactions`
//   (LOAD DATA LOCAL INFILE from a stream) and the ticket API's JSON file.
// Idempotent: tables are truncated and reloaded, unless they already hold exactly this seed and
// scale (a marker table plus row counts), in which case nothing is done (`--force` reloads).
//
//   node --import tsx demo/load.ts [--customers 100000] [--seed 42] [--pg-database customers]
//        [--mysql-database orders] [--tickets-file .services/data/tickets.json] [--force]
// Connections come from CUSTOMER_DB_URL / CUSTOMER_DB_PASSWORD and TRANSACTIONS_DB_URL /
// TRANSACTIONS_DB_PASSWORD (scripts/services.sh exports them).

import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { pathToFileURL } from 'node:url';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import mysql from 'mysql2/promise';
import { GENERATOR_VERSION, generate, transactionRow, type DemoData } from './generate.js';

export interface DbTarget {
  /** postgres://user[:password]@host:port/db or mysql://… */
  readonly url: string;
  readonly password?: string;
  /** Overrides the URL's database; created when missing. */
  readonly database?: string;
}

export interface LoadOptions {
  readonly customers?: number;
  readonly seed?: number;
  readonly pg?: DbTarget;
  readonly mysql?: DbTarget;
  readonly ticketsFile?: string;
  readonly force?: boolean;
  readonly log?: (line: string) => void;
}

export const PG_CUSTOMERS_DDL = `CREATE TABLE IF NOT EXISTS customers (
  customer_id BIGINT PRIMARY KEY,
  email TEXT,
  first_name TEXT,
  last_name TEXT,
  registration_date DATE NOT NULL,
  status TEXT NOT NULL,
  country TEXT,
  city TEXT,
  created_at TIMESTAMP NOT NULL,
  updated_at TIMESTAMP NOT NULL
)`;

export const MYSQL_TRANSACTIONS_DDL = `CREATE TABLE IF NOT EXISTS transactions (
  transaction_id BIGINT NOT NULL PRIMARY KEY,
  customer_id BIGINT NULL,
  order_id BIGINT NOT NULL,
  amount DECIMAL(10,2) NOT NULL,
  transaction_date DATE NOT NULL,
  payment_method VARCHAR(32) NOT NULL,
  status VARCHAR(16) NOT NULL,
  created_at DATETIME(6) NOT NULL,
  KEY transactions_created_at (created_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`;

const META_DDL =
  'CREATE TABLE IF NOT EXISTS asgard_demo_meta (seed BIGINT NOT NULL, customers BIGINT NOT NULL, row_count BIGINT NOT NULL, generator VARCHAR(32) NOT NULL)';

export function pgConfig(t: DbTarget): pg.ClientConfig {
  const u = new URL(t.url);
  return {
    host: u.hostname,
    port: Number(u.port || 5432),
    user: decodeURIComponent(u.username),
    password: t.password ?? (u.password ? decodeURIComponent(u.password) : undefined),
    database: t.database ?? (decodeURIComponent(u.pathname.slice(1)) || 'postgres'),
  };
}

export function mysqlConfig(t: DbTarget): mysql.ConnectionOptions {
  const u = new URL(t.url);
  return {
    host: u.hostname,
    port: Number(u.port || 3306),
    user: decodeURIComponent(u.username),
    password: t.password ?? (u.password ? decodeURIComponent(u.password) : undefined),
    database: t.database ?? decodeURIComponent(u.pathname.slice(1)),
  };
}

/** Create a PostgreSQL database when missing (connecting to `postgres`). */
export async function ensurePgDatabase(t: DbTarget): Promise<void> {
  const cfg = pgConfig(t);
  const admin = new pg.Client({ ...cfg, database: 'postgres' });
  await admin.connect();
  try {
    const r = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [cfg.database]);
    if (!r.rowCount) await admin.query(`CREATE DATABASE "${String(cfg.database).replace(/"/g, '""')}"`);
  } finally {
    await admin.end();
  }
}

export async function ensureMysqlDatabase(t: DbTarget): Promise<void> {
  const cfg = mysqlConfig(t);
  const c = await mysql.createConnection({ ...cfg, database: undefined });
  try {
    await c.query(`CREATE DATABASE IF NOT EXISTS \`${String(cfg.database).replace(/`/g, '``')}\``);
  } finally {
    await c.end();
  }
}

const csvField = (v: string | null): string => (v === null ? '' : /[",\n\r]/.test(v) || v === '' ? `"${v.replace(/"/g, '""')}"` : v);
const tsvField = (v: string | null): string => (v === null ? '\\N' : v.replace(/\\/g, '\\\\').replace(/\t/g, '\\t').replace(/\n/g, '\\n'));

async function loadCustomers(data: DemoData, t: DbTarget, seed: number, force: boolean, log: (s: string) => void): Promise<void> {
  await ensurePgDatabase(t);
  const client = new pg.Client(pgConfig(t));
  await client.connect();
  try {
    await client.query(PG_CUSTOMERS_DDL);
    await client.query('CREATE INDEX IF NOT EXISTS customers_updated_at ON customers (updated_at)');
    // A marker table from an older generator (other columns) is replaced.
    await client.query('SELECT generator FROM asgard_demo_meta LIMIT 0').catch(() => client.query('DROP TABLE IF EXISTS asgard_demo_meta'));
    await client.query(META_DDL);
    const n = data.customers.length;
    if (!force) {
      const meta = await client.query('SELECT seed, customers, row_count, generator FROM asgard_demo_meta');
      const count = await client.query('SELECT count(*)::bigint AS n FROM customers');
      const m = meta.rows[0] as { seed: string; customers: string; row_count: string; generator: string } | undefined;
      if (m && Number(m.seed) === seed && Number(m.customers) === n && m.generator === GENERATOR_VERSION && Number(count.rows[0].n) === n) {
        log(`postgres: customers already hold seed ${seed} × ${n} rows, kept`);
        return;
      }
    }
    const t0 = Date.now();
    await client.query('BEGIN');
    await client.query('TRUNCATE customers');
    await client.query('DELETE FROM asgard_demo_meta');
    const copy = client.query(
      copyFrom(
        'COPY customers (customer_id, email, first_name, last_name, registration_date, status, country, city, created_at, updated_at) FROM STDIN WITH (FORMAT csv)',
      ),
    );
    const cols = ['customer_id', 'email', 'first_name', 'last_name', 'registration_date', 'status', 'country', 'city', 'created_at', 'updated_at'] as const;
    await pipeline(
      Readable.from(
        (function* () {
          let chunk = '';
          for (const c of data.customers) {
            chunk += cols.map((k) => csvField(c[k] === null ? null : String(c[k]))).join(',') + '\n';
            if (chunk.length > 1 << 16) {
              yield chunk;
              chunk = '';
            }
          }
          if (chunk) yield chunk;
        })(),
      ),
      copy,
    );
    await client.query('INSERT INTO asgard_demo_meta VALUES ($1, $2, $2, $3)', [seed, n, GENERATOR_VERSION]);
    await client.query('COMMIT');
    await client.query('ANALYZE customers');
    log(`postgres: loaded ${n} customers in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  } catch (e) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw e;
  } finally {
    await client.end();
  }
}

async function loadTransactions(data: DemoData, t: DbTarget, seed: number, force: boolean, log: (s: string) => void): Promise<void> {
  await ensureMysqlDatabase(t);
  const tx = data.transactions;
  const stream = () =>
    Readable.from(
      (function* () {
        let chunk = '';
        for (let r = 0; r < tx.length; r++) {
          chunk += transactionRow(tx, r).map(tsvField).join('\t') + '\n';
          if (chunk.length > 1 << 16) {
            yield Buffer.from(chunk); // mysql2 wants Buffers
            chunk = '';
          }
        }
        if (chunk) yield Buffer.from(chunk);
      })(),
    );
  const c = await mysql.createConnection({ ...mysqlConfig(t), infileStreamFactory: stream, multipleStatements: false });
  try {
    await c.query(MYSQL_TRANSACTIONS_DDL);
    await c.query('SELECT generator FROM asgard_demo_meta LIMIT 0').catch(() => c.query('DROP TABLE IF EXISTS asgard_demo_meta'));
    await c.query(META_DDL);
    if (!force) {
      const [meta] = (await c.query('SELECT seed, customers, row_count, generator FROM asgard_demo_meta')) as unknown as [
        { seed: number; customers: number; row_count: number; generator: string }[],
      ];
      const [count] = (await c.query('SELECT COUNT(*) AS n FROM transactions')) as unknown as [{ n: number }[]];
      const m = meta[0];
      if (
        m &&
        Number(m.seed) === seed &&
        Number(m.customers) === data.customers.length &&
        m.generator === GENERATOR_VERSION &&
        Number(count[0].n) === tx.length &&
        Number(m.row_count) === tx.length
      ) {
        log(`mariadb: transactions already hold seed ${seed} × ${tx.length} rows, kept`);
        return;
      }
    }
    const t0 = Date.now();
    await c.query('TRUNCATE TABLE transactions');
    await c.query('DELETE FROM asgard_demo_meta');
    await c.query(
      "LOAD DATA LOCAL INFILE 'transactions.tsv' INTO TABLE transactions CHARACTER SET utf8mb4 FIELDS TERMINATED BY '\\t' ESCAPED BY '\\\\' LINES TERMINATED BY '\\n' " +
        '(transaction_id, customer_id, order_id, amount, transaction_date, payment_method, status, created_at)',
    );
    await c.query('INSERT INTO asgard_demo_meta VALUES (?, ?, ?, ?)', [seed, data.customers.length, tx.length, GENERATOR_VERSION]);
    log(`mariadb: loaded ${tx.length} transactions in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  } finally {
    await c.end();
  }
}

export function writeTickets(data: DemoData, file: string): void {
  mkdirSync(dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(data.tickets));
  renameSync(tmp, file);
}

export async function loadDemo(opts: LoadOptions): Promise<DemoData> {
  const log = opts.log ?? (() => undefined);
  const seed = opts.seed ?? 42;
  const t0 = Date.now();
  const data = generate({ customers: opts.customers ?? 100_000, seed });
  log(
    `generated ${data.customers.length} customers, ${data.transactions.length} transactions, ${data.tickets.length} tickets (seed ${seed}) in ${((Date.now() - t0) / 1000).toFixed(1)} s`,
  );
  const jobs: Promise<void>[] = [];
  if (opts.pg) jobs.push(loadCustomers(data, opts.pg, seed, !!opts.force, log));
  if (opts.mysql) jobs.push(loadTransactions(data, opts.mysql, seed, !!opts.force, log));
  await Promise.all(jobs);
  if (opts.ticketsFile) {
    writeTickets(data, opts.ticketsFile);
    log(`tickets: wrote ${data.tickets.length} to ${opts.ticketsFile}`);
  }
  return data;
}

async function main(): Promise<number> {
  const args = process.argv.slice(2);
  const arg = (name: string): string | undefined => {
    const i = args.indexOf(`--${name}`);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const need = (name: string): string => {
    const v = process.env[name];
    if (!v) throw new Error(`${name} is not set (source scripts/services.sh and run services_up, or point it at your server)`);
    return v;
  };
  const servicesDir = process.env.ASGARD_SERVICES_DIR ?? resolve('.services');
  await loadDemo({
    customers: Number(arg('customers') ?? 100_000),
    seed: Number(arg('seed') ?? 42),
    pg: { url: need('CUSTOMER_DB_URL'), password: process.env.CUSTOMER_DB_PASSWORD || undefined, database: arg('pg-database') },
    mysql: { url: need('TRANSACTIONS_DB_URL'), password: process.env.TRANSACTIONS_DB_PASSWORD || undefined, database: arg('mysql-database') },
    ticketsFile: arg('tickets-file') ?? resolve(servicesDir, 'data', 'tickets.json'),
    force: args.includes('--force'),
    log: (l) => process.stdout.write(`[load] ${l}\n`),
  });
  return 0;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main().then(
    (code) => process.exit(code),
    (e: unknown) => {
      // Connection errors may quote the URL: never echo a password.
      process.stderr.write(`demo load failed: ${String((e as Error).message).replace(/\/\/([^:/@\s]+):[^@\s]*@/g, '//$1:***@')}\n`);
      process.exit(1);
    },
  );
}
