// Classification metrics on the held-out split: what the gate compares against.

export interface Metrics {
  readonly accuracy: number;
  readonly precision: number;
  readonly recall: number;
  readonly f1: number;
  readonly roc_auc: number;
  readonly log_loss: number;
  /** [[tn, fp], [fn, tp]] (rows: actual 0/1, columns: predicted 0/1), scikit-learn's layout. */
  readonly confusion_matrix: readonly [readonly [number, number], readonly [number, number]];
  /** prediction = 1 when probability > threshold (scikit-learn's argmax: a tie goes to class 0). */
  readonly threshold: number;
  readonly test_rows: number;
  readonly positive_rate: number;
}

export const METRIC_NAMES = ['accuracy', 'precision', 'recall', 'f1', 'roc_auc', 'log_loss'] as const;

export function classificationMetrics(y: ArrayLike<number>, proba: ArrayLike<number>, threshold = 0.5): Metrics {
  const n = y.length;
  let tp = 0;
  let fp = 0;
  let tn = 0;
  let fn = 0;
  let ll = 0;
  let pos = 0;
  for (let i = 0; i < n; i++) {
    const p = proba[i];
    const pred = p > threshold ? 1 : 0;
    if (y[i]) {
      pos++;
      if (pred) tp++;
      else fn++;
    } else if (pred) fp++;
    else tn++;
    const c = Math.min(1 - 1e-15, Math.max(1e-15, p));
    ll -= y[i] ? Math.log(c) : Math.log(1 - c);
  }
  const precision = tp + fp ? tp / (tp + fp) : 0;
  const recall = tp + fn ? tp / (tp + fn) : 0;
  return {
    accuracy: n ? (tp + tn) / n : 0,
    precision,
    recall,
    f1: precision + recall ? (2 * precision * recall) / (precision + recall) : 0,
    roc_auc: rocAuc(y, proba),
    log_loss: n ? ll / n : 0,
    confusion_matrix: [
      [tn, fp],
      [fn, tp],
    ],
    threshold,
    test_rows: n,
    positive_rate: n ? pos / n : 0,
  };
}

/** ROC AUC by ranks (Mann–Whitney U), ties sharing their average rank. NaN when one class is absent. */
export function rocAuc(y: ArrayLike<number>, score: ArrayLike<number>): number {
  const n = y.length;
  let nPos = 0;
  for (let i = 0; i < n; i++) if (y[i]) nPos++;
  const nNeg = n - nPos;
  if (nPos === 0 || nNeg === 0) return NaN;
  // The Mann-Whitney U of the positives' scores over the negatives' (a tie counts one half): the
  // rank-sum formula without sorting the rows by an index comparator. Both sides sort natively.
  const pos = new Float64Array(nPos);
  const neg = new Float64Array(nNeg);
  for (let i = 0, p = 0, q = 0; i < n; i++) {
    if (y[i]) pos[p++] = score[i];
    else neg[q++] = score[i];
  }
  pos.sort();
  neg.sort();
  let u = 0;
  let below = 0; // negatives scored below the current positive
  for (let p = 0; p < nPos; ) {
    const s = pos[p];
    while (below < nNeg && neg[below] < s) below++;
    let tied = 0;
    while (below + tied < nNeg && neg[below + tied] === s) tied++;
    let same = 1; // at least this one (a NaN equals nothing)
    while (p + same < nPos && pos[p + same] === s) same++;
    u += same * (below + tied / 2);
    p += same;
  }
  return u / (nPos * nNeg);
}

/** Evaluate a gate like `f1 >= 0.70` against metrics. Unknown metric: not passed, with the reason. */
export function evaluateGate(
  gate: { readonly metric: string; readonly op: '>=' | '>' | '<=' | '<'; readonly value: number } | undefined,
  metrics: Metrics,
): { passed: boolean; reason: string } {
  if (!gate) return { passed: true, reason: 'no gate' };
  const key = gate.metric === 'f1_score' ? 'f1' : gate.metric === 'auc' ? 'roc_auc' : gate.metric;
  const v = (metrics as unknown as Record<string, unknown>)[key];
  if (typeof v !== 'number' || Number.isNaN(v)) return { passed: false, reason: `metric ${gate.metric} is not one of ${METRIC_NAMES.join(', ')}` };
  const ok = gate.op === '>=' ? v >= gate.value : gate.op === '>' ? v > gate.value : gate.op === '<=' ? v <= gate.value : v < gate.value;
  return { passed: ok, reason: `${gate.metric} = ${v.toFixed(4)} ${ok ? 'meets' : 'fails'} ${gate.metric} ${gate.op} ${gate.value}` };
}
