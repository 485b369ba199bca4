// Fingerprints of nodes, SQLMesh-style: a data fingerprint over the fields that change a node's
// output (normalised SQL, never its text; settings; env/secret REFERENCES, never values; checks)
// with the parents' data fingerprints folded in, so an upstream edit cascades; and a separate
// metadata fingerprint (descriptions, tags, schedules) whose changes never rebuild anything.
//
// The definitions hashed are kept in state (NodeState.definition) so a later plan can say *what*
// changed ("sql changed", "partition_by changed"). Their keys are therefore named as in the spec.

import {
  assertNever,
  type Check,
  type CleanseNode,
  type ModelNode,
  type NodeId,
  type NodeKind,
  type PipelineIR,
  type PipelineNode,
  type Resolvable,
  type SourceNode,
} from '../ir/types.js';
import { canonicalJson, sha256 } from '../util/canonical-json.js';
import { sortStrings } from '../util/sort.js';

/** What NodeState.definition holds: data fields and metadata fields, both spec-named. */
export interface NodeDefinition {
  readonly data: Readonly<Record<string, unknown>>;
  readonly meta: Readonly<Record<string, unknown>>;
}

export interface NodeFingerprint {
  readonly id: NodeId;
  readonly kind: PipelineNode['kind'];
  readonly fingerprint: string;
  readonly metaFingerprint: string;
  readonly definition: NodeDefinition;
}

/** `scheme://user:password@host` → `scheme://user:***@host`: a password in a URL never reaches state. */
export function redactUrlPassword(s: string): string {
  return s.replace(/^([a-z][a-z0-9+.-]*:\/\/[^/:@\s]*):[^/@\s]*@/i, '$1:***@');
}

/** A Resolvable as it may be written down: the reference, never a resolved or secret value. */
export function resolvableRef(r: Resolvable): unknown {
  switch (r.kind) {
    case 'literal':
      return typeof r.value === 'string' ? redactUrlPassword(r.value) : r.value;
    case 'env':
      return { env: r.name, ...(r.default !== undefined ? { default: redactUrlPassword(r.default) } : {}) };
    case 'secret':
      return { secret: r.name };
  }
}

/**
 * The normalised SQL without comments and with whitespace runs collapsed, outside quoted strings
 * and identifiers. SqlBody.normalized is meant to be comment-free already; the SQL generator keeps
 * comments as `/* … *\/`, and a comment edit must never rebuild a table, so the planner makes sure.
 */
export function sqlForFingerprint(sql: string): string {
  if (!/\/\*|--|\s\s|[\t\n\r\f\v]/.test(sql)) return sql.trim();
  let out = '';
  let i = 0;
  while (i < sql.length) {
    const c = sql[i];
    if (c === "'" || c === '"' || c === '`') {
      let j = i + 1;
      while (j < sql.length) {
        if (sql[j] === c) {
          if (sql[j + 1] === c) j += 2;
          else break;
        } else if (sql[j] === '\\' && c === "'") j += 2;
        else j++;
      }
      out += sql.slice(i, j + 1);
      i = j + 1;
    } else if (c === '/' && sql[i + 1] === '*') {
      const end = sql.indexOf('*/', i + 2);
      i = end < 0 ? sql.length : end + 2;
      if (!out.endsWith(' ')) out += ' ';
    } else if (c === '-' && sql[i + 1] === '-') {
      const end = sql.indexOf('\n', i);
      i = end < 0 ? sql.length : end + 1;
      if (!out.endsWith(' ')) out += ' ';
    } else if (/\s/.test(c)) {
      if (!out.endsWith(' ')) out += ' ';
      while (i < sql.length && /\s/.test(sql[i])) i++;
    } else {
      out += c;
      i++;
    }
  }
  return out.trim();
}

const checkDef = (c: Check) => ({
  kind: c.kind,
  column: c.column,
  values: c.values,
  min: c.min,
  max: c.max,
  sql: c.sql ? sqlForFingerprint(c.sql.normalized) : undefined,
});

// Why a regex here: this is not a dependency between tables (those come from parsing), it only asks
// whether the normalised SQL mentions the run's logical time, so that the logical_time reference
// becomes part of that node's data fingerprint.
const readsClock = (normalizedSql: string) => /\b(current_date|current_timestamp|now|localtimestamp)\b/i.test(normalizedSql);

function sourceData(node: SourceNode) {
  const s = node.stream;
  const settings: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(node.connector.settings)) settings[k] = resolvableRef(v);
  return {
    type: node.connector.type,
    settings,
    table: s.table,
    path: s.path,
    primary_key: s.primaryKey,
    cursor: s.cursor,
    columns: s.columns?.map((c) => ({ name: c.name, type: c.type })),
    mode: s.mode,
    lookback: s.lookbackSeconds,
    pagination: s.pagination,
  };
}

const cleanseData = (node: CleanseNode, clock: unknown) => ({
  sql: sqlForFingerprint(node.sql.normalized),
  partition_by: node.partitionBy,
  mode: node.mode,
  checks: node.checks.map(checkDef),
  logical_time: readsClock(node.sql.normalized) ? clock : undefined,
});

const modelData = (node: ModelNode, clock: unknown) => ({
  sql: sqlForFingerprint(node.sql.normalized),
  materialized: node.materialized,
  unique_key: node.uniqueKey,
  incremental_by: node.incrementalBy,
  lookback: node.lookbackSeconds,
  partition_by: node.partitionBy,
  checks: node.checks.map(checkDef),
  logical_time: readsClock(node.sql.normalized) ? clock : undefined,
});

/**
 * The data fields whose change makes the old output unusable as a starting point (an incremental
 * cursor, appended rows or partitions laid out another way): the node is dropped and rebuilt
 * (src/planner/plan.ts). Typed against the fields above, so a renamed field fails to compile.
 */
export const FORCES_REPLACEMENT: { readonly [K in NodeKind]: readonly string[] } = {
  source: ['type', 'settings', 'table', 'path', 'primary_key', 'cursor', 'columns', 'mode'] satisfies (keyof ReturnType<typeof sourceData>)[],
  cleanse: ['partition_by', 'mode'] satisfies (keyof ReturnType<typeof cleanseData>)[],
  model: ['materialized', 'unique_key', 'incremental_by', 'partition_by'] satisfies (keyof ReturnType<typeof modelData>)[],
  features: [],
  train: [],
  serve: [],
};

/** The data and metadata definitions of one node (no parents folded in). */
export function nodeDefinition(node: PipelineNode, ir: Pick<PipelineIR, 'logicalTime'>): NodeDefinition {
  const d = kindDefinition(node, ir);
  // The variables a node uses: their values change its data (a plan names them: `var x changed`).
  return node.vars ? { meta: d.meta, data: { ...d.data, vars: node.vars } } : d;
}

function kindDefinition(node: PipelineNode, ir: Pick<PipelineIR, 'logicalTime'>): NodeDefinition {
  const meta: Record<string, unknown> = {
    description: node.description,
    tags: node.tags,
    max_row_drop: node.rowGuard?.maxDrop,
    allow_empty: node.rowGuard?.allowEmpty,
  };
  const clock = ir.logicalTime ? resolvableRef(ir.logicalTime) : 'apply start';
  switch (node.kind) {
    case 'source':
      meta.schedule = node.connector.schedule;
      return { meta, data: sourceData(node) };
    case 'cleanse':
      return { meta, data: cleanseData(node, clock) };
    case 'model':
      return { meta, data: modelData(node, clock) };
    case 'features':
      meta.feature_descriptions = Object.fromEntries(node.features.filter((f) => f.description).map((f) => [f.name, f.description]));
      return {
        meta,
        data: {
          entity: node.entity,
          from: node.from,
          timestamp: node.timestamp,
          ttl: node.ttlSeconds,
          features: node.features.map((f) => ({ name: f.name, dtype: f.dtype })),
        },
      };
    case 'train':
      meta.mlflow = node.mlflow ? { tracking_uri: resolvableRef(node.mlflow.trackingUri), experiment: node.mlflow.experiment } : undefined;
      return {
        meta,
        data: {
          features: node.features,
          label: node.label,
          algorithm: node.algorithm,
          split: node.split,
          gate: node.gate ? { metric: node.gate.metric, op: node.gate.op, value: node.gate.value } : undefined,
          register: node.register,
          leakage: node.leakage,
        },
      };
    case 'serve':
      meta.auth = node.auth ? { token: resolvableRef(node.auth.token) } : undefined;
      return { meta, data: { model: node.model, risk_levels: node.riskLevels, batch: node.batch, fields: node.fields } };
    default:
      return assertNever(node);
  }
}

/**
 * The fingerprints of the same spec before an edit changed the nodes `changed` (a patched spec,
 * src/dsl/patch.ts): a node not changed whose parents' fingerprints are those of before keeps its
 * fingerprints without hashing its definition again (it is the same definition: only `changed`
 * differ, and no definition holds a span).
 */
export interface FingerprintReuse {
  readonly fingerprints: ReadonlyMap<NodeId, readonly [fingerprint: string, metaFingerprint: string]>;
  readonly changed: ReadonlySet<NodeId>;
}

/**
 * Fingerprints of every node, in the IR's topological order. A parent that is not in the IR (an
 * invalid IR) is folded in as `missing`, so the fingerprint is still defined.
 */
export function fingerprintPipeline(ir: Pick<PipelineIR, 'nodes' | 'logicalTime'>, reuse?: FingerprintReuse): Map<NodeId, NodeFingerprint> {
  const out = new Map<NodeId, NodeFingerprint>();
  const pending = new Map(ir.nodes.map((n) => [n.id, n]));
  const visit = (node: PipelineNode, stack: Set<NodeId>): NodeFingerprint => {
    const done = out.get(node.id);
    if (done) return done;
    stack.add(node.id);
    const parents: [NodeId, string][] = sortStrings([...node.inputs]).map((id) => {
      const p = pending.get(id);
      if (!p || stack.has(id)) return [id, 'missing'];
      return [id, visit(p, stack).fingerprint];
    });
    stack.delete(node.id);
    const before = reuse && !reuse.changed.has(node.id) ? reuse.fingerprints.get(node.id) : undefined;
    const fp: NodeFingerprint =
      before !== undefined && parents.every(([id, f]) => reuse!.fingerprints.get(id)?.[0] === f) ? reused(node, ir, before) : hashed(node, ir, parents);
    out.set(node.id, fp);
    return fp;
  };
  for (const n of ir.nodes) visit(n, new Set());
  // Keep the IR's order regardless of the recursion order.
  return new Map(ir.nodes.map((n) => [n.id, out.get(n.id)!]));
}

/**
 * fingerprintPipeline(ir, reuse) when the edit kept every node's id and inputs (a patched spec) and
 * `edited` are the changed nodes and their downstream in the DAG's order (src/planner/plan.ts
 * editedDownstream): only those are visited, every other node keeps its fingerprints (its parents are
 * outside `edited` too). Undefined when `reuse` lacks a node.
 */
export function fingerprintsAfterEdit(
  ir: Pick<PipelineIR, 'nodes' | 'logicalTime'>,
  reuse: FingerprintReuse,
  edited: readonly NodeId[],
): Map<NodeId, NodeFingerprint> | undefined {
  const byId = new Map(ir.nodes.map((n) => [n.id, n]));
  const now = new Map<NodeId, NodeFingerprint>();
  for (const id of edited) {
    const node = byId.get(id);
    if (!node) return undefined;
    const parents: [NodeId, string][] = sortStrings([...node.inputs]).map((p) => {
      const f = byId.has(p) ? (now.get(p)?.fingerprint ?? reuse.fingerprints.get(p)?.[0]) : 'missing';
      return [p, f ?? 'missing'];
    });
    const before = reuse.changed.has(id) ? undefined : reuse.fingerprints.get(id);
    now.set(id, before !== undefined && parents.every(([p, f]) => reuse.fingerprints.get(p)?.[0] === f) ? reused(node, ir, before) : hashed(node, ir, parents));
  }
  const out = new Map<NodeId, NodeFingerprint>();
  for (const n of ir.nodes) {
    const before = reuse.fingerprints.get(n.id);
    const fp = now.get(n.id) ?? (before && reused(n, ir, before));
    if (!fp) return undefined;
    out.set(n.id, fp);
  }
  return out;
}

/** A node's fingerprints hashed from its definition and its parents' fingerprints. */
function hashed(node: PipelineNode, ir: Pick<PipelineIR, 'logicalTime'>, parents: readonly [NodeId, string][]): NodeFingerprint {
  // Definitions keep undefined fields: JSON drops them when state is written, and plans compare
  // definitions through canonicalJson, which drops them too.
  const definition = nodeDefinition(node, ir);
  return {
    id: node.id,
    kind: node.kind,
    fingerprint: sha256(`${node.kind}\n${JSON.stringify(parents)}\n${canonicalJson(definition.data)}`),
    metaFingerprint: sha256(canonicalJson(definition.meta)),
    definition,
  };
}

/**
 * A node's fingerprints kept from before an edit (FingerprintReuse). Its definition is made only when
 * asked for: a plan reads it only for a node whose fingerprint differs from the prior's.
 */
function reused(node: PipelineNode, ir: Pick<PipelineIR, 'logicalTime'>, before: readonly [string, string]): NodeFingerprint {
  return new ReusedFingerprint(node, ir, before);
}

/** A class, not an object literal with a getter: 10,000 of them share one shape and need no closure each (its definition is a getter of the prototype). */
class ReusedFingerprint implements NodeFingerprint {
  readonly id: NodeId;
  readonly kind: PipelineNode['kind'];
  readonly fingerprint: string;
  readonly metaFingerprint: string;
  readonly #node: PipelineNode;
  readonly #ir: Pick<PipelineIR, 'logicalTime'>;
  #definition: NodeDefinition | undefined;
  constructor(node: PipelineNode, ir: Pick<PipelineIR, 'logicalTime'>, before: readonly [string, string]) {
    this.#node = node;
    this.#ir = ir;
    this.id = node.id;
    this.kind = node.kind;
    this.fingerprint = before[0];
    this.metaFingerprint = before[1];
  }
  get definition(): NodeDefinition {
    this.#definition ??= nodeDefinition(this.#node, this.#ir);
    return this.#definition;
  }
}

/** One hash over the whole spec's fingerprints: a saved plan is refused when it moved. */
export function specFingerprint(ir: Pick<PipelineIR, 'name' | 'warehouse'>, fps: ReadonlyMap<NodeId, NodeFingerprint>): string {
  return sha256(specFingerprintText(ir, fps));
}

/**
 * What specFingerprint hashes: `canonicalJson({ pipeline, warehouse, nodes })`, byte for byte, with
 * the node rows (arrays of strings, which canonicalJson leaves as they are) stringified directly
 * rather than copied by its key sorting first (10,000 rows per plan). `nodes` sorts first.
 */
export function specFingerprintText(ir: Pick<PipelineIR, 'name' | 'warehouse'>, fps: ReadonlyMap<NodeId, NodeFingerprint>): string {
  const nodes = [...fps.values()].map((f) => [f.id, f.fingerprint, f.metaFingerprint]).sort((a, b) => (a[0] < b[0] ? -1 : 1));
  const rest = canonicalJson({ pipeline: ir.name, warehouse: ir.warehouse });
  return `{"nodes":${JSON.stringify(nodes)}${rest === '{}' ? '}' : `,${rest.slice(1)}`}`;
}
