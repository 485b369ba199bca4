// The page data embedded in index.html (src/docs/site-data.ts writes it) and the indexes the pages use.

import type { SiteData, SiteNode } from '../../src/docs/site-data.js';
import type { RunNode, RunRecord } from '../../src/planner/runs-log.js';

export type { SiteData, SiteNode };

export interface Site {
  readonly data: SiteData;
  readonly byId: ReadonlyMap<string, SiteNode>;
  /** node → column → columns computed from it (the inverse of data.columns). */
  readonly usedBy: ReadonlyMap<string, ReadonlyMap<string, readonly (readonly [string, string])[]>>;
  /** Per node, its newest run entry that did work (not unchanged or skipped), with the run it belongs to. */
  readonly lastRun: ReadonlyMap<string, { readonly run: RunRecord; readonly node: RunNode }>;
}

export function loadSite(): Site {
  const el = document.getElementById('asgard-data');
  if (!el?.textContent) throw new Error('this page has no asgard data: build it with `asgard docs SPEC --out DIR`');
  const data = JSON.parse(el.textContent) as SiteData;
  const byId = new Map(data.nodes.map((n) => [n.id, n]));
  const usedBy = new Map<string, Map<string, [string, string][]>>();
  for (const [node, cols] of Object.entries(data.columns)) {
    for (const [col, inputs] of Object.entries(cols)) {
      for (const [t, c] of inputs) {
        const m = usedBy.get(t) ?? new Map<string, [string, string][]>();
        usedBy.set(t, m);
        const list = m.get(c) ?? [];
        m.set(c, list);
        list.push([node, col]);
      }
    }
  }
  const lastRun = new Map<string, { run: RunRecord; node: RunNode }>();
  for (const run of data.runs) for (const n of run.nodes) if (n.status === 'succeeded' || n.status === 'failed') lastRun.set(n.node, { run, node: n });
  return { data, byId, usedBy, lastRun };
}
