// Dynamic micro-batching for online scoring: a single-row ONNX run costs a fixed ~0.1–0.3 ms of
// session overhead whatever the model, so requests that arrive while a run is pending are scored
// together in the next run (one setImmediate window, at most MAX_ROWS rows), then split back per
// request. Under low load a request waits for nothing but one event-loop turn; under high load the
// per-run overhead is shared (the technique Triton calls dynamic batching).

import { floatColumns, type OnnxScorer, type ScoreColumn } from '../ml/onnx-session.js';

const MAX_ROWS = 4096;

interface Pending {
  readonly cols: readonly ScoreColumn[];
  readonly n: number;
  resolve(p: Float32Array): void;
  reject(e: unknown): void;
}

export class MicroBatcher {
  private queue: Pending[] = [];
  private rows = 0;
  private scheduled = false;

  constructor(private readonly scorer: OnnxScorer) {}

  score(cols: readonly ScoreColumn[], n: number): Promise<Float32Array> {
    return new Promise((resolve, reject) => {
      this.queue.push({ cols, n, resolve, reject });
      this.rows += n;
      if (this.rows >= MAX_ROWS) this.flush();
      else if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.scheduled = false;
    const batch = this.queue;
    const total = this.rows;
    this.queue = [];
    this.rows = 0;
    if (batch.length === 0) return;
    if (batch.length === 1) {
      const only = batch[0];
      this.scorer.scoreColumns(only.cols, only.n).then(only.resolve, only.reject);
      return;
    }
    const F = batch[0].cols.length;
    const cols: ScoreColumn[] = [];
    const floats = floatColumns(F, total);
    for (let f = 0; f < F; f++) {
      if (!(batch[0].cols[f] instanceof Float32Array)) {
        cols.push(batch.flatMap((b) => b.cols[f] as readonly (string | null)[]));
        continue;
      }
      const c = floats[f];
      let at = 0;
      for (const b of batch) {
        c.set(b.cols[f] as Float32Array, at);
        at += b.n;
      }
      cols.push(c);
    }
    this.scorer.scoreColumns(cols, total).then(
      (p) => {
        let at = 0;
        for (const b of batch) {
          b.resolve(p.subarray(at, at + b.n));
          at += b.n;
        }
      },
      (e) => {
        for (const b of batch) b.reject(e);
      },
    );
  }
}
