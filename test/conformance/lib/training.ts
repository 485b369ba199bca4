// Training: the compiled training script runs with scikit-learn on the point-in-time training set
// (Feast over the embedded gold), logs its run, metrics and model to a real MLflow tracking server
// on loopback and registers a version; its ONNX model (written into a copy of asgard's registry)
// loads and serves through `asgard serve`, giving the probabilities onnxruntime gives. And asgard's
// own TypeScript random forest, trained on the same training frame with the same split, scores
// within 0.01 ROC AUC of scikit-learn's.

import { cpSync, existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Toolchain } from './toolchain.js';
import { run } from './proc.js';
import { startAsgardServe, startMlflow } from './servers.js';
import { tableEnv, warehouseLayout } from './layout.js';
import { repoRoot } from './paths.js';
import type { Workspace } from './workspace.js';
import { openDuck, queryAll, literal } from '../../../src/engine/duckdb.js';
import { trainModel } from '../../../src/ml/train.js';
import { trainTestSplit, type Dataset } from '../../../src/ml/dataset.js';

export interface TrainingOutcome {
  readonly ok: boolean;
  readonly problems: readonly string[];
  readonly registered: { readonly name: string; readonly version: string; readonly status: string } | undefined;
  readonly mlflowMetrics: Readonly<Record<string, number>>;
  readonly servedRows: number;
  readonly maxServeDiff: number;
  readonly auc: { readonly sklearn: number; readonly asgard: number; readonly trainRows: number; readonly testRows: number } | undefined;
  readonly seconds: { readonly script: number; readonly sameSplit: number };
}

interface ScriptReport {
  model: string;
  mlflow_run: string;
  mlflow_version: string | number;
  asgard_version: number | null;
  promoted: boolean;
  metrics: Record<string, number>;
}

/** The last top-level JSON object a script printed. */
function lastJson<T>(stdout: string): T {
  const i = stdout.lastIndexOf('\n{');
  const text = stdout.slice(i < 0 ? stdout.indexOf('{') : i + 1);
  return JSON.parse(text) as T;
}

export async function runTraining(
  ws: Workspace,
  tools: Toolchain,
  opts: { readonly feastRepo: string; readonly featuresFrom: string },
): Promise<TrainingOutcome> {
  const problems: string[] = [];
  const trainDirs = readdirSync(join(ws.compiled, 'training'), { withFileTypes: true }).filter(
    (d) => d.isDirectory() && existsSync(join(ws.compiled, 'training', d.name, 'train.py')),
  );
  if (trainDirs.length !== 1) throw new Error(`expected one compiled training script under training/*/train.py, found ${trainDirs.length}`);
  const trainPy = join(ws.compiled, 'training', trainDirs[0].name, 'train.py');
  const layout = warehouseLayout(ws);
  const mlflowDir = join(ws.dir, 'mlflow');
  rmSync(mlflowDir, { recursive: true, force: true });
  // The script registers into a copy of asgard's state: the embedded run's registry stays as it was.
  const stateCopy = join(ws.dir, 'state-sklearn');
  rmSync(stateCopy, { recursive: true, force: true });
  mkdirSync(stateCopy, { recursive: true });
  for (const sub of ['state', 'registry']) if (existsSync(join(ws.stateDir, sub))) cpSync(join(ws.stateDir, sub), join(stateCopy, sub), { recursive: true });
  const workDir = join(ws.dir, 'training-run');
  rmSync(workDir, { recursive: true, force: true });
  mkdirSync(workDir, { recursive: true });

  const mlflow = await startMlflow(tools, mlflowDir);
  try {
    const env = {
      ...tools.env,
      FEAST_REPO: opts.feastRepo,
      ...tableEnv(ws, layout),
      MLFLOW_TRACKING_URI: mlflow.url,
      ASGARD_STATE: stateCopy,
      S3_ENDPOINT: '',
    };
    const script = await run(tools.python, [trainPy], { cwd: workDir, env, log: ws.log, timeoutMs: 20 * 60_000 });
    const report = lastJson<ScriptReport>(script.stdout);

    // The tracking server holds the run, its metrics, its artifacts and a registered version.
    const api = async <T>(path: string): Promise<T> => {
      const r = await fetch(`${mlflow.url}/api/2.0/mlflow/${path}`);
      if (!r.ok) throw new Error(`MLflow ${path}: HTTP ${r.status} ${await r.text()}`);
      return (await r.json()) as T;
    };
    const runDoc = await api<{ run: { info: { status: string }; data: { metrics?: { key: string; value: number }[] } } }>(
      `runs/get?run_id=${report.mlflow_run}`,
    );
    const mlflowMetrics = Object.fromEntries((runDoc.run.data.metrics ?? []).map((m) => [m.key, m.value]));
    if (runDoc.run.info.status !== 'FINISHED') problems.push(`MLflow run ${report.mlflow_run} is ${runDoc.run.info.status}, not FINISHED`);
    for (const k of ['roc_auc', 'f1', 'accuracy', 'precision', 'recall', 'log_loss'])
      if (typeof mlflowMetrics[k] !== 'number') problems.push(`MLflow run has no ${k} metric`);
    const mv = await api<{ model_version: { name: string; version: string; status: string; run_id: string } }>(
      `model-versions/get?name=${encodeURIComponent(report.model)}&version=${report.mlflow_version}`,
    );
    if (mv.model_version.status !== 'READY') problems.push(`registered version ${report.model}/${report.mlflow_version} is ${mv.model_version.status}`);
    if (mv.model_version.run_id !== report.mlflow_run) problems.push(`registered version points at run ${mv.model_version.run_id}, not ${report.mlflow_run}`);
    const arts = await api<{ files?: { path: string }[] }>(`artifacts/list?run_id=${report.mlflow_run}&path=onnx`);
    if (!(arts.files ?? []).some((f) => f.path === 'onnx/model.onnx')) problems.push('MLflow run has no onnx/model.onnx artifact');

    // Its ONNX model serves through `asgard serve`; the probabilities equal onnxruntime's.
    let servedRows = 0;
    let maxServeDiff = Number.NaN;
    if (report.asgard_version === null) problems.push("the training script wrote no version into asgard's registry (ASGARD_STATE)");
    else {
      const versionDir = join(stateCopy, 'registry', report.model, String(report.asgard_version));
      const inputs = await sampleInputs(ws, opts.featuresFrom, join(versionDir, 'features.json'));
      const inputsFile = join(workDir, 'inputs.json');
      writeFileSync(inputsFile, JSON.stringify(inputs));
      const ort = await run(tools.python, [join(repoRoot(), 'test/conformance/py/onnx_proba.py'), join(versionDir, 'model.onnx'), inputsFile], {
        env: tools.env,
        log: ws.log,
      });
      const expected = JSON.parse(ort.stdout) as number[];
      const root = repoRoot();
      const entry = process.env.ASGARD_CONFORMANCE_SOURCES === '1' ? ['--import', 'tsx', join(root, 'src/cli/main.ts')] : [join(root, 'bin/asgard.js')];
      const serve = await startAsgardServe([...entry, 'serve', ws.spec, '--state', stateCopy], ws.env, ws.dir, join(ws.dir, 'asgard-serve.log'));
      try {
        const r = await fetch(`${serve.url}/mlops/inference`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ model_name: report.model, model_version: report.asgard_version, inputs }),
        });
        const body = (await r.json()) as { predictions?: { churn_probability: number }[] };
        if (r.status !== 200 || !body.predictions) problems.push(`asgard serve answered ${r.status}: ${JSON.stringify(body).slice(0, 500)}`);
        else {
          servedRows = body.predictions.length;
          maxServeDiff = Math.max(...body.predictions.map((p, i) => Math.abs(p.churn_probability - expected[i])));
          if (servedRows !== inputs.length) problems.push(`asgard serve returned ${servedRows} predictions for ${inputs.length} inputs`);
          if (!(maxServeDiff <= 1e-5)) problems.push(`asgard serve's probabilities differ from onnxruntime's by up to ${maxServeDiff}`);
        }
      } finally {
        await serve.stop();
      }
    }

    // Same frame, same split: asgard's TypeScript forest versus scikit-learn's.
    const t0 = performance.now();
    const frameFile = join(workDir, 'frame.parquet');
    const fr = await run(tools.python, [join(repoRoot(), 'test/conformance/py/same_split.py'), 'frame', trainPy, frameFile], {
      cwd: workDir,
      env,
      log: ws.log,
    });
    const settings = lastJson<{
      rows: number;
      features: string[];
      label: string;
      params: Record<string, number | string | boolean>;
      test: number;
      stratify: boolean;
      seed: number;
    }>(fr.stdout);
    const ds = await readDataset(frameFile, settings.features, settings.label);
    const split = trainTestSplit(ds.y, settings.test, settings.stratify, settings.seed);
    const splitFile = join(workDir, 'split.json');
    writeFileSync(splitFile, JSON.stringify({ train: [...split.train], test: [...split.test] }));
    const ours = trainModel(ds, {
      algorithm: 'random_forest',
      params: settings.params,
      split: { test: settings.test, stratify: settings.stratify, seed: settings.seed },
    });
    const fit = await run(tools.python, [join(repoRoot(), 'test/conformance/py/same_split.py'), 'fit', trainPy, frameFile, splitFile], {
      cwd: workDir,
      env,
      log: ws.log,
    });
    const sk = lastJson<{ roc_auc: number; train_rows: number; test_rows: number }>(fit.stdout);
    const auc = { sklearn: sk.roc_auc, asgard: ours.metrics.roc_auc, trainRows: sk.train_rows, testRows: sk.test_rows };
    if (ours.trainRows !== sk.train_rows) problems.push(`split sizes differ: asgard trained on ${ours.trainRows} rows, scikit-learn on ${sk.train_rows}`);
    if (!(Math.abs(auc.asgard - auc.sklearn) <= 0.01))
      problems.push(`ROC AUC on the same split: asgard ${auc.asgard.toFixed(4)} vs scikit-learn ${auc.sklearn.toFixed(4)} (more than 0.01 apart)`);
    const sameSplit = (performance.now() - t0) / 1000;

    return {
      ok: problems.length === 0,
      problems,
      registered: { name: mv.model_version.name, version: mv.model_version.version, status: mv.model_version.status },
      mlflowMetrics,
      servedRows,
      maxServeDiff,
      auc,
      seconds: { script: script.seconds, sameSplit },
    };
  } finally {
    await mlflow.stop();
  }
}

/** The training frame as asgard's Dataset: float32 features (NULL → NaN), 0/1 label, in file order. */
async function readDataset(file: string, features: readonly string[], label: string): Promise<Dataset> {
  const conn = await openDuck();
  try {
    const cols = features.map((f) => `CAST("${f}" AS DOUBLE) AS "${f}"`).join(', ');
    const r = await queryAll(conn, `SELECT ${cols}, CAST("${label}" AS INTEGER) AS __y FROM read_parquet(${literal(file)})`);
    const F = features.length;
    const X = new Float32Array(r.rows.length * F);
    const y = new Uint8Array(r.rows.length);
    r.rows.forEach((row, i) => {
      features.forEach((f, j) => {
        X[i * F + j] = row[f] === null ? Number.NaN : Number(row[f]);
      });
      y[i] = Number(row.__y);
    });
    return { featureNames: features, n: r.rows.length, X, y };
  } finally {
    conn.closeSync();
  }
}

/** A few rows of real features (the latest row of some customers) to score. */
async function sampleInputs(ws: Workspace, from: string, featuresJson: string): Promise<Record<string, number>[]> {
  const { readFileSync } = await import('node:fs');
  const schema = JSON.parse(readFileSync(featuresJson, 'utf8')) as { features: { name: string }[] };
  const names = schema.features.map((f) => f.name);
  const { snapshotDir } = await import('./workspace.js');
  const conn = await openDuck();
  try {
    const r = await queryAll(
      conn,
      `SELECT ${names.map((n) => `CAST("${n}" AS DOUBLE) AS "${n}"`).join(', ')} FROM read_parquet(${literal(join(snapshotDir(ws, from), '**', '*.parquet'))}) WHERE ${names.map((n) => `"${n}" IS NOT NULL`).join(' AND ')} ORDER BY ALL LIMIT 50`,
    );
    return r.rows.map((row) => Object.fromEntries(names.map((n) => [n, Number(row[n])])));
  } finally {
    conn.closeSync();
  }
}
