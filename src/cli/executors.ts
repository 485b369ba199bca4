// The executors apply uses from the command line: the engine's own plus those of the layers above
// it (ingestion, ML), which the engine may not import itself. Every node kind must have one: a new
// kind fails to compile here until its executor is listed.

import type { NodeKind, PipelineIR } from '../ir/types.js';
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

/**
 * `apply --profile NAME` of a cluster profile: the cleanses on its Spark cluster (src/spark/), the
 * rest embedded. With an S3 warehouse the job reads what this run pushed there, and asgard then
 * fetches what the job committed into the working copy.
 */
export function clusterExecutors(
  ws: Workspace,
  ir: PipelineIR,
  opts: { readonly env: Readonly<Record<string, string | undefined>>; readonly specPath: string },
): ExecutorResolver {
  const remote = ws.remote(ir);
  return executorResolver({
    ...executorLoaders(ws),
    cleanse: async () =>
      (await import('../spark/cleanse-executor.js')).clusterCleanseExecutor({
        profile: ws.profile,
        env: opts.env,
        specPath: opts.specPath,
        ...(remote ? { publish: () => remote.flush(), fetchTable: (path: string) => remote.pullTable(path) } : {}),
      }),
  });
}
