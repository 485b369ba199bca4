// `plan --diff-data` at seed scale (100,000 customers, 1,200,000 transactions, 45,000 tickets) on a
// one-cleanse change: the customers cleanse keeps customers registered from 2021 instead of 2020.
// Synthetic bronze snapshots and the churn nodes run through the real executors (bench/engine-
// harness.ts); then, median of RUNS each:
//  - diff_data.one_cleanse.seconds: diffData (src/engine/data-diff.ts) over that warehouse: the
//    changed cleanse and its changed downstream SQL nodes run as before and as after in the sandbox,
//    compared by key, plus the feature view's distributions;
//  - diff_data.apply_downstream.seconds: applying the edited cleanse and its downstream (both gold
//    models and the feature view) through the real executors;
//  - diff_data.ratio: the first over the second. Goal: < 2.

import { fileURLToPath } from 'node:url';
import type { Figure } from './run.js';
import { median } from './stats.js';
import { EngineHarness, SEED, bronzeSql } from './engine-harness.js';
import { loadPipeline } from '../src/dsl/load.js';
import { engineRun } from './apply.bench.js';
import { diffData } from '../src/engine/data-diff.js';
import { buildPlan, priorFromIr } from '../src/planner/plan.js';
import type { CleanseNode, FeaturesNode, ModelNode, PipelineIR } from '../src/ir/types.js';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const SPEC = fileURLToPath(new URL('../pipelines/churn.asg', import.meta.url));
const RUNS = Number(process.env.ASGARD_BENCH_RUNS ?? 3);
type EngineNode = CleanseNode | ModelNode | FeaturesNode;

export async function run(): Promise<Figure[]> {
  const text = readFileSync(SPEC, 'utf8');
  const editedText = text.replace("AND registration_date >= '2020-01-01'", "AND registration_date >= '2021-01-01'");
  if (editedText === text) throw new Error('the bench edit no longer applies to pipelines/churn.asg');
  const dir = mkdtempSync(join(tmpdir(), 'asgard-bench-diffdata-'));
  writeFileSync(join(dir, 'churn.asg'), editedText);
  const base = (await loadPipeline(SPEC)).ir;
  const head = (await loadPipeline(join(dir, 'churn.asg'))).ir;
  if (!base || !head) throw new Error('pipelines/churn.asg does not load');
  const engineNodes = (ir: PipelineIR) => ir.nodes.filter((n): n is EngineNode => n.kind === 'cleanse' || n.kind === 'model' || n.kind === 'features');

  const h = new EngineHarness();
  await h.write('bronze.customers', bronzeSql('customers', SEED.customers));
  await h.write('bronze.transactions', bronzeSql('transactions', SEED.transactions));
  await h.write('bronze.support_tickets', bronzeSql('support_tickets', SEED.tickets));
  await engineRun(h, base, engineNodes(base));
  // What apply records and the harness does not: each node's fingerprint and the input snapshots it
  // ran on (they tell diffData the current tables are the base's outputs).
  const fps = priorFromIr(base);
  const token = (id: string) => h.state.nodes[id]?.snapshot?.id ?? '';
  const applied: typeof h.state = {
    ...h.state,
    nodes: Object.fromEntries(
      Object.entries(h.state.nodes).map(([id, n]) => {
        const node = base.nodes.find((x) => x.id === id);
        return [id, { ...n, fingerprint: fps[id]?.fingerprint ?? '', inputSnapshots: Object.fromEntries((node?.inputs ?? []).map((i) => [i, token(i)])) }];
      }),
    ),
  };

  const plan = buildPlan({ ir: head, prior: priorFromIr(base), against: { kind: 'base', ref: SPEC } });
  const prior = priorFromIr(base);
  const priorSql = (id: string) => {
    const sql = (prior[id]?.definition as { data?: { sql?: unknown } } | undefined)?.data?.sql;
    return typeof sql === 'string' ? sql : undefined;
  };
  const changed = new Set(plan.actions.filter((a) => a.action === 'update' || a.action === 'replace').map((a) => a.node));
  const downstream = engineNodes(head).filter((n) => changed.has(n.id));

  const diff: number[] = [];
  const apply: number[] = [];
  let compared = 0;
  for (let i = 0; i < RUNS; i++) {
    h.state = applied;
    let t = performance.now();
    const d = await diffData({
      plan,
      ir: head,
      state: applied,
      warehouse: h.warehouse,
      logicalTime: h.logicalTime,
      priorSql,
      priorFingerprint: (id) => prior[id]?.fingerprint,
    });
    diff.push((performance.now() - t) / 1000);
    compared = d.size;
    const removed = d.get('silver.customers_cleaned')?.rows?.removed ?? 0;
    if (!(removed > 0)) throw new Error('the data diff found no removed customers');
    t = performance.now();
    apply.push(await engineRun(h, head, downstream));
    void t;
  }
  const dm = median(diff);
  const am = median(apply);
  const figures: Figure[] = [
    { name: 'diff_data.one_cleanse.seconds', value: dm, unit: 's', runs: RUNS },
    { name: 'diff_data.apply_downstream.seconds', value: am, unit: 's', runs: RUNS },
    { name: 'diff_data.ratio', value: dm / am, unit: 'x', goal: '< 2', runs: RUNS },
  ];
  process.stderr.write(`diff-data.bench: ${compared} nodes compared; ${figures.map((f) => `${f.name} = ${f.value.toFixed(3)}`).join(', ')}\n`);
  return figures;
}
