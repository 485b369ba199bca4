// The output columns and types of every node, computed without touching data: sources from their
// declared columns (else what the last sync discovered), every SQL node typed by asgard's own rules
// where they are certain to give DuckDB's answer (src/sql/fast-types.ts: no DuckDB loaded at all
// when every body is), else bound by DuckDB's binder over empty tables of its inputs' types
// (`DESCRIBE <query>` in an in-memory database), feature
// views checked against their source table, and the batch-scoring output derived from its input.
//
// Bound schemas are cached by (SQL text, input schemas), in memory and in the cache the caller
// passes (the CLI: the workspace's `cache/schemas.json`, salted with the build id): transpiling and
// binding cost milliseconds per body, so a plan over 1,000 nodes re-binds only the nodes whose SQL
// or inputs changed. The cache holds types only (no data, no secrets); deleting it is always safe.

import type { DuckDBConnection } from '@duckdb/node-api';
import { sha256 } from '../util/canonical-json.js';
import { availableParallelism } from 'node:os';
import type { KeyValueCache } from '../util/json-cache.js';
import type { Diagnostic } from '../diagnostics/diagnostic.js';
import {
  assertNever,
  type CleanseNode,
  type FeatureDType,
  type FeaturesNode,
  type ModelNode,
  type NodeId,
  type PipelineIR,
  type PipelineNode,
  type SqlBody,
  type TrainNode,
} from '../ir/types.js';
import type { ColumnSchema } from '../planner/state-store.js';
import { bindTemplateFor, fillTemplate } from '../sql/bind-templates.js';
import { fastOutputColumns } from '../sql/fast-types.js';
import { loadSqlToolkit } from '../sql/toolkit.js';
import { sqlDiag } from '../sql/spans.js';
import { EngineCodes } from './codes.js';
import { ident } from './quote.js';
import { duckTypeOfFeature } from '../sql/features-sql.js';
import { batchOutputSchema } from './batch-output.js';
import { explainBindError } from './bind-message.js';
import { closest } from '../diagnostics/catalogue.js';
import { isTrainableDType } from '../ir/algorithms.js';

export interface SchemaResult {
  readonly schemas: Map<NodeId, ColumnSchema[]>;
  readonly diagnostics: Diagnostic[];
}

type Bound = ColumnSchema[] | { error: string };
const bindCache = new Map<string, Bound>();
/**
 * The binder database's input tables: name by node id and schema, and each table's creation (the
 * connections live as long as this module; a table two bodies need at once is created once).
 */
const binderTables: { names: Map<string, string>; created: Map<string, Promise<void>>; schema?: Promise<unknown> } = { names: new Map(), created: new Map() };

export interface InferOptions {
  /**
   * Bound schemas by SQL text and input schemas (errors are not kept: cheap to redo and rare). The
   * CLI passes the workspace's file, salted with the build id (src/workspace/workspace.ts).
   */
  readonly cache?: KeyValueCache<ColumnSchema[]>;
  /**
   * The same spec's schemas before an edit changed the nodes `changed` (a patched spec,
   * src/dsl/patch.ts; the same `known`, and no diagnostic): a node not changed whose inputs' schemas
   * are the very arrays given here keeps its schema without a look at its SQL, and a changed node
   * whose schema comes out equal hands its old array on. Only the edit's downstream is inferred.
   */
  readonly reuse?: Reuse;
}

interface Reuse {
  readonly schemas: ReadonlyMap<NodeId, ColumnSchema[]>;
  readonly changed: ReadonlySet<NodeId>;
}

/** Runs `f` on a free connection of the binder database. */
type WithConnection = <T>(f: (conn: DuckDBConnection) => Promise<T>) => Promise<T>;

/**
 * Connections to one in-memory binder database, one per core: DuckDB binds on the thread pool, so
 * bodies whose inputs are known bind at the same time on all cores. DuckDB loads only when a body
 * misses the caches (src/engine/duckdb.ts loads its native module).
 */
let pool: Promise<{ free: DuckDBConnection[]; waiting: ((c: DuckDBConnection) => void)[] }> | undefined;
const withConnection: WithConnection = async (f) => {
  pool ??= import('./duckdb.js').then(async (d) => ({ free: await d.openDuckPool(Math.max(1, Math.min(4, availableParallelism()))), waiting: [] }));
  const p = await pool;
  const conn = p.free.pop() ?? (await new Promise<DuckDBConnection>((r) => p.waiting.push(r)));
  try {
    return await f(conn);
  } finally {
    const next = p.waiting.shift();
    if (next) next(conn);
    else p.free.push(conn);
  }
};

let queue: Promise<unknown> = Promise.resolve();

/** Schemas of every node of `ir`. Calls are serialised: they share one in-memory binder database. */
export function inferSchemas(ir: PipelineIR, known: ReadonlyMap<NodeId, readonly ColumnSchema[]> = new Map(), opts: InferOptions = {}): Promise<SchemaResult> {
  const run = queue.then(() => infer(ir, known, opts.cache, opts.reuse));
  queue = run.catch(() => undefined);
  return run;
}

/**
 * Nodes in the IR's (topological) order, each once the nodes it reads are done: a SQL node as soon
 * as its inputs are (so independent bodies bind at the same time), any other node after every node
 * before it. A node with nothing to wait for that needs no bind (a cache hit, not SQL) is answered at
 * once, without a promise: a promise per node doubled the CPU time of a plan answered from the bind
 * cache (dd6959e; 10,000 nodes 0.16 -> 0.35 s). Diagnostics come out in node order whatever finished first.
 */
async function infer(
  ir: PipelineIR,
  known: ReadonlyMap<NodeId, readonly ColumnSchema[]>,
  cache: KeyValueCache<ColumnSchema[]> | undefined,
  reuse: Reuse | undefined,
): Promise<SchemaResult> {
  const schemas = new Map<NodeId, ColumnSchema[]>();
  const byId = new Map(ir.nodes.map((n) => [n.id, n] as const));
  const pending = new Map<NodeId, Promise<Diagnostic[]>>();
  const results: (Diagnostic[] | Promise<Diagnostic[]>)[] = [];
  // Every pending node so far: `barrier` once they are all done, `since` those added after it was made.
  let barrier: Promise<unknown> = Promise.resolve();
  let since: Promise<unknown>[] = [];
  for (const node of ir.nodes) {
    const sql = node.kind === 'cleanse' || node.kind === 'model';
    if (!sql && since.length) {
      barrier = Promise.all([barrier, ...since]);
      since = [];
    }
    const waits = sql ? node.inputs.flatMap((i) => pending.get(i) ?? []) : pending.size ? [barrier] : [];
    const now = waits.length === 0 ? inferNow(node, byId, schemas, known, cache, reuse) : undefined;
    if (now) {
      results.push(now);
      continue;
    }
    const p = Promise.all(waits).then(
      () => inferNow(node, byId, schemas, known, cache, reuse) ?? bindNode(node as CleanseNode | ModelNode, byId, schemas, cache, reuse),
    );
    pending.set(node.id, p);
    since.push(p);
    results.push(p);
  }
  const diagnostics: Diagnostic[] = [];
  for (const r of results) diagnostics.push(...(Array.isArray(r) ? r : await r));
  return { schemas, diagnostics };
}

/** A SQL node's inputs that are tables (a feature view is read through its offline table's node). */
const tableInputs = (node: CleanseNode | ModelNode, byId: ReadonlyMap<NodeId, PipelineNode>): NodeId[] =>
  node.inputs.filter((i) => byId.get(i)?.kind !== 'features');

/** A node's schema and diagnostics when they need no bind (undefined: a SQL body to bind). */
function inferNow(
  node: PipelineNode,
  byId: ReadonlyMap<NodeId, PipelineNode>,
  schemas: Map<NodeId, ColumnSchema[]>,
  known: ReadonlyMap<NodeId, readonly ColumnSchema[]>,
  cache: KeyValueCache<ColumnSchema[]> | undefined,
  reuse: Reuse | undefined,
): Diagnostic[] | undefined {
  const diagnostics: Diagnostic[] = [];
  const before = reuse && !reuse.changed.has(node.id) ? reuse.schemas.get(node.id) : undefined;
  switch (node.kind) {
    case 'source': {
      if (before) {
        schemas.set(node.id, before);
        break;
      }
      const cols = node.stream.columns?.map((c) => ({ name: c.name, type: c.type })) ?? known.get(node.id);
      if (cols) schemas.set(node.id, [...cols]);
      break;
    }
    case 'cleanse':
    case 'model': {
      const inputs = tableInputs(node, byId);
      if (before && inputs.every((i) => schemas.get(i) === reuse!.schemas.get(i))) {
        schemas.set(node.id, before);
        break;
      }
      if (inputs.some((i) => !schemas.has(i))) {
        // An input without a known schema (a source never synced, or an upstream error): skip quietly;
        // the upstream problem has its own diagnostic.
        const k = known.get(node.id);
        if (k) schemas.set(node.id, [...k]);
        break;
      }
      // After an edit (reuse) typed first: the bind cache is then read only for a body that needs a bind.
      let hit = reuse ? typedWithoutBind(node.sql, schemas) : undefined;
      if (!hit) {
        const key = cache ? bodyKey(node.sql, inputs, schemas) : '';
        hit = cache?.get(key);
        if (!hit) {
          hit = reuse ? undefined : typedWithoutBind(node.sql, schemas);
          if (!hit) return undefined;
          cache?.set(key, hit);
        }
      }
      schemas.set(node.id, asBefore(node.id, hit, reuse));
      break;
    }
    case 'features':
      diagnostics.push(...checkFeatures(node, schemas.get(node.from)));
      if (schemas.has(node.from)) schemas.set(node.id, featureViewSchema(node, schemas.get(node.from)!));
      break;
    case 'train':
      diagnostics.push(...checkLabel(node, schemas.get(node.label.from), byId.get(node.features)));
      diagnostics.push(...checkTrainableFeatures(node, byId.get(node.features), schemas));
      break;
    case 'serve': {
      const from = node.batch ? schemas.get(node.batch.from) : undefined;
      const train = byId.get(node.model);
      const view = train?.kind === 'train' ? byId.get(train.features) : undefined;
      const key = view?.kind === 'features' ? from?.find((c) => c.name === view.entity.joinKey) : undefined;
      if (view?.kind === 'features' && key) schemas.set(node.id, batchOutputSchema(node, view, key.type));
      break;
    }
    default:
      assertNever(node);
  }
  return diagnostics;
}

async function bindNode(
  node: CleanseNode | ModelNode,
  byId: ReadonlyMap<NodeId, PipelineNode>,
  schemas: Map<NodeId, ColumnSchema[]>,
  cache: KeyValueCache<ColumnSchema[]> | undefined,
  reuse: Reuse | undefined,
): Promise<Diagnostic[]> {
  const r = await bindSql(node, node.sql, tableInputs(node, byId), schemas, withConnection, cache);
  if ('error' in r) return [r.error];
  schemas.set(node.id, asBefore(node.id, r.columns, reuse));
  return [];
}

/** A schema inferred again: the array it had before the edit when it is equal (its readers keep theirs). */
function asBefore(id: NodeId, columns: ColumnSchema[], reuse: Reuse | undefined): ColumnSchema[] {
  const before = reuse?.schemas.get(id);
  return before && before.length === columns.length && before.every((c, i) => c.name === columns[i].name && c.type === columns[i].type) ? before : columns;
}

/**
 * A body's columns typed by asgard's own rules where they are certain to be DuckDB's
 * (src/sql/fast-types.ts), without DuckDB; undefined: bind it.
 */
const typedWithoutBind = (body: SqlBody, schemas: ReadonlyMap<NodeId, ColumnSchema[]>): ColumnSchema[] | undefined =>
  body.vars && Object.keys(body.vars).length ? undefined : fastOutputColumns(body.text, (id) => schemas.get(id));

/**
 * The bind cache's key of a body over its inputs' schemas: the hash of its text and of
 * `JSON.stringify(inputs.map((i) => [i, schemas.get(i)]))`, made of each input's part kept per
 * schemas map and schema array (an input is read by several bodies).
 */
const bodyKey = (body: SqlBody, inputs: readonly NodeId[], schemas: ReadonlyMap<NodeId, ColumnSchema[]>): string => {
  let parts = inputParts.get(schemas);
  if (!parts) inputParts.set(schemas, (parts = new Map()));
  let list = '';
  for (const i of inputs) {
    const cols = schemas.get(i);
    let part = parts.get(i);
    if (part === undefined || part.cols !== cols) {
      part = { cols, text: `[${JSON.stringify(i)},${cols === undefined ? 'null' : JSON.stringify(cols)}]` };
      parts.set(i, part);
    }
    list += list ? `,${part.text}` : part.text;
  }
  return sha256(`${body.text}\0[${list}]`);
};
const inputParts = new WeakMap<ReadonlyMap<NodeId, ColumnSchema[]>, Map<NodeId, { readonly cols?: ColumnSchema[]; readonly text: string }>>();

async function bindSql(
  node: CleanseNode | ModelNode,
  body: SqlBody,
  inputs: readonly NodeId[],
  schemas: Map<NodeId, ColumnSchema[]>,
  withConnection: WithConnection,
  cache: KeyValueCache<ColumnSchema[]> | undefined,
): Promise<{ columns: ColumnSchema[] } | { error: Diagnostic }> {
  const textKey = bodyKey(body, inputs, schemas);
  const cached = cache?.get(textKey);
  if (cached) return { columns: cached };
  // Each input is one table of the binder database per (node, schema), created when a body first
  // reads it: a table read by many bodies is created once, not once per body.
  const names = new Map<NodeId, string>();
  const tableRef = (id: NodeId): string => {
    let n = names.get(id);
    if (!n) {
      const k = `${id}\0${JSON.stringify(schemas.get(id) ?? null)}`;
      n = binderTables.names.get(k);
      if (!n) binderTables.names.set(k, (n = `t${binderTables.names.size}`));
      names.set(id, n);
    }
    return `${ident('asg_bind')}.${ident(n)}`;
  };
  // At a fixed logical time (types never depend on it), reusing the SQL analysis's rendering; the
  // transpiler (and the SQL toolkit) loads only for a body the analysis did not render.
  const r = await renderBody(body, tableRef);
  if (r.diagnostics.length) return { error: r.diagnostics[0] };
  const missing = [...names.keys()].filter((id) => !schemas.has(id));
  if (missing.length) {
    return { error: sqlDiag(EngineCodes.SqlUnknownInput.code, `${node.id} reads ${missing.join(', ')}, which has no known schema`, body.span) };
  }
  const inputKey = [...names].map(([id, n]) => `${n}=${JSON.stringify(schemas.get(id))}`).join(';');
  const key = sha256(`${r.sql}\0${inputKey}`);
  let hit = bindCache.get(key);
  if (!hit) {
    hit = await withConnection(async (conn): Promise<Bound> => {
      try {
        // The body's new input tables in one round trip; a table another body is creating is awaited.
        const create = [...names].filter(([, n]) => !binderTables.created.has(n));
        if (create.length) {
          const made = (async () => {
            await (binderTables.schema ??= conn.run('CREATE SCHEMA IF NOT EXISTS asg_bind').catch((e) => {
              binderTables.schema = undefined;
              throw e;
            }));
            await conn.run(
              create
                .map(
                  ([id, n]) =>
                    `CREATE OR REPLACE TABLE asg_bind.${ident(n)} (${schemas
                      .get(id)!
                      .map((c) => `${ident(c.name)} ${c.type}`)
                      .join(', ')})`,
                )
                .join(';\n'),
            );
          })();
          for (const [, n] of create) binderTables.created.set(n, made);
          // A failed creation is tried again by the next body that needs the table.
          made.catch(() => {
            for (const [, n] of create) if (binderTables.created.get(n) === made) binderTables.created.delete(n);
          });
        }
        await Promise.all([...names.values()].map((n) => binderTables.created.get(n)));
        return await columnsOf(conn, r.sql);
      } catch (e) {
        return { error: (e as Error).message };
      }
    });
    if (bindCache.size > 20000) bindCache.clear();
    bindCache.set(key, hit);
  }
  if ('error' in hit) {
    const raw = hit.error.replace(/"?asg_bind"?\."?(t\d+)"?/g, (_m, t: string) => [...names].find(([, n]) => n === t)?.[0] ?? t);
    const columns = [...names.keys()].flatMap((id) => schemas.get(id)!.map((c) => c.name));
    const p = explainBindError(node.id, raw, columns);
    await loadSqlToolkit();
    const { locateSqlError } = await import('../sql/error-location.js');
    return { error: sqlDiag(EngineCodes.SqlBind.code, p.message, locateSqlError(body, r.sql, hit.error, p.token), p.hint) };
  }
  cache?.set(textKey, hit);
  return { columns: hit };
}

/** Types whose name a prepared statement prints as DESCRIBE does (nested types, enums and aliases such as JSON differ). */
const PLAIN_TYPE =
  /^(BOOLEAN|U?(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT)|FLOAT|DOUBLE|VARCHAR|BLOB|DATE|TIME|TIMESTAMP(_S|_MS|_NS| WITH TIME ZONE)?|INTERVAL|UUID|DECIMAL\(\d+,\d+\))$/;

/**
 * A query's output columns. Preparing it binds it as DESCRIBE does at about half the cost (no
 * result to build and read back); DESCRIBE answers when a column's type is not plain, and on any
 * error, whose text must be DESCRIBE's (src/engine/bind-message.ts and the error location read it).
 */
async function columnsOf(conn: DuckDBConnection, sql: string): Promise<ColumnSchema[]> {
  const prepared = await conn.prepare(sql).catch(() => undefined);
  if (prepared) {
    try {
      const cols: ColumnSchema[] = [];
      for (let i = 0; i < prepared.columnCount; i++) {
        const t = prepared.columnType(i);
        const type = t.toString();
        if (t.alias !== undefined || !PLAIN_TYPE.test(type)) break;
        cols.push({ name: prepared.columnName(i), type });
      }
      if (cols.length === prepared.columnCount) return cols;
    } finally {
      prepared.destroySync();
    }
  }
  const reader = await conn.runAndReadAll(`DESCRIBE ${sql}`);
  return reader.getRowObjects().map((row) => ({ name: String(row.column_name), type: String(row.column_type) }));
}

async function renderBody(body: SqlBody, tableRef: (id: NodeId) => string): Promise<{ sql: string; diagnostics: Diagnostic[] }> {
  const t = body.vars && Object.keys(body.vars).length ? undefined : bindTemplateFor(body.text);
  if (t) return { sql: fillTemplate(t, tableRef), diagnostics: [] };
  await loadSqlToolkit();
  const { renderForBind } = await import('../sql/transpile.js');
  return renderForBind(body, tableRef);
}

/** The columns a feature view exposes: join key, timestamp, then the features in declared order. */
export function featureViewSchema(view: FeaturesNode, from: readonly ColumnSchema[]): ColumnSchema[] {
  const typeOf = (n: string): string => from.find((c) => c.name === n)?.type ?? 'UNKNOWN';
  return [
    { name: view.entity.joinKey, type: typeOf(view.entity.joinKey) },
    { name: view.timestamp, type: typeOf(view.timestamp) },
    ...view.features.map((f) => ({ name: f.name, type: duckTypeOfFeature(f.dtype) })),
  ];
}

const INTS32 = ['TINYINT', 'SMALLINT', 'INTEGER', 'UTINYINT', 'USMALLINT'];
// HUGEINT: DuckDB's type of an integer SUM (Spark's is BIGINT); the view casts it, a value beyond int64 fails it.
const INTS64 = [...INTS32, 'BIGINT', 'UINTEGER', 'HUGEINT'];
/** Which DuckDB column types a feature dtype accepts (values convert without surprise). */
export function dtypeAccepts(d: FeatureDType, duckType: string): boolean {
  const t = duckType.toUpperCase();
  switch (d) {
    case 'int32':
      return INTS32.includes(t);
    case 'int64':
      return INTS64.includes(t);
    case 'float32':
    case 'float64':
      return t === 'FLOAT' || t === 'DOUBLE' || t.startsWith('DECIMAL') || INTS64.includes(t);
    case 'string':
      return t === 'VARCHAR';
    case 'bool':
      return t === 'BOOLEAN';
    case 'timestamp':
      return t === 'TIMESTAMP' || t === 'TIMESTAMP WITH TIME ZONE' || t === 'DATE' || t.startsWith('TIMESTAMP_');
  }
}

export function checkFeatures(view: FeaturesNode, from: readonly ColumnSchema[] | undefined): Diagnostic[] {
  if (!from) return [];
  const out: Diagnostic[] = [];
  const col = (n: string): ColumnSchema | undefined => from.find((c) => c.name === n);
  const names = from.map((c) => c.name);
  const hintFor = (n: string): string | undefined => {
    const near = names.find((c) => c.toLowerCase() === n.toLowerCase()) ?? closest(n, names);
    return near ? `did you mean \`${near}\`?` : `${view.from} has: ${names.join(', ')}`;
  };
  if (!col(view.entity.joinKey)) {
    out.push(
      sqlDiag(
        EngineCodes.FeatureKeyMissing.code,
        `join key \`${view.entity.joinKey}\` is not a column of ${view.from}`,
        view.span,
        hintFor(view.entity.joinKey),
      ),
    );
  }
  const ts = col(view.timestamp);
  if (!ts)
    out.push(
      sqlDiag(EngineCodes.FeatureKeyMissing.code, `timestamp \`${view.timestamp}\` is not a column of ${view.from}`, view.span, hintFor(view.timestamp)),
    );
  else if (!dtypeAccepts('timestamp', ts.type)) {
    out.push(sqlDiag(EngineCodes.FeatureDtype.code, `timestamp \`${view.timestamp}\` of ${view.from} is ${ts.type}, not a timestamp or date`, view.span));
  }
  for (const f of view.features) {
    const c = col(f.name);
    if (!c) out.push(sqlDiag(EngineCodes.FeatureColumnMissing.code, `feature \`${f.name}\` is not a column of ${view.from}`, f.span, hintFor(f.name)));
    else if (!dtypeAccepts(f.dtype, c.type)) {
      out.push(sqlDiag(EngineCodes.FeatureDtype.code, `feature \`${f.name}\` is declared ${f.dtype} but ${view.from}.${f.name} is ${c.type}`, f.span));
    }
  }
  return out;
}

function checkLabel(node: TrainNode, from: readonly ColumnSchema[] | undefined, view: PipelineNode | undefined): Diagnostic[] {
  if (!from) return [];
  const out: Diagnostic[] = [];
  const need = [node.label.column, node.label.timestamp];
  if (view?.kind === 'features') need.push(view.entity.joinKey);
  for (const n of need) {
    if (!from.some((c) => c.name === n)) out.push(sqlDiag(EngineCodes.LabelColumnMissing.code, `\`${n}\` is not a column of ${node.label.from}`, node.span));
  }
  return out;
}

/**
 * A feature a training algorithm cannot take is an error at the feature, before apply would fail on
 * it. Only a feature that matches its column (else ASG2101/ASG2102 already says what is wrong there).
 */
function checkTrainableFeatures(node: TrainNode, view: PipelineNode | undefined, schemas: ReadonlyMap<NodeId, readonly ColumnSchema[]>): Diagnostic[] {
  if (view?.kind !== 'features') return [];
  const from = schemas.get(view.from);
  if (!from) return [];
  return view.features
    .filter((f) => !isTrainableDType(f.dtype))
    .filter((f) => {
      const c = from.find((x) => x.name === f.name);
      return c !== undefined && dtypeAccepts(f.dtype, c.type);
    })
    .map((f) =>
      sqlDiag(
        EngineCodes.FeatureTypeUnsupported.code,
        `feature \`${f.name}\` is ${f.dtype}, but ${node.id} (${node.algorithm.name}) takes only numeric, bool and string (categorical) features`,
        f.span,
        'derive a number in the SQL of its table (e.g. an age in days, an hour of day) and declare that column instead',
      ),
    );
}
