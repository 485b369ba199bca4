// Hand-made IR pieces for the engine's tests (the DSL's loader is tested on its own).
import { readFileSync } from 'node:fs';
import type { SqlBody, Span } from '../../src/ir/types.js';

export const span = (line = 1, column = 1, file = '/spec.asg'): Span => ({ file, line, column, endLine: line, endColumn: column + 1 });

export function body(text: string, line = 10, column = 11, file = '/spec.asg'): SqlBody {
  return { text, span: span(line, column, file), reads: [], normalized: text };
}

/** The SQL bodies of pipelines/churn.asg by block name, with their true spans (found by reading the file). */
export function churnBodies(): Map<string, SqlBody> {
  const file = new URL('../../pipelines/churn.asg', import.meta.url).pathname;
  const src = readFileSync(file, 'utf8');
  const out = new Map<string, SqlBody>();
  const re = /(cleanse|model)\s+(\w+)\s*\{[\s\S]*?sql """([\s\S]*?)"""/g;
  for (let m = re.exec(src); m; m = re.exec(src)) {
    const start = m.index + m[0].length - m[3].length - 3;
    const before = src.slice(0, start);
    const line = before.split('\n').length;
    const column = start - before.lastIndexOf('\n');
    out.set(m[2], { text: m[3], span: { file, line, column, endLine: line, endColumn: column + 1 }, reads: [], normalized: m[3] });
  }
  return out;
}
