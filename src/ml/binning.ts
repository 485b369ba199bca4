// Histogram binning: each feature is cut into at most 255 bins at float32 thresholds, and trees
// split only at those thresholds. `bin(x) <= b` holds exactly when `x <= thresholds[b]` (both in
// float32), so a split found on bins is the same split ONNX's BRANCH_LEQ makes on raw inputs.

export const MAX_BINS = 255;

export interface Binned {
  readonly n: number;
  readonly F: number;
  /** Column-major bin codes: codes[f * n + i]. */
  readonly codes: Uint8Array;
  /** Per feature: the ascending float32 cut points; bin b holds x <= thresholds[b] (and > thresholds[b-1]). */
  readonly thresholds: readonly Float32Array[];
  /** Per feature: the number of bins (thresholds.length + 1). */
  readonly nBins: Uint16Array;
}

const SAMPLE = 200_000;

/** Cut points per feature: midpoints between distinct values, or quantiles when there are too many. */
export function computeThresholds(X: Float32Array, n: number, F: number, maxBins = MAX_BINS): Float32Array[] {
  const out: Float32Array[] = [];
  const step = n > SAMPLE ? n / SAMPLE : 1;
  const m = Math.min(n, SAMPLE);
  const col = new Float32Array(m);
  for (let f = 0; f < F; f++) {
    for (let k = 0; k < m; k++) col[k] = X[Math.floor(k * step) * F + f];
    col.sort();
    const distinct: number[] = [];
    for (let k = 0; k < m; k++) if (k === 0 || col[k] !== col[k - 1]) distinct.push(col[k]);
    const cuts: number[] = [];
    if (distinct.length <= maxBins) {
      for (let k = 0; k + 1 < distinct.length; k++) cuts.push(midpoint(distinct[k], distinct[k + 1]));
    } else {
      // Quantile cut points over the (sorted) sample, snapped to midpoints between neighbours.
      for (let b = 1; b < maxBins; b++) {
        const pos = Math.floor((b * m) / maxBins);
        const lo = col[pos - 1];
        const hi = col[pos];
        if (lo !== hi) cuts.push(midpoint(lo, hi));
      }
    }
    // Keep them strictly increasing after rounding to float32.
    const uniq: number[] = [];
    for (const c of cuts) if (uniq.length === 0 || c > uniq[uniq.length - 1]) uniq.push(c);
    out.push(Float32Array.from(uniq));
  }
  return out;
}

function midpoint(a: number, b: number): number {
  const m = Math.fround(a + (b - a) / 2);
  // Rounding may land on b; a threshold equal to b would send b left, so fall back to a.
  return m >= b ? Math.fround(a) : m;
}

/** Bin every value: the index of the first threshold >= x (binary search), or the last bin. */
export function binData(X: Float32Array, n: number, F: number, thresholds: readonly Float32Array[]): Binned {
  const codes = new Uint8Array(n * F);
  const nBins = new Uint16Array(F);
  for (let f = 0; f < F; f++) {
    const t = thresholds[f];
    nBins[f] = t.length + 1;
    const base = f * n;
    for (let i = 0; i < n; i++) {
      const x = X[i * F + f];
      let lo = 0;
      let hi = t.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (x <= t[mid]) hi = mid;
        else lo = mid + 1;
      }
      codes[base + i] = lo;
    }
  }
  return { n, F, codes, thresholds, nBins };
}
