// Loading a spec without the SQL toolkit when no SQL body needs it: bodies in the common subset are
// analysed by src/sql/fast-analyze.ts, and the SQL analysis cache answers for the others it has
// seen. A body that needs polyglot before it is loaded throws SqlToolkitNotLoaded; the toolkit is
// then loaded (~0.5 s of CPU) and the spec checked again, which costs one more parse and check of
// the spec only in a process that had not loaded the toolkit yet. Likewise the reference parser
// (src/dsl/syntax-reference.ts, Chevrotain): loaded only when the fast parser declines a text
// (ReferenceParserNotLoaded: a text with a syntax problem, or one the fast parser does not take).

import { SqlToolkitNotLoaded, loadSqlToolkit } from '../sql/toolkit.js';
import { ReferenceParserNotLoaded, loadReferenceParser } from './syntax.js';
import { loadPipeline, loadPipelineText, type LoadOptions, type LoadTextOptions, type LoadedSpec } from './load-core.js';

export async function withSqlToolkit<T>(f: () => T): Promise<T> {
  // At most one load of each, then the error stands.
  for (let tries = 0; ; tries++) {
    try {
      return f();
    } catch (e) {
      if (tries < 2 && e instanceof SqlToolkitNotLoaded) await loadSqlToolkit();
      else if (tries < 2 && e instanceof ReferenceParserNotLoaded) await loadReferenceParser();
      else throw e;
    }
  }
}

export const loadPipelineLazily = (file: string, opts: LoadOptions = {}): Promise<LoadedSpec> => withSqlToolkit(() => loadPipeline(file, opts));

export const loadPipelineTextLazily = (text: string, file: string, opts: LoadTextOptions = {}): Promise<LoadedSpec> =>
  withSqlToolkit(() => loadPipelineText(text, file, opts));
