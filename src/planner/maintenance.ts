// How a table node is maintained when its inputs change (docs/language.md, "Derived incremental
// maintenance"): the plan prints it, the SQL executor (src/engine/derived.ts) acts on it. The
// analysis itself is src/sql/derive.ts; this module gives it the keys each table carries.

import type { CleanseNode, FeaturesNode, ModelNode, NodeId, PipelineIR, PipelineNode } from '../ir/types.js';
import { deriveMaintenance, type Maintenance } from '../sql/derive.js';
import { sha256 } from '../util/canonical-json.js';
import type { KeyValueCache } from '../util/json-cache.js';

/**
 * Analyses kept across processes by content (the workspace's cache file, salted with the build id):
 * a run after new source rows is a new `asgard apply` whose plan is all no-ops, so nothing else
 * parses its SQL, and analysing its nodes cold cost ~100 ms of CPU (bench/apply.md, session 12).
 */
export type MaintenanceCache = KeyValueCache<Maintenance>;

/** Nodes whose table is rebuilt from its SQL on every run (not an append, incremental model or view). */
export function rebuildsTable(node: PipelineNode): node is CleanseNode | ModelNode {
  return (node.kind === 'cleanse' && node.mode === 'overwrite') || (node.kind === 'model' && node.materialized === 'table');
}

/** The key columns each table is known to carry: a stream's primary key, `check unique`, `unique_key` (a composite key's first column). */
export function knownKeys(ir: Pick<PipelineIR, 'nodes'>): (table: NodeId) => readonly string[] {
  const keys = new Map<NodeId, string[]>();
  for (const n of ir.nodes) {
    const k: string[] = [];
    // A composite key's first column: rows with one value of it are a partition like any other.
    if (n.kind === 'source' && n.stream.primaryKey.length) k.push(n.stream.primaryKey[0]);
    if (n.kind === 'model' && n.uniqueKey.length) k.push(n.uniqueKey[0]);
    if (n.kind === 'cleanse' || n.kind === 'model') for (const c of n.checks) if (c.kind === 'unique' && c.column) k.push(c.column);
    keys.set(n.id, k);
  }
  return (id) => keys.get(id) ?? [];
}

const memo = new WeakMap<PipelineNode, Maintenance>();

/**
 * The node's maintenance: derived (and on which key) or full (and why). Only for rebuildsTable nodes.
 * `cache`: analyses by content (the SQL and the keys of the tables it reads), looked up and filled.
 */
export function maintenanceOf(node: CleanseNode | ModelNode, ir: Pick<PipelineIR, 'nodes'>, cache?: MaintenanceCache): Maintenance {
  let m = memo.get(node);
  if (m && !cache) return m;
  const keysOf = knownKeys(ir);
  const key = cache && cacheKey(node, keysOf);
  if (!m && key) m = cache.get(key);
  if (!m) {
    m = deriveMaintenance(node.sql.normalized, keysOf);
    // Every table the SQL reads must carry the key (the analysis saw the same tables).
    const inputs = m.mode === 'derived' ? m.inputs : {};
    if (m.mode === 'derived' && node.sql.reads.some((i) => !(i in inputs)))
      m = { mode: 'full', reason: 'a table is not read through the key', text: 'a table is not read through the key' };
  }
  memo.set(node, m);
  if (key && !cache.get(key)) cache.set(key, m);
  return m;
}

const cacheKey = (node: CleanseNode | ModelNode, keysOf: (table: NodeId) => readonly string[]): string =>
  sha256(`${node.sql.normalized}\n${node.sql.reads.map((r) => `${r}:${keysOf(r).join(',')}`).join('\n')}`);

/**
 * Whether `maintenanceOf` answers without analysing the SQL (memoised in this process, or kept in
 * `cache`): else the SQL toolkit must be loaded first (the analysis reads a failure to parse as
 * "full"). The engine loads the toolkit only then (src/engine/render.ts).
 */
export function maintenanceKept(node: CleanseNode | ModelNode, ir: Pick<PipelineIR, 'nodes'>, cache?: MaintenanceCache): boolean {
  return memo.has(node) || (!!cache && cache.get(cacheKey(node, knownKeys(ir))) !== undefined);
}

/** How a feature view's online table follows its source (src/engine/features-executor.ts). */
export type ViewMaintenance = { readonly mode: 'derived'; readonly text: string } | { readonly mode: 'full'; readonly reason: string };

/**
 * A feature view's online table (the latest row per entity) is derived from its source's changes
 * when the source is a table maintained by the view's entity key: a derived merge replaces every row
 * of a key it recomputes, and a rebuild writes every row, so every row of a changed entity is in the
 * files the source's runs wrote since the view last read it — the view reads those, not the whole
 * source. Over any other source (appended, ingested, kept by another key) an entity's rows may sit
 * in files no run rewrote: the view is rebuilt.
 */
export function featuresMaintenance(view: FeaturesNode, ir: Pick<PipelineIR, 'nodes'>, cache?: MaintenanceCache): ViewMaintenance {
  const from = ir.nodes.find((n) => n.id === view.from);
  const key = view.entity.joinKey;
  if (!from || !rebuildsTable(from)) return { mode: 'full', reason: `${view.from} is not a table rebuilt from its SQL` };
  const m = maintenanceOf(from, ir, cache);
  if (m.mode === 'full') return { mode: 'full', reason: `${view.from} is rebuilt on every run (${m.reason})` };
  if (m.key !== key) return { mode: 'full', reason: `${view.from} is maintained by ${m.key}, not by the entity key ${key}` };
  return { mode: 'derived', text: `derived (entities by ${key} from the changes of ${view.from})` };
}

/** The plan's wording: `incremental: derived (groups by customer_id)` or `full: window without partition`. */
export const maintenanceText = (m: Maintenance | ViewMaintenance): string => (m.mode === 'derived' ? `incremental: ${m.text}` : `full: ${m.reason}`);
