// Batch scoring: the rows of the input table itself (its latest row per entity when it has the
// feature view's timestamp; it must carry the join key and every feature column, else
// InputTableError before any work), scored by the model's ONNX session, written as a new warehouse
// snapshot of the output table whose columns src/engine/batch-output.ts defines (join key,
// probability, prediction, risk level, model version, scored at). NULL features are imputed with
// the training medians recorded in the model's feature schema.

import type { DuckDBConnection } from '@duckdb/node-api';
import type { FeaturesNode } from '../ir/types.js';
import type { ColumnSchema, SnapshotRef } from '../planner/state-store.js';
import type { Warehouse } from '../warehouse/warehouse.js';
import { ident, literal } from '../engine/duckdb.js';
import { BATCH_OUTPUT_TYPES, type BatchOutputColumns } from '../engine/batch-output.js';
import type { FeatureSchema } from './registry.js';
import type { OnnxScorer } from './onnx-session.js';
import { scoreRelation } from './score-diff.js';
import { riskLevelSql, type RiskLevels } from './risk.js';
import { onlineFeaturesSql } from '../engine/features.js';
import { qualified } from '../engine/catalog.js';

export interface BatchScoreInput {
  readonly conn: DuckDBConnection;
  readonly warehouse: Warehouse;
  readonly view: FeaturesNode;
  readonly schema: FeatureSchema;
  /**
   * The model's session, or how to make it: made while DuckDB gathers the rows to score (creating
   * an ONNX session parses the model on this thread: ~70-100 ms for the seed's forest of 100 trees).
   */
  readonly scorer: OnnxScorer | (() => Promise<OnnxScorer>);
  readonly modelVersion: number;
  /** The table whose entities are scored (`layer.table`). */
  readonly from: string;
  /** The output table (`gold.<name>`). */
  readonly to: string;
  readonly riskLevels: RiskLevels;
  /** The output's column names (batchOutputColumns). */
  readonly columns: BatchOutputColumns;
  readonly scoredAt: Date;
}

export interface BatchScoreResult {
  readonly rows: number;
  readonly snapshot: SnapshotRef;
  readonly schema: readonly ColumnSchema[];
}

export class ScoreError extends Error {}

/** An input table the model cannot score: what it lacks, named. */
export class InputTableError extends Error {
  constructor(
    readonly table: string,
    readonly missing: readonly string[],
    readonly incompatible: readonly { readonly column: string; readonly type: string; readonly expected: string }[],
  ) {
    const parts = [
      ...(missing.length ? [`lacks column${missing.length > 1 ? 's' : ''} ${missing.join(', ')}`] : []),
      ...incompatible.map((c) => `has ${c.column} as ${c.type} where the model needs ${c.expected}`),
    ];
    super(`${table} cannot be scored: it ${parts.join('; it ')}`);
  }
}

const NUMERIC = /^(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|UHUGEINT|FLOAT|DOUBLE|DECIMAL(\(.*\))?|BOOLEAN)$/;
const TEXT = /^(VARCHAR|ENUM\(.*\))$/;

/**
 * The input table must carry the entity's join key and every feature the model was trained on,
 * numeric (or boolean) where the model takes numbers, a string where it takes a category: checked
 * from the table's columns before any row is read, so a wrong table is refused instead of scored
 * as something else.
 */
export async function checkInputTable(conn: DuckDBConnection, from: string, view: FeaturesNode, schema: FeatureSchema): Promise<void> {
  const desc = await conn.runAndReadAll(`DESCRIBE ${qualified(from)}`);
  const types = new Map(desc.getRows().map((r) => [String(r[0]), String(r[1])]));
  const missing = [view.entity.joinKey, ...schema.features.map((f) => f.name)].filter((c) => !types.has(c));
  const incompatible = schema.features.flatMap((f) => {
    const t = types.get(f.name);
    if (t === undefined) return [];
    if (f.categories) return TEXT.test(t) ? [] : [{ column: f.name, type: t, expected: `a string (categorical ${f.dtype})` }];
    return NUMERIC.test(t) ? [] : [{ column: f.name, type: t, expected: `a number (${f.dtype})` }];
  });
  if (missing.length || incompatible.length) throw new InputTableError(from, missing, incompatible);
}

/**
 * The rows scored: the input table's own rows — its latest row per entity when it has the view's
 * timestamp column (the online semantics; for the view's source table, exactly the online
 * features), else every row with a key.
 */
async function scoringRowsSql(conn: DuckDBConnection, from: string, view: FeaturesNode): Promise<string> {
  const desc = await conn.runAndReadAll(`DESCRIBE ${qualified(from)}`);
  const hasTs = desc.getRows().some((r) => String(r[0]) === view.timestamp);
  const key = ident(view.entity.joinKey);
  if (hasTs) return `SELECT * FROM (${onlineFeaturesSql(view, qualified(from))}) ORDER BY ${key}`;
  return `SELECT ${key}, ${view.features.map((f) => ident(f.name)).join(', ')} FROM ${qualified(from)} WHERE ${key} IS NOT NULL ORDER BY ${key}`;
}

export async function batchScore(inp: BatchScoreInput): Promise<BatchScoreResult> {
  const { conn, view, schema } = inp;
  const have = new Set(view.features.map((f) => f.name));
  const missing = schema.features.filter((f) => !have.has(f.name)).map((f) => f.name);
  if (missing.length) throw new ScoreError(`the model needs features ${missing.join(', ')}, which ${view.id} no longer has`);
  await checkInputTable(conn, inp.from, view, schema);
  const key = ident(view.entity.joinKey);
  await conn.run('DROP TABLE IF EXISTS __score_in; DROP TABLE IF EXISTS __score_out');
  const gathering = conn.run(
    `CREATE TEMP TABLE __score_in AS SELECT CAST(row_number() OVER (ORDER BY ${key}) - 1 AS INTEGER) AS __rn, * FROM (${await scoringRowsSql(conn, inp.from, view)})`,
  );
  gathering.catch(() => undefined); // its failure is reported below, once the scorer is made
  let scorer: OnnxScorer;
  try {
    scorer = typeof inp.scorer === 'function' ? await inp.scorer() : inp.scorer;
  } catch (e) {
    await gathering.catch(() => undefined);
    throw e;
  }
  await gathering;
  const proba = await scoreRelation(conn, '(SELECT * FROM __score_in ORDER BY __rn)', schema, scorer);
  const n = proba.length;

  await conn.run('CREATE TEMP TABLE __score_out (__rn INTEGER, p DOUBLE)');
  const app = await conn.createAppender('__score_out');
  for (let i = 0; i < n; i++) {
    app.appendInteger(i);
    app.appendDouble(proba[i]);
    app.endRow();
  }
  app.closeSync();

  const c = inp.columns;
  const t = BATCH_OUTPUT_TYPES;
  const select = `SELECT i.${key} AS ${ident(c.key)}, CAST(o.p AS ${t.probability}) AS ${ident(c.probability)},
  CAST(o.p > ${schema.threshold} AS ${t.prediction}) AS ${ident(c.prediction)},
  CAST(${riskLevelSql('o.p', inp.riskLevels)} AS ${t.riskLevel}) AS ${ident(c.riskLevel)}, CAST(${inp.modelVersion} AS ${t.modelVersion}) AS ${ident(c.modelVersion)},
  CAST(${literal(inp.scoredAt.toISOString().replace('T', ' ').replace('Z', ''))} AS ${t.scoredAt}) AS ${ident(c.scoredAt)}
FROM __score_in i JOIN __score_out o USING (__rn) ORDER BY i.${key}`;
  const desc = await conn.runAndReadAll(`DESCRIBE ${select}`);
  const outSchema = desc.getRows().map((r) => ({ name: String(r[0]), type: String(r[1]) }));
  const pending = await inp.warehouse.begin(inp.to, outSchema);
  try {
    await inp.warehouse.write(conn, pending, select);
    const snapshot = await inp.warehouse.commit(pending, conn);
    return { rows: n, snapshot, schema: outSchema };
  } catch (e) {
    await inp.warehouse.abort(pending);
    throw e;
  } finally {
    await conn.run('DROP TABLE IF EXISTS __score_in; DROP TABLE IF EXISTS __score_out');
  }
}
