// Scoring through onnxruntime-node: one InferenceSession per model version, created once and
// reused. Inputs are float32 columns, one per feature, in the feature schema's order.

import * as ort from 'onnxruntime-node';
import type { OnnxOutput } from './onnx-export.js';

export class OnnxScorer {
  private constructor(
    private readonly session: ort.InferenceSession,
    readonly featureNames: readonly string[],
    readonly output: OnnxOutput,
  ) {}

  /**
   * `threads`: ORT intra-op threads; 1 by default. Online requests are small (the event loop and
   * micro-batching are the parallelism), and batch scoring runs while apply may run other nodes:
   * measured on a busy 2-core machine, 2 threads scored 100k rows slower (8.2 s) than 1 (5.2 s).
   */
  static async load(modelBytesOrPath: Uint8Array | string, featureNames: readonly string[], output: OnnxOutput, threads = 1): Promise<OnnxScorer> {
    const opts: ort.InferenceSession.SessionOptions = { intraOpNumThreads: threads, interOpNumThreads: 1, graphOptimizationLevel: 'all', logSeverityLevel: 3 };
    const session =
      typeof modelBytesOrPath === 'string' ? await ort.InferenceSession.create(modelBytesOrPath, opts) : await ort.InferenceSession.create(modelBytesOrPath, opts);
    return new OnnxScorer(session, featureNames, output);
  }

  /** Class-1 probabilities for n rows given per-feature float32 columns (each of length n). */
  async scoreColumns(columns: readonly Float32Array[], n: number): Promise<Float32Array> {
    const feeds: Record<string, ort.Tensor> = {};
    for (let f = 0; f < this.featureNames.length; f++) feeds[this.featureNames[f]] = new ort.Tensor('float32', columns[f], [n, 1]);
    const out = await this.session.run(feeds, [this.output.name]);
    const data = out[this.output.name].data as Float32Array;
    if (this.output.width === 1) return data;
    const p = new Float32Array(n);
    for (let i = 0; i < n; i++) p[i] = data[i * this.output.width + this.output.column];
    return p;
  }

  /** Same, from a row-major matrix X[i * F + f]. */
  async scoreRows(X: Float32Array, n: number): Promise<Float32Array> {
    const F = this.featureNames.length;
    const cols: Float32Array[] = [];
    for (let f = 0; f < F; f++) {
      const c = new Float32Array(n);
      for (let i = 0; i < n; i++) c[i] = X[i * F + f];
      cols.push(c);
    }
    return this.scoreColumns(cols, n);
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}
