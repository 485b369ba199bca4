// Interpreting single values: env()/secret() references, cron expressions, gate conditions.

import { Codes, diag, didYouMean } from '../../diagnostics/catalogue.js';
import type { Diagnostic } from '../../diagnostics/diagnostic.js';
import type { Resolvable, Span } from '../../ir/types.js';
import type { Value } from '../ast.js';

/** A literal, `env("NAME")`, `env("NAME", "default")` or `secret("NAME")`. */
export function toResolvable(v: Value, key: string, diags: Diagnostic[]): Resolvable | undefined {
  switch (v.kind) {
    case 'string':
    case 'number':
    case 'bool':
      return { kind: 'literal', value: v.value };
    case 'ref':
      return { kind: 'literal', value: v.text };
    case 'duration':
      return { kind: 'literal', value: v.text };
    case 'call': {
      const strs = v.args.map((a) => (a.name === undefined && a.value.kind === 'string' ? a.value.value : undefined));
      const ok = v.args.every((a) => a.name === undefined && a.value.kind === 'string');
      if (v.name === 'env' && ok && (strs.length === 1 || strs.length === 2) && isEnvName(strs[0]!)) {
        return strs.length === 2 ? { kind: 'env', name: strs[0]!, default: strs[1]! } : { kind: 'env', name: strs[0]! };
      }
      if (v.name === 'secret' && ok && strs.length === 1 && isEnvName(strs[0]!)) return { kind: 'secret', name: strs[0]! };
      if (v.name === 'env' || v.name === 'secret') {
        diags.push(
          diag(
            Codes.WrongValueType,
            `\`${key}\`: \`${v.name}(…)\` takes ${v.name === 'env' ? 'a variable name and an optional default' : 'one secret name'}, as strings`,
            v.span,
            {
              hint: v.name === 'env' ? 'e.g. `env("DB_URL", "postgres://localhost/db")`; names are letters, digits and `_`' : 'e.g. `secret("DB_PASSWORD")`',
            },
          ),
        );
        return undefined;
      }
      diags.push(
        diag(Codes.WrongValueType, `\`${key}\` cannot be \`${v.name}(…)\``, v.nameSpan, {
          hint: didYouMean(v.name, ['env', 'secret']) ?? 'use a literal, `env("NAME")` or `secret("NAME")`',
        }),
      );
      return undefined;
    }
    default:
      diags.push(diag(Codes.WrongValueType, `\`${key}\` must be a string, number, boolean, \`env("NAME")\` or \`secret("NAME")\``, v.span));
      return undefined;
  }
}

const isEnvName = (s: string): boolean => /^[A-Za-z_][A-Za-z0-9_]*$/.test(s);

// ── cron ───────────────────────────────────────────────────────────────────────────────────────

const CRON_FIELDS = [
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day of month', min: 1, max: 31 },
  { name: 'month', min: 1, max: 12 },
  { name: 'day of week', min: 0, max: 7 },
] as const;
const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const DAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];

/** Validates a five-field cron expression; returns the problem, or undefined when it is valid. */
export function cronProblem(expr: string): string | undefined {
  const fields = expr.trim().split(/\s+/);
  if (fields.length !== 5)
    return `a cron expression has 5 fields (minute hour day-of-month month day-of-week), this one has ${expr.trim() === '' ? 0 : fields.length}`;
  for (let i = 0; i < 5; i++) {
    const f = CRON_FIELDS[i];
    const names = i === 3 ? MONTHS : i === 4 ? DAYS : [];
    for (const part of fields[i].split(',')) {
      const m = /^(\*|([A-Za-z0-9]+)(?:-([A-Za-z0-9]+))?)(?:\/(\d+))?$/.exec(part);
      if (!m) return `the ${f.name} field \`${fields[i]}\` is not valid`;
      const num = (s: string): number | undefined => {
        const n = names.indexOf(s.toLowerCase());
        if (n >= 0) return i === 3 ? n + 1 : n;
        return /^\d+$/.test(s) ? Number(s) : undefined;
      };
      for (const s of [m[2], m[3]]) {
        if (s === undefined) continue;
        const n = num(s);
        if (n === undefined || n < f.min || n > f.max) return `the ${f.name} field \`${fields[i]}\` is out of range (${f.min}–${f.max})`;
      }
      if (m[4] !== undefined && Number(m[4]) === 0) return `the ${f.name} field \`${fields[i]}\` has a step of 0`;
      if (m[2] !== undefined && m[3] !== undefined && num(m[2])! > num(m[3])!) return `the ${f.name} field \`${fields[i]}\` has a range that runs backwards`;
    }
  }
  return undefined;
}

/** `schedule = cron("0 0 * * *")` (a bare string is accepted too). */
export function toCron(v: Value, diags: Diagnostic[]): string | undefined {
  let text: string | undefined;
  let span: Span = v.span;
  if (v.kind === 'string') text = v.value;
  else if (v.kind === 'call' && v.name === 'cron' && v.args.length === 1 && v.args[0].value.kind === 'string' && v.args[0].name === undefined) {
    text = v.args[0].value.value;
    span = v.args[0].value.span;
  }
  if (text === undefined) {
    diags.push(diag(Codes.WrongValueType, '`schedule` must be a cron expression such as `cron("0 */6 * * *")`', v.span));
    return undefined;
  }
  const problem = cronProblem(text);
  if (problem) {
    diags.push(diag(Codes.InvalidCron, `invalid cron expression "${text}": ${problem}`, span, { hint: 'e.g. `cron("0 */6 * * *")` runs every six hours' }));
    return undefined;
  }
  return text.trim().split(/\s+/).join(' ');
}

// ── gates ──────────────────────────────────────────────────────────────────────────────────────

export const GATE_METRICS = ['accuracy', 'precision', 'recall', 'f1', 'roc_auc', 'log_loss'] as const;

export type Gate = { metric: string; op: '>=' | '>' | '<=' | '<'; value: number; text: string };

/** `"f1 >= 0.70"`: a metric, a comparison and a number. */
export function parseGate(text: string, span: Span, diags: Diagnostic[]): Gate | undefined {
  const m = /^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(>=|<=|>|<)\s*(-?\d+(?:\.\d+)?)\s*$/.exec(text);
  if (!m) {
    diags.push(
      diag(Codes.InvalidGate, `invalid gate "${text}": expected \`METRIC OP NUMBER\``, span, { hint: 'e.g. "f1 >= 0.70"; OP is one of >=, >, <=, <' }),
    );
    return undefined;
  }
  const [, metric, op, num] = m;
  if (!(GATE_METRICS as readonly string[]).includes(metric)) {
    diags.push(
      diag(Codes.InvalidGate, `invalid gate "${text}": unknown metric \`${metric}\``, span, {
        hint: didYouMean(metric, GATE_METRICS) ?? `metrics: ${GATE_METRICS.join(', ')}`,
      }),
    );
    return undefined;
  }
  const value = Number(num);
  if (metric !== 'log_loss' && (value < 0 || value > 1)) {
    diags.push(diag(Codes.InvalidGate, `invalid gate "${text}": \`${metric}\` lies between 0 and 1`, span));
    return undefined;
  }
  return { metric, op: op as Gate['op'], value, text: `${metric} ${op} ${num}` };
}
