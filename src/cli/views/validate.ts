// `asgard validate`: every diagnostic, then whether the spec is valid.

import type { View } from '../view.js';
import { counted, diagnosticsJson, diagnosticsText, type Diagnosed } from './diagnostics.js';

export interface Validated extends Diagnosed {
  readonly file: string;
  /** The pipeline's name and node count when the spec is valid. */
  readonly valid?: { readonly pipeline: string; readonly nodes: number };
}

export const validateView: View<Validated> = {
  text: (r, io) => {
    const warnings = r.diagnostics.filter((d) => d.severity === 'warning').length;
    return [
      ...diagnosticsText(r, io),
      r.valid
        ? {
            out: `${io.path(r.file)}: ok, pipeline ${r.valid.pipeline} with ${r.valid.nodes} nodes${warnings ? `, ${warnings} warning${warnings === 1 ? '' : 's'}` : ''}\n`,
          }
        : { err: `${io.path(r.file)}: ${counted(r.diagnostics)}\n` },
    ];
  },
  json: (r, io) => ({ ok: !!r.valid, diagnostics: diagnosticsJson(r.diagnostics, io) }),
};
