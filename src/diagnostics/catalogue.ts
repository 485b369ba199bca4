// The one catalogue of diagnostic codes. Codes are stable: tests, docs and users' scripts match on
// them, so a code is never renumbered or reused — retire it instead. By stage, like TypeScript's
// diagnosticMessages: ASG1xxx syntax (reading and parsing a spec), ASG2xxx semantics (the checker),
// ASG3xxx SQL bodies. Later stages (targets ASG4xxx, runtime inputs ASG5xxx) add their own here.

import type { Span } from '../ir/types.js';
import type { Diagnostic, Severity } from './diagnostic.js';

export interface CatalogueEntry {
  readonly code: string;
  readonly severity: Severity;
  readonly title: string;
}

const entry = (code: string, severity: Severity, title: string): CatalogueEntry => ({ code, severity, title });

export const Codes = {
  // ── ASG1xxx: reading and parsing ────────────────────────────────────────────────────────────
  UnreadableFile: entry('ASG1001', 'error', 'file cannot be read'),
  EmptyFile: entry('ASG1002', 'error', 'file is empty'),
  BinaryFile: entry('ASG1003', 'error', 'file is not text'),
  FileTooLarge: entry('ASG1004', 'error', 'file is too large'),
  UnexpectedCharacter: entry('ASG1005', 'error', 'unexpected character'),
  UnterminatedString: entry('ASG1006', 'error', 'unterminated string'),
  UnterminatedSql: entry('ASG1007', 'error', 'unterminated SQL body'),
  UnterminatedComment: entry('ASG1008', 'error', 'unterminated block comment'),
  UnbalancedBracket: entry('ASG1009', 'error', 'unbalanced bracket'),
  UnexpectedToken: entry('ASG1010', 'error', 'unexpected token'),
  NestingTooDeep: entry('ASG1011', 'error', 'nesting too deep'),
  InvalidEscape: entry('ASG1012', 'error', 'invalid escape sequence'),

  // ── ASG2xxx: semantics ──────────────────────────────────────────────────────────────────────
  UnknownBlock: entry('ASG2001', 'error', 'unknown block type'),
  UnknownSetting: entry('ASG2002', 'error', 'unknown setting'),
  WrongValueType: entry('ASG2003', 'error', 'wrong value type'),
  MissingSetting: entry('ASG2004', 'error', 'missing required setting'),
  DuplicateName: entry('ASG2005', 'error', 'duplicate name'),
  UndefinedReference: entry('ASG2006', 'error', 'undefined reference'),
  Cycle: entry('ASG2007', 'error', 'dependency cycle'),
  InvalidDuration: entry('ASG2008', 'error', 'invalid duration'),
  InvalidCron: entry('ASG2009', 'error', 'invalid cron expression'),
  InvalidGate: entry('ASG2010', 'error', 'invalid gate expression'),
  InvalidValue: entry('ASG2011', 'error', 'invalid value'),
  PipelineBlock: entry('ASG2012', 'error', 'missing or repeated pipeline block'),
  BlockLabels: entry('ASG2013', 'error', 'wrong block header'),
  UnknownSourceType: entry('ASG2014', 'error', 'unknown source type'),
  IncrementalWithoutCursor: entry('ASG2015', 'error', 'incremental stream without a cursor'),
  MisplacedBlock: entry('ASG2016', 'error', 'block not allowed here'),
  DuplicateSetting: entry('ASG2017', 'error', 'setting given twice'),
  InvalidCheck: entry('ASG2018', 'error', 'invalid check'),
  NotATable: entry('ASG2019', 'error', 'reference does not name a table'),
  // ASG203x: the language reference's checks (docs/language.md)
  IncrementalWithoutKey: entry('ASG2030', 'warning', 'incremental_by without unique_key misses late rows'),
  InvalidVariable: entry('ASG2031', 'error', 'variable without a valid value'),
  SecretUnset: entry('ASG2032', 'warning', 'secret variable unset'),

  // ── ASG3xxx: SQL bodies ─────────────────────────────────────────────────────────────────────
  SqlSyntax: entry('ASG3001', 'error', 'SQL syntax error'),
  SqlUnknownTable: entry('ASG3002', 'error', 'SQL reads a table no node produces'),
  SqlEmpty: entry('ASG3003', 'error', 'SQL body is empty or has several statements'),
  SqlTemplating: entry('ASG3010', 'error', 'template syntax of another tool in SQL'),

  // ── Engine block (src/engine/schemas.ts, src/sql/transpile.ts): schemas at plan time ────────
  FeatureColumnMissing: entry('ASG2101', 'error', 'feature names a column its table does not have'),
  FeatureDtype: entry('ASG2102', 'error', 'feature dtype does not match the column type'),
  FeatureKeyMissing: entry('ASG2103', 'error', 'feature view join key or timestamp missing or mistyped'),
  LabelColumnMissing: entry('ASG2104', 'error', 'label column missing'),
  FeatureTypeUnsupported: entry('ASG2105', 'error', 'feature type the training algorithms cannot take'),
  SqlTargetUnsupported: entry('ASG3101', 'error', 'SQL the target engine cannot run'),
  SqlBind: entry('ASG3102', 'error', 'SQL does not bind against its inputs (unknown column, wrong types)'),
  SqlUnknownInput: entry('ASG3103', 'error', 'SQL input without a known schema'),

  // ── ASG4xxx: compile targets (src/targets/) ─────────────────────────────────────────────────
  UnknownProfile: entry('ASG4001', 'error', 'compile profile not defined'),
  MissingProfileSetting: entry('ASG4002', 'error', 'profile lacks a setting a target needs'),
  InvalidProfileSetting: entry('ASG4003', 'error', 'profile setting has the wrong form for a target'),
  MissingSchema: entry('ASG4004', 'error', 'no inferred schema for a node a target needs'),
  SqlRender: entry('ASG4005', 'error', 'SQL cannot be rendered for a target dialect'),
  UnsupportedConnector: entry('ASG4006', 'error', 'connector type not supported by a target'),
  OutputNotWritable: entry('ASG4007', 'error', 'compile output cannot be written'),
  UnknownProfileSetting: entry('ASG4008', 'error', 'profile setting that no target of the profile reads'),
} as const satisfies Record<string, CatalogueEntry>;

export type CodeName = keyof typeof Codes;

/** All entries, sorted by code (for docs and the test that keeps codes unique). */
// Codes are ASCII (`ASG1001`): compared as strings, without a locale (localeCompare's collator costs
// milliseconds to set up, at the start of every command).
export const catalogue: readonly CatalogueEntry[] = Object.values(Codes).sort((a, b) => (a.code < b.code ? -1 : a.code > b.code ? 1 : 0));

export interface DiagnosticExtras {
  readonly hint?: string;
  readonly related?: readonly { readonly message: string; readonly span: Span }[];
  readonly severity?: Severity;
}

/** Builds a diagnostic from a catalogue entry: every diagnostic the dsl emits goes through here. */
export function diag(e: CatalogueEntry, message: string, span: Span | undefined, extras: DiagnosticExtras = {}): Diagnostic {
  return {
    code: e.code,
    severity: extras.severity ?? e.severity,
    message,
    ...(span ? { span } : {}),
    ...(extras.hint ? { hint: extras.hint } : {}),
    ...(extras.related && extras.related.length > 0 ? { related: extras.related } : {}),
  };
}

/** Levenshtein distance, for "did you mean" hints. */
export function editDistance(a: string, b: string): number {
  if (a === b) return 0;
  const prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diagPrev = prev[0];
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = prev[j];
      prev[j] = Math.min(prev[j] + 1, prev[j - 1] + 1, diagPrev + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagPrev = tmp;
    }
  }
  return prev[b.length];
}

/** The closest candidate within a distance that scales with the word's length, or undefined. */
export function closest(word: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  const limit = Math.max(2, Math.floor(word.length / 3));
  for (const c of candidates) {
    const d = editDistance(word.toLowerCase(), c.toLowerCase());
    if (d < bestD || (d === bestD && best !== undefined && c < best)) {
      best = c;
      bestD = d;
    }
  }
  return bestD <= limit ? best : undefined;
}

export const didYouMean = (word: string, candidates: Iterable<string>): string | undefined => {
  const c = closest(word, candidates);
  return c === undefined ? undefined : `did you mean \`${c}\`?`;
};
