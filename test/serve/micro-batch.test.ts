// The micro-batcher's reused input buffer (src/serve/micro-batch.ts): every run reads the rows of its
// own requests, also when a run starts while another still holds the buffer, and each request gets
// its own rows' scores back.
import { describe, expect, it } from 'vitest';
import type { OnnxScorer, ScoreColumn } from '../../src/ml/onnx-session.js';
import { MicroBatcher, requestColumns } from '../../src/serve/micro-batch.js';

/** A scorer whose runs finish only when told to; each run's score of a row is the sum of its features, read when the run finishes. */
function heldScorer() {
  const runs: { cols: readonly ScoreColumn[]; n: number; finish: () => void }[] = [];
  const scorer = {
    scoreColumns: (cols: readonly ScoreColumn[], n: number) =>
      new Promise<Float32Array>((resolve) => {
        runs.push({
          cols,
          n,
          finish: () => {
            const p = new Float32Array(n);
            for (let i = 0; i < n; i++) for (const c of cols) p[i] += (c as Float32Array)[i];
            resolve(p);
          },
        });
      }),
  } as unknown as OnnxScorer;
  return { scorer, runs };
}

const row = (...xs: number[]): Float32Array[] => {
  const cols = requestColumns(xs.length, 1);
  for (let f = 0; f < xs.length; f++) cols[f][0] = xs[f];
  return cols;
};
const turn = () => new Promise((r) => setImmediate(r));

describe('MicroBatcher', () => {
  it('scores requests of one event-loop turn in one run, each getting its own rows back', async () => {
    const { scorer, runs } = heldScorer();
    const b = new MicroBatcher(scorer);
    const answers = [b.score(row(1, 2), 1), b.score(row(10, 20), 1), b.score(row(100, 200), 1)];
    await turn();
    expect(runs.map((r) => r.n)).toEqual([3]);
    runs[0].finish();
    expect((await Promise.all(answers)).map((p) => [...p])).toEqual([[3], [30], [300]]);
  });

  it('does not overwrite the inputs of a run still pending when the next run starts', async () => {
    const { scorer, runs } = heldScorer();
    const b = new MicroBatcher(scorer);
    const first = b.score(row(1, 2), 1);
    await turn();
    const second = b.score(row(10, 20), 1);
    await turn();
    expect(runs).toHaveLength(2);
    // Both runs read their inputs only now, the first after the second was staged.
    runs[0].finish();
    runs[1].finish();
    expect([...(await first)]).toEqual([3]);
    expect([...(await second)]).toEqual([30]);
    // The buffer is free again: a third run reads its own rows.
    const third = b.score(row(7, 8), 1);
    await turn();
    runs[2].finish();
    expect([...(await third)]).toEqual([15]);
  });

  it('gives each request of several rows its own slice of the run', async () => {
    const { scorer, runs } = heldScorer();
    const b = new MicroBatcher(scorer);
    const two = requestColumns(1, 2);
    two[0].set([4, 5]);
    const answers = [b.score(row(1), 1), b.score(two, 2)];
    await turn();
    runs[0].finish();
    expect((await Promise.all(answers)).map((p) => [...p])).toEqual([[1], [4, 5]]);
  });
});

describe('MicroBatcher over a synchronous scorer (the JavaScript forest)', () => {
  it('scores each request at once, alone, and passes a scoring error to that request', async () => {
    const calls: number[] = [];
    const scorer = {
      engine: 'javascript',
      scoreNow: (cols: readonly ScoreColumn[], n: number) => {
        calls.push(n);
        if ((cols[0] as Float32Array)[0] < 0) throw new Error('bad row');
        return Float32Array.from({ length: n }, (_, i) => (cols[0] as Float32Array)[i] * 2);
      },
    } as unknown as OnnxScorer;
    const b = new MicroBatcher(scorer);
    const answers = [b.score(row(1), 1), b.score(row(2), 1)];
    // Both scored before any event-loop turn, each in a run of its own.
    expect(calls).toEqual([1, 1]);
    expect((await Promise.all(answers)).map((p) => [...p])).toEqual([[2], [4]]);
    await expect(b.score(row(-1), 1)).rejects.toThrow('bad row');
  });
});
