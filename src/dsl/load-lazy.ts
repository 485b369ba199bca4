// Loading a spec without the SQL toolkit when no SQL body needs it: bodies in the common subset are
// analysed by src/sql/fast-analyze.ts, and the SQL analysis cache answers for the others it has
// seen. A body that needs polyglot before it is loaded throws SqlToolkitNotLoaded; the toolkit is
// then loaded (~0.5 s of CPU) and the spec checked again, which costs one more parse and check of
// the spec only in a process that had not loaded the toolkit yet.

import { SqlToolkitNotLoaded, loadSqlToolkit } from '../sql/toolkit.js';
import { loadPipeline, loadPipelineText, type LoadOptions, type LoadTextOptions, type LoadedSpec } from './load-core.js';

export async function withSqlToolkit<T>(f: () => T): Promise<T> {
  try {
    return f();
  } catch (e) {
    if (!(e instanceof SqlToolkitNotLoaded)) throw e;
    await loadSqlToolkit();
    return f();
  }
}

export const loadPipelineLazily = (file: string, opts: LoadOptions = {}): Promise<LoadedSpec> => withSqlToolkit(() => loadPipeline(file, opts));

export const loadPipelineTextLazily = (text: string, file: string, opts: LoadTextOptions = {}): Promise<LoadedSpec> =>
  withSqlToolkit(() => loadPipelineText(text, file, opts));
