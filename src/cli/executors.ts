// The executor registry apply uses from the command line: the engine's own executors plus those of
// the layers above it (ingestion, ML), which the engine may not import itself.

import type { NodeKind } from '../ir/types.js';
import { engineExecutorModules, executorResolver, type ExecutorModules, type ExecutorResolver } from '../engine/executors.js';

export const executorModules: Readonly<Record<NodeKind, URL>> = {
  source: new URL('../ingest/source-executor.js', import.meta.url),
  cleanse: engineExecutorModules.cleanse!,
  model: engineExecutorModules.model!,
  features: engineExecutorModules.features!,
  train: new URL('../ml/train-executor.js', import.meta.url),
  serve: new URL('../ml/serve-executor.js', import.meta.url),
} satisfies ExecutorModules;

export const defaultExecutors = (): ExecutorResolver => executorResolver(executorModules);
