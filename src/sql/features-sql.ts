// The SQL of a feature view's online table — the latest row per entity, its features cast to their
// declared dtypes — in DuckDB's dialect. One owner for both places that materialise it: the embedded
// engine (src/engine/features-executor.ts) and the view's Kubernetes Job (src/targets/feast/jobs.ts),
// which runs the same text in DuckDB in the pod. Ties and the point-in-time rules: src/engine/features.ts.

import type { FeatureDType, FeaturesNode } from '../ir/types.js';
import { ident } from './quote.js';

export function duckTypeOfFeature(d: FeatureDType): string {
  return { int32: 'INTEGER', int64: 'BIGINT', float32: 'FLOAT', float64: 'DOUBLE', string: 'VARCHAR', bool: 'BOOLEAN', timestamp: 'TIMESTAMP' }[d];
}

/** The feature columns cast to their declared dtypes. */
export function featureColumns(view: FeaturesNode, prefix = ''): string[] {
  return view.features.map((f) => `CAST(${prefix}${ident(f.name)} AS ${duckTypeOfFeature(f.dtype)}) AS ${ident(f.name)}`);
}

/** Two feature rows of one entity with the same timestamp: the greatest by the features in declared order wins. */
export function tieBreak(view: FeaturesNode): string {
  return view.features.map((f) => `${ident(f.name)} DESC NULLS LAST`).join(', ') || '1';
}

/** The latest feature row per entity (key, timestamp, features) of `featureRelation`. */
export function onlineFeaturesSelect(view: FeaturesNode, featureRelation: string): string {
  const key = ident(view.entity.joinKey);
  const ts = ident(view.timestamp);
  return [
    `SELECT ${key}, CAST(${ts} AS TIMESTAMP) AS ${ts}, ${featureColumns(view).join(', ')}`,
    `FROM ${featureRelation} WHERE ${key} IS NOT NULL AND ${ts} IS NOT NULL`,
    `QUALIFY row_number() OVER (PARTITION BY ${key} ORDER BY ${ts} DESC, ${tieBreak(view)}) = 1`,
  ].join('\n');
}
