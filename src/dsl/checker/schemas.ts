// The settings each block accepts, as zod schemas. The error text of each leaf is what the user is
// told the setting must be. Cross-field rules (ranges that depend on each other, references, SQL)
// live in the block builders, where the spans are at hand.

import { z } from '../../util/schema.js';
import { CallV, DurationV, TaggedV } from './plain.js';

const name = (what = 'a name') => z.string({ error: what });
const names = (what: string) => z.union([z.string(), z.array(z.string({ error: 'a name' }))], { error: what });
const description = z.string({ error: 'a string' }).optional();
const tags = z.array(z.string({ error: 'a string' }), { error: 'a list of strings' }).optional();
const duration = z.instanceof(DurationV, { error: 'a duration such as `30d`, `6h`, `15m` or `90s`' });
/** A literal or `env(…)`/`secret(…)`: checked in detail by toResolvable. */
export const resolvableAs = (what: string) => z.union([z.string(), z.number(), z.boolean(), z.instanceof(CallV)], { error: what });
export const resolvable = resolvableAs('a string, number, boolean, `env("NAME")` or `secret("NAME")`');
/** The row-count drop guard (src/engine/row-guard.ts): on streams, cleanses and models. */
const rowGuard = {
  max_row_drop: z
    .number({ error: 'a fraction between 0 and 1, such as 0.5 (1 turns the guard off)' })
    .min(0, { error: 'a fraction between 0 and 1' })
    .max(1, { error: 'a fraction between 0 and 1' })
    .optional(),
  allow_empty: z.boolean({ error: '`true` or `false`' }).optional(),
};
const cronCall = z.union([z.instanceof(CallV), z.string()], { error: 'a cron expression such as `cron("0 */6 * * *")`' });

export const pipelineSchema = z.strictObject({
  warehouse: z.string({ error: 'a path string' }).optional(),
  logical_time: z.union([z.string(), z.instanceof(CallV)], { error: 'an ISO-8601 timestamp string or `env("NAME", "default")`' }).optional(),
  description,
});

const connectionCommon = { schedule: cronCall.optional(), description, tags };
const databaseConnection = {
  ...connectionCommon,
  url: resolvable.optional(),
  host: resolvable.optional(),
  port: resolvable.optional(),
  database: resolvable.optional(),
  user: resolvable.optional(),
  password: resolvable.optional(),
};
export const sourceSchemas = {
  postgres: z.strictObject({ ...databaseConnection, schema: resolvable.optional(), sslmode: resolvable.optional() }),
  mysql: z.strictObject(databaseConnection),
  http: z.strictObject({
    ...connectionCommon,
    base_url: resolvableAs('the API base URL, a string or `env("NAME", "default")`'),
    token: resolvable.optional(),
    auth_header: resolvable.optional(),
  }),
  file: z.strictObject({
    ...connectionCommon,
    path: resolvableAs('a file path, a string or `env("NAME", "default")`'),
    format: z.enum(['csv', 'parquet', 'json', 'ndjson'], { error: 'one of `csv`, `parquet`, `json`, `ndjson`' }).optional(),
  }),
} as const;

export const streamSchema = z.strictObject({
  primary_key: names('a column name or a list of column names').optional(),
  cursor: name('a column name').optional(),
  mode: z.enum(['full_refresh', 'incremental'], { error: 'one of `full_refresh`, `incremental`' }).optional(),
  table: name('a table name').optional(),
  path: z.string({ error: 'a URL path string such as "/api/v1/items"' }).optional(),
  lookback: duration.optional(),
  pagination: z
    .strictObject(
      {
        style: z.enum(['page', 'cursor'], { error: 'one of `page`, `cursor`' }),
        page_param: z.string({ error: 'a parameter name string' }).optional(),
        size_param: z.string({ error: 'a parameter name string' }).optional(),
        page_size: z.number({ error: 'a number' }).int().positive().optional(),
        cursor_param: z.string({ error: 'a parameter name string' }).optional(),
        cursor_field: z.string({ error: 'a field name string' }).optional(),
        records_field: z.string({ error: 'a field name string' }).optional(),
      },
      { error: 'a map such as `{ style = page  page_size = 500 }`' },
    )
    .optional(),
  columns: z
    .record(z.string(), z.string({ error: 'a DuckDB type string such as "BIGINT"' }).min(1), { error: 'a map of column name → type string' })
    .optional(),
  ...rowGuard,
  description,
  tags,
});

export const cleanseSchema = z.strictObject({
  description,
  tags,
  partition_by: names('a column name or a list of column names').optional(),
  mode: z.enum(['overwrite', 'append'], { error: 'one of `overwrite`, `append`' }).optional(),
  ...rowGuard,
});

export const modelSchema = z.strictObject({
  description,
  tags,
  materialized: z.enum(['table', 'view', 'incremental'], { error: 'one of `table`, `view`, `incremental`' }).optional(),
  unique_key: names('a column name or a list of column names').optional(),
  incremental_by: name('a column name').optional(),
  lookback: duration.optional(),
  partition_by: names('a column name or a list of column names').optional(),
  ...rowGuard,
});

export const featuresSchema = z.strictObject({
  description,
  tags,
  from: name('a table reference such as `gold.customer_metrics`'),
  timestamp: name('a column name'),
  ttl: duration.optional(),
});

export const entitySchema = z.strictObject({
  join_key: name('a column name'),
  description,
});

export const featureSchema = z.strictObject({ description });

/** `var NAME { type = int  default = 30 }`: a spec variable (src/dsl/checker/vars.ts). */
export const VAR_TYPES = ['string', 'int', 'number', 'bool'] as const;
export const varSchema = z.strictObject({
  type: z.enum(VAR_TYPES, { error: 'one of `string`, `int`, `number`, `bool`' }).optional(),
  default: z.union([z.string(), z.number(), z.boolean()], { error: 'a string, number or boolean' }).optional(),
  description,
});

const param = z.union([z.number(), z.string(), z.boolean()], { error: 'a number, string or boolean' });
export const trainSchema = z.strictObject({
  description,
  tags,
  features: name('a feature view name'),
  label: name('a label column reference such as `gold.churn_labels.churned`'),
  label_timestamp: name('a column name').optional(),
  algorithm: z.union([z.string(), z.instanceof(TaggedV)], { error: '`random_forest` or `gradient_boosting`, optionally with `{ params }`' }),
  split: z
    .strictObject(
      {
        test: z.number({ error: 'a number between 0 and 1' }).optional(),
        stratify: z.boolean({ error: '`true` or `false`' }).optional(),
        seed: z.number({ error: 'an integer' }).int({ error: 'an integer' }).optional(),
      },
      { error: 'a map such as `{ test = 0.2  stratify = true  seed = 42 }`' },
    )
    .optional(),
  gate: z.string({ error: 'a metric condition string such as "f1 >= 0.70"' }).optional(),
  register: z.string({ error: 'a model name string' }).optional(),
  leakage: z.enum(['warn', 'fail', 'off'], { error: 'one of `warn`, `fail`, `off`' }).optional(),
  mlflow: z
    .strictObject(
      {
        tracking_uri: resolvableAs('the MLflow tracking URI, a string or `env("NAME", "default")`'),
        experiment: z.string({ error: 'an experiment name string' }),
      },
      { error: 'a map such as `{ tracking_uri = "http://…"  experiment = "churn" }`' },
    )
    .optional(),
});
export const algorithmParamsSchema = z.record(z.string(), param);

export const serveSchema = z.strictObject({
  description,
  tags,
  model: name('a train block name'),
  risk_levels: z
    .strictObject(
      {
        high: z.number({ error: 'a number between 0 and 1' }),
        medium: z.number({ error: 'a number between 0 and 1' }),
      },
      { error: 'a map such as `{ high = 0.7  medium = 0.4 }`' },
    )
    .optional(),
  fields: z
    .strictObject(
      {
        probability: z.string({ error: 'a field name string' }).optional(),
        prediction: z.string({ error: 'a field name string' }).optional(),
        risk_level: z.string({ error: 'a field name string' }).optional(),
        index: z.string({ error: 'a field name string' }).optional(),
      },
      { error: 'a map such as `{ probability = "fraud_probability"  index = "row" }`' },
    )
    .optional(),
  auth: z
    .strictObject(
      { token: z.instanceof(CallV, { error: 'a `secret("NAME")` reference (a token is never written in the spec)' }) },
      { error: 'a map such as `{ token = secret("SERVE_TOKEN") }`' },
    )
    .optional(),
});

export const batchSchema = z.strictObject({
  from: name('a table reference such as `gold.customer_metrics`'),
  to: name('an output table such as `gold.predictions`'),
});
