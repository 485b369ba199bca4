// Dynamic micro-batching for online scoring: a single-row ONNX run costs a fixed ~0.1–0.3 ms of
// session overhead whatever the model, so requests that arrive while a run is pending are scored
// together in the next run (one setImmediate window, at most MAX_ROWS rows), then split back per
// request. Under low load a request waits for nothing but one event-loop turn; under high load the
// per-run overhead is shared (the technique Triton calls dynamic batching). A model the JavaScript
// forest evaluator scores (src/ml/onnx-session.ts) has no such overhead: its requests are scored at
// once, each alone.
//
// The float inputs of a run are copied into one buffer the batcher keeps from run to run. A typed
// array handed to onnxruntime is moved off V8's heap (its ArrayBuffer gets a native backing store),
// and every such buffer is freed in the next scavenge's pause (`scavenge.sweep_array_buffers`, on
// the main thread when the GC is single-threaded, src/cli/relaunch.ts): a new one per request made
// that sweep most of a scavenge's pause at 2,000 req/s (bench/serve.md, session 10). The requests'
// own columns (requestColumns) stay small arrays on V8's heap that native code never sees.

import { floatColumns, type OnnxScorer, type ScoreColumn } from '../ml/onnx-session.js';

const MAX_ROWS = 4096;

interface Pending {
  readonly cols: readonly ScoreColumn[];
  readonly n: number;
  resolve(p: Float32Array): void;
  reject(e: unknown): void;
}

/**
 * A request's float columns: `count` arrays of `n` rows, one per feature. Up to 16 rows each stays on
 * V8's heap (64 bytes): no ArrayBuffer to sweep at the next scavenge. Views of one buffer
 * (floatColumns) would not: `subarray` of a typed array on the heap moves its buffer off the heap
 * at once.
 */
export function requestColumns(count: number, n: number): Float32Array[] {
  const cols = new Array<Float32Array>(count);
  for (let k = 0; k < count; k++) cols[k] = new Float32Array(n);
  return cols;
}

export class MicroBatcher {
  private queue: Pending[] = [];
  private rows = 0;
  private scheduled = false;
  /** The float inputs' buffer, reused by every run that starts while no other run holds it. */
  private staging = new Float32Array(0);
  private stagingBusy = false;

  constructor(private readonly scorer: OnnxScorer) {}

  score(cols: readonly ScoreColumn[], n: number): Promise<Float32Array> {
    // A synchronous scorer (the JavaScript forest) has no per-run overhead to share: score now,
    // without waiting for the next event-loop turn.
    if (this.scorer.engine === 'javascript') {
      try {
        return Promise.resolve(this.scorer.scoreNow(cols, n)!);
      } catch (e) {
        return Promise.reject(e);
      }
    }
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
    const F = batch[0].cols.length;
    const own = !this.stagingBusy;
    const floats = own ? this.stagingColumns(F, total) : floatColumns(F, total);
    if (own) this.stagingBusy = true;
    const cols: ScoreColumn[] = [];
    for (let f = 0; f < F; f++) {
      if (!(batch[0].cols[f] instanceof Float32Array)) {
        cols.push(batch.length === 1 ? batch[0].cols[f] : batch.flatMap((b) => b.cols[f] as readonly (string | null)[]));
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
    const release = () => {
      if (own) this.stagingBusy = false;
    };
    this.scorer.scoreColumns(cols, total).then(
      (p) => {
        release();
        // A view of a small result would move its buffer off the heap (requestColumns).
        if (batch.length === 1) return batch[0].resolve(p);
        let at = 0;
        for (const b of batch) {
          b.resolve(p.subarray(at, at + b.n));
          at += b.n;
        }
      },
      (e) => {
        release();
        for (const b of batch) b.reject(e);
      },
    );
  }

  /** `count` columns of `n` rows over the staging buffer (grown to a power of two when too small). */
  private stagingColumns(count: number, n: number): Float32Array[] {
    const size = count * n;
    if (this.staging.length < size) this.staging = new Float32Array(2 ** Math.ceil(Math.log2(Math.max(size, 64))));
    const cols = new Array<Float32Array>(count);
    for (let k = 0; k < count; k++) cols[k] = this.staging.subarray(k * n, (k + 1) * n);
    return cols;
  }
}
