// dbt/: a complete dbt project for the gold layer. One model per `model` node, its SQL rendered for
// each adapter (duckdb, trino, spark; chosen by `target.type`) with table references rewritten to
// `{{ ref() }}` / `{{ source() }}`; silver inputs declared in models/sources.yml (dbt-duckdb reads
// them as Parquet through `external_location`, rooted at the `silver_location` var); the spec's
// checks as dbt tests (singular tests under tests/ for row counts and custom SQL); model contracts
// carrying the column types inferred at plan time; on Kubernetes, a Job per model (jobs.ts).

import type { Check, ModelNode, NodeId, NodeKind, PipelineIR } from '../../ir/types.js';
import type { Diagnostic, Result } from '../../diagnostics/diagnostic.js';
import { diag } from '../../diagnostics/catalogue.js';
import { Codes } from '../../diagnostics/catalogue.js';
import type { FileMap, Origin } from '../files.js';
import { textFile, yamlFile } from '../files.js';
import type { KindRole, Target, TargetContext } from '../registry.js';
import { ProfileSettings, s3a } from '../settings.js';
import { nodesOf, splitTable } from '../pipeline.js';
import { render } from '../templates.js';
import { sqlText } from '../sql-text.js';
import { logicalTimeDefaults } from '../logical-time.js';
import { contractType } from './types.js';
import type { Adapter } from './types.js';
import { dbtSettings } from './settings.js';
import { addModelJobs } from './jobs.js';

const LOGICAL_TIMESTAMP = "'{{ asgard_logical_time() }}'";
const LOGICAL_DATE = "'{{ asgard_logical_date() }}'";

/** What this target does with each node kind (KindRole, src/targets/registry.ts). */
const kinds: Record<NodeKind, KindRole> = { source: 'none', cleanse: 'none', model: 'runs', features: 'none', train: 'none', serve: 'none' };

export const dbtTarget: Target = {
  name: 'dbt',
  kinds,
  settings: dbtSettings,
  generate(ir: PipelineIR, ctx: TargetContext): Result<FileMap> {
    const models = nodesOf(ir, 'model');
    const files: FileMap = new Map();
    const diags: Diagnostic[] = [];
    if (models.length === 0) return { value: files, diagnostics: [] };
    const settings = new ProfileSettings(ctx.profile, 'dbt');
    const wh = settings.s3Warehouse();
    diags.push(...settings.diagnostics);
    if (!wh) return { diagnostics: diags };
    const project = dbtName(ir.name);
    const pipelineOrigin: Origin = { spec: ctx.specPath, node: `pipeline ${ir.name}` };
    const modelIds = new Set(models.map((m) => m.id));

    // Tables the models read that dbt does not build: sources (silver, and bronze if read directly).
    const external = new Map<string, Set<string>>();
    for (const m of models) {
      for (const id of m.inputs) {
        if (modelIds.has(id)) continue;
        const { layer, table } = splitTable(id);
        if (!external.has(layer)) external.set(layer, new Set());
        external.get(layer)!.add(table);
      }
    }
    const tableRef = (id: NodeId): string => {
      const { layer, table } = splitTable(id);
      return modelIds.has(id) ? `{{ ref('${table}') }}` : `{{ source('${layer}', '${table}') }}`;
    };

    const schemaModels: unknown[] = [];
    for (const m of models) {
      const origin: Origin = { spec: ctx.specPath, node: m.id };
      const sql: Partial<Record<Adapter, string>> = {};
      for (const dialect of ['duckdb', 'trino', 'spark'] as const) {
        const s = sqlText(ctx.renderSql, m.sql, { dialect, tableRef, logicalTimestamp: LOGICAL_TIMESTAMP, logicalDate: LOGICAL_DATE }, diags, ctx.sqlCache);
        if (s !== undefined) sql[dialect] = s;
      }
      if (!sql.duckdb || !sql.trino || !sql.spark) continue;
      const path = `models/${m.name}.sql`;
      files.set(path, textFile(path, origin, render('dbt/model.sql.hbs', { ...sql, ...incrementalFilter(m), uniqueKey: m.uniqueKey.join(', ') })));

      const schema = ctx.schemas.get(m.id);
      if (!schema) {
        diags.push(diag(Codes.MissingSchema, `no inferred schema for ${m.id}: the dbt contract needs every column's type`, m.span));
        continue;
      }
      const columnTests = testsByColumn(m.checks);
      schemaModels.push({
        name: m.name,
        ...(m.description ? { description: m.description } : {}),
        config: modelConfig(m),
        columns: schema.map((c) => ({
          name: c.name,
          data_type: contractType(c.type),
          ...(columnTests.has(c.name) ? { data_tests: columnTests.get(c.name) } : {}),
        })),
      });
      m.checks.forEach((chk, i) => {
        const test = singularTest(ctx, m, chk, i, tableRef, diags);
        if (test) files.set(test.path, textFile(test.path, origin, test.sql));
      });
    }

    files.set(
      'models/schema.yml',
      yamlFile('models/schema.yml', { spec: ctx.specPath, node: models.map((m) => m.id).join(', ') }, { version: 2, models: schemaModels }),
    );
    files.set(
      'models/sources.yml',
      yamlFile('models/sources.yml', pipelineOrigin, {
        version: 2,
        sources: [...external.keys()].sort().map((layer) => ({
          name: layer,
          schema: layer,
          description: `The ${layer} tables of pipeline ${ir.name}: Parquet under the ${layer}_location var for dbt-duckdb, the ${layer} schema of the catalog for spark and trino.`,
          tables: [...external.get(layer)!].sort().map((t) => {
            const cols = ctx.schemas.get(`${layer}.${t}`);
            return {
              name: t,
              // dbt-duckdb reads the table's Parquet files: under the `<layer>_location` var, or exactly
              // the folder in the `<layer>_<table>_path` var (e.g. one snapshot of the embedded warehouse).
              meta: {
                external_location: `read_parquet('{{ var("${layer}_${t}_path", var("${layer}_location") ~ "/${t}") }}/**/*.parquet', hive_partitioning = true, union_by_name = true)`,
              },
              ...(cols ? { columns: cols.map((c) => ({ name: c.name, data_type: contractType(c.type) })) } : {}),
            };
          }),
        })),
      }),
    );

    const lt = logicalTimeDefaults(ir.logicalTime);
    const ltDefault = lt.default !== undefined ? `'${lt.default.replace(/'/g, '')}'` : "''";
    // `logical_time` is not set here: the macro reads the env var and the spec's default, the var overrides.
    const vars: Record<string, string> = {};
    for (const layer of [...external.keys()].sort()) vars[`${layer}_location`] = s3a(wh, layer).replace(/^s3a:/, 's3:');
    files.set(
      'dbt_project.yml',
      yamlFile('dbt_project.yml', pipelineOrigin, {
        name: project,
        version: '1.0.0',
        'config-version': 2,
        profile: project,
        'model-paths': ['models'],
        'test-paths': ['tests'],
        'macro-paths': ['macros'],
        'target-path': 'target',
        'clean-targets': ['target', 'dbt_packages'],
        vars,
        models: { [project]: { '+schema': 'gold', '+materialized': 'table' } },
      }),
    );
    files.set(
      'macros/asgard_logical_time.sql',
      textFile(
        'macros/asgard_logical_time.sql',
        pipelineOrigin,
        render('dbt/logical_time.sql.hbs', {
          env: lt.env ?? '',
          default: lt.default ?? '',
          envExpr: lt.env ? `env_var('${lt.env}', ${ltDefault})` : ltDefault,
        }),
      ),
    );
    files.set('macros/generate_schema_name.sql', textFile('macros/generate_schema_name.sql', pipelineOrigin, render('dbt/generate_schema_name.sql.hbs', {})));
    files.set('profiles.yml', yamlFile('profiles.yml', pipelineOrigin, profiles(project, settings)));
    addModelJobs(ir, ctx, settings, wh, models, files, diags);
    diags.push(...settings.diagnostics.filter((d) => !diags.includes(d)));
    return { value: files, diagnostics: diags };
  },
};

/** dbt project names are identifiers. */
const dbtName = (s: string) =>
  s
    .toLowerCase()
    .replace(/[^a-z0-9_]/g, '_')
    .replace(/^(\d)/, '_$1');

function modelConfig(m: ModelNode): Record<string, unknown> {
  return {
    materialized: m.materialized,
    contract: { enforced: true },
    ...(m.materialized === 'incremental'
      ? {
          // dbt-duckdb merges with delete+insert; spark (Iceberg) and trino with merge.
          incremental_strategy: m.uniqueKey.length ? "{{ 'delete+insert' if target.type == 'duckdb' else 'merge' }}" : 'append',
          ...(m.uniqueKey.length ? { unique_key: [...m.uniqueKey] } : {}),
        }
      : {}),
    ...(m.partitionBy.length ? { partition_by: [...m.partitionBy] } : {}),
    file_format: 'iceberg', // dbt-spark; other adapters ignore it
    ...(m.tags?.length ? { tags: [...m.tags] } : {}),
  };
}

/** The incremental filter of src/engine/sql-executor.ts, for dbt's is_incremental() branch. */
function incrementalFilter(m: ModelNode): { incrementalBy: string; incrementalOp: string; lookback: string } {
  if (m.materialized !== 'incremental' || !m.incrementalBy) return { incrementalBy: '', incrementalOp: '', lookback: '' };
  return { incrementalBy: m.incrementalBy, incrementalOp: m.uniqueKey.length ? '>=' : '>', lookback: m.lookbackSeconds ? String(m.lookbackSeconds) : '' };
}

function testsByColumn(checks: readonly Check[]): Map<string, unknown[]> {
  const out = new Map<string, unknown[]>();
  const add = (col: string, t: unknown) => out.set(col, [...(out.get(col) ?? []), t]);
  for (const c of checks) {
    if (!c.column) continue;
    if (c.kind === 'not_null' || c.kind === 'unique') add(c.column, c.kind);
    else if (c.kind === 'accepted_values') {
      const quote = (c.values ?? []).every((v) => typeof v === 'string');
      add(c.column, { accepted_values: { arguments: { values: (c.values ?? []).map(String), ...(quote ? {} : { quote: false }) } } });
    }
  }
  return out;
}

/** Row counts and custom SQL checks: singular tests that return the failing rows. */
function singularTest(
  ctx: TargetContext,
  m: ModelNode,
  c: Check,
  i: number,
  tableRef: (id: NodeId) => string,
  diags: Diagnostic[],
): { path: string; sql: string } | undefined {
  const path = `tests/${m.name}__${c.kind}_${i + 1}.sql`;
  if (c.kind === 'row_count') {
    const conds = [c.min !== undefined ? `count(*) < ${c.min}` : '', c.max !== undefined ? `count(*) > ${c.max}` : ''].filter(Boolean);
    if (!conds.length) return undefined;
    return {
      path,
      sql: `-- row_count(${[c.min !== undefined ? `min = ${c.min}` : '', c.max !== undefined ? `max = ${c.max}` : ''].filter(Boolean).join(', ')}): returns a row when the count is out of range\nselect count(*) as row_count\nfrom {{ ref('${m.name}') }}\nhaving ${conds.join(' or ')}`,
    };
  }
  if (c.sql) {
    const sql = sqlText(
      ctx.renderSql,
      c.sql,
      { dialect: 'duckdb', tableRef, logicalTimestamp: LOGICAL_TIMESTAMP, logicalDate: LOGICAL_DATE },
      diags,
      ctx.sqlCache,
    );
    return sql === undefined ? undefined : { path, sql };
  }
  return undefined;
}

function profiles(project: string, settings: ProfileSettings): Record<string, unknown> {
  const envOr = (key: string, env: string, fallback: string) => {
    const v = settings.get(key);
    if (!v) return `{{ env_var('${env}', '${fallback}') }}`;
    if (v.kind === 'literal') return String(v.value);
    if (v.kind === 'secret') return `{{ env_var('${v.name}') }}`;
    return `{{ env_var('${v.name}'${v.default !== undefined ? `, '${v.default}'` : ''}) }}`;
  };
  const threads = settings.literalNumber('dbt_threads', 4);
  return {
    [project]: {
      target: 'duckdb',
      outputs: {
        // Local files (the `<layer>_location` vars pointing at folders): no extension to download.
        // The Kubernetes Jobs (jobs.ts) use it too, with the inputs read from the Iceberg catalog first.
        duckdb: {
          type: 'duckdb',
          path: "{{ env_var('DBT_DUCKDB_PATH', 'asgard.duckdb') }}",
          schema: 'gold',
          threads,
        },
        spark: {
          type: 'spark',
          method: 'thrift',
          host: envOr('spark_thrift_host', 'SPARK_THRIFT_HOST', 'localhost'),
          port: settings.literalNumber('spark_thrift_port', 10000),
          schema: 'gold',
          user: "{{ env_var('SPARK_USER', 'asgard') }}",
        },
        trino: {
          type: 'trino',
          host: envOr('trino_host', 'TRINO_HOST', 'localhost'),
          port: settings.literalNumber('trino_port', 8080),
          user: "{{ env_var('TRINO_USER', 'asgard') }}",
          password: "{{ env_var('TRINO_PASSWORD', '') }}",
          database: settings.literalString('iceberg_catalog', 'Iceberg catalog name', 'iceberg'),
          schema: 'gold',
          threads,
        },
      },
    },
  };
}
