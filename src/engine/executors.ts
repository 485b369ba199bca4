// Which code runs each node kind: a registry of lazily imported modules, so `asgard plan` never
// loads DuckDB, onnxruntime or database drivers, and a kind whose executor is not written yet fails
// only its own nodes ("no executor for kind X yet").
//
// The engine lists the executors it owns. Executors in higher layers (src/ingest, src/ml) are added
// by the CLI (src/cli/executors.ts): the engine may not import them (test/architecture/layers).
// A module's default export, or its named export `executor`, is a NodeExecutor.

import type { NodeKind } from '../ir/types.js';
import { importOptional } from '../util/optional-import.js';
import { NodeError, type NodeExecutor } from './executor.js';

/** A module URL per kind (absent: that kind has no executor). */
export type ExecutorModules = Partial<Record<NodeKind, URL>>;

export const engineExecutorModules: ExecutorModules = {
  cleanse: new URL('./sql-executor.js', import.meta.url),
  model: new URL('./sql-executor.js', import.meta.url),
  features: new URL('./features-executor.js', import.meta.url),
};

/** How apply finds the executor of a kind: a registry, or a fake in tests. */
export type ExecutorResolver = (kind: NodeKind) => Promise<NodeExecutor>;

export function executorResolver(modules: ExecutorModules): ExecutorResolver {
  const cache = new Map<NodeKind, Promise<NodeExecutor>>();
  return (kind) => {
    let p = cache.get(kind);
    if (!p) {
      p = load(kind, modules[kind]);
      cache.set(kind, p);
    }
    return p;
  };
}

async function load(kind: NodeKind, url: URL | undefined): Promise<NodeExecutor> {
  const mod = url ? await importOptional<{ default?: unknown; executor?: unknown }>(url) : undefined;
  if (!mod) throw new NodeError(`no executor for kind ${kind} yet`);
  const ex = (mod.executor ?? mod.default) as NodeExecutor | undefined;
  if (!ex || typeof ex.run !== 'function') throw new NodeError(`the ${kind} executor module exports no NodeExecutor (default or \`executor\`)`);
  return ex;
}
