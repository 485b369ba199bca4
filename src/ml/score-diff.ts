// `plan --diff-data` on a change that reaches a model: the served model version scores the same
// entities twice — on the feature view's current rows as they were (base) and as the change makes
// them (head) — and the reviewer sees how the scores move: the mean before and after, the spread of
// the per-entity change, and how many predictions flip class at the model's threshold. The model
// is the one in the registry; nothing is trained and nothing is written.

import type { DuckDBConnection } from '@duckdb/node-api';
import type { FeaturesNode } from '../ir/types.js';
import type { ScoreChange } from '../planner/plan.js';
import { ident } from '../engine/duckdb.js';
import { onlineFeaturesSql } from '../engine/features.js';
import type { FeatureEntry, FeatureSchema } from './registry.js';
import type { OnnxScorer, ScoreColumn } from './onnx-session.js';

/**
 * Class-1 probabilities for every row of `relation` (ordered as the caller's SQL orders it), NULL
 * features replaced by the training medians recorded in the feature schema (as training did); a
 * categorical feature is read as a string (NULL and unseen values land in the unknown bucket).
 */
export async function scoreRelation(conn: DuckDBConnection, relation: string, schema: FeatureSchema, scorer: OnnxScorer): Promise<Float32Array> {
  const cast = (f: FeatureEntry) => `CAST(${ident(f.name)} AS ${f.categories ? 'VARCHAR' : 'DOUBLE'})`;
  const reader = await conn.runAndReadAll(`SELECT ${schema.features.map(cast).join(', ')} FROM ${relation}`);
  const cols = reader.getColumns();
  const n = reader.currentRowCount;
  const inputs: ScoreColumn[] = schema.features.map((feature, f) => {
    if (feature.categories) return cols[f] as (string | null)[];
    const src = cols[f] as (number | null)[];
    const dst = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      const v = src[i];
      dst[i] = v === null || v === undefined || Number.isNaN(v) ? feature.fill : v;
    }
    return dst;
  });
  return n ? scorer.scoreColumns(inputs, n) : new Float32Array(0);
}

export interface ScoreDiffInput {
  readonly conn: DuckDBConnection;
  readonly view: FeaturesNode;
  /** Relations holding the view's source table before and after the change. */
  readonly before: string;
  readonly after: string;
  readonly schema: FeatureSchema;
  readonly scorer: OnnxScorer;
  readonly version: number;
  /** Score only this many entities, chosen by hash of the key (deterministic). */
  readonly sample?: number;
}

/**
 * The served model on the entities present on both sides (each entity's latest row, the online
 * semantics): entities the change adds or removes are counted by the table's row diff, not here.
 */
export async function scoreDiff(inp: ScoreDiffInput): Promise<ScoreChange> {
  const { conn, view, schema } = inp;
  const key = ident(view.entity.joinKey);
  const have = new Set(view.features.map((f) => f.name));
  const missing = schema.features.filter((f) => !have.has(f.name)).map((f) => f.name);
  if (missing.length) throw new Error(`model version ${inp.version} needs features ${missing.join(', ')}, which ${view.id} no longer has`);
  const limit = inp.sample ? ` ORDER BY hash(${key}), ${key} LIMIT ${Math.floor(inp.sample)}` : '';
  await conn.run(
    `CREATE OR REPLACE TEMP TABLE score_keys AS SELECT ${key} FROM (SELECT ${key} FROM (${onlineFeaturesSql(view, inp.before)}) INTERSECT SELECT ${key} FROM (${onlineFeaturesSql(view, inp.after)}))${limit}`,
  );
  const side = (table: string) => `(SELECT f.* FROM (${onlineFeaturesSql(view, table)}) f SEMI JOIN score_keys USING (${key}) ORDER BY f.${key})`;
  const before = await scoreRelation(conn, side(inp.before), schema, inp.scorer);
  const after = await scoreRelation(conn, side(inp.after), schema, inp.scorer);
  return compareScores(before, after, schema.threshold, inp.version);
}

/** The change between two score vectors over the same entities, in the same order. */
export function compareScores(before: Float32Array, after: Float32Array, threshold: number, version: number): ScoreChange {
  const n = before.length;
  const deltas = Array.from({ length: n }, (_, i) => after[i] - before[i]).sort((a, b) => a - b);
  let sumB = 0;
  let sumA = 0;
  let abs = 0;
  let changed = 0;
  let toPositive = 0;
  let toNegative = 0;
  for (let i = 0; i < n; i++) {
    sumB += before[i];
    sumA += after[i];
    const d = Math.abs(after[i] - before[i]);
    abs += d;
    if (d > 1e-6) changed++;
    const b = before[i] > threshold;
    const a = after[i] > threshold;
    if (!b && a) toPositive++;
    if (b && !a) toNegative++;
  }
  const q = (p: number) => (n ? round(deltas[Math.min(n - 1, Math.floor(p * (n - 1) + 0.5))]) : 0);
  return {
    version,
    rows: n,
    before: { mean: n ? round(sumB / n) : 0 },
    after: { mean: n ? round(sumA / n) : 0 },
    changed,
    flipped: toPositive + toNegative,
    flips: { toPositive, toNegative },
    threshold,
    meanAbsChange: n ? round(abs / n) : 0,
    delta: { min: q(0), p10: q(0.1), p50: q(0.5), p90: q(0.9), max: q(1) },
  };
}

const round = (x: number) => Math.round(x * 1e6) / 1e6;
