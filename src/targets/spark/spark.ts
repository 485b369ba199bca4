// spark/: one SparkApplication (sparkoperator.k8s.io/v1beta2) per cleanse, each running the shared
// runner.py on its job's Spark SQL file (jobs/<cleanse>.sql): bronze Parquet in (deduplicated by
// primary key and cursor), the spec's checks, then the silver Iceberg table written with the
// spec's partitioning and mode. Image, Spark version, resources and the S3 warehouse come from
// the profile; a missing one is a diagnostic, never a half-written application.

import type { CleanseNode, NodeKind, PipelineIR, SourceNode } from '../../ir/types.js';
import type { Diagnostic, Result } from '../../diagnostics/diagnostic.js';
import type { FileMap, Origin } from '../files.js';
import { textFile, yamlFile } from '../files.js';
import type { KindRole, Target, TargetContext } from '../registry.js';
import { ProfileSettings, s3a } from '../settings.js';
import { k8sName, nodeById, nodesOf } from '../pipeline.js';
import { render } from '../templates.js';
import { sqlText } from '../sql-text.js';
import { logicalTimeDefaults } from '../logical-time.js';
import { envVar, k8sRefs, s3Env } from '../k8s-env.js';
import { catalogCredentialsEnv, icebergCatalog } from '../iceberg-catalog.js';
import type { EnvVar } from '../k8s-env.js';
import { sparkSettings } from './settings.js';

const SCALA_FOR_SPARK = (v: string) => (Number(v.split('.')[0]) >= 4 ? '2.13' : '2.12');
const HADOOP_FOR_SPARK = (v: string) => (Number(v.split('.')[0]) >= 4 ? '3.4.1' : '3.3.4');

/** What this target does with each node kind (KindRole, src/targets/registry.ts). */
const kinds: Record<NodeKind, KindRole> = { source: 'none', cleanse: 'runs', model: 'none', features: 'none', train: 'none', serve: 'none' };

export const sparkTarget: Target = {
  name: 'spark',
  kinds,
  settings: sparkSettings,
  generate(ir: PipelineIR, ctx: TargetContext): Result<FileMap> {
    const cleanses = nodesOf(ir, 'cleanse');
    const files: FileMap = new Map();
    const diags: Diagnostic[] = [];
    if (cleanses.length === 0) return { value: files, diagnostics: [] };

    const settings = new ProfileSettings(ctx.profile, 'spark');
    const image = settings.literalString('spark_image', 'the container image with Spark and PySpark, e.g. "apache/spark:4.0.1-python3"');
    const sparkVersion = settings.literalString('spark_version', 'the Spark version the image runs, e.g. "4.0.1"');
    const wh = settings.s3Warehouse();
    const namespace = settings.literalString('namespace', 'the Kubernetes namespace', 'default')!;
    const { name: catalog, type: catalogType, uri: catalogUri } = icebergCatalog(settings);
    const bronzeFormat = settings.literalString(
      'bronze_format',
      'how bronze is stored: "parquet" (Airbyte folders) or "iceberg" (tables in the catalog)',
      'parquet',
    )!;
    if (bronzeFormat !== 'parquet' && bronzeFormat !== 'iceberg') settings.invalid('bronze_format', `must be "parquet" or "iceberg", got "${bronzeFormat}"`);
    const icebergVersion = settings.literalString('iceberg_version', 'Iceberg runtime version', '1.10.0')!;
    const serviceAccount = settings.literalString('spark_service_account', 'the driver service account', 'spark')!;
    const refs = k8sRefs(ir, settings);
    const driver = {
      cores: settings.literalNumber('driver.cores', 1),
      memory: settings.literalString('driver.memory', 'driver memory', '1g')!,
    };
    const executor = {
      instances: settings.literalNumber('executor.instances', 1),
      cores: settings.literalNumber('executor.cores', 1),
      memory: settings.literalString('executor.memory', 'executor memory', '1g')!,
    };
    diags.push(...settings.diagnostics);
    if (!image || !sparkVersion || !wh || (catalogType === 'jdbc' && !catalogUri)) return { diagnostics: diags };

    const warehouse = s3a(wh);
    const jobsBase = settings.literalString('artifacts', 'where job files are uploaded', s3a(wh, '_asgard', ir.name, 'spark'))!.replace(/\/+$/, '');
    const lt = logicalTimeDefaults(ir.logicalTime);
    const endpoint = settings.get('s3_endpoint');
    const endpointConf =
      endpoint &&
      (endpoint.kind === 'literal'
        ? String(endpoint.value)
        : `\${env.S3_ENDPOINT${endpoint.kind === 'env' && endpoint.default !== undefined ? `:-${endpoint.default}` : ''}}`);

    // Container env: S3 endpoint and credentials as references, the logical time's variable.
    const env: EnvVar[] = s3Env(settings, refs);
    if (lt.env && ir.logicalTime) env.push(envVar(lt.env, ir.logicalTime, refs));

    const sparkConf: Record<string, string> = {
      'spark.sql.session.timeZone': 'UTC',
      'spark.sql.extensions': 'org.apache.iceberg.spark.extensions.IcebergSparkSessionExtensions',
      [`spark.sql.catalog.${catalog}`]: 'org.apache.iceberg.spark.SparkCatalog',
      [`spark.sql.catalog.${catalog}.type`]: catalogType,
      [`spark.sql.catalog.${catalog}.warehouse`]: warehouse,
      'spark.hadoop.fs.s3a.impl': 'org.apache.hadoop.fs.s3a.S3AFileSystem',
    };
    const region = settings.get('s3_region');
    if (catalogType === 'jdbc') {
      // The SQL catalog's tables are read and written through Iceberg's FileIO: S3FileIO for s3://
      // (and s3a://) locations, Hadoop's for file:// ones (ResolvingFileIO picks by scheme).
      sparkConf[`spark.sql.catalog.${catalog}.uri`] = catalogUri!;
      sparkConf[`spark.sql.catalog.${catalog}.io-impl`] = 'org.apache.iceberg.io.ResolvingFileIO';
      if (endpoint) {
        // Catalog properties are not expanded: a literal endpoint is one; a reference reaches
        // S3FileIO (AWS SDK v2) through AWS_ENDPOINT_URL_S3 in the containers' env.
        if (endpoint.kind === 'literal') sparkConf[`spark.sql.catalog.${catalog}.s3.endpoint`] = String(endpoint.value);
        else env.push(envVar('AWS_ENDPOINT_URL_S3', endpoint, refs));
        sparkConf[`spark.sql.catalog.${catalog}.s3.path-style-access`] = 'true';
      }
      // Its credentials reach the driver (which alone opens the catalog) as environment that
      // runner.py turns into the catalog's jdbc.user / jdbc.password: a secret stays a reference.
      env.push(...catalogCredentialsEnv(settings, refs));
      sparkConf[`spark.sql.catalog.${catalog}.client.region`] = region?.kind === 'literal' ? String(region.value) : 'us-east-1';
    }
    if (endpointConf) {
      // Hadoop expands ${env.NAME:-default} itself: the endpoint stays a reference.
      sparkConf['spark.hadoop.fs.s3a.endpoint'] = endpointConf;
      sparkConf['spark.hadoop.fs.s3a.path.style.access'] = 'true';
      // With an endpoint of its own and no region, S3A (AWS SDK v2) signs for a region the store
      // refuses (HTTP 400 on the first HEAD of a bronze folder): name it, as the catalog's client does.
      sparkConf['spark.hadoop.fs.s3a.endpoint.region'] =
        region?.kind === 'literal' ? String(region.value) : region?.kind === 'env' ? `\${env.${region.name}:-${region.default ?? 'us-east-1'}}` : 'us-east-1';
    }
    const packages = [
      `org.apache.iceberg:iceberg-spark-runtime-${sparkVersion.split('.').slice(0, 2).join('.')}_${SCALA_FOR_SPARK(sparkVersion)}:${icebergVersion}`,
      `org.apache.hadoop:hadoop-aws:${HADOOP_FOR_SPARK(sparkVersion)}`,
      ...(catalogType === 'jdbc' ? [`org.apache.iceberg:iceberg-aws-bundle:${icebergVersion}`, jdbcDriver(catalogUri!)] : []),
    ];

    const runnerOrigin: Origin = { spec: ctx.specPath, node: `pipeline ${ir.name}, ${cleanses.map((c) => c.id).join(', ')}` };
    files.set('runner.py', textFile('runner.py', runnerOrigin, render('spark/runner.py.hbs', { pipeline: ir.name })));

    for (const c of cleanses) {
      const origin: Origin = { spec: ctx.specPath, node: c.id };
      const sqlPath = `jobs/${c.name}.sql`;
      const sql = sqlText(
        ctx.renderSql,
        c.sql,
        { dialect: 'spark', tableRef: viewName, logicalTimestamp: "'${logical_time}'", logicalDate: "'${logical_date}'" },
        diags,
        ctx.sqlCache,
      );
      if (sql === undefined) continue;
      files.set(sqlPath, textFile(sqlPath, origin, sql));

      const checkFiles: string[] = [];
      c.checks.forEach((chk, i) => {
        if (!chk.sql) return;
        const p = `jobs/${c.name}.check_${i + 1}.sql`;
        const s = sqlText(
          ctx.renderSql,
          chk.sql,
          { dialect: 'spark', tableRef: viewName, logicalTimestamp: "'${logical_time}'", logicalDate: "'${logical_date}'" },
          diags,
          ctx.sqlCache,
        );
        if (s === undefined) return;
        files.set(p, textFile(p, origin, s));
        checkFiles.push(p);
      });

      const args: string[] = ['--sql', `${c.name}.sql`, '--output', c.id];
      for (const input of c.inputs) {
        args.push('--input', input);
        const src = nodeById(ir, input);
        if (src?.kind === 'source') args.push(...dedupeArgs(src));
      }
      if (c.partitionBy.length) args.push('--partition-by', c.partitionBy.join(','));
      args.push('--mode', c.mode);
      const structural = c.checks
        .filter((k) => !k.sql)
        .map((k) => ({
          kind: k.kind,
          ...(k.column ? { column: k.column } : {}),
          ...(k.values ? { values: k.values } : {}),
          ...(k.min !== undefined ? { min: k.min } : {}),
          ...(k.max !== undefined ? { max: k.max } : {}),
        }));
      if (structural.length) args.push('--checks', JSON.stringify(structural));
      for (const p of checkFiles) args.push('--check-sql', p.slice('jobs/'.length));
      args.push('--warehouse', warehouse, '--bronze', s3a(wh, 'bronze'), '--catalog', catalog, '--catalog-type', catalogType);
      if (bronzeFormat === 'iceberg') args.push('--bronze-format', 'iceberg');
      if (lt.env) args.push('--logical-time-env', lt.env);
      if (lt.default) args.push('--default-logical-time', lt.default);

      const labels = { 'app.kubernetes.io/managed-by': 'asgard', 'asgard.io/pipeline': ir.name, 'asgard.io/node': c.id };
      const app = {
        apiVersion: 'sparkoperator.k8s.io/v1beta2',
        kind: 'SparkApplication',
        metadata: { name: k8sName(ir.name, c.name), namespace, labels },
        spec: {
          type: 'Python',
          pythonVersion: '3',
          mode: 'cluster',
          image,
          imagePullPolicy: 'IfNotPresent',
          sparkVersion,
          mainApplicationFile: `${jobsBase}/runner.py`,
          arguments: args,
          deps: { files: [sqlPath, ...checkFiles].map((p) => `${jobsBase}/${p}`), packages },
          sparkConf,
          restartPolicy: { type: 'Never' },
          driver: { cores: driver.cores, memory: driver.memory, serviceAccount, labels, env },
          executor: { instances: executor.instances, cores: executor.cores, memory: executor.memory, labels, env },
        },
      };
      const appPath = `applications/${c.name}.yaml`;
      files.set(appPath, yamlFile(appPath, origin, app));
    }
    files.set(
      'README.md',
      textFile(
        'README.md',
        runnerOrigin,
        render('spark/README.md.hbs', { pipeline: ir.name, jobsBase, cleanses: cleanses.map((c) => ({ name: c.name, id: c.id })) }),
      ),
    );
    return { value: files, diagnostics: diags };
  },
};

/** The Maven coordinates of the JDBC driver a catalog URL needs. */
function jdbcDriver(uri: string): string {
  return uri.startsWith('jdbc:sqlite:') ? 'org.xerial:sqlite-jdbc:3.51.1.0' : 'org.postgresql:postgresql:42.7.8';
}

/** Tables are temporary views in the job: `bronze.customers` → `bronze__customers`. */
const viewName = (id: string) => id.replace('.', '__');

function dedupeArgs(src: SourceNode): string[] {
  if (src.stream.mode !== 'incremental' || src.stream.primaryKey.length === 0) return [];
  return ['--primary-key', `${src.id}=${src.stream.primaryKey.join(',')}`, ...(src.stream.cursor ? ['--cursor', `${src.id}=${src.stream.cursor}`] : [])];
}

export type { CleanseNode };
