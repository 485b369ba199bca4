// The table a serve node's batch scoring writes: one definition for the planner's schema
// (src/engine/schemas.ts) and for the writer (src/ml/batch-score.ts), so the schema a plan expects
// is the schema apply records and a plan never shows a false `replace` of a serve node. A function
// of the serve node and its feature view, so field names can come from the spec.

import type { FeaturesNode, ServeNode } from '../ir/types.js';
import type { ColumnSchema } from '../planner/state-store.js';
import { serveFields } from '../ir/serving.js';

/** The output columns by role, in table order. */
export interface BatchOutputColumns {
  /** The entity's join key (typed as in the scored table). */
  readonly key: string;
  readonly probability: string;
  readonly prediction: string;
  readonly riskLevel: string;
  readonly modelVersion: string;
  readonly scoredAt: string;
}

/** DuckDB types of the scored columns (the key keeps its input type). */
export const BATCH_OUTPUT_TYPES: Readonly<Record<Exclude<keyof BatchOutputColumns, 'key'>, string>> = {
  probability: 'DOUBLE',
  prediction: 'INTEGER',
  riskLevel: 'VARCHAR',
  modelVersion: 'INTEGER',
  scoredAt: 'TIMESTAMP',
};

export function batchOutputColumns(serve: ServeNode, view: FeaturesNode): BatchOutputColumns {
  const f = serveFields(serve);
  return {
    key: view.entity.joinKey,
    probability: f.probability,
    prediction: f.prediction,
    riskLevel: f.risk_level,
    modelVersion: 'model_version',
    scoredAt: 'scored_at',
  };
}

/** The output schema, given the type of the join key in the scored table. */
export function batchOutputSchema(serve: ServeNode, view: FeaturesNode, keyType: string): ColumnSchema[] {
  const c = batchOutputColumns(serve, view);
  return [
    { name: c.key, type: keyType },
    { name: c.probability, type: BATCH_OUTPUT_TYPES.probability },
    { name: c.prediction, type: BATCH_OUTPUT_TYPES.prediction },
    { name: c.riskLevel, type: BATCH_OUTPUT_TYPES.riskLevel },
    { name: c.modelVersion, type: BATCH_OUTPUT_TYPES.modelVersion },
    { name: c.scoredAt, type: BATCH_OUTPUT_TYPES.scoredAt },
  ];
}
