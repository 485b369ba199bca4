// The one document the site (site/, built by `npm run build`) draws from: the spec's DAG and node
// definitions, the applied state, the run history (src/planner/runs-log.ts), the registry's
// versions with their held-out curves (src/ml/evaluation.ts), the serving table's distribution
// and, when given, a saved plan. Plain JSON, embedded in index.html so the site opens from file://.
// Column lineage is shipped as direct edges (each column → the input columns it is computed from,
// src/engine/lineage.ts); the browser walks them up and down.

import { layoutGraph, type GraphLayout } from './graph-layout.js';
import type { NodeId, PipelineIR, PipelineNode, ServeNode, TrainNode } from '../ir/types.js';
import { outputTable } from '../ir/types.js';
import { buildDag } from '../planner/dag.js';
import type { ColumnSchema, PipelineState, SnapshotRef } from '../planner/state-store.js';
import type { RunRecord } from '../planner/runs-log.js';
import { sha256 } from '../util/canonical-json.js';
import type { KeyValueCache } from '../util/json-cache.js';
import { LineageGraph } from '../engine/lineage.js';
import { batchOutputColumns } from '../engine/batch-output.js';
import { ident } from '../engine/quote.js';
import type { SqlFactsMaker } from './sql-facts.js';
import type { FeatureSchema, RegistryVersion } from '../ml/registry.js';
import type { Evaluation } from '../ml/evaluation.js';
import type { Workspace } from '../workspace/workspace.js';
import { nodeAddress } from '../ir/address.js';

export const SITE_SCHEMA_VERSION = 1;
/** Applies shown on the runs page. */
const RUNS_SHOWN = 10;
const HISTOGRAM_BINS = 20;

/** Graph columns, left to right. `system` is a source system (a connector), upstream of bronze. */
export const STAGES = ['system', 'source', 'cleanse', 'model', 'features', 'train', 'serve'] as const;
export type SiteKind = (typeof STAGES)[number];

export interface PlanMark {
  readonly action: string;
  /** From the review step (`breaking`, `non-breaking`, `metadata`, `none`), when the plan has it. */
  readonly category?: string;
  readonly reasons: readonly string[];
  readonly schemaChanges: readonly unknown[];
}

export interface SiteNode {
  readonly id: string;
  readonly kind: SiteKind;
  readonly layer: string;
  readonly name: string;
  readonly description?: string;
  readonly tags: readonly string[];
  /** `file:line` of the block in the spec. */
  readonly where?: string;
  readonly inputs: readonly string[];
  readonly downstream: readonly string[];
  /** The body as written (Spark SQL) and as each target runs it. */
  readonly sql?: { readonly spec: string; readonly targets: readonly { readonly dialect: string; readonly runs: string; readonly sql: string }[] };
  readonly schema: readonly ColumnSchema[];
  readonly checks: readonly string[];
  /** Facts of the node's kind (connector, materialisation, entity, algorithm …) as label → value. */
  readonly facts: readonly (readonly [string, string])[];
  readonly state?: {
    readonly appliedAt: string;
    readonly snapshot?: SnapshotRef;
    readonly history: readonly SnapshotRef[];
    readonly modelVersion?: number;
    readonly cursor?: string;
  };
  readonly plan?: PlanMark;
  /** Written by `asgard docs` in place of the node's details (src/docs/site-files.ts): the number of the file that holds them. */
  readonly details?: number;
}

export interface ModelVersionData extends RegistryVersion {
  readonly params?: unknown;
  readonly lineage?: unknown;
  readonly evaluation?: Evaluation;
  readonly features?: FeatureSchema;
}

export interface ServingData {
  readonly node: string;
  readonly table?: string;
  readonly riskLevels: ServeNode['riskLevels'];
  /** Rows of the batch table by risk level, and its probabilities in HISTOGRAM_BINS bins. */
  readonly byRisk: readonly { readonly level: string; readonly rows: number }[];
  readonly histogram: readonly { readonly from: number; readonly to: number; readonly rows: number }[];
  readonly probabilityColumn?: string;
  readonly error?: string;
}

export interface SiteModel {
  readonly name: string;
  readonly node: string;
  readonly gate?: string;
  readonly versions: readonly ModelVersionData[];
  readonly serving: readonly ServingData[];
}

export interface SiteData {
  readonly schemaVersion: typeof SITE_SCHEMA_VERSION;
  readonly pipeline: string;
  readonly spec: string;
  readonly stateSerial: number;
  readonly nodes: readonly SiteNode[];
  readonly edges: readonly { readonly from: string; readonly to: string }[];
  /** node → column → the input columns it is computed from, as [node, column]. */
  readonly columns: Readonly<Record<string, SqlFacts['columns']>>;
  readonly runs: readonly RunRecord[];
  readonly models: readonly SiteModel[];
  readonly plan?: { readonly summary: Readonly<Record<string, number>>; readonly against: string };
  /** Where the graph page draws each node and edge (graph-layout.ts): laid out here, not in the browser. */
  readonly layout: GraphLayout;
}

export interface SiteInput {
  readonly ir: PipelineIR;
  /** The spec's path as shown on the site. */
  readonly specPath: string;
  /** Where the state's history, the warehouse and the registry are. */
  readonly workspace: Workspace;
  readonly state: PipelineState;
  readonly schemas: ReadonlyMap<NodeId, readonly ColumnSchema[]>;
  /** A saved plan (`asgard plan --out`), already checked to be for this pipeline. */
  readonly plan?: SavedPlan;
  /**
   * Memo of what transpiling and column lineage give for a SQL node (the workspace's site cache):
   * both cost milliseconds of polyglot a node. The SQL per target is kept by the body's text, the
   * column edges by the text and the schemas they depend on, so a schema change upstream
   * re-traces the lineage of the nodes below it without transpiling them again.
   */
  readonly cache?: KeyValueCache<SiteCacheEntry>;
  /** Memo of graph layouts by the graph's hash (the workspace's site layout cache). */
  readonly layoutCache?: KeyValueCache<GraphLayout>;
}

/** A SQL node's transpiled SQL per target and its columns' direct inputs. */
export interface SqlFacts {
  readonly targets: NonNullable<SiteNode['sql']>['targets'];
  readonly columns: Readonly<Record<string, readonly (readonly [string, string])[]>>;
}

/** One entry of the site cache: a body's SQL per target, or its column edges. */
export type SiteCacheEntry = Pick<SqlFacts, 'targets'> | Pick<SqlFacts, 'columns'>;

export interface SavedPlan {
  readonly pipeline: string;
  readonly against?: { readonly kind: string; readonly ref?: string };
  readonly summary?: Readonly<Record<string, number>>;
  readonly actions: readonly {
    readonly node: string;
    readonly action: string;
    readonly category?: string;
    readonly reasons?: readonly string[];
    readonly schemaChanges?: readonly unknown[];
  }[];
}

export const systemId = (connector: string) => `source:${connector}`;

export async function collectSiteData(inp: SiteInput): Promise<SiteData> {
  const { ir, state, schemas } = inp;
  const dag = buildDag(ir);
  const planBy = new Map((inp.plan?.actions ?? []).map((a) => [a.node, a]));
  const nodes: SiteNode[] = [];
  const edges = dag.edges.map((e) => ({ from: e.from, to: e.to }));

  // Source systems: one node per connector, feeding its streams.
  const systems = new Map<string, { type: string; streams: string[] }>();
  for (const n of ir.nodes) {
    if (n.kind !== 'source') continue;
    const s = systems.get(n.connector.name) ?? { type: n.connector.type, streams: [] };
    s.streams.push(n.id);
    systems.set(n.connector.name, s);
    edges.push({ from: systemId(n.connector.name), to: n.id });
  }
  for (const [name, s] of systems) {
    nodes.push({
      id: systemId(name),
      kind: 'system',
      layer: 'source',
      name,
      tags: [],
      inputs: [],
      downstream: s.streams,
      schema: [],
      checks: [],
      facts: [['connector', s.type]],
    });
  }

  for (const n of ir.nodes) {
    const ns = state.nodes[n.id];
    const p = planBy.get(n.id);
    nodes.push({
      id: n.id,
      kind: n.kind,
      layer: layerOf(n),
      name: n.name,
      ...(n.description ? { description: n.description } : {}),
      tags: n.tags ?? [],
      where: `${inp.specPath}:${n.span.line}`,
      inputs: n.kind === 'source' ? [systemId(n.connector.name)] : [...(dag.parents.get(n.id) ?? [])],
      downstream: [...(dag.children.get(n.id) ?? [])],
      schema: columnsOf(n, ir, schemas, state),
      checks: n.kind === 'cleanse' || n.kind === 'model' ? n.checks.map((c) => c.name) : [],
      facts: factsOf(n),
      ...(ns
        ? {
            state: {
              appliedAt: ns.appliedAt,
              ...(ns.snapshot ? { snapshot: ns.snapshot } : {}),
              history: ns.history ?? [],
              ...(ns.modelVersion !== undefined ? { modelVersion: ns.modelVersion } : {}),
              ...(ns.cursor !== undefined ? { cursor: ns.cursor } : {}),
            },
          }
        : {}),
      ...(p
        ? { plan: { action: p.action, ...(p.category ? { category: p.category } : {}), reasons: p.reasons ?? [], schemaChanges: p.schemaChanges ?? [] } }
        : {}),
    });
  }
  // A node the plan deletes is no longer in the spec: it is still drawn, so the picture shows it.
  for (const a of inp.plan?.actions ?? []) {
    if (a.action !== 'delete' || nodes.some((n) => n.id === a.node)) continue;
    const kind = (state.nodes[a.node]?.kind ?? 'model') as SiteKind;
    nodes.push({
      id: a.node,
      kind,
      layer: nodeAddress(a.node).prefix,
      name: nodeAddress(a.node).name,
      tags: [],
      inputs: [],
      downstream: [],
      schema: state.nodes[a.node]?.schema ?? [],
      checks: [],
      facts: [],
      plan: { action: 'delete', ...(a.category ? { category: a.category } : {}), reasons: a.reasons ?? [], schemaChanges: [] },
    });
  }

  // The layout (in a worker thread when the graph changed: src/docs/graph-layout.ts) while the SQL facts are made here.
  const layout = layoutGraph(nodes, edges, inp.layoutCache);
  layout.catch(() => undefined); // awaited below; a failure must not count as unhandled meanwhile
  const facts = await sqlFacts(ir, schemas, inp.cache, inp.workspace);
  const specs = new Map(ir.nodes.flatMap((n) => (n.kind === 'cleanse' || n.kind === 'model' ? [[n.id, n.sql.text] as const] : [])));
  for (const [i, n] of nodes.entries()) {
    const text = specs.get(n.id);
    if (text !== undefined) nodes[i] = { ...n, sql: { spec: dedent(text), targets: facts.get(n.id)!.targets } };
  }

  return {
    schemaVersion: SITE_SCHEMA_VERSION,
    pipeline: ir.name,
    spec: inp.specPath,
    stateSerial: state.serial,
    nodes,
    edges,
    columns: columnEdges(ir, schemas, facts),
    runs: inp.workspace.runs(ir).read().slice(-RUNS_SHOWN),
    models: await modelsOf(inp),
    layout: await layout,
    ...(inp.plan
      ? { plan: { summary: inp.plan.summary ?? {}, against: inp.plan.against?.kind === 'base' ? `base ${inp.plan.against.ref ?? ''}`.trim() : 'state' } }
      : {}),
  };
}

/** Every node's output schema: the engine's inference, sources without declared columns taking what their last sync found. */
export async function siteSchemas(ir: PipelineIR, state: PipelineState): Promise<ReadonlyMap<NodeId, readonly ColumnSchema[]>> {
  const known = new Map<NodeId, ColumnSchema[]>();
  for (const [id, ns] of Object.entries(state.nodes)) if (ns.schema) known.set(id, [...ns.schema]);
  const { inferSchemas } = await import('../engine/schemas.js');
  return (await inferSchemas(ir, known)).schemas;
}

function layerOf(n: PipelineNode): string {
  switch (n.kind) {
    case 'source':
    case 'cleanse':
    case 'model':
      return n.layer;
    case 'features':
      return 'features';
    case 'train':
      return 'model';
    case 'serve':
      return 'serving';
  }
}

/**
 * Transpiled SQL and column edges of every cleanse and model, from the cache when the SQL (and, for
 * the edges, its input and output schemas) are the same; the SQL toolkit loads only on a miss.
 */
async function sqlFacts(
  ir: PipelineIR,
  schemas: SiteInput['schemas'],
  cache: KeyValueCache<SiteCacheEntry> | undefined,
  workspace: Workspace,
): Promise<Map<string, SqlFacts>> {
  let maker: SqlFactsMaker | undefined;
  const make = async (): Promise<SqlFactsMaker> => (maker ??= (await import('./sql-facts.js')).sqlFactsMaker(ir, schemas, workspace));
  const out = new Map<string, SqlFacts>();
  for (const n of ir.nodes) {
    if (n.kind !== 'cleanse' && n.kind !== 'model') continue;
    const targetsKey = sha256(JSON.stringify(['targets', n.sql.text, n.sql.vars ?? null]));
    const columnsKey = sha256(JSON.stringify(['columns', n.sql.text, n.inputs.map((i) => [i, schemas.get(i) ?? null]), schemas.get(n.id) ?? null]));
    let targets = (cache?.get(targetsKey) as Pick<SqlFacts, 'targets'> | undefined)?.targets;
    if (!targets) {
      targets = await (await make()).targets(n);
      cache?.set(targetsKey, { targets });
    }
    let columns = (cache?.get(columnsKey) as Pick<SqlFacts, 'columns'> | undefined)?.columns;
    if (!columns) {
      columns = await (await make()).columns(n);
      cache?.set(columnsKey, { columns });
    }
    out.set(n.id, { targets, columns });
  }
  return out;
}

/** The body without its blank edges and the indentation every line shares (it sits inside a block of the spec). */
function dedent(text: string): string {
  const lines = text
    .replace(/^\s*\n/, '')
    .replace(/\s+$/, '')
    .split('\n');
  const indent = Math.min(...lines.filter((l) => l.trim()).map((l) => l.length - l.trimStart().length));
  return lines.map((l) => l.slice(Math.min(indent, l.length - l.trimStart().length))).join('\n');
}

/** A feature view's columns are its key, timestamp and features; a model's are its inputs (the view's features). */
function columnsOf(n: PipelineNode, ir: PipelineIR, schemas: SiteInput['schemas'], state: PipelineState): readonly ColumnSchema[] {
  if (n.kind === 'features')
    return [
      { name: n.entity.joinKey, type: 'entity key' },
      { name: n.timestamp, type: 'event timestamp' },
      ...n.features.map((f) => ({ name: f.name, type: f.dtype })),
    ];
  if (n.kind === 'train') {
    const view = ir.nodes.find((v) => v.id === n.features);
    return view?.kind === 'features' ? view.features.map((f) => ({ name: f.name, type: f.dtype })) : [];
  }
  return schemas.get(n.id) ?? state.nodes[n.id]?.schema ?? [];
}

function factsOf(n: PipelineNode): [string, string][] {
  switch (n.kind) {
    case 'source': {
      const s = n.stream;
      return [
        ['connector', `${n.connector.name} (${n.connector.type})`],
        ['reads', s.table ?? s.path ?? n.name],
        ['primary key', s.primaryKey.join(', ')],
        ['mode', s.mode + (s.cursor ? ` on ${s.cursor}` : '')],
        ...(n.connector.schedule ? [['schedule', n.connector.schedule] as [string, string]] : []),
      ];
    }
    case 'cleanse':
      return [['mode', n.mode], ...(n.partitionBy.length ? [['partition by', n.partitionBy.join(', ')] as [string, string]] : [])];
    case 'model':
      return [
        ['materialized', n.materialized],
        ...(n.uniqueKey.length ? [['unique key', n.uniqueKey.join(', ')] as [string, string]] : []),
        ...(n.partitionBy.length ? [['partition by', n.partitionBy.join(', ')] as [string, string]] : []),
      ];
    case 'features':
      return [
        ['entity', `${n.entity.name} (join key ${n.entity.joinKey})`],
        ['from', n.from],
        ['timestamp', n.timestamp],
        ['ttl', `${n.ttlSeconds} s`],
      ];
    case 'train':
      return [
        ['features', n.features],
        ['label', `${n.label.from}.${n.label.column}`],
        [
          'algorithm',
          `${n.algorithm.name} ${Object.entries(n.algorithm.params)
            .map(([k, v]) => `${k}=${v}`)
            .join(' ')}`.trim(),
        ],
        ['split', `test ${n.split.test}${n.split.stratify ? ', stratified' : ''}, seed ${n.split.seed}`],
        ['gate', n.gate?.text ?? 'none'],
        ['registers', n.register],
      ];
    case 'serve':
      return [
        ['model', n.model],
        ['risk levels', `high ≥ ${n.riskLevels.high}, medium ≥ ${n.riskLevels.medium}`],
        ...(n.batch ? [['batch', `${n.batch.from} → gold.${n.batch.to}`] as [string, string]] : []),
      ];
  }
}

/** Direct column edges, from the SQL's structure (LineageGraph.sourcesOf), plus bronze ← source system and the model's inputs ← its feature view. */
function columnEdges(ir: PipelineIR, schemas: SiteInput['schemas'], facts: ReadonlyMap<string, SqlFacts>): SiteData['columns'] {
  let graph: LineageGraph | undefined;
  const out: Record<string, SqlFacts['columns']> = {};
  for (const n of ir.nodes) {
    const m: Record<string, [string, string][]> = {};
    if (n.kind === 'source') {
      for (const c of schemas.get(n.id) ?? []) m[c.name] = [[systemId(n.connector.name), c.name]];
    } else if (n.kind === 'train') {
      const view = ir.nodes.find((v) => v.id === n.features);
      if (view?.kind === 'features') for (const f of view.features) m[f.name] = [[view.id, f.name]];
    } else if (n.kind === 'features') {
      graph ??= new LineageGraph(ir, schemas);
      for (const c of [n.entity.joinKey, n.timestamp, ...n.features.map((f) => f.name)]) m[c] = graph.sourcesOf(n.id, c).map((r) => [r.table, r.column]);
    }
    out[n.id] = facts.get(n.id)?.columns ?? m;
  }
  return out;
}

async function modelsOf(inp: SiteInput): Promise<SiteModel[]> {
  const registry = inp.workspace.registry();
  const trains = inp.ir.nodes.filter((n): n is TrainNode => n.kind === 'train');
  const out: SiteModel[] = [];
  for (const t of trains) {
    const idx = registry.index(t.register);
    const versions: ModelVersionData[] = (idx?.versions ?? []).map((v) => {
      const file = (f: 'params' | 'lineage' | 'evaluation') => registry.versionFile(t.register, v.version, f);
      let features: FeatureSchema | undefined;
      try {
        features = registry.features(t.register, v.version);
      } catch {
        features = undefined;
      }
      const [params, lineage, evaluation] = [file('params'), file('lineage'), file('evaluation') as Evaluation | undefined];
      return { ...v, ...(params ? { params } : {}), ...(lineage ? { lineage } : {}), ...(evaluation ? { evaluation } : {}), ...(features ? { features } : {}) };
    });
    const serving: ServingData[] = [];
    for (const s of inp.ir.nodes.filter((n): n is ServeNode => n.kind === 'serve' && n.model === t.id)) serving.push(await servingOf(inp, s));
    out.push({ name: t.register, node: t.id, ...(t.gate ? { gate: t.gate.text } : {}), versions, serving });
  }
  return out;
}

/** The batch table's predictions by risk level and a histogram of its probabilities (columns: src/engine/batch-output.ts). */
async function servingOf(inp: SiteInput, s: ServeNode): Promise<ServingData> {
  const table = outputTable(s);
  const base = { node: s.id, riskLevels: s.riskLevels, byRisk: [], histogram: [], ...(table ? { table } : {}) };
  const ns = inp.state.nodes[s.id];
  if (!table || !ns?.snapshot || !ns.schema) return base;
  const have = new Set(ns.schema.map((c) => c.name));
  const train = inp.ir.nodes.find((n) => n.id === s.model);
  const view = train?.kind === 'train' ? inp.ir.nodes.find((n) => n.id === train.features) : undefined;
  const cols = view?.kind === 'features' ? batchOutputColumns(s, view) : undefined;
  const prob = cols && have.has(cols.probability) ? { name: cols.probability } : undefined;
  const risk = cols && have.has(cols.riskLevel) ? { name: cols.riskLevel } : undefined;
  if (!prob || !risk) return { ...base, error: `${table} has no probability and risk level columns${cols ? ` (${cols.probability}, ${cols.riskLevel})` : ''}` };
  let conn;
  try {
    // DuckDB loads only for a pipeline that serves a batch table.
    const [{ openReadOnlyWarehouse }, { queryAll }] = await Promise.all([import('../engine/query.js'), import('../engine/duckdb.js')]);
    conn = await openReadOnlyWarehouse(inp.state, inp.workspace.warehouse(inp.ir), inp.ir);
    const byRisk = await queryAll(conn, `SELECT ${ident(risk.name)} AS level, count(*) AS n FROM ${table} GROUP BY 1 ORDER BY 1`);
    const hist = await queryAll(
      conn,
      `SELECT least(floor(${ident(prob.name)} * ${HISTOGRAM_BINS}), ${HISTOGRAM_BINS - 1}) AS b, count(*) AS n FROM ${table} WHERE ${ident(prob.name)} IS NOT NULL GROUP BY 1 ORDER BY 1`,
    );
    const bins = new Map(hist.rows.map((r) => [Number(r.b), Number(r.n)]));
    return {
      ...base,
      probabilityColumn: prob.name,
      byRisk: byRisk.rows.map((r) => ({ level: String(r.level), rows: Number(r.n) })),
      histogram: Array.from({ length: HISTOGRAM_BINS }, (_, b) => ({ from: b / HISTOGRAM_BINS, to: (b + 1) / HISTOGRAM_BINS, rows: bins.get(b) ?? 0 })),
    };
  } catch (e) {
    return { ...base, error: `could not read ${table}: ${(e as Error).message.split('\n')[0]}` };
  } finally {
    conn?.closeSync();
  }
}
