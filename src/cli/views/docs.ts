// `asgard docs`: where the site was written (text on stderr: stdout stays free), or its JSON document.

import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { View } from '../view.js';

export interface SiteWritten {
  /** The site's folder (absolute) and the files written in it. */
  readonly out: string;
  readonly files: readonly string[];
  readonly nodes: number;
  readonly runs: number;
  readonly models: readonly { readonly name: string; readonly versions: number }[];
}

export const docsView: View<SiteWritten> = {
  text: (r) => [
    {
      err: `asgard docs: ${r.nodes} nodes, ${r.runs} runs, ${r.models.reduce((s, m) => s + m.versions, 0)} model versions → ${pathToFileURL(resolve(r.out, 'index.html')).href}\n`,
    },
  ],
  json: (r) => ({ ok: true, out: r.out, files: r.files, nodes: r.nodes, runs: r.runs, models: r.models.map((m) => m.name) }),
};
