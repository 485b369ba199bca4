// The whole conformance run as a list of checks, each a row of the table `npm run conformance`
// prints: check | engine@version | rows compared | result.

import { join } from 'node:path';
import type { FeaturesNode } from '../../../src/ir/types.js';
import { loadSpec } from '../../../src/cli/spec.js';
import type { Toolchain } from './toolchain.js';
import type { Workspace } from './workspace.js';
import { runSpark } from './spark.js';
import { runDbt } from './dbt.js';
import { runFeast, type FeastView } from './feast.js';
import { runTraining } from './training.js';

export interface CheckRow {
  readonly check: string;
  readonly engine: string;
  readonly rows: number | string;
  readonly ok: boolean;
  /** The result column: "pass", or why not (first differing rows). */
  readonly detail: string;
  readonly seconds: number;
}

export async function featureView(ws: Workspace): Promise<FeastView> {
  const spec = await loadSpec(ws.spec, ws.dir);
  const v = spec.ir?.nodes.find((n): n is FeaturesNode => n.kind === 'features');
  if (!v) throw new Error(`${ws.spec} has no feature view`);
  return { view: v.name, from: v.from, joinKey: v.entity.joinKey, timestamp: v.timestamp };
}

export async function sparkRows(ws: Workspace, tools: Toolchain): Promise<CheckRow[]> {
  const engine = (check: string) => (check.startsWith('pyiceberg') ? 'pyiceberg' : `spark@${tools.versions.pyspark} (Iceberg JDBC catalog, S3)`);
  return (await runSpark(ws, tools)).map((o) => ({
    check: o.check,
    engine: engine(o.check),
    rows: o.comparison.rows,
    ok: o.comparison.ok,
    detail: o.comparison.ok ? 'pass' : o.comparison.message,
    seconds: o.seconds,
  }));
}

export async function dbtRows(ws: Workspace, tools: Toolchain): Promise<CheckRow[]> {
  const engine = `dbt-duckdb@${tools.versions['dbt-duckdb']} (dbt-core ${tools.versions['dbt-core']})`;
  const o = await runDbt(ws, tools);
  const rows: CheckRow[] = [
    {
      check: `dbt build (${o.models} models, contracts, ${o.tests} tests)`,
      engine,
      rows: '-',
      ok: o.failures.length === 0 && o.models > 0,
      detail: o.failures.length === 0 && o.models > 0 ? 'pass' : o.message,
      seconds: o.seconds,
    },
  ];
  for (const c of o.comparisons)
    rows.push({
      check: `dbt ${c.table}`,
      engine,
      rows: c.comparison.rows,
      ok: c.comparison.ok,
      detail: c.comparison.ok ? 'pass' : c.comparison.message,
      seconds: 0,
    });
  if (o.comparisons.length === 0 && rows[0].ok) rows.push({ check: 'dbt gold tables', engine, rows: 0, ok: false, detail: o.message, seconds: 0 });
  return rows;
}

export async function feastRows(ws: Workspace, tools: Toolchain, v: FeastView): Promise<CheckRow[]> {
  const o = await runFeast(ws, tools, v);
  return [
    {
      check: `feast historical ${v.view} (${o.entities} entity rows)`,
      engine: `feast@${tools.versions.feast}`,
      rows: o.comparison.rows,
      ok: o.comparison.ok,
      detail: o.comparison.ok ? 'pass' : o.comparison.message,
      seconds: o.seconds.apply + o.seconds.retrieval,
    },
  ];
}

export async function trainingRows(ws: Workspace, tools: Toolchain, v: FeastView): Promise<CheckRow[]> {
  const o = await runTraining(ws, tools, { feastRepo: join(ws.dir, 'feast-repo'), featuresFrom: v.from });
  const engine = `scikit-learn@${tools.versions['scikit-learn']} mlflow@${tools.versions.mlflow}`;
  const rows: CheckRow[] = [
    {
      check: `training script → MLflow (${o.registered ? `${o.registered.name} v${o.registered.version} ${o.registered.status}` : 'not registered'}) → ONNX via asgard serve`,
      engine,
      rows: o.servedRows,
      ok: o.problems.filter((p) => !p.startsWith('ROC AUC') && !p.startsWith('split sizes')).length === 0,
      detail:
        o.problems.filter((p) => !p.startsWith('ROC AUC') && !p.startsWith('split sizes')).join('; ') ||
        `pass (max |p_asgard_serve - p_onnxruntime| = ${o.maxServeDiff.toExponential(1)})`,
      seconds: o.seconds.script,
    },
  ];
  if (o.auc) {
    const bad = o.problems.filter((p) => p.startsWith('ROC AUC') || p.startsWith('split sizes'));
    rows.push({
      check: `ROC AUC same split: asgard ${o.auc.asgard.toFixed(4)} vs sklearn ${o.auc.sklearn.toFixed(4)}`,
      engine: `scikit-learn@${tools.versions['scikit-learn']}`,
      rows: o.auc.testRows,
      ok: bad.length === 0,
      detail: bad.join('; ') || `pass (|Δ| = ${Math.abs(o.auc.asgard - o.auc.sklearn).toFixed(4)} ≤ 0.01)`,
      seconds: o.seconds.sameSplit,
    });
  }
  return rows;
}

/** The table, aligned, one line per check; details of failures under it. */
export function renderTable(rows: readonly CheckRow[]): string {
  const head = ['check', 'engine@version', 'rows compared', 'result'];
  const body = rows.map((r) => [r.check, r.engine, String(r.rows), r.ok ? 'pass' : 'FAIL']);
  const w = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(w[i])).join(' | ');
  const out = [line(head), w.map((n) => '-'.repeat(n)).join('-|-'), ...body.map(line)];
  const failures = rows.filter((r) => !r.ok);
  if (failures.length) out.push('', ...failures.map((r) => `FAIL ${r.check}:\n${r.detail}`));
  return out.join('\n');
}
