// A node's details (its SQL per target, schema and checks), which `asgard docs` writes apart from
// index.html (src/docs/site-details.ts): the node page loads the script that holds them the first
// time it opens a node of that file. A node without a `details` number (the page `asgard serve`
// answers) has them inline.

import { DETAILS_CALLBACK, DETAILS_DIR, type NodeDetails } from '../../src/docs/site-details.js';
import type { Site, SiteNode } from './data.js';

const files = new Map<number, Promise<Readonly<Record<string, NodeDetails>>>>();
const arrived = new Map<number, (chunk: Readonly<Record<string, NodeDetails>>) => void>();

(window as unknown as Record<string, unknown>)[DETAILS_CALLBACK] = (k: number, chunk: Record<string, NodeDetails>): void => arrived.get(k)?.(chunk);

function load(k: number): Promise<Readonly<Record<string, NodeDetails>>> {
  let p = files.get(k);
  if (!p) {
    p = new Promise((resolve, reject) => {
      arrived.set(k, resolve);
      const el = document.createElement('script');
      el.src = `${DETAILS_DIR}/${k}.js`;
      el.onerror = () => {
        files.delete(k);
        reject(new Error(`could not load ${DETAILS_DIR}/${k}.js beside this page: build the site again with \`asgard docs\``));
      };
      document.head.appendChild(el);
    });
    files.set(k, p);
  }
  return p;
}

/** The node with its details, once its file is loaded; undefined for an id that is not in the site. */
export async function nodeWithDetails(site: Site, id: string): Promise<SiteNode | undefined> {
  const n = site.byId.get(id);
  if (!n || n.details === undefined) return n;
  return { ...n, ...(await load(n.details))[id] };
}
