// Scoring a registered ONNX model: one scorer per model version, created once and reused. A random
// forest as src/ml/onnx-export.ts writes it is evaluated in JavaScript (src/ml/forest-evaluator.ts:
// bit-equal to onnxruntime, synchronous, no native call per request; ASGARD_SCORER=onnxruntime turns
// it off); any other model runs in an onnxruntime-node InferenceSession. Inputs are columns, one per
// feature, in the feature schema's order: float32 for a numeric feature, strings for a categorical
// one (NULL or a value outside the vocabulary lands in the unknown bucket, src/ml/categorical.ts).

import { readFile } from 'node:fs/promises';
import * as ort from 'onnxruntime-node';
import type { OnnxOutput } from './onnx-export.js';
import { UNKNOWN_CODE, unknownToken } from './categorical.js';
import { ForestEvaluator } from './forest-evaluator.js';

/** What the scorer needs of a feature: its input name and, for a categorical one, the training vocabulary. */
export interface ScorerFeature {
  readonly name: string;
  readonly categories?: readonly string[] | null;
}

/** One feature's values for n rows: float32 (numeric) or strings (categorical; null for NULL). */
export type ScoreColumn = Float32Array | readonly (string | null)[];

/**
 * `count` float32 columns of `n` rows each, views of one buffer. onnxruntime's binding takes each
 * input's memory from its ArrayBuffer, and V8 moves a small typed array's buffer out of the heap when
 * native code asks for it: one buffer per request instead of one per feature is one allocation and
 * one buffer to free at the next scavenge instead of eight (bench/serve.md, session 7). (A view,
 * `subarray`, moves its buffer off the heap at once: the server's requests use separate arrays,
 * src/serve/micro-batch.ts.)
 */
export function floatColumns(count: number, n: number): Float32Array[] {
  const buf = new Float32Array(count * n);
  const cols = new Array<Float32Array>(count);
  for (let k = 0; k < count; k++) cols[k] = buf.subarray(k * n, (k + 1) * n);
  return cols;
}

export class OnnxScorer {
  readonly featureNames: readonly string[];
  private readonly unknown: (string | null)[];

  private constructor(
    /** Exactly one of the two: the JavaScript forest, or an onnxruntime session. */
    private readonly forest: ForestEvaluator | null,
    private readonly session: ort.InferenceSession | null,
    readonly features: readonly ScorerFeature[],
    readonly output: OnnxOutput,
  ) {
    this.featureNames = features.map((f) => f.name);
    this.unknown = features.map((f) => (f.categories ? unknownToken(f.categories) : null));
  }

  /**
   * `threads`: ORT intra-op threads; 1 by default. Online requests are small (the event loop and
   * micro-batching are the parallelism), and batch scoring runs while apply may run other nodes:
   * measured on a busy 2-core machine, 2 threads scored 100k rows slower (8.2 s) than 1 (5.2 s).
   * The JavaScript forest equals onnxruntime at one thread (with more, onnxruntime adds the trees'
   * partial sums in another order), so it is used only then.
   */
  static async load(modelBytesOrPath: Uint8Array | string, features: readonly ScorerFeature[], output: OnnxOutput, threads = 1): Promise<OnnxScorer> {
    const bytes = typeof modelBytesOrPath === 'string' ? new Uint8Array(await readFile(modelBytesOrPath)) : modelBytesOrPath;
    const forest =
      threads === 1 && process.env.ASGARD_SCORER !== 'onnxruntime'
        ? ForestEvaluator.fromOnnx(
            bytes,
            features.map((f) => f.name),
            output,
          )
        : null;
    if (forest) return new OnnxScorer(forest, null, features, output);
    const opts: ort.InferenceSession.SessionOptions = { intraOpNumThreads: threads, interOpNumThreads: 1, graphOptimizationLevel: 'all', logSeverityLevel: 3 };
    return new OnnxScorer(null, await ort.InferenceSession.create(bytes, opts), features, output);
  }

  /** Which evaluator scores: 'javascript' (the forest evaluator) or 'onnxruntime'. */
  get engine(): 'javascript' | 'onnxruntime' {
    return this.forest ? 'javascript' : 'onnxruntime';
  }

  /** The class-1 probabilities at once when the scorer is synchronous (the JavaScript forest), else null. */
  scoreNow(columns: readonly ScoreColumn[], n: number): Float32Array | null {
    return this.forest ? this.forest.score(columns, n) : null;
  }

  /** Whether feature f takes strings. */
  isCategorical(f: number): boolean {
    return this.unknown[f] !== null;
  }

  /** A column of n rows holding one value everywhere (the server's warm-up row). */
  blankColumns(n: number): ScoreColumn[] {
    return this.features.map((_, f) => (this.isCategorical(f) ? new Array<string | null>(n).fill(null) : new Float32Array(n)));
  }

  /** Class-1 probabilities for n rows given per-feature columns (each of length n). */
  async scoreColumns(columns: readonly ScoreColumn[], n: number): Promise<Float32Array> {
    if (this.forest) return this.forest.score(columns, n);
    const session = this.session!;
    const feeds: Record<string, ort.Tensor> = {};
    for (let f = 0; f < this.features.length; f++) {
      const col = columns[f];
      const unknown = this.unknown[f];
      if (unknown !== null) {
        if (col instanceof Float32Array) throw new Error(`internal error: ${this.featureNames[f]} is categorical; got a float column`);
        const strings = new Array<string>(n);
        for (let i = 0; i < n; i++) strings[i] = col[i] ?? unknown;
        feeds[this.featureNames[f]] = new ort.Tensor('string', strings, [n, 1]);
      } else {
        if (!(col instanceof Float32Array)) throw new Error(`internal error: ${this.featureNames[f]} is numeric; got a string column`);
        feeds[this.featureNames[f]] = new ort.Tensor('float32', col, [n, 1]);
      }
    }
    const out = await session.run(feeds, [this.output.name]);
    const data = out[this.output.name].data as Float32Array;
    if (this.output.width === 1) return data;
    const p = new Float32Array(n);
    for (let i = 0; i < n; i++) p[i] = data[i * this.output.width + this.output.column];
    return p;
  }

  /** Same, from a row-major matrix X[i * F + f] whose categorical columns hold codes into `categories` (the trainer's). */
  async scoreRows(X: Float32Array, n: number, categories?: readonly (readonly string[] | null)[]): Promise<Float32Array> {
    return this.scoreColumns(matrixColumns(X, n, this.features.length, categories), n);
  }

  async release(): Promise<void> {
    await this.session?.release();
  }
}

/** Per-feature columns of a row-major matrix; a categorical column's codes decoded back to their strings (unknown → null). */
export function matrixColumns(X: Float32Array, n: number, F: number, categories?: readonly (readonly string[] | null)[]): ScoreColumn[] {
  const cols: ScoreColumn[] = [];
  for (let f = 0; f < F; f++) {
    const vocab = categories?.[f];
    if (vocab) {
      const c = new Array<string | null>(n);
      for (let i = 0; i < n; i++) {
        const code = X[i * F + f];
        c[i] = code === UNKNOWN_CODE ? null : vocab[code];
      }
      cols.push(c);
    } else {
      const c = new Float32Array(n);
      for (let i = 0; i < n; i++) c[i] = X[i * F + f];
      cols.push(c);
    }
  }
  return cols;
}
