import { describe, expect, it } from 'vitest';
import { progressReporter, summaryTable } from '../../src/cli/progress.js';

describe('apply progress', () => {
  it('off a terminal: a line per start and end, progress at most every 10 s', () => {
    let out = '';
    let now = 0;
    const r = progressReporter({ err: (t) => (out += t), tty: false, color: false, now: () => now });
    r.onEvent({ type: 'start', node: 'bronze.a', step: 'refresh' });
    r.onEvent({ type: 'progress', node: 'bronze.a', rows: 1000, seconds: 1 });
    now = 11_000;
    r.onEvent({ type: 'progress', node: 'bronze.a', rows: 50_000, seconds: 11 });
    now = 12_000;
    r.onEvent({ type: 'progress', node: 'bronze.a', rows: 60_000, seconds: 12 });
    r.onEvent({ type: 'warn', node: 'bronze.a', message: 'late rows' });
    r.onEvent({ type: 'end', outcome: { node: 'bronze.a', status: 'succeeded', rows: 60_000, seconds: 12 } });
    r.onEvent({ type: 'end', outcome: { node: 'silver.b', status: 'failed', seconds: 0.5, error: 'bad SQL' } });
    r.onEvent({ type: 'end', outcome: { node: 'gold.c', status: 'skipped', seconds: 0, error: 'upstream silver.b failed' } });
    r.done();
    expect(out.split('\n')).toEqual([
      '  … bronze.a: syncing',
      '  … bronze.a: 50,000 rows, 11.0s, 4,545 rows/s',
      '  warning bronze.a: late rows',
      '  ✓ bronze.a (12.0s, 60,000 rows, 5,000 rows/s)',
      '  ✗ silver.b failed: bad SQL',
      '  - gold.c skipped: upstream silver.b failed',
      '',
    ]);
  });

  it('on a terminal: one status line rewritten in place', () => {
    let out = '';
    const r = progressReporter({ err: (t) => (out += t), tty: true, color: false });
    r.onEvent({ type: 'start', node: 'bronze.a', step: 'run' });
    r.onEvent({ type: 'progress', node: 'bronze.a', rows: 10, seconds: 1 });
    r.onEvent({ type: 'progress', node: 'bronze.a', rows: 20, seconds: 2 });
    r.onEvent({ type: 'end', outcome: { node: 'bronze.a', status: 'succeeded', rows: 20, seconds: 2 } });
    r.done();
    expect(out).toContain('\r\x1b[K  … bronze.a 20 rows 2.00s, 10 rows/s');
    expect(out.split('\n').filter((l) => l.includes('✓'))).toHaveLength(1);
    expect(out.endsWith('\n')).toBe(true);
  });

  it('ends with a table and a one-line verdict', () => {
    const t = summaryTable([
      { node: 'bronze.a', status: 'succeeded', rows: 1200, seconds: 1.5 },
      { node: 'silver.b', status: 'failed', seconds: 0.25, error: 'bad SQL' },
      { node: 'gold.c', status: 'unchanged', seconds: 0 },
    ]);
    expect(t).toBe(
      [
        'node      status      rows  seconds  error',
        'bronze.a  succeeded  1,200     1.50',
        'silver.b  failed               0.25  bad SQL',
        'gold.c    unchanged            0.00',
        '',
        'Apply failed: 1 succeeded, 1 failed, 0 skipped, 1 unchanged.',
        '',
      ].join('\n'),
    );
  });
});
