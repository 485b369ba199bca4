// What only a node's page shows (its SQL per target, schema and checks: 60 % of a generated
// 1,000-node spec's page data) goes beside index.html, DETAILS_PER_FILE nodes to a script
// `nodes/<k>.js` that hands them to the page (site/src/details.ts), so index.html stays small and
// the graph draws without parsing them; a node's page loads its file when it opens (a classic
// script: from file:// a page may not fetch, but it may load a script). Shared by `asgard docs`
// (src/docs/site-files.ts) and the browser code, so no Node.js module here.

import type { SiteData, SiteNode } from './site-data.js';

/** The fields of a node only its page shows, written apart from index.html by `asgard docs`. */
export const NODE_DETAILS = ['sql', 'schema', 'checks'] as const;
export type NodeDetails = Pick<SiteNode, (typeof NODE_DETAILS)[number]>;
/** Nodes per details file: a node page loads one file (~80 kB of a generated 1,000-node spec). */
export const DETAILS_PER_FILE = 50;
/** The folder of the details files, beside index.html. */
export const DETAILS_DIR = 'nodes';
/** The function a details file calls (site/src/details.ts defines it). */
export const DETAILS_CALLBACK = 'asgardNodeDetails';

/** JSON that no text in it can end a script element with. */
export const scriptJson = (v: unknown): string => JSON.stringify(v).replace(/</g, '\\u003c');

/** The page data without the nodes' details, each node naming its details file, and the files' contents. */
export function splitDetails(data: SiteData): { readonly index: SiteData; readonly files: ReadonlyMap<string, string> } {
  const chunks: Record<string, NodeDetails>[] = [];
  const nodes = data.nodes.map((n, i) => {
    const k = Math.floor(i / DETAILS_PER_FILE);
    const rest: Record<string, unknown> = { ...n, details: k };
    const details: Record<string, unknown> = {};
    for (const f of NODE_DETAILS) {
      if (n[f] !== undefined) details[f] = n[f];
      delete rest[f];
    }
    (chunks[k] ??= {})[n.id] = details as unknown as NodeDetails;
    return rest as unknown as SiteNode;
  });
  const files = new Map(chunks.map((c, k) => [`${DETAILS_DIR}/${k}.js`, `${DETAILS_CALLBACK}(${k}, ${scriptJson(c)});\n`]));
  return { index: { ...data, nodes }, files };
}
