// `asgard compile`: the files written (or the diagnostics that stopped it, with --out untouched).

import type { View } from '../view.js';
import { diagnosticsJson, diagnosticsText, type Diagnosed } from './diagnostics.js';

export interface Compiled extends Diagnosed {
  /** --out as given. */
  readonly outArg: string;
  /** What was written; absent when the compile failed. */
  readonly written?: {
    readonly pipeline: string;
    readonly profile: string;
    readonly outDir: string;
    /** How many files were written, manifest.json included. */
    readonly count: number;
    /** manifest.json's list. */
    readonly files: readonly { readonly path: string; readonly sha256: string }[];
  };
}

export const compileView: View<Compiled> = {
  text: (r, io) => {
    if (!r.written) {
      const n = r.diagnostics.filter((d) => d.severity === 'error').length;
      return [...diagnosticsText(r, io), { err: `compile failed: ${n} error${n === 1 ? '' : 's'}; ${r.outArg} was not changed\n` }];
    }
    const { pipeline, profile, outDir, count, files } = r.written;
    const folders = [...new Set(files.map((f) => f.path.split('/')[0]).filter((p) => p !== 'manifest.json'))];
    return [
      ...diagnosticsText(r, io),
      { out: `compiled ${pipeline} for profile ${profile}: ${count} files in ${io.path(outDir)}/ (${folders.join(', ')}, manifest.json)\n` },
    ];
  },
  json: (r, io) =>
    r.written
      ? { ok: true, out: io.path(r.written.outDir), files: r.written.files, diagnostics: diagnosticsJson(r.diagnostics, io) }
      : { ok: false, diagnostics: diagnosticsJson(r.diagnostics, io) },
};
