// Random forest with scikit-learn's semantics: each tree sees a bootstrap sample (drawn as
// per-row counts, i.e. sample weights), considers `max_features` random features per split
// (drawing more when those are all constant, as scikit-learn does), splits on gini, and a leaf
// holds its (weighted) class fractions; the forest's probability is the mean over trees.
// Splits are searched over histogram bins (src/ml/binning.ts) for speed.

import type { Binned } from './binning.js';
import { Rng } from './prng.js';
import { classWeights, resolveMaxFeatures, type ForestParams } from './params.js';
import { addNode, newTree, type Tree, type TreeEnsemble } from './tree.js';

export function trainForest(binned: Binned, y: Uint8Array, featureNames: readonly string[], p: ForestParams): TreeEnsemble {
  const { n, F } = binned;
  const master = new Rng(p.seed);
  const cw = classWeights(y, p.classWeight);
  const mtry = resolveMaxFeatures(p.maxFeatures, F);
  const trees: Tree[] = [];
  const counts = new Uint32Array(n);
  const scratch = new Scratch(n);
  for (let t = 0; t < p.nEstimators; t++) {
    const rng = new Rng(Math.floor(master.next() * 2 ** 31));
    counts.fill(0);
    if (p.bootstrap) for (let k = 0; k < n; k++) counts[rng.int(n)]++;
    else counts.fill(1);
    let m = 0;
    for (let i = 0; i < n; i++) if (counts[i]) scratch.idx[m++] = i;
    for (let i = 0; i < n; i++) {
      scratch.w[i] = counts[i] * cw[y[i]];
      scratch.wy[i] = y[i] ? scratch.w[i] : 0;
    }
    trees.push(growTree(binned, y, scratch, m, p, mtry, rng));
  }
  return { kind: 'random_forest', featureNames, trees, baseScore: 0 };
}

class Scratch {
  readonly idx: Uint32Array;
  readonly w: Float64Array;
  /** w[i] when y[i] = 1, else 0: histograms add it without a branch on the class. */
  readonly wy: Float64Array;
  readonly tmp: Uint32Array;
  /** Per bin: total weight, weight of class 1, row count (only needed when min_samples_leaf > 1). */
  readonly h0 = new Float64Array(256);
  readonly h1 = new Float64Array(256);
  readonly hc = new Uint32Array(256);
  constructor(n: number) {
    this.idx = new Uint32Array(n);
    this.w = new Float64Array(n);
    this.wy = new Float64Array(n);
    this.tmp = new Uint32Array(n);
  }
}

interface Pending {
  node: number;
  start: number;
  end: number;
  depth: number;
  /** The node's total and class-1 weight, known from the parent's split (-1: compute). */
  total: number;
  w1: number;
}

function growTree(b: Binned, y: Uint8Array, s: Scratch, m: number, p: ForestParams, mtry: number, rng: Rng): Tree {
  const { n, F, codes, nBins, thresholds } = b;
  const tree = newTree();
  const featureOrder = new Int32Array(F);
  const stack: Pending[] = [{ node: addNode(tree), start: 0, end: m, depth: 0, total: -1, w1: 0 }];
  const { idx, w, wy, h0: ht, h1, hc } = s;
  const needCounts = p.minSamplesLeaf > 1;
  while (stack.length) {
    const cur = stack.pop()!;
    const { node, start, end, depth } = cur;
    let total = cur.total;
    let w1 = cur.w1;
    if (total < 0) {
      total = 0;
      w1 = 0;
      for (let k = start; k < end; k++) {
        const i = idx[k];
        total += w[i];
        w1 += wy[i];
      }
    }
    // Totals carried from the parent are differences of sums: snap rounding dust so that a pure
    // node is seen as pure, exactly as a fresh sum would.
    if (w1 <= total * 1e-12) w1 = 0;
    else if (total - w1 <= total * 1e-12) w1 = total;
    const w0 = total - w1;
    tree.value[node] = total > 0 ? w1 / total : 0;
    const count = end - start;
    if (depth >= p.maxDepth || count < p.minSamplesSplit || count < 2 * p.minSamplesLeaf || w0 === 0 || w1 === 0) continue;

    // Best split: maximise sum over children of (w_c0² + w_c1²) / w_c (minimises weighted gini).
    const parentScore = (w0 * w0 + w1 * w1) / total;
    let bestScore = -Infinity;
    let bestF = -1;
    let bestBin = -1;
    let bestLw = 0;
    let bestL1 = 0;
    for (let f = 0; f < F; f++) featureOrder[f] = f;
    let tried = 0;
    for (let k = 0; k < F; k++) {
      if (tried >= mtry && bestF >= 0) break;
      const j = k + rng.int(F - k);
      const f = featureOrder[j];
      featureOrder[j] = featureOrder[k];
      featureOrder[k] = f;
      tried++;
      const nb = nBins[f];
      if (nb < 2) continue;
      ht.fill(0, 0, nb);
      h1.fill(0, 0, nb);
      const base = f * n;
      if (needCounts) {
        hc.fill(0, 0, nb);
        for (let q = start; q < end; q++) {
          const i = idx[q];
          const c = codes[base + i];
          ht[c] += w[i];
          h1[c] += wy[i];
          hc[c]++;
        }
      } else {
        for (let q = start; q < end; q++) {
          const i = idx[q];
          const c = codes[base + i];
          ht[c] += w[i];
          h1[c] += wy[i];
        }
      }
      let lw = 0;
      let l1 = 0;
      let lc = 0;
      for (let c = 0; c < nb - 1; c++) {
        lw += ht[c];
        l1 += h1[c];
        if (needCounts) {
          lc += hc[c];
          if (lc < p.minSamplesLeaf) continue;
          if (count - lc < p.minSamplesLeaf) break;
        }
        // With min_samples_leaf = 1 a side is non-empty exactly when its weight is positive
        // (every in-bag row has a positive weight).
        const l0 = lw - l1;
        const r1 = w1 - l1;
        const rw = total - lw;
        const r0 = rw - r1;
        if (lw <= 1e-12 || rw <= 1e-12) continue;
        const score = (l0 * l0 + l1 * l1) / lw + (r0 * r0 + r1 * r1) / rw;
        if (score > bestScore + 1e-12) {
          bestScore = score;
          bestF = f;
          bestBin = c;
          bestLw = lw;
          bestL1 = l1;
        }
      }
    }
    if (bestF < 0 || bestScore < parentScore - 1e-9) continue;

    // Stable partition of idx[start, end): rows with code <= bestBin first, each side keeping its
    // ascending order, so later passes read codes and weights nearly sequentially (cache-friendly).
    const base = bestF * n;
    const tmp = s.tmp;
    let lo = start;
    let r = 0;
    for (let q = start; q < end; q++) {
      const i = idx[q];
      if (codes[base + i] <= bestBin) idx[lo++] = i;
      else tmp[r++] = i;
    }
    idx.set(tmp.subarray(0, r), lo);
    const mid = lo;
    tree.feature[node] = bestF;
    tree.threshold[node] = thresholds[bestF][bestBin];
    const l = addNode(tree);
    const rn = addNode(tree);
    tree.left[node] = l;
    tree.right[node] = rn;
    // Right first so the left subtree is built (and numbered) first.
    stack.push({ node: rn, start: mid, end, depth: depth + 1, total: total - bestLw, w1: w1 - bestL1 });
    stack.push({ node: l, start, end: mid, depth: depth + 1, total: bestLw, w1: bestL1 });
  }
  return tree;
}
