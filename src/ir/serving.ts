// The field names a served model answers with: in each online prediction (/mlops/inference) and
// as the batch output table's columns. Generic by default; a serve block may name them
// (`fields = { probability = "churn_probability"  index = "customer_index" }`, as
// pipelines/churn.asg does to keep the seed's request and response). One definition, read by the
// checker, the server, and the batch output table's definition (src/engine/batch-output.ts).

import type { ServeNode } from './types.js';

export interface ServeFields {
  /** The class-1 probability. */
  readonly probability: string;
  /** 0/1: probability > the model's threshold. */
  readonly prediction: string;
  /** high / medium / low by the serve block's risk_levels. */
  readonly risk_level: string;
  /** Online only: the input's position in the request. */
  readonly index: string;
}

export const SERVE_FIELD_KEYS: readonly (keyof ServeFields)[] = ['probability', 'prediction', 'risk_level', 'index'];

export const DEFAULT_SERVE_FIELDS: ServeFields = { probability: 'probability', prediction: 'prediction', risk_level: 'risk_level', index: 'index' };

/** The serve node's names, defaults filled in (a model served by no serve block gets the defaults). */
export function serveFields(node: Pick<ServeNode, 'fields'> | undefined): ServeFields {
  return { ...DEFAULT_SERVE_FIELDS, ...(node?.fields ?? {}) };
}
