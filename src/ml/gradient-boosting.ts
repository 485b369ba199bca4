// Gradient-boosted trees for binary log-loss, histogram-based: each round fits a depth-limited
// tree to the gradients (p − y) and hessians p(1 − p), with Newton leaf values −G / (H + λ)
// scaled by the learning rate; the model's probability is sigmoid(baseScore + Σ leaves).

import type { Binned } from './binning.js';
import { Rng } from './prng.js';
import { classWeights, type BoostingParams } from './params.js';
import { addNode, newTree, sigmoid, type Tree, type TreeEnsemble } from './tree.js';

const MIN_HESSIAN = 1e-3;

export function trainBoosting(binned: Binned, y: Uint8Array, featureNames: readonly string[], p: BoostingParams): TreeEnsemble {
  const { n } = binned;
  const cw = classWeights(y, p.classWeight);
  const sw = new Float64Array(n);
  let wPos = 0;
  let wAll = 0;
  for (let i = 0; i < n; i++) {
    sw[i] = cw[y[i]];
    wAll += sw[i];
    if (y[i]) wPos += sw[i];
  }
  const prior = Math.min(1 - 1e-6, Math.max(1e-6, wPos / Math.max(wAll, 1e-12)));
  const baseScore = Math.log(prior / (1 - prior));
  const raw = new Float64Array(n).fill(baseScore);
  const g = new Float64Array(n);
  const h = new Float64Array(n);
  const idx = new Uint32Array(n);
  const rng = new Rng(p.seed);
  const trees: Tree[] = [];
  for (let round = 0; round < p.nEstimators; round++) {
    for (let i = 0; i < n; i++) {
      const pr = sigmoid(raw[i]);
      g[i] = (pr - y[i]) * sw[i];
      h[i] = Math.max(pr * (1 - pr), 1e-16) * sw[i];
    }
    let m = 0;
    if (p.subsample < 1) {
      for (let i = 0; i < n; i++) if (rng.next() < p.subsample) idx[m++] = i;
    } else for (let i = 0; i < n; i++) idx[m++] = i;
    const tree = growBoostTree(binned, g, h, idx, m, p, p.subsample < 1 ? undefined : raw);
    // With subsampling, rows left out of this round still get the tree's value.
    if (p.subsample < 1) for (let i = 0; i < n; i++) raw[i] += leafFor(tree, binned, i);
    const { splitBin: _bins, ...plain } = tree;
    trees.push(plain);
  }
  return { kind: 'gradient_boosting', featureNames, trees, baseScore };
}

/** The leaf value of training row i, following bin codes (the tree keeps each split's bin). */
function leafFor(tree: BoostTree, b: Binned, i: number): number {
  let node = 0;
  while (tree.feature[node] >= 0) node = b.codes[tree.feature[node] * b.n + i] <= tree.splitBin[node] ? tree.left[node] : tree.right[node];
  return tree.value[node];
}

interface BoostTree extends Tree {
  readonly splitBin: number[];
}

/** `raw`: when every row is in `idx`, each leaf adds its value to its rows' raw scores directly. */
function growBoostTree(b: Binned, g: Float64Array, h: Float64Array, idx: Uint32Array, m: number, p: BoostingParams, raw?: Float64Array): BoostTree {
  const tmp = new Uint32Array(m);
  const { n, F, codes, nBins, thresholds } = b;
  const tree: BoostTree = { ...newTree(), splitBin: [] };
  const hg = new Float64Array(256);
  const hh = new Float64Array(256);
  const hc = new Uint32Array(256);
  const lambda = p.l2;
  const add = () => {
    tree.splitBin.push(-1);
    return addNode(tree);
  };
  const stack: { node: number; start: number; end: number; depth: number }[] = [{ node: add(), start: 0, end: m, depth: 0 }];
  while (stack.length) {
    const { node, start, end, depth } = stack.pop()!;
    let G = 0;
    let H = 0;
    for (let k = start; k < end; k++) {
      G += g[idx[k]];
      H += h[idx[k]];
    }
    tree.value[node] = (-G / (H + lambda + 1e-12)) * p.learningRate;
    const count = end - start;
    const leaf = () => {
      if (raw) for (let k = start; k < end; k++) raw[idx[k]] += tree.value[node];
    };
    if (depth >= p.maxDepth || count < 2 * p.minSamplesLeaf) {
      leaf();
      continue;
    }
    const parentGain = (G * G) / (H + lambda);
    let best = 0;
    let bestF = -1;
    let bestBin = -1;
    for (let f = 0; f < F; f++) {
      const nb = nBins[f];
      if (nb < 2) continue;
      hg.fill(0, 0, nb);
      hh.fill(0, 0, nb);
      hc.fill(0, 0, nb);
      const base = f * n;
      for (let q = start; q < end; q++) {
        const i = idx[q];
        const c = codes[base + i];
        hg[c] += g[i];
        hh[c] += h[i];
        hc[c]++;
      }
      let lg = 0;
      let lh = 0;
      let lc = 0;
      for (let c = 0; c < nb - 1; c++) {
        lg += hg[c];
        lh += hh[c];
        lc += hc[c];
        if (lc < p.minSamplesLeaf) continue;
        if (count - lc < p.minSamplesLeaf) break;
        const rg = G - lg;
        const rh = H - lh;
        if (lh < MIN_HESSIAN || rh < MIN_HESSIAN) continue;
        const gain = (lg * lg) / (lh + lambda) + (rg * rg) / (rh + lambda) - parentGain;
        if (gain > best + 1e-12) {
          best = gain;
          bestF = f;
          bestBin = c;
        }
      }
    }
    if (bestF < 0) {
      leaf();
      continue;
    }
    // Stable partition: each side keeps ascending row order (sequential reads later).
    const base = bestF * n;
    let lo = start;
    let nr = 0;
    for (let q = start; q < end; q++) {
      const i = idx[q];
      if (codes[base + i] <= bestBin) idx[lo++] = i;
      else tmp[nr++] = i;
    }
    idx.set(tmp.subarray(0, nr), lo);
    tree.feature[node] = bestF;
    tree.threshold[node] = thresholds[bestF][bestBin];
    tree.splitBin[node] = bestBin;
    const l = add();
    const r = add();
    tree.left[node] = l;
    tree.right[node] = r;
    stack.push({ node: r, start: lo, end, depth: depth + 1 });
    stack.push({ node: l, start, end: lo, depth: depth + 1 });
  }
  return tree;
}
