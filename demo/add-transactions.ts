// Inserts N new completed transactions into the demo's MariaDB `transactions` (ids and created_at
// after everything there), so the next `asgard apply` shows an incremental sync of exactly N rows.
//   node --import tsx demo/add-transactions.ts [N=1000] [--mysql-database orders]
// The next `npm run demo` notices the changed row count and reloads the seed data.

import { pathToFileURL } from 'node:url';
import mysql from 'mysql2/promise';
import { mysqlConfig, type DbTarget } from './load.js';

export async function addTransactions(target: DbTarget, n: number): Promise<{ firstId: number; lastId: number }> {
  const c = await mysql.createConnection({ ...mysqlConfig(target), supportBigNumbers: true, bigNumberStrings: true, dateStrings: true });
  try {
    const [rows] = (await c.query('SELECT COALESCE(MAX(transaction_id), 0) AS id, COALESCE(MAX(created_at), NOW()) AS at FROM transactions')) as unknown as [
      { id: string; at: string }[],
    ];
    const firstId = Number(rows[0].id) + 1;
    const base = Date.parse(`${String(rows[0].at).replace(' ', 'T')}Z`) + 1000;
    const values: unknown[][] = [];
    for (let i = 0; i < n; i++) {
      const at = new Date(base + i * 1000).toISOString().replace('T', ' ').replace('Z', '');
      values.push([
        firstId + i,
        1001 + ((i * 7919) % 1000),
        990_000_000 + firstId + i,
        `${10 + (i % 90)}.${String(i % 100).padStart(2, '0')}`,
        at.slice(0, 10),
        'credit_card',
        'completed',
        at,
      ]);
    }
    for (let i = 0; i < values.length; i += 1000) {
      await c.query('INSERT INTO transactions (transaction_id, customer_id, order_id, amount, transaction_date, payment_method, status, created_at) VALUES ?', [
        values.slice(i, i + 1000),
      ]);
    }
    return { firstId, lastId: firstId + n - 1 };
  } finally {
    await c.end();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const args = process.argv.slice(2);
  const n = Number(args.find((a) => /^\d+$/.test(a)) ?? 1000);
  const i = args.indexOf('--mysql-database');
  const url = process.env.TRANSACTIONS_DB_URL;
  if (!url) {
    process.stderr.write('TRANSACTIONS_DB_URL is not set (source scripts/services.sh and run services_up)\n');
    process.exit(1);
  }
  addTransactions({ url, password: process.env.TRANSACTIONS_DB_PASSWORD || undefined, database: i >= 0 ? args[i + 1] : undefined }, n).then(
    (r) => process.stdout.write(`added ${n} transactions (ids ${r.firstId}..${r.lastId})\n`),
    (e: unknown) => {
      process.stderr.write(`add-transactions failed: ${String((e as Error).message).replace(/\/\/([^:/@\s]+):[^@\s]*@/g, '//$1:***@')}\n`);
      process.exit(1);
    },
  );
}
