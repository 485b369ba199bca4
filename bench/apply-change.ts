// Adds a fraction of new completed transactions to the demo's MySQL database (new ids after the
// largest, created now-ish so the incremental cursor picks them up).

import mysql from 'mysql2/promise';

export async function addTransactions(fraction: number, dbUrl: string): Promise<number> {
  const url = new URL(dbUrl);
  const conn = await mysql.createConnection({
    host: url.hostname, port: Number(url.port || 3306), user: decodeURIComponent(url.username),
    password: process.env.TRANSACTIONS_DB_PASSWORD ?? decodeURIComponent(url.password), database: url.pathname.slice(1),
  });
  try {
    const [rows] = await conn.query('SELECT COUNT(*) AS n, MAX(transaction_id) AS maxId, MAX(customer_id) AS maxCustomer, MAX(created_at) AS maxCreated FROM transactions');
    const r = (rows as { n: number; maxId: number; maxCustomer: number; maxCreated: Date }[])[0];
    const add = Math.max(1, Math.round(Number(r.n) * fraction));
    await conn.query(
      `INSERT INTO transactions (transaction_id, customer_id, order_id, amount, transaction_date, payment_method, status, created_at)
       WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < ?)
       SELECT ? + i, 1 + MOD(i * 7919, ?), ? + i, 10 + MOD(i, 500), DATE(?), 'paypal', 'completed', TIMESTAMPADD(SECOND, i, ?) FROM seq`,
      [add, Number(r.maxId), Number(r.maxCustomer), Number(r.maxId), r.maxCreated, r.maxCreated],
    );
    return add;
  } finally {
    await conn.end();
  }
}
