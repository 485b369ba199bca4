// The demo's deterministic data (seeded PRNG): customers, transactions and support tickets over
// the two years ending on 2025-11-10, so the pipeline's logical time is 2025-11-11T00:00:00Z.
//
// The churn signal is real and sits BEFORE the observation date (60 days before the logical time):
// churners buy less and less often and open more tickets that take longer to resolve, then stop
// buying around the observation date. The label the pipeline computes ("no completed purchase in the
// 60 days after the observation date") is noisy on purpose: some churners still buy once in the
// window, some slow buyers simply don't, so a good model is good, not perfect.
//
// Dirt the cleanses remove: ~1.5% invalid emails (NULL or no `@`); ~1.7% invalid transactions
// (not completed, amount <= 0, or no customer).

/** Bump when the generated data changes: the loader then reloads databases holding older data. */
export const GENERATOR_VERSION = '3';
export const DATA_END = '2025-11-10';
export const LOGICAL_TIME = '2025-11-11T00:00:00Z';
const DAY = 86_400_000;
const END_DAY = Date.UTC(2025, 10, 10) / DAY; // last day with data (inclusive)
const LOGICAL_DAY = END_DAY + 1;
export const OBSERVATION_DAY = LOGICAL_DAY - 60;
const HISTORY_START = LOGICAL_DAY - 730;

export interface GenerateOptions {
  readonly customers?: number; // default 100,000
  readonly seed?: number; // default 42
  /** Transactions and tickets scale with customers: 12 and 0.45 per customer at the defaults. */
  readonly transactions?: number;
  readonly tickets?: number;
}

export interface Customer {
  customer_id: number;
  email: string | null;
  first_name: string | null;
  last_name: string | null;
  registration_date: string; // YYYY-MM-DD
  status: string;
  country: string;
  city: string;
  created_at: string; // YYYY-MM-DD HH:MM:SS
  updated_at: string;
}

/** Transactions in column arrays (1.2M objects would cost ~300 MB): row i across the arrays. */
export interface Transactions {
  readonly length: number;
  readonly transactionId: Float64Array;
  readonly customerId: Float64Array; // NaN = NULL
  readonly orderId: Float64Array;
  readonly amountCents: Int32Array;
  readonly day: Int32Array; // days since 1970-01-01
  readonly second: Int32Array; // second of the day
  readonly payment: Uint8Array;
  readonly status: Uint8Array;
}

export interface Ticket {
  ticket_id: number;
  customer_id: number | null;
  created_at: string; // ISO-8601 UTC with Z
  resolution_time_hours: number | null;
  satisfaction_score: number | null;
}

export interface DemoData {
  readonly customers: Customer[];
  readonly transactions: Transactions;
  readonly tickets: Ticket[];
  /** Generator-side truth, for tests of the signal (not loaded anywhere). */
  readonly churner: Uint8Array;
}

export const PAYMENT_METHODS = ['credit_card', 'paypal', 'debit_card', 'bank_transfer', 'Credit_Card', 'PayPal'];
export const TX_STATUSES = ['completed', 'pending', 'failed', 'refunded'];

const FIRST = [
  'James',
  'Mary',
  'John',
  'Patricia',
  'Robert',
  'Jennifer',
  'Michael',
  'Linda',
  'William',
  'Elizabeth',
  'David',
  'Barbara',
  'Richard',
  'Susan',
  'Joseph',
  'Jessica',
  'Thomas',
  'Sarah',
  'Charles',
  'Karen',
  'Ana',
  'Lukas',
  'Sofia',
  'Mateo',
  'Emma',
  'Noah',
  'Olga',
  'Yuki',
  'Chen',
  'Priya',
];
const LAST = [
  'Smith',
  'Johnson',
  'Williams',
  'Brown',
  'Jones',
  'Garcia',
  'Miller',
  'Davis',
  'Rodriguez',
  'Martinez',
  'Hernandez',
  'Lopez',
  'Gonzalez',
  'Wilson',
  'Anderson',
  'Thomas',
  'Taylor',
  'Moore',
  'Jackson',
  'Martin',
  'Müller',
  'Schmidt',
  'Rossi',
  'Dubois',
  'Tanaka',
  'Nowak',
  "O'Brien",
  'Silva',
  'Kim',
  'Singh',
];
const PLACES: readonly [string, readonly string[], number][] = [
  ['US', ['New York', 'Chicago', 'Austin', 'Seattle', 'Denver'], 40],
  ['UK', ['London', 'Manchester', 'Leeds'], 15],
  ['DE', ['Berlin', 'Munich', 'Hamburg'], 12],
  ['FR', ['Paris', 'Lyon'], 10],
  ['BR', ['São Paulo', 'Rio de Janeiro'], 8],
  ['JP', ['Tokyo', 'Osaka'], 8],
  ['IN', ['Mumbai', 'Bangalore'], 7],
];
const DOMAINS = ['example.com', 'mail.test', 'inbox.example.org', 'corp.example.net'];

/** sfc32: small, fast, good enough, and the same numbers on every machine. */
export function rng(seed: number): () => number {
  let a = 0x9e3779b9 ^ seed,
    b = 0x243f6a88 ^ (seed * 7),
    c = 0xb7e15162,
    d = seed | 0;
  const next = (): number => {
    a |= 0;
    b |= 0;
    c |= 0;
    d |= 0;
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return (t >>> 0) / 4294967296;
  };
  for (let i = 0; i < 20; i++) next();
  return next;
}

export function isoDay(day: number): string {
  return new Date(day * DAY).toISOString().slice(0, 10);
}
export function sqlTimestamp(day: number, second: number): string {
  return new Date(day * DAY + second * 1000).toISOString().slice(0, 19).replace('T', ' ');
}

/** Split `total` into integer parts proportional to `weights` (largest remainders; exact sum). */
function apportion(weights: Float64Array, total: number): Int32Array {
  let sum = 0;
  for (const w of weights) sum += w;
  const out = new Int32Array(weights.length);
  const frac = new Float64Array(weights.length);
  let given = 0;
  for (let i = 0; i < weights.length; i++) {
    const exact = (weights[i] / sum) * total;
    out[i] = Math.floor(exact);
    frac[i] = exact - out[i];
    given += out[i];
  }
  const order = Array.from(frac.keys()).sort((x, y) => frac[y] - frac[x] || x - y);
  for (let k = 0; given < total; k++, given++) out[order[k % order.length]]++;
  return out;
}

interface Profile {
  regDay: number;
  rate: number; // mean days between purchases (before any decline)
  churner: boolean;
  declineStart: number; // churners: day the decline starts
  stopDay: number; // churners: last day with purchases
  ticketWeight: number;
}

export function generate(opts: GenerateOptions = {}): DemoData {
  const nCustomers = opts.customers ?? 100_000;
  const nTx = opts.transactions ?? nCustomers * 12;
  const nTickets = opts.tickets ?? Math.round(nCustomers * 0.45);
  const rand = rng(opts.seed ?? 42);
  const normal = (): number => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)];

  // ---- customers and their behaviour profiles
  const customers: Customer[] = new Array(nCustomers);
  const profiles: Profile[] = new Array(nCustomers);
  const churner = new Uint8Array(nCustomers);
  const placeWeights = PLACES.reduce((s, p) => s + p[2], 0);
  for (let i = 0; i < nCustomers; i++) {
    const id = 1001 + i;
    // Registrations from 2022 on, more of them recently; everybody before the observation date
    // except ~4% who joined after it (no label for them).
    const regDay =
      rand() < 0.04
        ? OBSERVATION_DAY + Math.floor(rand() * (END_DAY - OBSERVATION_DAY))
        : Date.UTC(2022, 0, 1) / DAY + Math.floor(Math.sqrt(rand()) * (OBSERVATION_DAY - 90 - Date.UTC(2022, 0, 1) / DAY));
    const isChurner = regDay < OBSERVATION_DAY - 120 && rand() < 0.2;
    const rate = Math.exp(Math.log(40) + 0.2 * normal()); // mean days between purchases
    const stopDay = OBSERVATION_DAY + Math.round(-80 + rand() * 70);
    const declineStart = stopDay - Math.round(60 + rand() * 120);
    profiles[i] = { regDay, rate, churner: isChurner, declineStart, stopDay, ticketWeight: 0 };
    churner[i] = isChurner ? 1 : 0;

    let r = rand() * placeWeights;
    let place = PLACES[0];
    for (const p of PLACES)
      if ((r -= p[2]) < 0) {
        place = p;
        break;
      }
    const first = pick(FIRST);
    const last = pick(LAST);
    const local = `${first}.${last}${id}`.toLowerCase().replace(/[^a-z0-9.]/g, '');
    let email: string | null = `${local}@${pick(DOMAINS)}`;
    const dirt = rand();
    if (dirt < 0.005) email = null;
    else if (dirt < 0.015)
      email = `${local}.${pick(DOMAINS)}`; // no @
    else if (dirt < 0.03) email = `  ${email.toUpperCase()} `; // valid, needs TRIM/LOWER
    const createdSecond = Math.floor(rand() * 86_400);
    const updatedDay = Math.min(END_DAY, regDay + Math.floor(rand() * (END_DAY - regDay + 1)));
    const status = isChurner && rand() < 0.3 ? 'inactive' : rand() < 0.18 ? 'premium' : rand() < 0.04 ? 'suspended' : 'active';
    customers[i] = {
      customer_id: id,
      email,
      first_name: rand() < 0.01 ? null : first,
      last_name: rand() < 0.01 ? null : last,
      registration_date: isoDay(regDay),
      status,
      country: rand() < 0.05 ? place[0].toLowerCase() : place[0],
      city: pick(place[1]),
      created_at: sqlTimestamp(regDay, createdSecond),
      updated_at: sqlTimestamp(updatedDay, updatedDay === regDay ? Math.min(86_399, createdSecond + 60) : Math.floor(rand() * 86_400)),
    };
  }

  // ---- transactions: a renewal process per customer (regular buyers, gamma-distributed gaps;
  // churners' gaps stretch until they stop), calibrated so the total is close to nTx, then made
  // exactly nTx by dropping or duplicating random purchases.
  const sample = (scale: number, seed: number): { day: number[]; cust: number[] } => {
    const r = rng(seed);
    const day: number[] = [];
    const cust: number[] = [];
    const gamma = (mean: number): number => {
      let prod = 1;
      for (let j = 0; j < 8; j++) prod *= 1 - r();
      return (-Math.log(prod) * mean) / 8;
    };
    for (let i = 0; i < nCustomers; i++) {
      const p = profiles[i];
      const mu = p.rate * scale;
      let t = p.regDay + r() * mu;
      while (t <= END_DAY + 1) {
        if (p.churner && t > p.stopDay) break;
        const d = Math.floor(t);
        if (d >= HISTORY_START && d <= END_DAY) {
          day.push(d);
          cust.push(i);
        }
        const f = p.churner && t > p.declineStart ? (t - p.declineStart) / Math.max(1, p.stopDay - p.declineStart) : 0;
        t += gamma(mu * (1 + 5 * f));
      }
    }
    return { day, cust };
  };
  let scale = 1;
  let ev = sample(scale, (opts.seed ?? 42) + 1);
  for (let pass = 0; pass < 3 && Math.abs(ev.day.length - nTx) > nTx * 0.01; pass++) {
    scale *= ev.day.length / nTx;
    ev = sample(scale, (opts.seed ?? 42) + 1);
  }
  const txDay = new Int32Array(nTx);
  const txSecond = new Int32Array(nTx);
  const txCustomer = new Int32Array(nTx);
  {
    const m = ev.day.length;
    const keep = new Int32Array(m);
    for (let i = 0; i < m; i++) keep[i] = i;
    // Partial Fisher-Yates: the first min(m, nTx) entries are a uniform random subset.
    for (let i = 0; i < Math.min(m, nTx); i++) {
      const j = i + Math.floor(rand() * (m - i));
      const x = keep[i];
      keep[i] = keep[j];
      keep[j] = x;
    }
    for (let k = 0; k < nTx; k++) {
      const src = k < m ? keep[k] : keep[Math.floor(rand() * m)]; // too few: a second purchase that day
      txDay[k] = ev.day[src];
      txCustomer[k] = ev.cust[src];
      txSecond[k] = Math.floor(rand() * 86_400);
    }
  }
  // Ids follow creation time, like an auto-increment key.
  const order = new Int32Array(nTx);
  for (let i = 0; i < nTx; i++) order[i] = i;
  const key = new Float64Array(nTx);
  for (let i = 0; i < nTx; i++) key[i] = txDay[i] * 86_400 + txSecond[i];
  order.sort((x, y) => key[x] - key[y] || x - y);
  const tx: Transactions = {
    length: nTx,
    transactionId: new Float64Array(nTx),
    customerId: new Float64Array(nTx),
    orderId: new Float64Array(nTx),
    amountCents: new Int32Array(nTx),
    day: new Int32Array(nTx),
    second: new Int32Array(nTx),
    payment: new Uint8Array(nTx),
    status: new Uint8Array(nTx),
  };
  for (let r = 0; r < nTx; r++) {
    const i = order[r];
    const c = txCustomer[i];
    tx.transactionId[r] = 5001 + r;
    tx.orderId[r] = 700_001 + r;
    tx.day[r] = txDay[i];
    tx.second[r] = txSecond[i];
    // Churners' baskets shrink as they drift away.
    const p = profiles[c];
    const shrink = p.churner && txDay[i] > p.declineStart ? 0.7 : 1;
    let cents = Math.max(199, Math.round(Math.exp(Math.log(6500) + 0.7 * normal()) * shrink));
    tx.payment[r] = Math.floor(rand() * PAYMENT_METHODS.length);
    let status = 0;
    let customer = customers[c].customer_id;
    const dirt = rand();
    if (dirt < 0.01)
      status = 1 + Math.floor(rand() * 3); // pending / failed / refunded
    else if (dirt < 0.014)
      cents = rand() < 0.5 ? 0 : -cents; // non-positive amount
    else if (dirt < 0.017) customer = NaN; // no customer
    tx.status[r] = status;
    tx.amountCents[r] = cents;
    tx.customerId[r] = customer;
  }

  // ---- tickets: exactly nTickets; churners open more of them before they leave, resolved slower
  const tWeights = new Float64Array(nCustomers);
  for (let i = 0; i < nCustomers; i++) {
    const p = profiles[i];
    const days = END_DAY - Math.max(p.regDay, HISTORY_START) + 1;
    p.ticketWeight = days * (0.2 + 0.6 * rand()) * (p.churner ? 4 : 1);
    tWeights[i] = p.ticketWeight;
  }
  const perCustTickets = apportion(tWeights, nTickets);
  const raw: { day: number; second: number; c: number; hours: number | null; score: number | null }[] = [];
  for (let i = 0; i < nCustomers; i++) {
    const p = profiles[i];
    const from = Math.max(p.regDay, HISTORY_START);
    for (let j = 0; j < perCustTickets[i]; j++) {
      let day: number;
      let slow = false;
      if (p.churner && rand() < 0.75) {
        // In the months before they stop buying (and a little after).
        day = Math.max(from, p.declineStart - 30 + Math.floor(rand() * (p.stopDay - p.declineStart + 40)));
        slow = true;
      } else {
        day = from + Math.floor(rand() * (END_DAY - from + 1));
      }
      day = Math.min(day, END_DAY);
      const hours = rand() < 0.03 ? null : Math.round(Math.exp(Math.log(slow ? 36 : 12) + 0.8 * normal()) * 10) / 10;
      const score = rand() < 0.05 ? null : Math.max(1, Math.min(5, Math.round((slow ? 2.4 : 3.9) + 1.1 * normal())));
      raw.push({ day, second: Math.floor(rand() * 86_400), c: i, hours, score });
    }
  }
  raw.sort((a, b) => a.day - b.day || a.second - b.second || a.c - b.c);
  const tickets: Ticket[] = raw.map((t, n) => ({
    ticket_id: 7001 + n,
    customer_id: rand() < 0.005 ? null : customers[t.c].customer_id,
    created_at: new Date(t.day * DAY + t.second * 1000).toISOString().replace('.000Z', 'Z'),
    resolution_time_hours: t.hours,
    satisfaction_score: t.score,
  }));

  return { customers, transactions: tx, tickets, churner };
}

/** One transaction as SQL-ready text values (NULL as null), in table column order. */
export function transactionRow(tx: Transactions, r: number): (string | null)[] {
  const cents = tx.amountCents[r];
  const abs = Math.abs(cents);
  const amount = `${cents < 0 ? '-' : ''}${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, '0')}`;
  return [
    String(tx.transactionId[r]),
    Number.isNaN(tx.customerId[r]) ? null : String(tx.customerId[r]),
    String(tx.orderId[r]),
    amount,
    isoDay(tx.day[r]),
    PAYMENT_METHODS[tx.payment[r]],
    TX_STATUSES[tx.status[r]],
    sqlTimestamp(tx.day[r], tx.second[r]),
  ];
}
