// Which code runs each node kind: typed loaders imported on first use, so `asgard plan` never
// loads DuckDB, onnxruntime or database drivers. The full table (every kind, checked by the
// compiler) is made by the CLI (src/cli/executors.ts), because executors of the layers above the
// engine (src/ingest, src/ml) may not be imported here (test/architecture/layers.test.ts).

import type { NodeKind, PipelineNode } from '../ir/types.js';
import { NodeError, type NodeExecutor } from './executor.js';

/** Loads the executor of one kind. */
export type ExecutorLoader<K extends NodeKind = NodeKind> = () => Promise<NodeExecutor<Extract<PipelineNode, { kind: K }>>>;

/** A loader per kind; the CLI's table has every kind, a test's may have a few. */
export type ExecutorLoaders = { readonly [K in NodeKind]?: ExecutorLoader<K> };

/** The executors the engine owns. */
export const engineExecutors = {
  cleanse: async () => (await import('./sql-executor.js')).executor,
  model: async () => (await import('./sql-executor.js')).executor,
  features: async () => (await import('./features-executor.js')).executor,
} satisfies ExecutorLoaders;

/** How apply finds the executor of a kind: a table of loaders, or a fake in tests. */
export type ExecutorResolver = (kind: NodeKind) => Promise<NodeExecutor>;

export function executorResolver(loaders: ExecutorLoaders): ExecutorResolver {
  const cache = new Map<NodeKind, Promise<NodeExecutor>>();
  return (kind) => {
    let p = cache.get(kind);
    if (!p) {
      const load = loaders[kind] as (() => Promise<NodeExecutor>) | undefined;
      p = load ? load() : Promise.reject(new NodeError(`no executor for kind ${kind} yet`));
      cache.set(kind, p);
    }
    return p;
  };
}
