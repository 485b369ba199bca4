// The stages of the pipeline graph, left to right, and their headings: shared by the build-time
// layout (graph-layout.ts) and the site that draws it (site/src/graph.ts). No imports: the site
// bundles this file.

export const STAGE_ORDER = ['system', 'source', 'cleanse', 'model', 'features', 'train', 'serve'] as const;
export const STAGE_LABEL: Record<string, string> = {
  system: 'source systems',
  source: 'bronze',
  cleanse: 'silver',
  model: 'gold',
  features: 'features',
  train: 'models',
  serve: 'serving',
};

/** Height of a node's box in the graph, in pixels. */
export const NODE_H = 30;
