// The executors apply uses from the command line: the engine's own plus those of the layers above
// it (ingestion, ML), which the engine may not import itself. Every node kind must have one: a new
// kind fails to compile here until its executor is listed.

import type { NodeKind } from '../ir/types.js';
import { engineExecutors, executorResolver, type ExecutorLoader, type ExecutorResolver } from '../engine/executors.js';
import type { Workspace } from '../workspace/workspace.js';

export function executorLoaders(ws: Workspace): { readonly [K in NodeKind]: ExecutorLoader<K> } {
  return {
    ...engineExecutors,
    source: async () => (await import('../ingest/source-executor.js')).executor,
    train: async () => (await import('../ml/train-executor.js')).trainExecutor(ws.registry()),
    serve: async () => (await import('../ml/serve-executor.js')).serveExecutor(ws.registry()),
  };
}

export const defaultExecutors = (ws: Workspace): ExecutorResolver => executorResolver(executorLoaders(ws));
