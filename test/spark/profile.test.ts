// The cluster profile and the compiled jobs' catalog settings: `spark_master` makes a profile one
// `asgard apply` runs on a Spark cluster; `catalog_type = "jdbc"` compiles the SparkApplications
// against Iceberg's JDBC catalog (the SQL catalog asgard writes) with S3FileIO on the profile's endpoint.

import { readFileSync } from 'node:fs';
import * as yaml from 'js-yaml';
import { describe, expect, it } from 'vitest';
import { loadPipelineText } from '../../src/dsl/load.js';
import { CHURN, compileChurn } from '../targets/churn.js';

// Churn's kubernetes profile names its own catalog (545adfa): each test here gives the catalog settings itself.
const churn = readFileSync(CHURN, 'utf8').replace(/\n\s*catalog_(type|uri|user|password)\s*=.*/g, '');
const withSettings = (lines: string) => churn.replace(/(\n\s*profile kubernetes \{)/, `$1\n    ${lines}`);
const withProfile = (block: string) => churn.replace(/(\n\s*profile kubernetes \{)/, `\n  ${block}$1`);

interface App {
  spec: { arguments: string[]; sparkConf: Record<string, string>; deps: { packages: string[] }; driver: { env: { name: string }[] } };
}
const appOf = (files: Map<string, string>, name: string) => yaml.load(files.get(`spark/applications/${name}.yaml`)!) as App;

describe('the cluster profile', () => {
  it('a profile with spark_master targets cluster; others keep their target', () => {
    const r = loadPipelineText(withProfile('profile sparky {\n    spark_master = env("ASGARD_SPARK_MASTER", "spark://127.0.0.1:7077")\n  }'), CHURN);
    expect(r.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    expect(r.ir!.profiles.sparky.target).toBe('cluster');
    expect(r.ir!.profiles.cluster.target).toBe('cluster');
    expect(r.ir!.profiles.kubernetes.target).toBe('kubernetes');
  });

  it('target = "cluster" without spark_master is a diagnostic naming the setting', () => {
    const r = loadPipelineText(withProfile('profile big {\n    target = "cluster"\n  }'), CHURN);
    const errors = r.diagnostics.filter((d) => d.severity === 'error');
    expect(errors).toHaveLength(1);
    expect(errors[0].code).toBe('ASG2004');
    expect(errors[0].message).toContain('spark_master');
  });

  it('an unknown target names the three', () => {
    const r = loadPipelineText(withProfile('profile big {\n    target = "yarn"\n  }'), CHURN);
    expect(r.diagnostics.find((d) => d.severity === 'error')?.message).toBe('`target` must be one of `local`, `kubernetes`, `cluster`');
  });
});

describe('SparkApplications on the JDBC catalog', () => {
  it('carry the catalog URL, ResolvingFileIO with the S3 endpoint and path-style, the JDBC and AWS jars, and bronze from the catalog', async () => {
    const r = await compileChurn(withSettings('catalog_type = "jdbc"\n    catalog_uri = "jdbc:postgresql://lake-db:5432/lake"\n    bronze_format = "iceberg"'));
    expect(r.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    const app = appOf(r.files!, 'customers_cleaned');
    const conf = app.spec.sparkConf;
    expect(conf['spark.sql.catalog.iceberg.type']).toBe('jdbc');
    expect(conf['spark.sql.catalog.iceberg.uri']).toBe('jdbc:postgresql://lake-db:5432/lake');
    expect(conf['spark.sql.catalog.iceberg.io-impl']).toBe('org.apache.iceberg.io.ResolvingFileIO');
    expect(conf['spark.sql.catalog.iceberg.s3.path-style-access']).toBe('true');
    // churn's endpoint is env("S3_ENDPOINT", …): catalog properties are not expanded, so it reaches
    // S3FileIO through the containers' AWS_ENDPOINT_URL_S3.
    expect(conf['spark.sql.catalog.iceberg.s3.endpoint']).toBeUndefined();
    expect(app.spec.driver.env.map((e) => e.name)).toContain('AWS_ENDPOINT_URL_S3');
    expect(app.spec.deps.packages).toEqual(expect.arrayContaining(['org.apache.iceberg:iceberg-aws-bundle:1.10.0', 'org.postgresql:postgresql:42.7.8']));
    const a = app.spec.arguments;
    expect(a[a.indexOf('--catalog-type') + 1]).toBe('jdbc');
    expect(a[a.indexOf('--bronze-format') + 1]).toBe('iceberg');
  });

  it("a shared catalog's user and password reach the driver as references, never as values or sparkConf", async () => {
    const r = await compileChurn(
      withSettings(
        'catalog_type = "jdbc"\n    catalog_uri = "jdbc:postgresql://lake-db:5432/lake"\n    catalog_user = "lake"\n    catalog_password = secret("LAKE_CATALOG_PASSWORD")',
      ),
    );
    expect(r.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    const app = appOf(r.files!, 'customers_cleaned') as unknown as {
      spec: App['spec'] & { driver: { env: { name: string; value?: string; valueFrom?: unknown }[] } };
    };
    const env = Object.fromEntries(app.spec.driver.env.map((e) => [e.name, e]));
    expect(env.ICEBERG_JDBC_USER).toEqual({ name: 'ICEBERG_JDBC_USER', value: 'lake' });
    expect(env.ICEBERG_JDBC_PASSWORD).toEqual({
      name: 'ICEBERG_JDBC_PASSWORD',
      valueFrom: { secretKeyRef: { name: 'churn-secrets', key: 'LAKE_CATALOG_PASSWORD' } },
    });
    expect(Object.keys(app.spec.sparkConf).filter((k) => k.includes('jdbc.'))).toEqual([]);
    // runner.py sets them on the session from that environment.
    expect(r.files!.get('spark/runner.py')).toContain('("jdbc.password", "ICEBERG_JDBC_PASSWORD")');
  });

  it('a literal catalog password is refused, naming the setting', async () => {
    const r = await compileChurn(
      withSettings('catalog_type = "jdbc"\n    catalog_uri = "jdbc:postgresql://lake-db:5432/lake"\n    catalog_password = "hunter2"'),
    );
    const err = r.diagnostics.find((d) => d.severity === 'error');
    expect(err?.message).toMatch(/catalog_password` must be secret\("NAME"\) or env\("NAME"\)/);
    expect(r.files).toBeUndefined();
  });

  it('a literal endpoint is the catalog s3.endpoint', async () => {
    const r = await compileChurn(
      withSettings('catalog_type = "jdbc"\n    catalog_uri = "jdbc:sqlite:/lake/catalog.db"').replace(
        /s3_endpoint\s*=[^\n]*/,
        's3_endpoint = "http://s3.local:9000"',
      ),
    );
    const conf = appOf(r.files!, 'customers_cleaned').spec.sparkConf;
    expect(conf['spark.sql.catalog.iceberg.s3.endpoint']).toBe('http://s3.local:9000');
  });

  it('catalog_type = "jdbc" without catalog_uri is a diagnostic naming it, and nothing is compiled', async () => {
    const r = await compileChurn(withSettings('catalog_type = "jdbc"'));
    expect(r.files).toBeUndefined();
    expect(r.diagnostics.map((d) => d.message).join('\n')).toContain('`catalog_uri`');
  });
});
