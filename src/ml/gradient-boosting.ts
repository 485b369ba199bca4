// Gradient-boosted trees for binary log-loss, as scikit-learn's HistGradientBoostingClassifier
// does it (sklearn/ensemble/_hist_gradient_boosting): the baseline is the (weighted) prior
// log-odds; each round fits one tree to the gradients (p − y)·w and hessians p(1 − p)·w, grown
// best split first up to max_leaf_nodes leaves, with min_samples_leaf rows and a hessian sum of at
// least 1e-3 on each side of a split; leaf values are −G / (H + l2) scaled by the learning rate.
// Early stopping ('auto': on above 10,000 rows) holds out a stratified validation part and stops
// when its loss has not improved by more than `tol` for n_iter_no_change rounds. The model's
// probability is sigmoid(baseScore + Σ leaves).
//
// These defaults matter on rare labels: without a minimum leaf size a leaf of one or two positives
// gets the value 1/p (p the prior), scores saturate and the ensemble collapses to a single class.

import type { Binned } from './binning.js';
import { trainTestSplit } from './dataset.js';
import { classWeights, type BoostingParams } from './params.js';
import { addNode, newTree, type Tree, type TreeEnsemble } from './tree.js';

const MIN_HESSIAN_TO_SPLIT = 1e-3;
/** early_stopping = 'auto' turns it on above this many training rows (scikit-learn's rule). */
export const AUTO_EARLY_STOPPING_ROWS = 10_000;

export interface BoostingRun {
  readonly model: TreeEnsemble;
  /** Rounds actually run (early stopping may end before max_iter). */
  readonly iterations: number;
  readonly earlyStopping: boolean;
  /** Validation loss before the first round and after each (empty without early stopping). */
  readonly validationLoss: readonly number[];
}

export function trainBoosting(binned: Binned, y: Uint8Array, featureNames: readonly string[], p: BoostingParams): TreeEnsemble {
  return fitBoosting(binned, y, featureNames, p).model;
}

export function fitBoosting(binned: Binned, y: Uint8Array, featureNames: readonly string[], p: BoostingParams): BoostingRun {
  const { n } = binned;
  const cw = classWeights(y, p.classWeight);
  const sw = new Float64Array(n);
  for (let i = 0; i < n; i++) sw[i] = cw[y[i]];

  const early = p.earlyStopping === 'auto' ? n > AUTO_EARLY_STOPPING_ROWS : p.earlyStopping;
  let trainRows: Uint32Array<ArrayBufferLike>;
  let valRows: Uint32Array<ArrayBufferLike> = new Uint32Array(0);
  if (early) {
    const s = trainTestSplit(y, p.validationFraction, true, p.seed);
    trainRows = s.train;
    valRows = s.test;
  } else trainRows = Uint32Array.from({ length: n }, (_, i) => i);

  let wPos = 0;
  let wAll = 0;
  for (const i of trainRows) {
    wAll += sw[i];
    if (y[i]) wPos += sw[i];
  }
  const prior = Math.min(1 - 1e-15, Math.max(1e-15, wPos / Math.max(wAll, 1e-300)));
  const baseScore = Math.log(prior / (1 - prior));
  const raw = new Float64Array(n).fill(baseScore);
  const g = new Float64Array(n);
  const h = new Float64Array(n);
  const idx = new Uint32Array(trainRows.length);
  const grower = new TreeGrower(binned, p);
  const trees: Tree[] = [];
  const losses: number[] = early ? [logLoss(raw, y, sw, valRows)] : [];

  for (let round = 0; round < p.maxIter; round++) {
    for (const i of trainRows) {
      const pr = sigmoid64(raw[i]);
      g[i] = (pr - y[i]) * sw[i];
      h[i] = pr * (1 - pr) * sw[i];
    }
    idx.set(trainRows);
    const tree = grower.grow(g, h, idx, raw);
    for (const i of valRows) raw[i] += leafValue(tree, binned, i);
    trees.push({ feature: tree.feature, threshold: tree.threshold, left: tree.left, right: tree.right, value: tree.value });
    if (early) {
      losses.push(logLoss(raw, y, sw, valRows));
      if (shouldStop(losses, p.nIterNoChange, p.tol)) break;
    }
  }
  return { model: { kind: 'gradient_boosting', featureNames, trees, baseScore }, iterations: trees.length, earlyStopping: early, validationLoss: losses };
}

/** scikit-learn's _should_stop on scores = −loss: stop when none of the last n rounds beat the one before them by more than tol. */
function shouldStop(losses: readonly number[], nIterNoChange: number, tol: number): boolean {
  const ref = nIterNoChange + 1;
  if (losses.length < ref) return false;
  const reference = -losses[losses.length - ref] + tol;
  for (let k = losses.length - ref + 1; k < losses.length; k++) if (-losses[k] > reference) return false;
  return true;
}

/** Weighted mean binary log-loss of raw scores (log(1 + e^z) − y·z, computed stably). */
function logLoss(raw: Float64Array, y: Uint8Array, sw: Float64Array, rows: Uint32Array): number {
  let s = 0;
  let w = 0;
  for (const i of rows) {
    const z = raw[i];
    const softplus = z > 0 ? z + Math.log1p(Math.exp(-z)) : Math.log1p(Math.exp(z));
    s += sw[i] * (softplus - y[i] * z);
    w += sw[i];
  }
  return w > 0 ? s / w : 0;
}

const sigmoid64 = (z: number): number => (z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z)));

/** The leaf value of training row i, following bin codes (the tree keeps each split's bin). */
function leafValue(tree: BoostTree, b: Binned, i: number): number {
  let node = 0;
  while (tree.feature[node] >= 0) node = b.codes[tree.feature[node] * b.n + i] <= tree.splitBin[node] ? tree.left[node] : tree.right[node];
  return tree.value[node];
}

interface BoostTree extends Tree {
  readonly splitBin: number[];
}

interface Split {
  readonly gain: number;
  readonly feature: number;
  readonly bin: number;
}

/** A leaf of the tree being grown: its rows are idx[start, end); hist holds per-feature, per-bin sums. */
interface Open {
  readonly node: number;
  readonly start: number;
  readonly end: number;
  readonly depth: number;
  readonly G: number;
  readonly H: number;
  readonly hist: Hist;
  split?: Split;
}

/** Per feature f and bin c at f * 256 + c: gradient sum, hessian sum, row count. */
interface Hist {
  readonly g: Float64Array;
  readonly h: Float64Array;
  readonly c: Uint32Array;
}

class TreeGrower {
  private readonly pool: Hist[] = [];
  private tmp = new Uint32Array(0);

  constructor(
    private readonly b: Binned,
    private readonly p: BoostingParams,
  ) {}

  /** Grows one tree over the rows in idx (reordered in place) and adds each leaf's value to its rows' raw scores. */
  grow(g: Float64Array, h: Float64Array, idx: Uint32Array, raw: Float64Array): BoostTree {
    const { p } = this;
    if (this.tmp.length < idx.length) this.tmp = new Uint32Array(idx.length);
    const tree: BoostTree = { ...newTree(), splitBin: [] };
    const add = (): number => {
      tree.splitBin.push(-1);
      return addNode(tree);
    };
    const rootHist = this.build(g, h, idx, 0, idx.length);
    let G = 0;
    let H = 0;
    for (let k = 0; k < idx.length; k++) {
      G += g[idx[k]];
      H += h[idx[k]];
    }
    const open: Open[] = [];
    const leaves: Open[] = [];
    const consider = (o: Open) => {
      tree.value[o.node] = this.leafValue(o.G, o.H);
      const count = o.end - o.start;
      if (o.depth >= p.maxDepth || count < 2 * p.minSamplesLeaf) return this.close(o, leaves);
      const s = this.bestSplit(o);
      if (!s) return this.close(o, leaves);
      o.split = s;
      open.push(o);
    };
    consider({ node: add(), start: 0, end: idx.length, depth: 0, G, H, hist: rootHist });
    let nLeaves = 1;
    while (open.length && nLeaves < p.maxLeafNodes) {
      // Best split first (ties: the earlier node), as scikit-learn's grower pops its heap.
      let best = 0;
      for (let k = 1; k < open.length; k++) if (open[k].split!.gain > open[best].split!.gain) best = k;
      const o = open.splice(best, 1)[0];
      const s = o.split!;
      const mid = this.partition(idx, o.start, o.end, s);
      tree.feature[o.node] = s.feature;
      tree.threshold[o.node] = this.b.thresholds[s.feature][s.bin];
      tree.splitBin[o.node] = s.bin;
      const l = add();
      const r = add();
      tree.left[o.node] = l;
      tree.right[o.node] = r;
      // Histogram subtraction: scan the smaller child, derive the larger from the parent.
      const leftSmaller = mid - o.start <= o.end - mid;
      const small = leftSmaller ? this.build(g, h, idx, o.start, mid) : this.build(g, h, idx, mid, o.end);
      const large = o.hist;
      for (let k = 0; k < large.g.length; k++) {
        large.g[k] -= small.g[k];
        large.h[k] -= small.h[k];
        large.c[k] -= small.c[k];
      }
      const [lh, rh] = leftSmaller ? [small, large] : [large, small];
      const sums = (hist: Hist) => {
        // Sum over one feature's bins (every row falls in exactly one bin of feature 0).
        let sg = 0;
        let sh = 0;
        const nb = this.b.nBins[0];
        for (let c = 0; c < nb; c++) {
          sg += hist.g[c];
          sh += hist.h[c];
        }
        return [sg, sh] as const;
      };
      const [lG, lH] = sums(lh);
      const [rG, rH] = sums(rh);
      nLeaves++;
      consider({ node: l, start: o.start, end: mid, depth: o.depth + 1, G: lG, H: lH, hist: lh });
      consider({ node: r, start: mid, end: o.end, depth: o.depth + 1, G: rG, H: rH, hist: rh });
    }
    for (const o of open) this.close(o, leaves);
    for (const o of leaves) {
      const v = tree.value[o.node];
      for (let k = o.start; k < o.end; k++) raw[idx[k]] += v;
    }
    return tree;
  }

  private leafValue(G: number, H: number): number {
    return (-G / (H + this.p.l2 + 1e-15)) * this.p.learningRate;
  }

  private close(o: Open, leaves: Open[]): void {
    leaves.push(o);
    this.pool.push(o.hist);
  }

  private hist(): Hist {
    const F = this.b.F;
    const got = this.pool.pop();
    if (got) {
      got.g.fill(0);
      got.h.fill(0);
      got.c.fill(0);
      return got;
    }
    return { g: new Float64Array(F * 256), h: new Float64Array(F * 256), c: new Uint32Array(F * 256) };
  }

  private build(g: Float64Array, h: Float64Array, idx: Uint32Array, start: number, end: number): Hist {
    const { n, F, codes } = this.b;
    const out = this.hist();
    for (let f = 0; f < F; f++) {
      const base = f * n;
      const off = f * 256;
      for (let k = start; k < end; k++) {
        const i = idx[k];
        const c = off + codes[base + i];
        out.g[c] += g[i];
        out.h[c] += h[i];
        out.c[c]++;
      }
    }
    return out;
  }

  private bestSplit(o: Open): Split | undefined {
    const { F, nBins } = this.b;
    const { minSamplesLeaf: msl, l2 } = this.p;
    const count = o.end - o.start;
    const parent = (o.G * o.G) / (o.H + l2);
    let best: Split | undefined;
    for (let f = 0; f < F; f++) {
      const nb = nBins[f];
      if (nb < 2) continue;
      const off = f * 256;
      let lg = 0;
      let lh = 0;
      let lc = 0;
      for (let c = 0; c < nb - 1; c++) {
        lg += o.hist.g[off + c];
        lh += o.hist.h[off + c];
        lc += o.hist.c[off + c];
        if (lc < msl) continue;
        if (count - lc < msl) break;
        const rh = o.H - lh;
        if (lh < MIN_HESSIAN_TO_SPLIT) continue;
        if (rh < MIN_HESSIAN_TO_SPLIT) break;
        const rg = o.G - lg;
        const gain = (lg * lg) / (lh + l2) + (rg * rg) / (rh + l2) - parent;
        if (gain > 0 && (!best || gain > best.gain)) best = { gain, feature: f, bin: c };
      }
    }
    return best;
  }

  /** Stable partition of idx[start, end) by the split; returns where the right side begins. */
  private partition(idx: Uint32Array, start: number, end: number, s: Split): number {
    const { n, codes } = this.b;
    const base = s.feature * n;
    const tmp = this.tmp;
    let lo = start;
    let nr = 0;
    for (let q = start; q < end; q++) {
      const i = idx[q];
      if (codes[base + i] <= s.bin) idx[lo++] = i;
      else tmp[nr++] = i;
    }
    idx.set(tmp.subarray(0, nr), lo);
    return lo;
  }
}
