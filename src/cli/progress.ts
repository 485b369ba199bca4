// Apply's live progress on stderr and its summary table. On a terminal, one status line is
// rewritten in place for the nodes that are running; otherwise (CI logs, pipes) a line is printed
// when a node starts and ends and at most every 10 seconds while it runs.

import type { ApplyEvent, NodeOutcome } from '../engine/apply.js';
import type { NodeId } from '../ir/types.js';
import { groupDigits } from '../util/digits.js';

const fmtSec = (s: number) => (s < 10 ? s.toFixed(2) : s.toFixed(1));
const rate = (rows: number, s: number) => (s > 0 && rows > 0 ? `, ${groupDigits(Math.round(rows / s))} rows/s` : '');

export interface ProgressOptions {
  readonly err: (t: string) => void;
  readonly tty: boolean;
  readonly color: boolean;
  readonly debug?: boolean;
  /** Clock for "sparse" lines (tests). */
  readonly now?: () => number;
}

export function progressReporter(o: ProgressOptions): { onEvent: (e: ApplyEvent) => void; done: () => void } {
  const paint = (code: string, s: string) => (o.color ? `\x1b[${code}m${s}\x1b[0m` : s);
  const now = o.now ?? (() => Date.now());
  const running = new Map<NodeId, { rows: number; seconds: number; message?: string }>();
  const lastLine = new Map<NodeId, number>();
  let statusShown = false;
  const clearStatus = () => {
    if (statusShown) o.err('\r\x1b[K');
    statusShown = false;
  };
  const drawStatus = () => {
    if (!o.tty || running.size === 0) return;
    const parts = [...running].map(([id, p]) => `${id} ${groupDigits(p.rows)} rows ${fmtSec(p.seconds)}s${rate(p.rows, p.seconds)}`);
    const line = `  … ${parts.join(' | ')}`;
    const width = (process.stderr.columns ?? 120) - 1;
    o.err(`\r\x1b[K${line.length > width ? line.slice(0, width - 1) + '…' : line}`);
    statusShown = true;
  };
  const print = (line: string) => {
    clearStatus();
    o.err(line + '\n');
    drawStatus();
  };
  const onEvent = (e: ApplyEvent) => {
    switch (e.type) {
      case 'start':
        running.set(e.node, { rows: 0, seconds: 0 });
        if (!o.tty) print(`  … ${e.node}: ${e.step === 'refresh' ? 'syncing' : e.step === 'delete' ? 'deleting' : 'starting'}`);
        else drawStatus();
        lastLine.set(e.node, now());
        break;
      case 'progress':
        running.set(e.node, { rows: e.rows, seconds: e.seconds, message: e.message });
        if (o.tty) drawStatus();
        else if (now() - (lastLine.get(e.node) ?? 0) >= 10_000) {
          lastLine.set(e.node, now());
          print(`  … ${e.node}: ${groupDigits(e.rows)} rows, ${fmtSec(e.seconds)}s${rate(e.rows, e.seconds)}${e.message ? ` (${e.message})` : ''}`);
        }
        break;
      case 'warn':
        print(`  ${paint('33', 'warning')} ${e.node}: ${e.message}`);
        break;
      case 'end': {
        running.delete(e.outcome.node);
        const x = e.outcome;
        const rows = x.rows !== undefined ? `, ${groupDigits(x.rows)} rows${rate(x.rows, x.seconds)}` : '';
        if (x.status === 'succeeded') print(`  ${paint('32', '✓')} ${x.node} (${fmtSec(x.seconds)}s${rows}${x.maintenance ? `, ${x.maintenance}` : ''})`);
        else if (x.status === 'failed') {
          print(`  ${paint('31', '✗')} ${x.node} failed: ${x.error}`);
          if (o.debug && e.cause instanceof Error && e.cause.stack) print(e.cause.stack);
        } else if (x.status === 'skipped') print(`  ${paint('90', '-')} ${x.node} skipped: ${x.error}`);
        // unchanged nodes never started: the summary table lists them.
        break;
      }
    }
  };
  return { onEvent, done: clearStatus };
}

/** The end-of-apply table. */
export function summaryTable(nodes: readonly NodeOutcome[]): string {
  const rows = nodes.map((n) => [n.node, n.status, n.rows !== undefined ? groupDigits(n.rows) : '', fmtSec(n.seconds), n.error ?? '']);
  const head = ['node', 'status', 'rows', 'seconds', 'error'];
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r: string[]) =>
    r
      .map((c, i) => (i === 2 || i === 3 ? c.padStart(w[i]) : c.padEnd(w[i])))
      .join('  ')
      .trimEnd();
  const count = (s: string) => nodes.filter((n) => n.status === s).length;
  return [
    line(head),
    ...rows.map(line),
    '',
    `Apply ${count('failed') ? 'failed' : 'complete'}: ${count('succeeded')} succeeded, ${count('failed')} failed, ${count('skipped')} skipped, ${count('unchanged')} unchanged.`,
    '',
  ].join('\n');
}
