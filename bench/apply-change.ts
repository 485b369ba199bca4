// Adds a fraction of new completed transactions to the bench's MariaDB database (new ids after the
// largest, created after the newest row so the incremental cursor picks them up).

import mysql from 'mysql2/promise';

export async function addTransactions(fraction: number, dbUrl: string): Promise<number> {
  const url = new URL(dbUrl);
  const conn = await mysql.createConnection({
    host: url.hostname,
    port: Number(url.port || 3306),
    user: decodeURIComponent(url.username),
    password: process.env.TRANSACTIONS_DB_PASSWORD ?? decodeURIComponent(url.password),
    database: url.pathname.slice(1),
  });
  try {
    const [rows] = await conn.query(
      "SELECT COUNT(*) AS n, MAX(transaction_id) AS maxId, MAX(customer_id) AS maxCustomer, DATE_FORMAT(MAX(created_at), '%Y-%m-%d %H:%i:%s') AS maxCreated FROM transactions",
    );
    const r = (rows as { n: number; maxId: number; maxCustomer: number; maxCreated: string }[])[0];
    const add = Math.max(1, Math.round(Number(r.n) * fraction));
    const base = Number(r.maxId);
    for (let start = 1; start <= add; start += 1000) {
      const values: unknown[] = [];
      const tuples: string[] = [];
      for (let i = start; i < Math.min(add + 1, start + 1000); i++) {
        tuples.push('(?, ?, ?, ?, DATE(?), ?, ?, TIMESTAMPADD(SECOND, ?, ?))');
        values.push(
          base + i,
          1 + ((i * 7919) % Number(r.maxCustomer)),
          base + i,
          (10 + (i % 500)).toFixed(2),
          r.maxCreated,
          'paypal',
          'completed',
          1 + Math.floor(i / 100),
          r.maxCreated,
        );
      }
      await conn.query(
        `INSERT INTO transactions (transaction_id, customer_id, order_id, amount, transaction_date, payment_method, status, created_at) VALUES ${tuples.join(', ')}`,
        values,
      );
    }
    return add;
  } finally {
    await conn.end();
  }
}
