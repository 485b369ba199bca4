// Compile of spec variants the churn golden does not cover: an incremental dbt model, a custom SQL
// check, a literal database URL. Each asserts the artifact a tool reads, validated like the golden.

import { readFileSync } from 'node:fs';
import { load, loadAll } from 'js-yaml';
import { describe, expect, it } from 'vitest';
import { CHURN, compileChurn } from './churn.js';
import { errorsOf, validators } from './schemas.js';

const churn = readFileSync(CHURN, 'utf8');

// Each compiles churn whole: minutes on the loaded two-core machine.
describe('spec variants', { timeout: 600_000 }, () => {
  it("churn's Iceberg SQL catalog: each gold model compiles to a dbt Job, its project mounted from one ConfigMap, the catalog password a secret reference", async () => {
    const r = await compileChurn();
    expect(r.diagnostics.filter((d) => d.severity !== 'info')).toEqual([]);
    const docs = loadAll(r.files!.get('dbt/jobs.yaml')!) as any[];
    const v = validators();
    for (const doc of docs) {
      const check = v.k8s(doc.kind === 'Job' ? 'io.k8s.api.batch.v1.Job' : 'io.k8s.api.core.v1.ConfigMap');
      expect(check(doc), `${doc.kind}: ${errorsOf(check)}`).toBe(true);
    }
    const [project, ...jobs] = docs;
    expect(project.metadata.labels['asgard.io/node']).toBeUndefined(); // the pipeline's own object
    expect(jobs.map((j) => [j.metadata.name, j.metadata.labels['asgard.io/node']]).sort()).toEqual([
      ['churn-dbt-churn-labels', 'gold.churn_labels'],
      ['churn-dbt-customer-metrics', 'gold.customer_metrics'],
    ]);
    const metrics = jobs.find((j) => j.metadata.name === 'churn-dbt-customer-metrics');
    const c = metrics.spec.template.spec.containers[0];
    expect(c.image).toBe('ghcr.io/asgard-data/asgard-training:0.1.0');
    expect(c.command.slice(0, 2)).toEqual(['python', '/opt/asgard/dbt/asgard_dbt.py']);
    expect(c.command.join(' ')).toContain(
      '--model gold.customer_metrics --input silver.customers_cleaned --input silver.support_tickets_cleaned --input silver.transactions_cleaned',
    );
    expect(c.env.find((e: any) => e.name === 'ICEBERG_JDBC_PASSWORD')).toEqual({
      name: 'ICEBERG_JDBC_PASSWORD',
      valueFrom: { secretKeyRef: { name: 'churn-secrets', key: 'ICEBERG_CATALOG_PASSWORD' } },
    });
    // Every file of the dbt project is in the ConfigMap and mounted at its path.
    const items = metrics.spec.template.spec.volumes[0].configMap.items as { key: string; path: string }[];
    const projectFiles = [...r.files!.keys()]
      .filter((p) => p.startsWith('dbt/') && p !== 'dbt/jobs.yaml')
      .map((p) => p.slice('dbt/'.length))
      .sort();
    expect(items.map((i) => i.path).sort()).toEqual(projectFiles);
    for (const i of items) expect(project.data[i.key]).toBe(r.files!.get(`dbt/${i.path}`));
    expect(r.files!.get('dbt/profiles.yml')).not.toContain('httpfs');
  });

  it("churn's Iceberg SQL catalog: each feature view compiles to a Job materialising its online table, the runner and the view's SQL in one ConfigMap", async () => {
    const r = await compileChurn();
    expect(r.diagnostics.filter((d) => d.severity !== 'info')).toEqual([]);
    const docs = loadAll(r.files!.get('feast/jobs.yaml')!) as any[];
    const v = validators();
    for (const doc of docs) {
      const check = v.k8s(doc.kind === 'Job' ? 'io.k8s.api.batch.v1.Job' : 'io.k8s.api.core.v1.ConfigMap');
      expect(check(doc), `${doc.kind}: ${errorsOf(check)}`).toBe(true);
    }
    const [runner, job, ...rest] = docs;
    expect(rest).toEqual([]);
    expect(runner.metadata.labels['asgard.io/node']).toBeUndefined(); // the pipeline's own object
    expect(Object.keys(runner.data).sort()).toEqual(['asgard_features.py', 'customer_churn_features.sql']);
    expect(runner.data['asgard_features.py']).toBe(r.files!.get('feast/asgard_features.py'));
    expect(runner.data['customer_churn_features.sql']).toMatch(
      /^SELECT "customer_id", CAST\("updated_at" AS TIMESTAMP\)[\s\S]*FROM asgard_source[\s\S]*QUALIFY row_number\(\)/,
    );
    expect([job.metadata.name, job.metadata.labels['asgard.io/node']]).toEqual(['churn-features-customer-churn-features', 'features.customer_churn_features']);
    const c = job.spec.template.spec.containers[0];
    expect(c.image).toBe('ghcr.io/asgard-data/asgard-training:0.1.0');
    expect(c.command.join(' ')).toBe(
      'python /opt/asgard/features/asgard_features.py --view features.customer_churn_features --source gold.customer_metrics --sql /opt/asgard/features/customer_churn_features.sql --catalog iceberg --catalog-uri jdbc:postgresql://postgres.asgard.svc:5432/lake --warehouse s3a://asgard-lake/warehouse',
    );
    expect(c.env.find((e: any) => e.name === 'ICEBERG_JDBC_PASSWORD')).toEqual({
      name: 'ICEBERG_JDBC_PASSWORD',
      valueFrom: { secretKeyRef: { name: 'churn-secrets', key: 'ICEBERG_CATALOG_PASSWORD' } },
    });
    expect(job.spec.template.spec.volumes).toEqual([{ name: 'project', configMap: { name: runner.metadata.name } }]);
  });

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
    const text = churn.replace(
      'url      = env("CUSTOMER_DB_URL", "postgres://asgard@127.0.0.1:55432/customers")',
      'url      = "postgres://reader:inline-pw@db.example.com:6432/crm"',
    );
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
