// Feature views: point-in-time correct retrieval (offline, for training sets and batch scoring) and
// the latest value per entity (online, for serving).
//
// Point in time, for an entity row (key k, event_timestamp t): the feature row of k with the latest
// timestamp ts such that ts <= t (never a later value) and, when the view has a TTL, ts > t − ttl
// (nothing older). No such row: the features are NULL. DuckDB's ASOF LEFT JOIN finds the latest
// ts <= t; the TTL then blanks a match that is too old (if the latest is too old, every earlier row
// is too). A TTL of 0 means no limit.
//
// Ties (two feature rows of one entity with the same timestamp): Feast breaks them with a created
// timestamp; asgard's gold tables have none, so the row kept is the greatest by the feature values in
// declared order (NULLs last) — deterministic across runs and engines, and documented here.
//
// Timestamps compare as naive UTC TIMESTAMPs: a TIMESTAMPTZ entity column is converted in the
// session zone, which is always UTC (src/engine/duckdb.ts).

import type { DuckDBConnection } from '@duckdb/node-api';
import type { FeaturesNode } from '../ir/types.js';
import { ident, literal, queryAll, type Row } from './duckdb.js';
import { qualified } from './catalog.js';
import { featureColumns, onlineFeaturesSelect, tieBreak } from '../sql/features-sql.js';

export interface PointInTimeOptions {
  /** Name features `<view>__<feature>` (Feast's full_feature_names). */
  readonly fullFeatureNames?: boolean;
  /** The relation holding the feature rows; default: the view's source table (`gold.x`). */
  readonly featureRelation?: string;
  /** The entity relation's timestamp column; default `event_timestamp`. */
  readonly eventTimestamp?: string;
}

/**
 * A SELECT over `entityRelation` (a table, view or parenthesised subquery with the join key and
 * `event_timestamp`; other columns are kept) adding the view's features as of each row's timestamp.
 * One output row per entity row, in the entity relation's order.
 */
export function pointInTimeSql(view: FeaturesNode, entityRelation: string, opts: PointInTimeOptions = {}): string {
  const key = ident(view.entity.joinKey);
  const ets = ident(opts.eventTimestamp ?? 'event_timestamp');
  const from = opts.featureRelation ?? qualified(view.from);
  const ts = ident(view.timestamp);
  const outName = (f: string): string => ident(opts.fullFeatureNames ? `${view.name}__${f}` : f);
  const ttl = view.ttlSeconds > 0 ? `f.__asg_ts > e.__asg_ets - INTERVAL ${Math.floor(view.ttlSeconds)} SECOND` : 'true';
  const picked = view.features.map((f) => `CASE WHEN f.__asg_ts IS NOT NULL AND ${ttl} THEN f.${ident(f.name)} END AS ${outName(f.name)}`);
  return [
    `WITH asg_entities AS (`,
    `  SELECT *, CAST(${ets} AS TIMESTAMP) AS __asg_ets, row_number() OVER () AS __asg_row FROM ${entityRelation}`,
    `), asg_feature_rows AS (`,
    `  SELECT ${key} AS __asg_key, CAST(${ts} AS TIMESTAMP) AS __asg_ts, ${featureColumns(view).join(', ')}`,
    `  FROM ${from} WHERE ${ts} IS NOT NULL AND ${key} IS NOT NULL`,
    `  QUALIFY row_number() OVER (PARTITION BY ${key}, CAST(${ts} AS TIMESTAMP) ORDER BY ${tieBreak(view)}) = 1`,
    `)`,
    `SELECT e.* EXCLUDE (__asg_ets, __asg_row), ${picked.join(', ')}`,
    `FROM asg_entities AS e ASOF LEFT JOIN asg_feature_rows AS f ON e.${key} = f.__asg_key AND e.__asg_ets >= f.__asg_ts`,
    `ORDER BY e.__asg_row`,
  ].join('\n');
}

/** The latest feature row per entity (key, timestamp, features), from the view's source table (src/sql/features-sql.ts). */
export const onlineFeaturesSql = (view: FeaturesNode, featureRelation = qualified(view.from)): string => onlineFeaturesSelect(view, featureRelation);

/** The relation name of a view's materialised online table, once attached (src/engine/catalog.ts). */
export const onlineRelation = (view: FeaturesNode): string => `${ident('features')}.${ident(view.name)}`;

/**
 * Latest features for `keys`, from the materialised online table when the connection has it,
 * else computed from the source table. Keys missing from the result have no features.
 */
export async function onlineFeatures(conn: DuckDBConnection, view: FeaturesNode, keys: readonly (string | number | bigint)[]): Promise<Map<string, Row>> {
  const out = new Map<string, Row>();
  if (keys.length === 0) return out;
  const list = keys.map((k) => (typeof k === 'string' ? literal(k) : String(k))).join(', ');
  const hasOnline = (await queryAll(conn, `SELECT count(*) AS n FROM duckdb_views() WHERE schema_name = 'features' AND view_name = ${literal(view.name)}`))
    .rows[0].n;
  const rel = Number(hasOnline) > 0 ? onlineRelation(view) : `(${onlineFeaturesSql(view)})`;
  const r = await queryAll(conn, `SELECT * FROM ${rel} AS o WHERE o.${ident(view.entity.joinKey)} IN (${list})`);
  for (const row of r.rows) out.set(String(row[view.entity.joinKey]), row);
  return out;
}
