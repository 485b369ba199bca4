// `apply --profile kubernetes`: the engine's apply (src/engine/apply.ts: same plan, DAG order,
// independent nodes in parallel, downstream skipped on failure, one state write per node) with one
// executor for every kind that submits the node's compiled objects to the API server instead of
// computing the node here. A node's objects are those labelled `asgard.io/node=<id>`; objects with
// no node label (namespace, service accounts, RBAC, shared ConfigMaps) are the pipeline's own and
// are applied once, before the first node runs — an apply that runs nothing writes nothing.
// Removed nodes' objects are found by the same labels and deleted, and so are the pipeline's own
// objects the spec no longer compiles to (sweep); a removed source's Airbyte objects by their names
// in the workspace, in its node's delete step (removeNode).

import type { NodeId, PipelineNode } from '../ir/types.js';
import { NodeError, type NodeExecutor, type NodeResult, type RunContext } from '../engine/executor.js';
import type { ExecutorResolver } from '../engine/executors.js';
import type { RemovedNode } from '../engine/apply.js';
import { NODE_LABEL, PIPELINE_LABEL, kubeObjects, type KubeObject } from '../targets/k8s-objects.js';
import type { FileMap } from '../targets/files.js';
import { Cluster, KubeError, describe } from './cluster.js';
import { runToCompletion, runsToCompletion } from './run.js';
import { AirbyteError, type Airbyte } from './airbyte.js';

/** The kinds asgard compiles, in the order they are applied (a namespace before what lives in it). */
export const APPLY_ORDER = [
  'Namespace',
  'ServiceAccount',
  'Role',
  'RoleBinding',
  'ConfigMap',
  'Secret',
  'Service',
  'Deployment',
  'CronJob',
  'Job',
  'SparkApplication',
];
const API_VERSION: Record<string, string> = {
  ServiceAccount: 'v1',
  ConfigMap: 'v1',
  Service: 'v1',
  Role: 'rbac.authorization.k8s.io/v1',
  RoleBinding: 'rbac.authorization.k8s.io/v1',
  Deployment: 'apps/v1',
  CronJob: 'batch/v1',
  Job: 'batch/v1',
  SparkApplication: 'sparkoperator.k8s.io/v1beta2',
};

const rank = (o: KubeObject) => {
  const i = APPLY_ORDER.indexOf(o.kind);
  return i < 0 ? APPLY_ORDER.length : i;
};

export interface DeploymentOptions {
  readonly pipeline: string;
  readonly namespace: string;
  /**
   * The compiled tree (src/targets/registry.ts compileTargets) for the profile, or how to compile
   * it: an apply that runs no node (a no-op) never compiles (nor writes) anything.
   */
  readonly tree: FileMap | (() => Promise<FileMap>);
  /** Seconds a SparkApplication or Job may run (the profile's `job_timeout`). */
  readonly timeoutSeconds: number;
  readonly timeoutSource: string;
  /** Files the cluster reads from object storage (Spark job files), uploaded before the first run. */
  readonly upload?: () => Promise<void>;
  /** Uploads local file sources' files where Airbyte reads them, before the first sync. */
  readonly uploadSourceFiles?: () => Promise<void>;
  /** Syncs source nodes through the Airbyte API (src/kube/airbyte.ts); absent: the profile names no Airbyte. */
  readonly airbyte?: Airbyte;
  /** The spec's sources (connector names): Airbyte objects of any other are deleted when a source node is removed. */
  readonly connectors?: ReadonlySet<string>;
}

/** The compiled objects: the pipeline's own (no node label), and each node's, in apply order. */
interface Layout {
  readonly shared: KubeObject[];
  readonly byNode: Map<NodeId, KubeObject[]>;
}

function layoutOf(tree: FileMap): Layout {
  const all = kubeObjects(tree).map((x) => x.object);
  const shared = all.filter((o) => !o.metadata.labels?.[NODE_LABEL]).sort((a, b) => rank(a) - rank(b));
  const byNode = new Map<NodeId, KubeObject[]>();
  for (const o of all) {
    const node = o.metadata.labels?.[NODE_LABEL];
    if (!node) continue;
    const list = byNode.get(node) ?? [];
    list.push(o);
    byNode.set(node, list);
  }
  for (const list of byNode.values()) list.sort((a, b) => rank(a) - rank(b));
  return { shared, byNode };
}

export class KubeDeployment {
  private layout?: Promise<Layout>;
  private prepared?: Promise<void>;
  private filesUploaded?: Promise<void>;
  private airbyteSwept?: Promise<string[]>;
  /** Objects written (applied, replaced or deleted) by this apply: the bench's "no object written" check. */
  writes = 0;

  constructor(
    readonly cluster: Cluster,
    readonly opts: DeploymentOptions,
  ) {}

  /** The compiled objects (compiling the tree on first use). */
  objects(): Promise<Layout> {
    const tree = this.opts.tree;
    this.layout ??= typeof tree === 'function' ? tree().then(layoutOf) : Promise.resolve(layoutOf(tree));
    return this.layout;
  }

  /**
   * The pipeline's own objects and uploads, once per apply, when the first node runs (a source's
   * sync included, which goes on meanwhile): the objects
   * of one kind at once, kind after kind in apply order (a namespace before what lives in it, a
   * Role before its RoleBinding); the uploads meanwhile.
   */
  prepare(): Promise<void> {
    this.prepared ??= (async () => {
      const { shared } = await this.objects();
      const uploaded = this.opts.upload?.();
      try {
        for (const kind of new Set(shared.map((o) => o.kind))) {
          // All settled, then the first failure in apply order: the error names the same object every run.
          const settled = await Promise.allSettled(
            shared
              .filter((o) => o.kind === kind)
              .map(async (o) => {
                try {
                  await this.cluster.apply(o);
                } catch (e) {
                  // A namespace is cluster-scoped: asgard's in-cluster service account (a namespaced Role,
                  // kubernetes/namespace.yaml) may not patch it, and needs not — it runs inside it.
                  if (o.kind === 'Namespace' && e instanceof KubeError && e.reason === 'forbidden') return;
                  throw e;
                }
                this.writes++;
              }),
          );
          const failed = settled.find((r) => r.status === 'rejected');
          if (failed) throw failed.reason;
        }
      } finally {
        // Settled either way (a failed apply must not leave an upload's rejection unobserved).
        await Promise.allSettled([uploaded]);
      }
      await uploaded;
    })();
    return this.prepared;
  }

  /** Submit one node: its configuration objects, then each run-to-completion object, watched to the end. */
  async runNode(node: PipelineNode, ctx: Pick<RunContext, 'progress' | 'signal'>): Promise<NodeResult> {
    const objects = (await this.objects()).byNode.get(node.id) ?? [];
    // Which target runs the kind (src/targets/registry.ts: loaded by the compile above already).
    const { runner, compiledBy } = (await import('../targets/registry.js')).runnerOf(node.kind);
    if (runner?.role === 'syncs' && node.kind === 'source') return this.syncSource(node, ctx);
    if (runner?.role !== 'runs' || objects.length === 0) {
      const why = runner
        ? `the ${runner.target} target compiled none for it`
        : `no target runs ${node.kind} nodes${compiledBy.length ? `; ${compiledBy.join(' and ')} compile${compiledBy.length > 1 ? '' : 's'} them into files apply does not run` : ''}`;
      throw new NodeError(`${node.id}: the profile compiles no Kubernetes object for this ${node.kind} node, so it cannot run on the cluster (${why})`);
    }
    await this.prepare();
    for (const o of objects.filter((x) => !runsToCompletion(x))) {
      await this.cluster.apply(o);
      this.writes++;
      ctx.progress({ rows: 0, message: `applied ${describe(o)}` });
    }
    for (const o of objects.filter(runsToCompletion)) {
      this.writes++;
      await runToCompletion(this.cluster, o, {
        timeoutSeconds: this.opts.timeoutSeconds,
        timeoutSource: this.opts.timeoutSource,
        signal: ctx.signal,
        onState: (state) => ctx.progress({ rows: 0, message: `${describe(o)} ${state}` }),
      });
    }
    return {};
  }

  /** A source node: its connector's Airbyte connection synced (once per apply for all its streams). */
  private async syncSource(node: Extract<PipelineNode, { kind: 'source' }>, ctx: Pick<RunContext, 'progress'>): Promise<NodeResult> {
    const airbyte = this.opts.airbyte;
    if (!airbyte) {
      throw new NodeError(`${node.id}: sources are synced by Airbyte under this profile: set \`airbyte_url\` and \`airbyte_workspace_id\` in it`);
    }
    // The pipeline's own objects and the job files meanwhile: the nodes downstream of the source
    // need them, and would otherwise wait for them after the sync (a failure is theirs to report).
    this.prepare().catch(() => undefined);
    // A file source's files first: Airbyte reads them from the bucket (once per apply).
    this.filesUploaded ??= this.opts.uploadSourceFiles?.() ?? Promise.resolve();
    await this.filesUploaded;
    const r = await airbyte.sync(node.connector.name, (message) => ctx.progress({ rows: 0, message }));
    ctx.progress({
      rows: r.rows ?? 0,
      message: `Airbyte sync job ${r.jobId} of ${node.connector.name} succeeded: ${r.rows ?? '?'} records, ${r.bytes ?? '?'} bytes`,
    });
    return {};
  }

  /**
   * A removed node's delete step (src/engine/apply.ts `removeNode`): a removed source's Airbyte
   * connection and source (and the destination with the last source) are deleted, found by asgard's
   * names in the workspace (Airbyte.sweep), once per apply however many of its streams were removed.
   * If Airbyte fails, the node fails and stays in the state: the next apply deletes them.
   */
  async removeNode({ prev, warn }: RemovedNode): Promise<void> {
    const airbyte = this.opts.airbyte;
    if (prev.kind !== 'source' || !airbyte) return;
    const first = !this.airbyteSwept;
    this.airbyteSwept ??= airbyte.sweep(this.opts.pipeline, this.opts.connectors ?? new Set());
    let deleted: string[];
    try {
      deleted = await this.airbyteSwept;
    } catch (e) {
      if (e instanceof AirbyteError) throw new NodeError(e.message);
      throw e;
    }
    if (first) for (const d of deleted) warn(`deleted ${d}`);
  }

  /** The same executor for every kind: what runs is what the node compiled to. */
  executors(): ExecutorResolver {
    const executor: NodeExecutor = {
      kind: 'cleanse',
      run: async (ctx) => {
        try {
          return await this.runNode(ctx.node, ctx);
        } catch (e) {
          if (e instanceof KubeError || e instanceof AirbyteError) throw new NodeError(e.message);
          throw e;
        }
      },
    };
    return async () => executor;
  }

  /**
   * Delete this pipeline's objects (found by its labels) that its spec no longer compiles to: the
   * objects of removed nodes (and of nodes renamed since), and the pipeline's own objects that no
   * node needs any more — a removed view's feature-jobs ConfigMap, the dbt project's once the last
   * model is gone, a schedule's CronJob. Which of the latter are still wanted only the compiled tree
   * says: it is compared when this apply compiled it (a node ran) or when a removed node's objects
   * are found; then the pipeline's own objects are applied first (prepare), so the spec's ConfigMap,
   * which the scheduled applies read, is the spec that removed the node. An apply that ran and
   * removed nothing compiles and writes nothing. Returns what was deleted, with why.
   */
  async sweep(keep: ReadonlySet<NodeId>): Promise<string[]> {
    const selector = `${PIPELINE_LABEL}=${this.opts.pipeline}`;
    // One list per kind: the kinds of one API group version in turn (client-node looks the group's
    // resources up once, on the first), the group versions at once. What they find is deleted in
    // reverse apply order.
    const byVersion = new Map<string, string[]>();
    for (const kind of APPLY_ORDER) {
      const apiVersion = API_VERSION[kind];
      if (apiVersion) byVersion.set(apiVersion, [...(byVersion.get(apiVersion) ?? []), kind]);
    }
    const found = (
      await Promise.all(
        [...byVersion].map(async ([apiVersion, kinds]) => {
          const out: KubeObject[] = [];
          for (const kind of kinds) out.push(...(await this.cluster.list(apiVersion, kind, this.opts.namespace, selector)));
          return out;
        }),
      )
    ).flat();
    const nodeOf = (o: KubeObject) => o.metadata.labels?.[NODE_LABEL];
    const removed = (o: KubeObject) => {
      const node = nodeOf(o);
      return node !== undefined && !keep.has(node);
    };
    let doomed = found.filter(removed);
    if (this.layout || doomed.length > 0) {
      await this.prepare();
      const { shared, byNode } = await this.objects();
      const key = (o: KubeObject) => `${o.kind}/${o.metadata.name}`;
      const wanted = new Set([...shared, ...[...byNode.values()].flat()].map(key));
      doomed = found.filter((o) => removed(o) || !wanted.has(key(o)));
    }
    const deleted: string[] = [];
    for (const o of doomed.sort((a, b) => rank(b) - rank(a))) {
      await this.cluster.delete(o);
      this.writes++;
      deleted.push(
        `${describe(o)} (${removed(o) ? 'its node is no longer in the spec' : nodeOf(o) ? `node ${nodeOf(o)} no longer compiles to it` : 'no node of the spec needs it'})`,
      );
    }
    return deleted;
  }
}
