// Batch scoring: the rows of the input table itself (its latest row per entity when it has the
// feature view's timestamp; it must carry the join key and every feature column, else
// InputTableError before any work), scored by the model's ONNX session, written as a new warehouse
// snapshot of the output table whose columns src/engine/batch-output.ts defines (join key,
// probability, prediction, risk level, model version, scored at). NULL features are imputed with
// the training medians recorded in the model's feature schema.
//
// With `previous` (the same model version scored the input's earlier snapshot into the output's
// current one) only the entities whose scoring rows changed are scored again: the rows of the two
// snapshots compared as multisets (EXCEPT ALL both ways), the other entities' probabilities taken
// from the previous output. Scoring is per row (one ONNX intra-op thread), so the table written is
// the full scoring's, every row's `scored_at` included.

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
  /** What the output's current snapshot scored, with this model version (see the top of the file). */
  readonly previous?: { readonly output: SnapshotRef; readonly input: SnapshotRef };
}

export interface BatchScoreResult {
  readonly rows: number;
  /** Rows scored by the model: all of them, or those of the changed entities (`previous`). */
  readonly scored: number;
  /** With `previous`: why every row was scored again (undefined when only the changed entities were). */
  readonly full?: string;
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
 * features), else every row with a key. `relation` reads the table (a snapshot of it).
 */
async function scoringRowsSql(conn: DuckDBConnection, relation: string, view: FeaturesNode): Promise<string> {
  const desc = await conn.runAndReadAll(`DESCRIBE SELECT * FROM ${relation}`);
  const hasTs = desc.getRows().some((r) => String(r[0]) === view.timestamp);
  const key = ident(view.entity.joinKey);
  if (hasTs) return `SELECT * FROM (${onlineFeaturesSql(view, relation)}) ORDER BY ${key}`;
  return `SELECT ${key}, ${view.features.map((f) => ident(f.name)).join(', ')} FROM ${relation} WHERE ${key} IS NOT NULL ORDER BY ${key}`;
}

/** Past this share of the rows in changed entities, every row is scored (the comparison costs more than it spares). */
export const batchChoice = { maxShare: 0.5 };

/**
 * With `previous`: `__score_keys` (the entities whose scoring rows differ between the input's
 * previous snapshot and now) and `__score_in` (their rows now); undefined when they cannot be
 * compared (the reason returned instead) or too many changed.
 */
async function changedEntities(inp: BatchScoreInput, rowsNow: string, previous: NonNullable<BatchScoreInput['previous']>): Promise<string | undefined> {
  const { conn, view } = inp;
  const key = ident(view.entity.joinKey);
  const before = await scoringRowsSql(conn, `(${await inp.warehouse.snapshotSelect(previous.input)})`, view);
  await conn.run(`CREATE TEMP TABLE __score_now AS ${rowsNow}`);
  await conn.run(`CREATE TEMP TABLE __score_before AS ${before}`);
  const columns = async (t: string) => JSON.stringify((await conn.runAndReadAll(`DESCRIBE ${t}`)).getRows().map((r) => [r[0], r[1]]));
  if ((await columns('__score_now')) !== (await columns('__score_before'))) return `the columns of ${inp.from} changed`;
  await conn.run(`CREATE TEMP TABLE __score_keys AS SELECT DISTINCT ${key} FROM (
    (SELECT * FROM __score_now EXCEPT ALL SELECT * FROM __score_before) UNION ALL (SELECT * FROM __score_before EXCEPT ALL SELECT * FROM __score_now))`);
  const count = async (t: string) => Number((await conn.runAndReadAll(`SELECT count(*) FROM ${t}`)).getRows()[0][0]);
  const [keys, rows] = [await count('__score_keys'), await count('__score_now')];
  if (keys > batchChoice.maxShare * rows) return `${keys} of ${rows} entities changed`;
  await conn.run(`CREATE TEMP TABLE __score_in AS SELECT CAST(row_number() OVER (ORDER BY ${key}) - 1 AS INTEGER) AS __rn, * FROM __score_now n
    WHERE EXISTS (SELECT 1 FROM __score_keys k WHERE k.${key} = n.${key})`);
  return undefined;
}

const TEMP_TABLES = ['__score_in', '__score_out', '__score_now', '__score_before', '__score_keys'];
const dropTemp = (conn: DuckDBConnection) => conn.run(TEMP_TABLES.map((t) => `DROP TABLE IF EXISTS ${t};`).join(' '));

export async function batchScore(inp: BatchScoreInput): Promise<BatchScoreResult> {
  const { conn, view, schema } = inp;
  const have = new Set(view.features.map((f) => f.name));
  const missing = schema.features.filter((f) => !have.has(f.name)).map((f) => f.name);
  if (missing.length) throw new ScoreError(`the model needs features ${missing.join(', ')}, which ${view.id} no longer has`);
  await checkInputTable(conn, inp.from, view, schema);
  const key = ident(view.entity.joinKey);
  await dropTemp(conn);
  const rowsNow = await scoringRowsSql(conn, qualified(inp.from), view);
  const full = inp.previous ? await changedEntities(inp, rowsNow, inp.previous) : 'no previous scoring';
  const c = inp.columns;
  // The session is made once, when a row is to be scored (none: no session).
  let made: Promise<OnnxScorer> | undefined;
  const scorer = () => (made ??= typeof inp.scorer === 'function' ? inp.scorer() : Promise.resolve(inp.scorer));
  try {
    if (full !== undefined) {
      const gathering = conn.run(
        `CREATE TEMP TABLE __score_in AS SELECT CAST(row_number() OVER (ORDER BY ${key}) - 1 AS INTEGER) AS __rn, * FROM (${rowsNow})`,
      );
      gathering.catch(() => undefined); // its failure is reported below, once the scorer is made
      try {
        await scorer();
      } catch (e) {
        await gathering.catch(() => undefined);
        throw e;
      }
      await gathering;
    }
    const n = Number((await conn.runAndReadAll('SELECT count(*) FROM __score_in')).getRows()[0][0]);
    const proba = n ? await scoreRelation(conn, '(SELECT * FROM __score_in ORDER BY __rn)', schema, await scorer()) : new Float32Array(0);

    await conn.run('CREATE TEMP TABLE __score_out (__rn INTEGER, p DOUBLE)');
    const app = await conn.createAppender('__score_out');
    for (let i = 0; i < n; i++) {
      app.appendInteger(i);
      app.appendDouble(proba[i]);
      app.endRow();
    }
    app.closeSync();

    // The entities scored now, and (with a previous scoring) the others' probabilities as they were.
    let scored = `SELECT i.${key} AS k, o.p FROM __score_in i JOIN __score_out o USING (__rn)`;
    if (full === undefined) {
      const prev = `(${await inp.warehouse.snapshotSelect(inp.previous!.output)})`;
      scored += ` UNION ALL SELECT q.${ident(c.key)}, q.${ident(c.probability)} FROM ${prev} q WHERE NOT EXISTS (SELECT 1 FROM __score_keys k WHERE k.${key} = q.${ident(c.key)})`;
    }
    const t = BATCH_OUTPUT_TYPES;
    const select = `SELECT s.k AS ${ident(c.key)}, CAST(s.p AS ${t.probability}) AS ${ident(c.probability)},
  CAST(s.p > ${schema.threshold} AS ${t.prediction}) AS ${ident(c.prediction)},
  CAST(${riskLevelSql('s.p', inp.riskLevels)} AS ${t.riskLevel}) AS ${ident(c.riskLevel)}, CAST(${inp.modelVersion} AS ${t.modelVersion}) AS ${ident(c.modelVersion)},
  CAST(${literal(inp.scoredAt.toISOString().replace('T', ' ').replace('Z', ''))} AS ${t.scoredAt}) AS ${ident(c.scoredAt)}
FROM (${scored}) s ORDER BY s.k`;
    const desc = await conn.runAndReadAll(`DESCRIBE ${select}`);
    const outSchema = desc.getRows().map((r) => ({ name: String(r[0]), type: String(r[1]) }));
    const pending = await inp.warehouse.begin(inp.to, outSchema);
    try {
      await inp.warehouse.write(conn, pending, select);
      const snapshot = await inp.warehouse.commit(pending, conn);
      return { rows: snapshot.rows, scored: n, ...(inp.previous && full !== undefined ? { full } : {}), snapshot, schema: outSchema };
    } catch (e) {
      await inp.warehouse.abort(pending);
      throw e;
    }
  } finally {
    await dropTemp(conn);
  }
}
