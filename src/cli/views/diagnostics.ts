// Diagnostics in the commands' formats: text on stderr (`file:line:col: error ASG1234: message`,
// the source line, a caret), JSON inside the command's document, markdown for a pull-request
// comment (src/diagnostics/render.ts renders each one).

import { sortDiagnostics, type Diagnostic } from '../../diagnostics/diagnostic.js';
import { diagnosticToJson, renderDiagnostic, renderDiagnosticsMarkdown } from '../../diagnostics/render.js';
import type { Piece, View, ViewIO } from '../view.js';

export interface Diagnosed {
  readonly diagnostics: readonly Diagnostic[];
  /** The spec texts by file, for the source line under each diagnostic. */
  readonly sources: ReadonlyMap<string, string>;
}

/** Each diagnostic as text on stderr, in file order. */
export const diagnosticsText = ({ diagnostics, sources }: Diagnosed, io: ViewIO): Piece[] =>
  sortDiagnostics(diagnostics).map((d) => ({ err: renderDiagnostic(d, { sources, color: io.colorErr, displayPath: io.path }) + '\n' }));

/** The `diagnostics` array of a command's JSON document. */
export const diagnosticsJson = (diagnostics: readonly Diagnostic[], io: ViewIO): unknown[] =>
  sortDiagnostics(diagnostics).map((d) => diagnosticToJson(d, io.path));

const count = (diagnostics: readonly Diagnostic[], severity: Diagnostic['severity']) => diagnostics.filter((d) => d.severity === severity).length;
const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** `2 errors, 1 warning`: the counts of a check, the warnings left out when there are none. */
export const counted = (diagnostics: readonly Diagnostic[]): string => {
  const warnings = count(diagnostics, 'warning');
  return `${plural(count(diagnostics, 'error'), 'error')}${warnings ? `, ${plural(warnings, 'warning')}` : ''}`;
};

/** A spec with errors, as every command prints it before exiting 2: `what` prefixes the file in the summary. */
export interface InvalidSpec extends Diagnosed {
  readonly file: string;
  readonly what?: string;
}

export const invalidSpecView: View<InvalidSpec, 'text' | 'json' | 'markdown'> = {
  text: (r, io) => [...diagnosticsText(r, io), { err: `${r.what ?? ''}${io.path(r.file)}: ${plural(count(r.diagnostics, 'error'), 'error')}\n` }],
  json: (r, io) => ({ ok: false, diagnostics: diagnosticsJson(r.diagnostics, io) }),
  // A pull-request comment must explain the failure: the diagnostics go to stdout as markdown.
  markdown: (r, io) =>
    renderDiagnosticsMarkdown(sortDiagnostics(r.diagnostics), { sources: r.sources, displayPath: io.path, title: `${r.what ?? ''}${io.path(r.file)}` }),
};

/** Diagnostics that stop a command after its spec loaded (lineage's schema inference): as they are, or `{ok: false, diagnostics}`. */
export const failedCheckView: View<Diagnosed> = {
  text: (r, io) => diagnosticsText(r, io),
  json: (r, io) => ({ ok: false, diagnostics: diagnosticsJson(r.diagnostics, io) }),
};

/** The errors of a spec a command reads besides its own (plan --base), before the command's error. */
export const otherSpecErrorsView: View<Diagnosed, 'text' | 'markdown'> = {
  text: (r, io) => diagnosticsText(r, io),
  markdown: (r, io) => renderDiagnosticsMarkdown(sortDiagnostics(r.diagnostics), { sources: r.sources, displayPath: io.path, title: 'the spec has errors' }),
};
