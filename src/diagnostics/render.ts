import type { Diagnostic } from './diagnostic.js';

export interface RenderOptions {
  /** Source text per file, to print the offending line with a caret under the span. */
  readonly sources?: ReadonlyMap<string, string>;
  readonly color?: boolean;
  /** Shown instead of absolute file paths (usually relative to cwd). */
  readonly displayPath?: (file: string) => string;
}

const paint = (on: boolean, code: string, s: string) => (on ? `\x1b[${code}m${s}\x1b[0m` : s);

/** `path:line:col: error ASG1234: message`, the source line, a caret under the span, and the hint. */
export function renderDiagnostic(d: Diagnostic, opts: RenderOptions = {}): string {
  const color = opts.color ?? false;
  const sev = paint(color, d.severity === 'error' ? '31;1' : d.severity === 'warning' ? '33;1' : '36', d.severity);
  const where = d.span ? `${opts.displayPath?.(d.span.file) ?? d.span.file}:${d.span.line}:${d.span.column}: ` : '';
  const out = [`${where}${sev} ${d.code}: ${d.message}`];
  const text = d.span && opts.sources?.get(d.span.file);
  if (d.span && text !== undefined && text !== null) {
    const line = text.split('\n')[d.span.line - 1];
    if (line !== undefined && line.length <= 400) {
      const width = d.span.endLine === d.span.line ? Math.max(1, d.span.endColumn - d.span.column) : Math.max(1, line.length - d.span.column + 1);
      out.push(`  ${line.replace(/\t/g, ' ')}`);
      out.push(`  ${' '.repeat(Math.max(0, d.span.column - 1))}${paint(color, '31;1', '^'.repeat(Math.min(width, 200)))}`);
    }
  }
  if (d.hint) out.push(`  ${paint(color, '36', 'hint')}: ${d.hint}`);
  for (const r of d.related ?? []) out.push(`  ${opts.displayPath?.(r.span.file) ?? r.span.file}:${r.span.line}:${r.span.column}: ${r.message}`);
  return out.join('\n');
}

/** The JSON form of PRODUCT.md section 2. */
export function diagnosticToJson(d: Diagnostic, displayPath?: (file: string) => string) {
  return {
    code: d.code,
    severity: d.severity,
    message: d.message,
    file: d.span ? (displayPath?.(d.span.file) ?? d.span.file) : null,
    line: d.span?.line ?? null,
    column: d.span?.column ?? null,
    endLine: d.span?.endLine ?? null,
    endColumn: d.span?.endColumn ?? null,
    ...(d.hint ? { hint: d.hint } : {}),
  };
}

/** An invalid spec as a comment: each diagnostic with file:line:col, its code and message, the source line. */
export function renderDiagnosticsMarkdown(
  diags: readonly Diagnostic[],
  opts: { sources?: ReadonlyMap<string, string>; displayPath?: (f: string) => string; title: string },
): string {
  const cell = (s: string) => s.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
  const code = (s: string) => (s.includes('`') ? `\`\` ${s} \`\`` : `\`${s}\``);
  const errors = diags.filter((x) => x.severity === 'error').length;
  const out = [`### asgard: ${opts.title}`, '', `**The spec is invalid: ${errors} error${errors === 1 ? '' : 's'}.** Nothing was planned.`, ''];
  out.push('| where | severity | code | message |', '| --- | --- | --- | --- |');
  for (const x of diags) {
    const where = x.span ? `${opts.displayPath?.(x.span.file) ?? x.span.file}:${x.span.line}:${x.span.column}` : '';
    out.push(`| ${where ? code(where) : ''} | ${x.severity} | ${x.code} | ${cell(x.message)}${x.hint ? ` (hint: ${cell(x.hint)})` : ''} |`);
  }
  const withSource = diags.filter((x) => x.span && opts.sources?.get(x.span.file) !== undefined).slice(0, 20);
  for (const x of withSource) {
    const line = opts.sources!.get(x.span!.file)!.split('\n')[x.span!.line - 1];
    if (line === undefined || line.length > 400) continue;
    const width = x.span!.endLine === x.span!.line ? Math.max(1, x.span!.endColumn - x.span!.column) : 1;
    out.push(
      '',
      `${code(`${opts.displayPath?.(x.span!.file) ?? x.span!.file}:${x.span!.line}:${x.span!.column}`)} ${x.code}`,
      '',
      '```',
      line.replace(/\t/g, ' ').replace(/```/g, "'''"),
      `${' '.repeat(Math.max(0, x.span!.column - 1))}${'^'.repeat(Math.min(width, 200))}`,
      '```',
    );
  }
  return out.join('\n') + '\n';
}
