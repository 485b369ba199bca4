// What loading a spec gives (the one shape every reader returns: the loader in load.ts and the CLI's
// cached loader in cli/spec.ts). Kept apart from the loader, which imports the parser and the SQL
// toolkit: a command answered from the caches imports only this module (test/cli/startup.test.ts).

import type { Diagnostic } from '../diagnostics/diagnostic.js';
import type { PipelineIR } from '../ir/types.js';

/** A spec read and checked: the one shape every reader returns (this loader, and the CLI's cached loader in cli/spec.ts). */
export interface LoadedSpec {
  /** Absolute path of the spec: spans carry the same string. */
  readonly file: string;
  /** Present only when there are no errors. */
  readonly ir?: PipelineIR;
  /**
   * When the spec has semantic errors: the nodes that did check (no cycle among them), so that their
   * SQL can be bound in the same run. Never planned, applied or compiled.
   */
  readonly partial?: PipelineIR;
  /** Sorted by file, line, column, code. */
  readonly diagnostics: readonly Diagnostic[];
  /** Source text per file, for carets under spans (empty when the file could not be read). */
  readonly sources: ReadonlyMap<string, string>;
  /**
   * What the CLI's spec and schema caches are keyed by (the text read, with the `--var` values):
   * set only when the spec was read from a file through cli/spec.ts.
   */
  readonly cacheKey?: string;
}

/** The loaded spec's own text ('' when it could not be read). */
export const sourceOf = (spec: LoadedSpec): string => spec.sources.get(spec.file) ?? '';
