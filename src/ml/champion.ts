// Champion/challenger: a newly trained version (the challenger) that passes its gate is promoted only
// when it is not worse than the version being served (the champion) on the SAME held-out rows, by
// more than PROMOTE_TOLERANCE on the gate's metric (f1 without a gate). Otherwise it is registered
// but kept unpromoted, and the reason says by how much it lost. Without this, a source that lost
// most of its rows could retrain and promote a clearly worse model as long as it still met the gate.
//
// The champion scores the challenger's held-out rows through its own ONNX file; NULL features were
// filled with the challenger's training medians (the champion's fills are close to them, and this
// compares both models on identical inputs).

import { classificationMetrics, METRIC_NAMES, type Metrics } from './metrics.js';
import { OnnxScorer } from './onnx-session.js';
import type { Registry } from './registry.js';

/** The largest loss on the comparison metric that still lets a challenger be promoted. */
export const PROMOTE_TOLERANCE = 0.01;

export interface ChallengeResult {
  readonly champion: number;
  readonly metric: string;
  readonly challengerValue: number;
  readonly championValue: number;
  readonly rows: number;
  readonly tolerance: number;
  readonly passed: boolean;
  readonly reason: string;
}

export interface Challenger {
  readonly featureNames: readonly string[];
  /** The challenger's vocabulary of each categorical feature (X holds codes into it), null for a numeric one. */
  readonly categories?: readonly (readonly string[] | null)[];
  readonly X: Float32Array;
  readonly y: ArrayLike<number>;
  readonly n: number;
  readonly proba: ArrayLike<number>;
  readonly threshold: number;
}

/** Compare with the served version; undefined when there is none or it takes other features. */
export async function challengeChampion(
  registry: Registry,
  model: string,
  gate: { readonly metric: string; readonly op: string } | undefined,
  challenger: Challenger,
): Promise<ChallengeResult | undefined> {
  const champ = registry.servingVersion(model);
  if (!champ) return undefined;
  const schema = registry.features(model, champ.version);
  const names = schema.features.map((f) => f.name);
  if (names.length !== challenger.featureNames.length || names.some((n, i) => n !== challenger.featureNames[i])) return undefined;
  const key = gate ? (gate.metric === 'f1_score' ? 'f1' : gate.metric === 'auc' ? 'roc_auc' : gate.metric) : 'f1';
  if (!(METRIC_NAMES as readonly string[]).includes(key)) return undefined;
  const lowerIsBetter = gate ? gate.op === '<' || gate.op === '<=' : false;
  if (schema.features.some((f, i) => (f.categories !== undefined) !== Boolean(challenger.categories?.[i]))) return undefined;
  const scorer = await OnnxScorer.load(registry.onnxPath(model, champ.version), schema.features, schema.output);
  let championProba: Float32Array;
  try {
    // Categorical codes are decoded with the challenger's vocabulary; the champion's graph encodes
    // the strings with its own.
    championProba = await scorer.scoreRows(challenger.X, challenger.n, challenger.categories);
  } finally {
    await scorer.release();
  }
  const value = (m: Metrics) => (m as unknown as Record<string, number>)[key];
  const championValue = value(classificationMetrics(challenger.y, championProba, schema.threshold));
  const challengerValue = value(classificationMetrics(challenger.y, challenger.proba, challenger.threshold));
  const loss = lowerIsBetter ? challengerValue - championValue : championValue - challengerValue;
  const passed = !(loss > PROMOTE_TOLERANCE);
  const f = (x: number) => x.toFixed(4);
  const reason = passed
    ? `${key} ${f(challengerValue)} vs promoted v${champ.version}'s ${f(championValue)} on the same ${challenger.n} held-out rows (tolerance ${PROMOTE_TOLERANCE})`
    : `worse than promoted v${champ.version} on the same ${challenger.n} held-out rows: ${key} ${f(challengerValue)} vs ${f(championValue)}, more than the tolerance ${PROMOTE_TOLERANCE}`;
  return { champion: champ.version, metric: key, challengerValue, championValue, rows: challenger.n, tolerance: PROMOTE_TOLERANCE, passed, reason };
}
