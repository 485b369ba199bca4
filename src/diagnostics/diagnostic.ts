import type { Span } from '../ir/types.js';

export type Severity = 'error' | 'warning' | 'info';

/** One problem found in a spec or its inputs. Stages return these; only the CLI turns them into exit codes. */
export interface Diagnostic {
  /** `ASG1xxx` syntax, `ASG2xxx` semantics, `ASG3xxx` SQL, `ASG4xxx` targets/compile, `ASG5xxx` runtime inputs. */
  readonly code: string;
  readonly severity: Severity;
  readonly message: string;
  readonly span?: Span;
  readonly hint?: string;
  readonly related?: readonly { readonly message: string; readonly span: Span }[];
}

/** A stage's result plus its diagnostics. `value` is absent when errors made it impossible to build. */
export interface Result<T> {
  readonly value?: T;
  readonly diagnostics: readonly Diagnostic[];
}

export const hasErrors = (diags: readonly Diagnostic[]): boolean => diags.some((d) => d.severity === 'error');

/** Stable sort: file, line, column, code. */
export function sortDiagnostics(diags: readonly Diagnostic[]): Diagnostic[] {
  return [...diags].sort(
    (a, b) =>
      (a.span?.file ?? '').localeCompare(b.span?.file ?? '') ||
      (a.span?.line ?? 0) - (b.span?.line ?? 0) ||
      (a.span?.column ?? 0) - (b.span?.column ?? 0) ||
      a.code.localeCompare(b.code),
  );
}
