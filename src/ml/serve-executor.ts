// The `serve` node. Online serving is `asgard serve` (src/serve/); as a DAG node, a serve with a
// `batch` block scores the entities of `batch.from` with the model's served (newest promoted)
// version into a new snapshot of `gold.<batch.to>`. The planner re-runs it when the model version
// or an input snapshot changes. With the same version and definition as its last run, only the
// entities whose rows of `batch.from` changed since are scored again (src/ml/batch-score.ts).

import type { ServeNode, TrainNode } from '../ir/types.js';
import type { SnapshotRef } from '../planner/state-store.js';
import { nodeDefinition } from '../planner/fingerprint.js';
import { canonicalJson } from '../util/canonical-json.js';
import { NodeError, type NodeExecutor, type RunContext } from '../engine/executor.js';
import { openDuck } from '../engine/duckdb.js';
import { attachWarehouse } from '../engine/catalog.js';
import { batchOutputColumns } from '../engine/batch-output.js';
import { outputTable } from '../ir/types.js';
import { batchScore, InputTableError, ScoreError } from './batch-score.js';
import { featureView } from './model-inputs.js';
import { OnnxScorer } from './onnx-session.js';
import type { Registry } from './registry.js';

export function trainNodeOf(ctx: { ir: RunContext['ir'] }, node: ServeNode): TrainNode {
  const t = ctx.ir.nodes.find((n) => n.id === node.model);
  if (!t || t.kind !== 'train') throw new Error(`internal error: ${node.id} names ${node.model}, which is not a train node`);
  return t;
}

/** The serve executor over the workspace's registry (src/workspace/workspace.ts opens it). */
export const serveExecutor = (registry: Registry): NodeExecutor<ServeNode> => ({
  kind: 'serve',
  async run(ctx: RunContext<ServeNode>) {
    const node = ctx.node;
    if (!node.batch) return {};
    const train = trainNodeOf(ctx, node);
    const served = registry.servingVersion(train.register);
    if (!served) {
      const last = registry.index(train.register)?.versions.at(-1);
      throw new NodeError(
        last
          ? `${node.id}: model ${train.register} has no promoted version (v${last.version} ${last.gate?.reason ?? 'was not promoted'}); nothing to score with`
          : `${node.id}: model ${train.register} has no registered version yet`,
        node.span,
      );
    }
    if (!ctx.state.nodes[node.batch.from]?.snapshot) throw new NodeError(`${node.id} needs ${node.batch.from}, which has no committed snapshot yet`, node.span);
    const schema = registry.features(train.register, served.version);
    // The session is made by batchScore while DuckDB gathers the rows to score.
    let scorer: OnnxScorer | undefined;
    const loadScorer = async (): Promise<OnnxScorer> =>
      (scorer = await OnnxScorer.load(registry.onnxPath(train.register, served.version), schema.features, schema.output));
    const view = featureView(ctx.ir, train);
    const conn = await openDuck();
    try {
      await attachWarehouse(conn, ctx.state, ctx.warehouse, { ir: ctx.ir, logicalTime: ctx.logicalTime });
      const res = await batchScore({
        conn,
        warehouse: ctx.warehouse,
        view,
        schema,
        scorer: loadScorer,
        modelVersion: served.version,
        from: node.batch.from,
        to: outputTable(node)!,
        riskLevels: node.riskLevels,
        columns: batchOutputColumns(node, view),
        scoredAt: ctx.logicalTime,
        previous: previousScoring(ctx, served.version),
      });
      const maintenance =
        res.full === undefined && res.scored < res.rows
          ? `incremental: ${res.scored} of ${res.rows} rows scored (their entities changed)`
          : res.full !== undefined
            ? `full: ${res.full}`
            : undefined;
      ctx.progress({ rows: res.rows, message: `scored with ${train.register} v${served.version}` });
      return { rows: res.rows, snapshot: res.snapshot, schema: res.schema, modelVersion: served.version, ...(maintenance ? { maintenance } : {}) };
    } catch (e) {
      if (e instanceof ScoreError || e instanceof InputTableError) throw new NodeError(`${node.id}: ${e.message}`, node.span);
      throw e;
    } finally {
      conn.closeSync();
      await scorer?.release();
    }
  },
});

/**
 * The scoring the output's current snapshot holds, when the next can build on it: the same model
 * version and definition (risk levels, fields, tables), and the input snapshot it scored still kept.
 */
function previousScoring(ctx: RunContext<ServeNode>, version: number): { output: SnapshotRef; input: SnapshotRef } | undefined {
  const node = ctx.node;
  const prev = ctx.state.nodes[node.id];
  if (!node.batch || !prev?.snapshot || prev.modelVersion !== version) return undefined;
  const def = (prev.definition as { data?: unknown } | undefined)?.data;
  if (canonicalJson(def) !== canonicalJson(nodeDefinition(node, ctx.ir).data)) return undefined;
  const src = ctx.state.nodes[node.batch.from];
  const seen = prev.inputSnapshots?.[node.batch.from];
  const input = src?.snapshot?.id === seen ? src?.snapshot : src?.history?.find((s) => s.id === seen);
  return input ? { output: prev.snapshot, input } : undefined;
}
