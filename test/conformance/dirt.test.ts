// The conformance run uses the demo generator at a reduced scale (CONFORMANCE_CUSTOMERS); this
// checks that the reduced data still holds every kind of dirt the cleanses of pipelines/churn.asg
// remove or repair that the seed-scale data holds, so the real tools are compared on all of it.
import { describe, expect, it } from 'vitest';
import { generate, PAYMENT_METHODS, TX_STATUSES, type DemoData } from '../../demo/generate.js';
import { CONFORMANCE_CUSTOMERS, CONFORMANCE_SEED } from './lib/prepare.js';

const DAY = 86_400_000;
const dayOf = (iso: string) => Date.parse(`${iso}T00:00:00Z`) / DAY;

/** Rows of each kind of dirt, named after the cleanse predicate or repair they exercise. */
function dirt(d: DemoData): Record<string, number> {
  const k: Record<string, number> = {};
  const inc = (name: string, yes: boolean) => (k[name] = (k[name] ?? 0) + (yes ? 1 : 0));
  for (const c of d.customers) {
    inc('customers: email IS NULL', c.email === null);
    inc("customers: email without '@'", c.email !== null && !c.email.includes('@'));
    inc('customers: email needing TRIM/LOWER', c.email !== null && c.email.includes('@') && c.email !== c.email.trim().toLowerCase());
    inc("customers: registration_date < '2020-01-01'", dayOf(c.registration_date) < dayOf('2020-01-01'));
    inc('customers: status outside active/premium', !['active', 'premium'].includes(c.status));
    inc('customers: first_name IS NULL', c.first_name === null);
    inc('customers: last_name IS NULL', c.last_name === null);
    inc('customers: country not upper case', c.country !== c.country.toUpperCase());
  }
  const t = d.transactions;
  for (let r = 0; r < t.length; r++) {
    inc('transactions: amount <= 0', t.amountCents[r] <= 0);
    inc('transactions: customer_id IS NULL', Number.isNaN(t.customerId[r]));
    inc("transactions: transaction_date < '2023-01-01'", t.day[r] < dayOf('2023-01-01'));
    inc("transactions: status <> 'completed'", TX_STATUSES[t.status[r]] !== 'completed');
    inc('transactions: payment_method not lower case', PAYMENT_METHODS[t.payment[r]] !== PAYMENT_METHODS[t.payment[r]].toLowerCase());
  }
  for (const x of d.tickets) {
    inc('support_tickets: customer_id IS NULL', x.customer_id === null);
    inc('support_tickets: resolution_time_hours IS NULL', x.resolution_time_hours === null);
  }
  return k;
}

describe('conformance data', () => {
  it(`keeps at ${CONFORMANCE_CUSTOMERS} customers every kind of dirt the seed-scale data has`, () => {
    const full = dirt(generate({ customers: 100_000, seed: CONFORMANCE_SEED }));
    const small = dirt(generate({ customers: CONFORMANCE_CUSTOMERS, seed: CONFORMANCE_SEED }));
    const present = Object.keys(full).filter((name) => full[name] > 0);
    // The seed-scale data must have dirt at all, or this proves nothing.
    expect(present.length).toBeGreaterThanOrEqual(8);
    const lost = present.filter((name) => !(small[name] > 0));
    expect(lost, `kinds of dirt missing at ${CONFORMANCE_CUSTOMERS} customers: ${lost.join('; ')}`).toEqual([]);
  }, 120_000);
});
