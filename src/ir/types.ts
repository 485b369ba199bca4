// The pipeline IR: deep-readonly plain data, produced once by the checker (src/dsl/) and consumed
// by everything after it (planner, engine, targets, serve). Nothing after the checker reads syntax
// trees. Every later stage builds new objects from this one; nobody mutates it.

export const IR_SCHEMA_VERSION = 1;

/** 1-based line and column; `endColumn` points one past the last character (like TypeScript). */
export interface Span {
  readonly file: string;
  readonly line: number;
  readonly column: number;
  readonly endLine: number;
  readonly endColumn: number;
}

/**
 * A setting whose value may only be known at apply time. `env` and `secret` are references:
 * the planner fingerprints the reference (never the value), and secrets are resolved only by
 * executors, never written to plans, state, logs or artifacts.
 */
export type Resolvable =
  | { readonly kind: 'literal'; readonly value: string | number | boolean }
  | { readonly kind: 'env'; readonly name: string; readonly default?: string }
  | { readonly kind: 'secret'; readonly name: string };

/** Node ids: `bronze.<stream>`, `silver.<cleanse>`, `gold.<model>`, `features.<view>`, `train.<name>`, `serve.<name>`. */
export type NodeId = string;
export type NodeKind = 'source' | 'cleanse' | 'model' | 'features' | 'train' | 'serve';
export type Layer = 'bronze' | 'silver' | 'gold';

/** A SQL body exactly as written (Spark SQL dialect), with the span of its first character. */
export interface SqlBody {
  readonly text: string;
  /** Span of the text between the triple quotes; line/column of text[0]. */
  readonly span: Span;
  /** Tables the SQL reads, as node ids (aliases like `iceberg.silver.x` already normalised). */
  readonly reads: readonly NodeId[];
  /** Canonical form of the parsed SQL (formatting and comments removed): what fingerprints hash. */
  readonly normalized: string;
  /** Values of the spec variables the SQL uses (`var('name')`), substituted when it is rendered. */
  readonly vars?: Readonly<Record<string, VarValue>>;
}

/** A spec variable's value (`var NAME { type = …  default = … }`, `--var NAME=VALUE`). */
export type VarValue = string | number | boolean;
export interface Variable {
  readonly name: string;
  readonly type: 'string' | 'int' | 'number' | 'bool';
  readonly value: VarValue;
  /** Where the value came from. */
  readonly from: 'default' | 'cli';
  readonly description?: string;
  readonly span: Span;
}

export type CheckKind = 'not_null' | 'unique' | 'accepted_values' | 'row_count' | 'sql' | 'expression' | 'relationships' | 'freshness';
/** A data check (docs/language.md, "Checks"). */
export interface Check {
  readonly kind: CheckKind;
  /** Given (`name = "…"`) or derived (`unique(customer_id)`, `sql_2`): what a failure is reported as. */
  readonly name: string;
  readonly column?: string;
  readonly values?: readonly (string | number | boolean)[];
  readonly min?: number;
  readonly max?: number;
  /**
   * A query returning the offending rows: written (`sql`) or derived by the checker from the check
   * (`expression`: rows where the boolean is false; `relationships`: values missing in the parent).
   */
  readonly sql?: SqlBody;
  /** expression: the row-level boolean as written (Spark SQL). */
  readonly expression?: string;
  /** relationships: the parent table and its key column. */
  readonly to?: { readonly table: NodeId; readonly column: string };
  /** freshness (streams): how old `max(column)` may be against the run's logical time. */
  readonly warnAfterSeconds?: number;
  readonly errorAfterSeconds?: number;
  readonly span: Span;
}

export interface NodeBase {
  readonly id: NodeId;
  readonly kind: NodeKind;
  /** The name written in the spec (stream, cleanse, model, view, train or serve name). */
  readonly name: string;
  readonly span: Span;
  /** Node ids this node reads, sorted. */
  readonly inputs: readonly NodeId[];
  /** Metadata: never part of the data fingerprint. */
  readonly description?: string;
  readonly tags?: readonly string[];
  /** The spec variables this node's settings and SQL use, with their values (a plan reason when one changes). */
  readonly vars?: Readonly<Record<string, VarValue>>;
  /**
   * Streams, cleanses, models: the row-count drop guard as written (`max_row_drop`, `allow_empty`);
   * absent = the defaults of src/engine/row-guard.ts. Metadata: changing it rebuilds nothing.
   */
  readonly rowGuard?: RowGuard;
}

export interface RowGuard {
  /** The largest fraction (0..1) by which a table's row count may fall from one snapshot to the next. */
  readonly maxDrop?: number;
  /** An empty result is accepted (else it fails the node whatever maxDrop says). */
  readonly allowEmpty?: boolean;
}

export type ConnectorType = 'postgres' | 'mysql' | 'http' | 'file';

export interface Connector {
  readonly name: string;
  readonly type: ConnectorType;
  /** host, port, database, user, password, url, base_url, token, path, format, schema … */
  readonly settings: Readonly<Record<string, Resolvable>>;
  readonly schedule?: string; // cron expression
  readonly span: Span;
}

export interface SourceNode extends NodeBase {
  readonly kind: 'source';
  readonly layer: 'bronze';
  readonly connector: Connector;
  readonly stream: {
    /** Table (databases), path (http) or file path (file). Defaults to the stream name. */
    readonly table?: string;
    readonly path?: string;
    readonly primaryKey: readonly string[];
    readonly cursor?: string;
    /**
     * Declared columns (name → DuckDB type, e.g. `BIGINT`, `DECIMAL(10,2)`, `TIMESTAMP`), in order.
     * They make schema inference pure (plan and compile need no connection); ingestion checks the
     * discovered source schema against them. Absent: the schema discovered by the last sync.
     */
    readonly columns?: readonly { readonly name: string; readonly type: string }[];
    readonly mode: 'full_refresh' | 'incremental';
    /** Lookback re-read window for late commits, in seconds (DOMAIN.md: late commits). */
    readonly lookbackSeconds?: number;
    /** Checks on the synced table; only `freshness` today. */
    readonly checks?: readonly Check[];
    /** http only. */
    readonly pagination?: {
      readonly style: 'page' | 'cursor';
      readonly pageParam?: string;
      readonly sizeParam?: string;
      readonly pageSize?: number;
      readonly cursorParam?: string;
      readonly cursorField?: string;
      readonly recordsField?: string;
    };
  };
}

export interface CleanseNode extends NodeBase {
  readonly kind: 'cleanse';
  readonly layer: 'silver';
  readonly sql: SqlBody;
  readonly partitionBy: readonly string[];
  /** overwrite: a new snapshot each run; append: the SQL's rows are added to the previous snapshot's. */
  readonly mode: 'overwrite' | 'append';
  readonly checks: readonly Check[];
}

export interface ModelNode extends NodeBase {
  readonly kind: 'model';
  readonly layer: 'gold';
  readonly sql: SqlBody;
  readonly materialized: 'table' | 'view' | 'incremental';
  /** incremental: merge on these keys (append when absent). */
  readonly uniqueKey: readonly string[];
  /**
   * incremental: the column that says "only rows newer than what the target holds" (spec:
   * `incremental_by = <column>`). Each run keeps the SQL's rows with `column >= max(column) -
   * lookback` of the target (`>` when no lookback and no unique_key); absent, every row the SQL
   * returns is appended or merged. (src/engine/sql-executor.ts, docs/language.md "Incremental models")
   */
  readonly incrementalBy?: string;
  /** incremental_by: how far before the target's `max(column)` rows are re-read, in seconds. */
  readonly lookbackSeconds?: number;
  readonly partitionBy: readonly string[];
  readonly checks: readonly Check[];
}

export type FeatureDType = 'int32' | 'int64' | 'float32' | 'float64' | 'string' | 'bool' | 'timestamp';

export interface FeaturesNode extends NodeBase {
  readonly kind: 'features';
  readonly entity: { readonly name: string; readonly joinKey: string };
  /** The node whose table feeds the view (a gold or silver node id). */
  readonly from: NodeId;
  readonly timestamp: string;
  readonly ttlSeconds: number;
  readonly features: readonly { readonly name: string; readonly dtype: FeatureDType; readonly span: Span; readonly description?: string }[];
}

export interface TrainNode extends NodeBase {
  readonly kind: 'train';
  readonly features: NodeId; // features.<view>
  /** Labels come from a table of entity rows: join key, event timestamp and the label column. */
  readonly label: { readonly from: NodeId; readonly column: string; readonly timestamp: string };
  readonly algorithm: { readonly name: 'random_forest' | 'gradient_boosting'; readonly params: Readonly<Record<string, number | string | boolean>> };
  readonly split: { readonly test: number; readonly stratify: boolean; readonly seed: number };
  readonly gate?: { readonly metric: string; readonly op: '>=' | '>' | '<=' | '<'; readonly value: number; readonly text: string };
  readonly register: string;
  /** The leakage guard: warn (default), fail the train node, or off (not run). */
  readonly leakage: 'warn' | 'fail' | 'off';
  readonly mlflow?: { readonly trackingUri: Resolvable; readonly experiment: string };
}

export interface ServeNode extends NodeBase {
  readonly kind: 'serve';
  readonly model: NodeId; // train.<name>
  readonly riskLevels: { readonly high: number; readonly medium: number };
  /** Response field / batch column names the spec sets (src/ir/serving.ts fills in the rest). */
  readonly fields?: Readonly<Partial<Record<'probability' | 'prediction' | 'risk_level' | 'index', string>>>;
  /** The batch scoring output is itself a gold table: `gold.<to>`. */
  readonly batch?: { readonly from: NodeId; readonly to: string };
  /** `auth = { token = secret("…") }`: the bearer token `asgard serve` asks of its write endpoints and query door. */
  readonly auth?: { readonly token: Resolvable & { readonly kind: 'secret' } };
}

export type PipelineNode = SourceNode | CleanseNode | ModelNode | FeaturesNode | TrainNode | ServeNode;

export interface Profile {
  readonly name: string;
  /**
   * local: everything on the embedded engine; cluster: `asgard apply` runs the cleanses on a Spark
   * cluster (`spark_master`) and the rest embedded; kubernetes: `asgard compile`'s artifacts.
   */
  readonly target: 'local' | 'kubernetes' | 'cluster';
  /**
   * namespace, image, warehouse, spark_version, driver/executor resources, s3 endpoint …
   * Nested maps in the spec are flattened into dotted keys: `driver = { cores = 1  memory = "2g" }`
   * becomes `driver.cores` and `driver.memory`.
   */
  readonly settings: Readonly<Record<string, Resolvable>>;
  /** Where each setting is written: its key and its value (diagnostics of src/targets/profile-check.ts). */
  readonly settingSpans?: Readonly<Record<string, { readonly key: Span; readonly value: Span }>>;
  readonly span: Span;
}

export interface PipelineIR {
  readonly schemaVersion: typeof IR_SCHEMA_VERSION;
  readonly name: string;
  /** Absolute path of the spec file. */
  readonly file: string;
  /** Warehouse location for the local profile (relative paths resolve against the spec's folder). */
  readonly warehouse: string;
  /**
   * The logical time every run substitutes for CURRENT_DATE / CURRENT_TIMESTAMP (ISO-8601), so reruns
   * are reproducible and engines can be compared row for row. Absent: the apply's start time.
   */
  readonly logicalTime?: Resolvable;
  /** Nodes in a deterministic topological order (ties broken by id). */
  readonly nodes: readonly PipelineNode[];
  /** from → to, sorted. */
  readonly edges: readonly { readonly from: NodeId; readonly to: NodeId }[];
  readonly profiles: Readonly<Record<string, Profile>>;
  /** Declared variables with their values for this run, by name. */
  readonly variables?: Readonly<Record<string, Variable>>;
}

/** The table a node writes, as `layer.table`, when it writes one (sources, cleanses, models, batch serve). */
export function outputTable(node: PipelineNode): string | undefined {
  switch (node.kind) {
    case 'source':
    case 'cleanse':
    case 'model':
      return node.id;
    case 'serve':
      return node.batch ? `gold.${node.batch.to}` : undefined;
    case 'features':
    case 'train':
      return undefined;
    default:
      return assertNever(node);
  }
}

/** The default of a switch over a union that handles every member: a new member fails to compile there. */
export function assertNever(x: never): never {
  throw new Error(`unhandled case: ${JSON.stringify(x)}`);
}
