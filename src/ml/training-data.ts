// Reading the training set and the scoring set out of the warehouse (DuckDB over the attached
// snapshots) into float32 matrices.
//
// Training: the label table's rows are the entity rows (join key, event timestamp, label); each
// gets the feature row that was current at its event timestamp (point-in-time: the latest feature
// row with ts <= event_timestamp and ts > event_timestamp − ttl; nothing from the future). An
// entity row whose features are all NULL (no feature row in the TTL window) is left out, as is a row
// whose label or join key is NULL (both counted, for the train node's warnings). The SQL
// comes from the engine (src/engine/features.ts), so training, serving and
// `asgard features historical` agree. (Batch scoring reads its input table: batch-score.ts.)

import type { DuckDBConnection } from '@duckdb/node-api';
import type { FeaturesNode, TrainNode } from '../ir/types.js';
import { ident } from '../engine/duckdb.js';
import { qualified } from '../engine/catalog.js';
import { pointInTimeSql } from '../engine/features.js';
import type { Dataset } from './dataset.js';
import { codeMap, encodeValue, isCategorical, vocabulary } from './categorical.js';

export class DataError extends Error {}

/**
 * The training set: the label table's rows as entity rows, with the view's features as of each
 * row's event timestamp (the engine's pointInTimeSql: ASOF + TTL + deterministic ties).
 */
export function trainingSetSql(view: FeaturesNode, label: TrainNode['label']): string {
  const key = ident(view.entity.joinKey);
  const entities = `(SELECT ${key}, CAST(${ident(label.timestamp)} AS TIMESTAMP) AS event_timestamp, ${ident(label.column)} AS __asg_label
    FROM ${qualified(label.from)} WHERE ${ident(label.column)} IS NOT NULL AND ${key} IS NOT NULL ORDER BY ${key}, event_timestamp)`;
  const names = view.features.map((f) => ident(f.name));
  return `SELECT ${key}, event_timestamp, __asg_label, NOT (${names.map((n) => `${n} IS NULL`).join(' AND ')}) AS __has_features, ${names.join(', ')}
FROM (${pointInTimeSql(view, entities)})
ORDER BY ${key}, event_timestamp`;
}

export interface TrainingSet {
  readonly dataset: Dataset;
  /** Entity rows without any feature row in the TTL window (dropped). */
  readonly missingFeatures: number;
  /** Rows of the label table with a NULL label or join key (unlabelled: dropped). */
  readonly unlabelled: number;
}

export async function loadTrainingSet(conn: DuckDBConnection, view: FeaturesNode, label: TrainNode['label']): Promise<TrainingSet> {
  const names = view.features.map((f) => f.name);
  const cast = (f: FeaturesNode['features'][number]) => `CAST(${ident(f.name)} AS ${isCategorical(f.dtype) ? 'VARCHAR' : 'DOUBLE'}) AS ${ident(f.name)}`;
  const sql = `SELECT CAST(__asg_label AS VARCHAR) AS __label, __has_features, ${view.features.map(cast).join(', ')} FROM (${trainingSetSql(view, label)})`;
  const reader = await conn.runAndReadAll(sql);
  const nulls = await conn.runAndReadAll(
    `SELECT count(*) AS n FROM ${qualified(label.from)} WHERE ${ident(label.column)} IS NULL OR ${ident(view.entity.joinKey)} IS NULL`,
  );
  const unlabelled = Number(nulls.getColumns()[0][0]);
  const cols = reader.getColumns();
  const labels = cols[0] as (string | null)[];
  const has = cols[1] as (boolean | null)[];
  const keep: number[] = [];
  let missing = 0;
  for (let i = 0; i < labels.length; i++) {
    if (!has[i]) {
      missing++;
      continue;
    }
    keep.push(i);
  }
  const F = names.length;
  // Categorical features: codes into the vocabulary of all kept rows; train.ts narrows it to the
  // training side of the split.
  const categories = view.features.map((f, j) => (isCategorical(f.dtype) ? vocabulary(keep.map((i) => (cols[2 + j] as (string | null)[])[i])) : null));
  const codes = categories.map((v) => (v ? codeMap(v) : null));
  const X = new Float32Array(keep.length * F);
  const y = new Uint8Array(keep.length);
  for (let k = 0; k < keep.length; k++) {
    const i = keep[k];
    const l = labels[i];
    if (l === '1' || l === 'true') y[k] = 1;
    else if (l === '0' || l === 'false') y[k] = 0;
    else throw new DataError(`label ${label.from}.${label.column} must be 0/1 or boolean; found ${JSON.stringify(l)}`);
    for (let f = 0; f < F; f++) {
      const v = (cols[2 + f] as (number | string | null)[])[i];
      const c = codes[f];
      X[k * F + f] = c ? encodeValue(c, v) : v === null || v === undefined ? NaN : (v as number);
    }
  }
  const anyCategorical = categories.some((c) => c !== null);
  return { dataset: { featureNames: names, n: keep.length, X, y, ...(anyCategorical ? { categories } : {}) }, missingFeatures: missing, unlabelled };
}
