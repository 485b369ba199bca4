// Side by side on the same data, at seed scale (100,000 customers): asgard's embedded apply versus
// the route a team would take without it (Spark local jobs for silver, `dbt build` on dbt-duckdb
// for gold, `feast apply`, then the compiled training script: Feast historical retrieval, scikit-learn
// fit, metrics, MLflow logging and registration, ONNX export),
// wall time of each phase and in total, and the ratio (goal: asgard at least 3x faster end to end).
// asgard's total includes its ingestion (bronze); the other route's total does not (its ingestion
// would be Airbyte), which only favours the other route.
// And `asgard plan` on the 1,000-node synthetic spec versus `dbt parse` on the dbt project asgard
// compiles from it, cold (no cache / --no-partial-parse) and warm: goal at least 50x faster. Those
// figures are the plan bench's (bench/plan.bench.ts calls planVersusParse).
//
// Kept apart from conformance.bench.ts (importing a bench module runs bench/run.ts).
// Needs the Python toolchain (scripts/setup-python.sh) and the local services (scripts/services.sh).

import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as yaml from 'js-yaml';
import type { Figure } from './run.js';
import { generateSpec } from './gen-spec.js';
import { median } from './stats.js';
import { ensureToolchain, type Toolchain } from '../test/conformance/lib/toolchain.js';
import { prepareWorkspace } from '../test/conformance/lib/prepare.js';
import { runSpark } from '../test/conformance/lib/spark.js';
import { runDbt } from '../test/conformance/lib/dbt.js';
import { tableEnv, warehouseLayout } from '../test/conformance/lib/layout.js';
import { startMlflow } from '../test/conformance/lib/servers.js';
import { run as runTool } from '../test/conformance/lib/proc.js';
import { repoRoot } from '../test/conformance/lib/paths.js';
import type { Workspace } from '../test/conformance/lib/workspace.js';

const SEED_CUSTOMERS = Number(process.env.ASGARD_BENCH_CUSTOMERS ?? 100_000);

export async function conformanceFigures(): Promise<Figure[]> {
  const tc = ensureToolchain();
  if (!tc.ok) throw new Error(`conformance bench needs the Python toolchain: ${tc.reason}`);
  const tools = tc.tools;
  return endToEnd(tools);
}

export async function endToEnd(tools: Toolchain): Promise<Figure[]> {
  const prep = await prepareWorkspace({
    dir: join(repoRoot(), '.asgard', 'conformance-bench'),
    customers: SEED_CUSTOMERS,
    log: (s) => process.stderr.write(`  ${s}\n`),
  });
  try {
    const ws = prep.ws;
    const phase = (kind: RegExp) => prep.applyNodes.filter((n) => kind.test(n.node)).reduce((s, n) => s + n.seconds, 0);
    const asgard = {
      ingest: phase(/^bronze\./),
      silver: phase(/^silver\./),
      gold: phase(/^gold\./),
      features: phase(/^features\./),
      train: phase(/^train\./),
      total: prep.applySeconds,
    };

    const spark = (await runSpark(ws, tools, { compare: false })).reduce((s, o) => s + o.seconds, 0);
    const dbtOutcome = await runDbt(ws, tools, { compare: false });
    if (dbtOutcome.failures.length) throw new Error(`dbt build failed in the bench: ${dbtOutcome.message}`);
    const features = await feastPhase(ws, tools);
    const train = await trainingPhase(ws, tools);
    const other = { silver: spark, gold: dbtOutcome.seconds, features, train, total: spark + dbtOutcome.seconds + features + train };
    const fig = (name: string, value: number, goal?: string): Figure => ({
      name,
      value: Number(value.toFixed(2)),
      unit: 's',
      runs: 1,
      ...(goal ? { goal } : {}),
    });
    return [
      fig('conformance.seed_scale.asgard.ingest.seconds', asgard.ingest),
      fig('conformance.seed_scale.asgard.silver.seconds', asgard.silver),
      fig('conformance.seed_scale.asgard.gold.seconds', asgard.gold),
      fig('conformance.seed_scale.asgard.features.seconds', asgard.features),
      fig('conformance.seed_scale.asgard.train.seconds', asgard.train),
      fig('conformance.seed_scale.asgard.total.seconds', asgard.total),
      fig('conformance.seed_scale.tools.spark_silver.seconds', other.silver),
      fig('conformance.seed_scale.tools.dbt_gold.seconds', other.gold),
      fig('conformance.seed_scale.tools.feast_features.seconds', other.features),
      fig('conformance.seed_scale.tools.sklearn_train.seconds', other.train),
      fig('conformance.seed_scale.tools.total.seconds', other.total),
      { name: 'conformance.seed_scale.speedup', value: Number((other.total / asgard.total).toFixed(2)), unit: 'x', runs: 1, goal: '>= 3' },
    ];
  } finally {
    await prep.close();
  }
}

/** `feast apply` of the compiled repository (the retrieval itself runs inside the training script). */
async function feastPhase(ws: Workspace, tools: Toolchain): Promise<number> {
  const repo = join(ws.dir, 'feast-repo');
  rmSync(repo, { recursive: true, force: true });
  cpSync(join(ws.compiled, 'feast'), repo, { recursive: true });
  const layout = warehouseLayout(ws);
  const env = { ...tools.env, ...tableEnv(ws, layout), S3_ENDPOINT: '' };
  const applied = await runTool(join(tools.bin, 'feast'), ['apply'], { cwd: repo, env, log: ws.log });
  return applied.seconds;
}

/** The compiled training script (Feast retrieval, fit, metrics, MLflow logging and registration, ONNX). */
async function trainingPhase(ws: Workspace, tools: Toolchain): Promise<number> {
  const trainPy = join(ws.compiled, 'training', 'churn_predictor', 'train.py');
  const layout = warehouseLayout(ws);
  const mlflowDir = join(ws.dir, 'mlflow');
  rmSync(mlflowDir, { recursive: true, force: true });
  const mlflow = await startMlflow(tools, mlflowDir);
  try {
    const work = join(ws.dir, 'training-run');
    mkdirSync(work, { recursive: true });
    const r = await runTool(tools.python, [trainPy], {
      cwd: work,
      env: { ...tools.env, ...tableEnv(ws, layout), FEAST_REPO: join(ws.dir, 'feast-repo'), MLFLOW_TRACKING_URI: mlflow.url, S3_ENDPOINT: '' },
      log: ws.log,
    });
    return r.seconds;
  } finally {
    await mlflow.stop();
  }
}

/**
 * `asgard plan` versus `dbt parse` on the project asgard compiles from the same 1,000-node spec, in
 * the same run, alternating: cold (no workspace cache, fresh state / --no-partial-parse) and warm
 * (the second run of each, with its cache). Needs the Python toolchain (dbt).
 */
export async function planVersusParse(runs = 3): Promise<Figure[]> {
  const tc = ensureToolchain();
  if (!tc.ok) throw new Error(`the plan bench compares with dbt parse, which needs the Python toolchain: ${tc.reason}`);
  const tools = tc.tools;
  const dir = mkdtempSync(join(tmpdir(), 'asgard-bench-dbt-parse-'));
  try {
    const text = generateSpec(1000).replace(
      /\}\s*$/,
      `
  profile kubernetes {
    namespace     = "asgard"
    image         = "ghcr.io/asgard-data/asgard:0.1.0"
    spark_image   = "apache/spark:4.0.1-python3"
    spark_version = "4.0.1"
    warehouse     = "s3a://asgard-bench/warehouse"
  }
}
`,
    );
    const spec = join(dir, 'synthetic.asg');
    writeFileSync(spec, text);
    const bin = join(repoRoot(), 'bin', 'asgard.js');
    const compiled = join(dir, 'compiled');
    await runTool(process.execPath, [bin, 'compile', spec, '--out', compiled, '--profile', 'kubernetes'], { cwd: dir });
    const project = join(compiled, 'dbt');
    const projectDoc = yaml.load(readFileSync(join(project, 'dbt_project.yml'), 'utf8')) as { profile: string };
    const profiles = join(dir, 'profiles');
    mkdirSync(profiles, { recursive: true });
    writeFileSync(
      join(profiles, 'profiles.yml'),
      yaml.dump({ [projectDoc.profile]: { target: 'duckdb', outputs: { duckdb: { type: 'duckdb', path: join(dir, 'parse.duckdb'), schema: 'gold' } } } }),
    );

    // Cold: a fresh state and no spec compile cache, and dbt without partial parsing. Warm: the second
    // run of each with its cache (asgard's .asgard/cache, dbt's target/partial_parse.msgpack).
    const cold = { plan: [] as number[], parse: [] as number[] };
    const warm = { plan: [] as number[], parse: [] as number[] };
    const plan = async (state: string, env?: NodeJS.ProcessEnv) => {
      const p = await runTool(process.execPath, [bin, 'plan', spec, '--state', state, '--format', 'json'], { cwd: dir, env, allowFailure: true });
      if (p.code !== 0 && p.code !== 3) throw new Error(`asgard plan exited ${p.code}: ${p.stderr.slice(-1000)}`);
      return p.seconds;
    };
    const parse = async (partial: boolean) =>
      (
        await runTool(
          join(tools.bin, 'dbt'),
          ['parse', '--project-dir', project, '--profiles-dir', profiles, partial ? '--partial-parse' : '--no-partial-parse'],
          { cwd: project, env: tools.env },
        )
      ).seconds;
    // Context: Node's own start in the same environment (NODE_EXTRA_CA_CERTS included, when set), the
    // floor under any asgard process; and both again without NODE_EXTRA_CA_CERTS, which Node 20 reads
    // at start, parsing its bundled roots and that file whole before any JavaScript runs
    // (nodejs/node#40524; bench/plan.md, session 16). The figures compared are measured with it.
    const noExtraCa = { ...process.env };
    delete noExtraCa.NODE_EXTRA_CA_CERTS;
    const nodeStart: number[] = [];
    const nodeStartNoCa: number[] = [];
    const coldNoCa: number[] = [];
    const startNode = async (into: number[], env?: NodeJS.ProcessEnv) => into.push((await runTool(process.execPath, ['-e', '0'], { cwd: dir, env })).seconds);
    // Cold means no cache at all: asgard keeps its spec compile cache in .asgard/cache beside the spec.
    const coldPlan = async (into: number[], state: string, env?: NodeJS.ProcessEnv) => {
      rmSync(join(dir, '.asgard'), { recursive: true, force: true });
      into.push(await plan(state, env));
    };
    for (let i = 0; i < runs; i++) {
      await startNode(nodeStart);
      await startNode(nodeStart);
      await startNode(nodeStartNoCa, noExtraCa);
      await startNode(nodeStartNoCa, noExtraCa);
      const state = join(dir, `state-${i}`);
      // Alternating which of the two cold plans runs first, so that neither always follows dbt.
      if (i % 2) await coldPlan(coldNoCa, join(dir, `state-no-ca-${i}`), noExtraCa);
      await coldPlan(cold.plan, state);
      if (i % 2 === 0) await coldPlan(coldNoCa, join(dir, `state-no-ca-${i}`), noExtraCa);
      warm.plan.push(await plan(state));
      cold.parse.push(await parse(false));
      await parse(true); // writes the partial-parse cache
      warm.parse.push(await parse(true));
    }
    const models = text.match(/\n\s*model /g)?.length ?? 0;
    const f = (name: string, xs: number[]): Figure => ({ name, value: Number(median(xs).toFixed(3)), unit: 's', runs: xs.length });
    return [
      f('plan.1000_nodes.cold.seconds', cold.plan),
      f('plan.node_start.seconds', nodeStart),
      f('plan.1000_nodes.cold_without_extra_ca.seconds', coldNoCa),
      f('plan.node_start_without_extra_ca.seconds', nodeStartNoCa),
      f('plan.1000_nodes.dbt_parse_cold.seconds', cold.parse),
      f('plan.1000_nodes.warm.seconds', warm.plan),
      f('plan.1000_nodes.dbt_parse_warm.seconds', warm.parse),
      { name: 'plan.1000_nodes.dbt_models', value: models, unit: 'models', runs: 1 },
      {
        name: 'plan.1000_nodes.speedup_cold',
        value: Number((median(cold.parse) / median(cold.plan)).toFixed(1)),
        unit: 'x',
        runs,
        goal: '>= 50 (dbt parse / asgard plan, cold)',
      },
      {
        name: 'plan.1000_nodes.speedup_warm',
        value: Number((median(warm.parse) / median(warm.plan)).toFixed(1)),
        unit: 'x',
        runs,
        goal: '>= 50 (dbt parse / asgard plan, warm)',
      },
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
