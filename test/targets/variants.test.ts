// Compile of spec variants the churn golden does not cover: an incremental dbt model, a custom SQL
// check, a literal database URL. Each asserts the artifact a tool reads, validated like the golden.

import { readFileSync } from 'node:fs';
import { load } from 'js-yaml';
import { describe, expect, it } from 'vitest';
import { CHURN, compileChurn } from './churn.js';
import { errorsOf, validators } from './schemas.js';

const churn = readFileSync(CHURN, 'utf8');

describe('spec variants', () => {
  it('an incremental model re-reads from its newest incremental_by value and merges on its unique key', async () => {
    const text = churn.replace(
      /(model churn_labels \{[\s\S]*?)materialized = table/,
      '$1materialized   = incremental\n    unique_key     = customer_id\n    incremental_by = event_timestamp',
    );
    expect(text).not.toBe(churn);
    const r = await compileChurn(text);
    expect(r.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    const model = r.files!.get('dbt/models/churn_labels.sql')!;
    expect(model).toContain('{% if is_incremental() %}');
    expect(model).toContain('where event_timestamp >= (select max(event_timestamp) from {{ this }})'); // late rows for the newest value merge (sql-executor.ts)
    const schema = load(r.files!.get('dbt/models/schema.yml')!) as any;
    const cfg = schema.models.find((m: any) => m.name === 'churn_labels').config;
    expect(cfg).toMatchObject({ materialized: 'incremental', unique_key: ['customer_id'], contract: { enforced: true } });
    expect(validators().dbtYml(schema), errorsOf(validators().dbtYml)).toBe(true);
  });

  it('a literal connection URL becomes host, port, database and user, never its password', async () => {
    const text = churn.replace('url      = env("CUSTOMER_DB_URL", "postgres://asgard@127.0.0.1:55432/customers")', 'url      = "postgres://reader:inline-pw@db.example.com:6432/crm"');
    expect(text).not.toBe(churn);
    const r = await compileChurn(text);
    expect(r.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    const src = load(r.files!.get('airbyte/sources/customer_db.yaml')!) as any;
    expect(src.configuration).toMatchObject({ host: 'db.example.com', port: 6432, database: 'crm', username: 'reader', password: '${CUSTOMER_DB_PASSWORD}' });
    for (const content of r.files!.values()) expect(content).not.toContain('inline-pw');
    const v = validators().airbyte('source-postgres', { $ref: '#/components/schemas/source-postgres' });
    expect(v(src.configuration), errorsOf(v)).toBe(true);
  });
});
