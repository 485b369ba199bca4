// The `train` node: point-in-time training set from the feature view and the label table →
// leakage guard → fit (src/ml/train.ts) → ONNX export, checked against the in-memory model →
// registry (a new version only when the training set changed: src/ml/model-inputs.ts) → gate decides promotion →
// optional MLflow logging. Returns the model version the node now stands for.

import type { TrainNode } from '../ir/types.js';
import { NodeError, type NodeExecutor, type NodeResult, type RunContext } from '../engine/executor.js';
import { openDuck } from '../engine/duckdb.js';
import { mark } from '../engine/profile.js';
import { attachWarehouse } from '../engine/catalog.js';
import { sharedSourceLeakage, singleFeatureLeakage } from './leakage.js';
import { LineageGraph } from '../engine/lineage.js';
import { loadSqlToolkit } from '../sql/toolkit.js';
import { evaluateGate } from './metrics.js';
import { evaluate } from './evaluation.js';
import { featureView, inputsHash, trainingInputs, trainingSetHash } from './model-inputs.js';
import { exportOnnx, onnxOutput } from './onnx-export.js';
import { isTrainableDType } from '../ir/algorithms.js';
import { OnnxScorer } from './onnx-session.js';
import { ParamError } from './params.js';
import type { FeatureSchema, Registry, RegistryVersion } from './registry.js';
import { trainModel } from './train.js';
import { DataError, loadTrainingSet } from './training-data.js';
import { columnMedians, impute } from './dataset.js';
import { logToMlflow } from './mlflow.js';
import { challengeChampion } from './champion.js';

/** ONNX (float32 sums) and the in-memory model (float64 sums) may differ by rounding only. */
const ONNX_TOLERANCE = 1e-5;
const MIN_ROWS = 10;

/** The train executor over the workspace's registry (src/workspace/workspace.ts opens it). */
export const trainExecutor = (registry: Registry): NodeExecutor<TrainNode> => ({
  kind: 'train',
  async run(ctx: RunContext<TrainNode>) {
    const node = ctx.node;
    const view = featureView(ctx.ir, node);
    const inputs = trainingInputs(ctx.ir, ctx.state, node);
    const hash = inputsHash(inputs);

    // The same tables (snapshot ids) and definitions: the registered version, without reading a row.
    const existing = registry.findByInputs(node.register, hash);
    if (existing) return reuse(ctx, registry, existing, existing.metrics.test_rows, 'training inputs unchanged');

    const unsupported = view.features.filter((f) => !isTrainableDType(f.dtype));
    if (unsupported.length) {
      throw new NodeError(
        `${node.id}: the trainer takes numeric, bool and string (categorical) features; ${unsupported.map((f) => `${f.name} (${f.dtype})`).join(', ')} of ${view.id} would need an encoding first (compute a number in the model's SQL)`,
        node.span,
      );
    }
    for (const id of [view.from, node.label.from]) {
      if (!ctx.state.nodes[id]?.snapshot) throw new NodeError(`${node.id} needs ${id}, which has no committed snapshot yet`, node.span);
    }

    mark('start');
    const conn = await openDuck();
    let set;
    try {
      await attachWarehouse(conn, ctx.state, ctx.warehouse, { ir: ctx.ir, logicalTime: ctx.logicalTime });
      mark('open and attach');
      set = await loadTrainingSet(conn, view, node.label);
      mark('training set');
    } catch (e) {
      if (e instanceof DataError) throw new NodeError(`${node.id}: ${e.message}`, node.span);
      throw e;
    } finally {
      conn.closeSync();
    }
    const ds = set.dataset;
    if (set.unlabelled)
      ctx.warn(
        `${node.id}: ${set.unlabelled} rows of ${node.label.from} have a NULL ${node.label.column} or ${view.entity.joinKey} (unlabelled); they are left out`,
      );
    if (set.missingFeatures)
      ctx.warn(`${node.id}: ${set.missingFeatures} label rows have no feature row of ${view.id} within its ttl at their event time; they are left out`);
    if (ds.n < MIN_ROWS) throw new NodeError(`${node.id}: only ${ds.n} labelled rows with features; need at least ${MIN_ROWS}`, node.span);
    let positives = 0;
    for (let i = 0; i < ds.n; i++) positives += ds.y[i];
    if (positives === 0 || positives === ds.n)
      throw new NodeError(`${node.id}: the label ${node.label.column} has a single class (${positives ? 1 : 0}) in all ${ds.n} rows`, node.span);
    ctx.progress({ rows: ds.n, message: `training set: ${ds.n} rows, ${positives} positive` });

    // Leakage guard (unless `leakage = off`), on a median-imputed copy of the whole training set.
    if (node.leakage !== 'off') {
      const probe = { ...ds, X: Float32Array.from(ds.X) };
      impute(probe.X, ds.featureNames.length, columnMedians(probe.X, probe.n, ds.featureNames.length));
      mark('leakage guard: imputed copy');
      const findings = singleFeatureLeakage(probe);
      mark('leakage guard: single-feature AUCs');
      // Only a label computed in the view's own table can share the features' sources: the SQL
      // toolkit (~0.3 s of CPU to load) is loaded for that case only.
      if (node.label.from === view.from) {
        const schemas = new Map(Object.entries(ctx.state.nodes).flatMap(([id, ns]) => (ns.schema ? [[id, ns.schema] as const] : [])));
        await loadSqlToolkit();
        findings.push(...sharedSourceLeakage(new LineageGraph(ctx.ir, schemas), view, node.label));
      }
      for (const finding of findings) {
        if (node.leakage === 'fail') throw new NodeError(`${node.id}: ${finding.message}`, node.span);
        ctx.warn(`${node.id}: ${finding.message}`);
      }
    }

    // New snapshots, the same training set (rows added after the label's event times, a table
    // rebuilt with the same rows): training would make the same model again.
    mark('checks and leakage guard');
    const trainingSet = trainingSetHash(view, node, ds);
    mark('training set hash');
    const same = registry.findByTrainingSet(node.register, trainingSet);
    if (same) {
      const result = reuse(ctx, registry, same, ds.n, `training set unchanged: the same ${ds.n} rows v${same.version} was trained on`);
      return { ...result, maintenance: `unchanged: the training set is v${same.version}'s` };
    }

    let run;
    try {
      run = trainModel(ds, { algorithm: node.algorithm.name, params: node.algorithm.params, split: node.split });
    } catch (e) {
      if (e instanceof ParamError) throw new NodeError(`${node.id}: ${e.message}`, node.span);
      throw e;
    }
    ctx.progress({ rows: ds.n, message: `trained ${node.algorithm.name} in ${run.seconds.toFixed(1)} s` });

    const version = (registry.index(node.register)?.versions.reduce((m, v) => Math.max(m, v.version), 0) ?? 0) + 1;
    const onnx = exportOnnx(run.model, { name: node.register, version });
    const output = onnxOutput(run.model.kind);
    const scorerFeatures = run.model.featureNames.map((name, f) => ({ name, categories: run.model.categories?.[f] ?? null }));
    const scorer = await OnnxScorer.load(onnx, scorerFeatures, output);
    try {
      const p = await scorer.scoreRows(run.test.X, run.test.n, run.model.categories);
      for (let i = 0; i < run.test.n; i++) {
        if (!(Math.abs(p[i] - run.testProba[i]) <= ONNX_TOLERANCE)) {
          throw new Error(`internal error: ONNX export of ${node.register} disagrees with the trained model on test row ${i} (${p[i]} vs ${run.testProba[i]})`);
        }
      }
    } finally {
      await scorer.release();
    }

    const gate = evaluateGate(node.gate, run.metrics);
    const challenge = gate.passed
      ? await challengeChampion(registry, node.register, node.gate, {
          featureNames: run.model.featureNames,
          categories: run.model.categories,
          X: run.test.X,
          y: run.test.y,
          n: run.test.n,
          proba: run.testProba,
          threshold: run.metrics.threshold,
        })
      : undefined;
    const promoted = gate.passed && (challenge?.passed ?? true);
    const features: FeatureSchema = {
      view: view.id,
      entity: view.entity,
      features: view.features.map((f, i) => {
        const categories = run.model.categories?.[i];
        return categories
          ? { name: f.name, dtype: f.dtype, onnxType: 'string' as const, fill: run.fill[i], categories }
          : { name: f.name, dtype: f.dtype, onnxType: 'float32' as const, fill: run.fill[i] };
      }),
      nullPolicy: 'impute_training_median',
      output,
      label: node.label,
      threshold: run.metrics.threshold,
    };
    const entry = registry.register(node.register, {
      onnx,
      metrics: run.metrics,
      params: {
        algorithm: node.algorithm.name,
        params: node.algorithm.params,
        resolved: run.resolvedParams,
        split: node.split,
        trainRows: run.trainRows,
        seconds: run.seconds,
      },
      features,
      lineage: { inputs, inputsHash: hash, trainingSet, trainedAt: new Date().toISOString(), logicalTime: ctx.logicalTime.toISOString(), rows: ds.n },
      evaluation: evaluate(run.model, run.test, run.testProba, node.split.seed),
      inputsHash: hash,
      trainingSet,
      algorithm: node.algorithm.name,
      promoted,
      gate: { text: node.gate?.text ?? 'none', ...gate, ...(challenge ? { challenge } : {}) },
    });
    if (!gate.passed) ctx.warn(`${node.register} v${entry.version} fails the gate (${gate.reason}): kept, not promoted`);
    else if (!promoted) ctx.warn(`${node.register} v${entry.version} is ${challenge!.reason}: kept, not promoted`);

    if (node.mlflow) {
      try {
        await logToMlflow(String(ctx.resolve(node.mlflow.trackingUri)), node.mlflow.experiment, {
          runName: `${node.name}-v${entry.version}`,
          model: node.register,
          version: entry.version,
          params: { algorithm: node.algorithm.name, ...node.algorithm.params, test_size: node.split.test, seed: node.split.seed, train_rows: run.trainRows },
          metrics: run.metrics,
          onnx,
          signal: ctx.signal,
        });
      } catch (e) {
        if (e instanceof NodeError) throw e;
        ctx.warn(`${node.id}: MLflow logging failed: ${(e as Error).message}`);
      }
    }
    return { modelVersion: entry.version, rows: ds.n };
  },
});

/**
 * Stand for a registered version instead of training: its promotion follows the gate as the spec
 * states it now (a version that lost to the champion when it was trained stays unpromoted).
 */
function reuse(ctx: RunContext<TrainNode>, registry: Registry, existing: RegistryVersion, rows: number, why: string): NodeResult {
  const node = ctx.node;
  const gate = evaluateGate(node.gate, existing.metrics);
  const gateText = node.gate?.text ?? 'none';
  const challenge = existing.gate?.challenge;
  const promoted = gate.passed && (challenge?.passed ?? true);
  if (existing.promoted !== promoted || existing.gate?.text !== gateText) {
    registry.setPromotion(node.register, existing.version, promoted, { text: gateText, ...gate, ...(challenge ? { challenge } : {}) });
  }
  if (!gate.passed) ctx.warn(`${node.register} v${existing.version} fails the gate (${gate.reason}): kept, not promoted`);
  else if (!promoted) ctx.warn(`${node.register} v${existing.version} is ${challenge!.reason}: kept, not promoted`);
  ctx.progress({ rows, message: `reusing ${node.register} v${existing.version} (${why})` });
  return { modelVersion: existing.version };
}
