// Column-level lineage, from the SQL's own structure: polyglot's lineage (or, for a body in the fast
// parser's subset, src/sql/fast-lineage.ts, which gives the same answer) walks each SQL body with
// the inferred schemas of its inputs (so `SELECT *` expands), through CTEs and subqueries, down to
// the input tables' columns. Upstream ends at the source system's columns (the stream's table in
// its database or API); downstream reaches silver, gold and the feature views that use the column.

import { sqlToolkit } from '../sql/toolkit.js';
import { fastColumnLineage, type InputField, type LineageTables } from '../sql/fast-lineage.js';
import type { CleanseNode, ModelNode, NodeId, PipelineIR, PipelineNode } from '../ir/types.js';
import { outputTable } from '../ir/types.js';
import type { ColumnSchema } from '../planner/state-store.js';
import { parseColumnAddress } from '../ir/address.js';

export interface ColumnRef {
  /** Node id of the table (`silver.customers_cleaned`), or `source:<connector>` for a source system. */
  readonly table: string;
  readonly column: string;
}

export interface LineageTree extends ColumnRef {
  readonly kind: PipelineNode['kind'] | 'system';
  /** How the column comes from / goes to its children, when known (e.g. `postgres customers.email`). */
  readonly note?: string;
  readonly children: readonly LineageTree[];
}

export interface ColumnLineage {
  readonly column: ColumnRef;
  readonly upstream: readonly LineageTree[];
  readonly downstream: readonly LineageTree[];
}

export class LineageError extends Error {}

type Schemas = ReadonlyMap<NodeId, readonly ColumnSchema[]>;

export class LineageGraph {
  private readonly byId = new Map<string, PipelineNode>();
  private readonly edges = new Map<NodeId, Map<string, ColumnRef[]>>();

  constructor(
    private readonly ir: PipelineIR,
    private readonly schemas: Schemas,
  ) {
    for (const n of ir.nodes) {
      this.byId.set(n.id, n);
      const t = outputTable(n);
      if (t && t !== n.id) this.byId.set(t, n);
    }
  }

  /** `gold.customer_metrics.total_purchases` → its node and column (the node must have the column). */
  resolve(address: string): ColumnRef {
    const a = parseColumnAddress(address);
    if (!a) throw new LineageError(`give LAYER.TABLE.COLUMN (e.g. gold.customer_metrics.total_purchases), not "${address}"`);
    const { table, column } = a;
    const node = this.byId.get(table);
    if (!node) throw new LineageError(`no table ${table} in pipeline ${this.ir.name}`);
    const cols = this.columnsOf(node.id);
    if (cols && !cols.includes(column)) throw new LineageError(`${table} has no column ${column} (it has ${cols.join(', ')})`);
    return { table: node.id, column };
  }

  lineage(address: string): ColumnLineage {
    const col = this.resolve(address);
    return { column: col, upstream: this.up(col, new Set()), downstream: this.down(col, new Set()) };
  }

  private columnsOf(id: NodeId): string[] | undefined {
    const n = this.byId.get(id);
    if (n?.kind === 'features') return [n.entity.joinKey, n.timestamp, ...n.features.map((f) => f.name)];
    return this.schemas.get(id)?.map((c) => c.name);
  }

  /** The input columns one output column of a node is computed from. */
  sourcesOf(id: NodeId, column: string): ColumnRef[] {
    const n = this.byId.get(id);
    if (!n) return [];
    if (n.kind === 'features') return this.columnsOf(id)?.includes(column) ? [{ table: n.from, column }] : [];
    if (n.kind === 'cleanse' || n.kind === 'model') return this.sqlEdges(n).get(column) ?? [];
    return [];
  }

  /**
   * Every output column's input columns, from one lineage pass over the body (OpenLineage's
   * column-lineage facet: all output fields at once, through CTEs and subqueries, `*` expanded with
   * the inputs' schemas). Tracing column by column parsed the body once per column, which made
   * `asgard docs` of a 1,000-node spec take minutes (issue #17). A body the facet cannot analyse
   * falls back to the per-column trace.
   */
  private sqlEdges(n: CleanseNode | ModelNode): Map<string, ColumnRef[]> {
    let m = this.edges.get(n.id);
    if (m) return m;
    const tables = n.inputs.flatMap((id) => {
      const cols = this.schemas.get(id);
      if (!cols) return [];
      const columns = cols.map((c) => ({ name: c.name, type: c.type }));
      return [
        { name: id, columns },
        { name: `iceberg.${id}`, columns },
      ];
    });
    const outputs = this.schemas.get(n.id) ?? [];
    // The bodies in the fast parser's subset need no polyglot (src/sql/fast-lineage.ts gives its answer).
    const fast = outputs.length ? fastColumnLineage(n.sql.text, tables) : undefined;
    m = !outputs.length ? new Map() : fast ? edgesOf(fast, outputs) : (facetEdges(n, tables, outputs) ?? columnByColumn(n, tables, outputs));
    this.edges.set(n.id, m);
    return m;
  }

  private up(col: ColumnRef, seen: Set<string>): LineageTree[] {
    const n = this.byId.get(col.table);
    if (!n) return [];
    if (n.kind === 'source') {
      const c = n.connector;
      const where = n.stream.table ?? n.stream.path ?? n.name;
      return [{ table: `source:${c.name}`, column: col.column, kind: 'system', note: `${c.type} ${where}.${col.column}`, children: [] }];
    }
    return this.sourcesOf(n.id, col.column).map((s) => {
      const key = `${s.table}.${s.column}`;
      const kind = this.byId.get(s.table)?.kind ?? 'source';
      if (seen.has(key)) return { ...s, kind, children: [] };
      return { ...s, kind, children: this.up(s, new Set([...seen, key])) };
    });
  }

  private down(col: ColumnRef, seen: Set<string>): LineageTree[] {
    const out: LineageTree[] = [];
    for (const n of this.ir.nodes) {
      if (!n.inputs.includes(col.table) && !(n.kind === 'features' && n.from === col.table)) continue;
      for (const c of this.columnsOf(n.id) ?? []) {
        if (!this.sourcesOf(n.id, c).some((s) => s.table === col.table && s.column === col.column)) continue;
        const key = `${n.id}.${c}`;
        if (seen.has(key)) continue;
        out.push({ table: n.id, column: c, kind: n.kind, children: this.down({ table: n.id, column: c }, new Set([...seen, key])) });
      }
    }
    return out;
  }
}

/** The lineage as an indented tree (box-drawing characters), for `asgard lineage`'s text output. */
export function renderLineageText(l: ColumnLineage): string {
  const lines: string[] = [`${l.column.table}.${l.column.column}`];
  const label = (t: LineageTree): string => (t.kind === 'system' ? `${t.table.slice('source:'.length)} (${t.note})` : `${t.table}.${t.column}`);
  const tree = (items: readonly LineageTree[], prefix: string): void => {
    items.forEach((t, i) => {
      const last = i === items.length - 1;
      lines.push(`${prefix}${last ? '└── ' : '├── '}${label(t)}`);
      tree(t.children, prefix + (last ? '    ' : '│   '));
    });
  };
  lines.push('├── upstream (where it comes from)');
  if (l.upstream.length) tree(l.upstream, '│   ');
  else lines.push('│   └── (no input column: a constant or the logical time)');
  lines.push('└── downstream (what uses it)');
  if (l.downstream.length) tree(l.downstream, '    ');
  else lines.push('    └── (nothing)');
  return lines.join('\n') + '\n';
}

const byTableColumn = (a: ColumnRef, b: ColumnRef): number => (a.table + a.column).localeCompare(b.table + b.column);
const unIceberg = (table: string): string => table.replace(/^iceberg\./i, '');

/** All output columns' edges in one call, or undefined when the facet cannot be built for this body. */
function facetEdges(n: CleanseNode | ModelNode, tables: LineageTables, outputs: readonly ColumnSchema[]): Map<string, ColumnRef[]> | undefined {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const r = sqlToolkit().openLineageColumnLineage(n.sql.text, {
    dialect: 'spark',
    producer: 'asgard',
    datasetNamespace: 'asgard',
    outputDataset: { namespace: 'asgard', name: n.id },
    schema: { tables, strict: false } as any,
  });
  if (!r.success || !r.facet) return undefined;
  return edgesOf(Object.fromEntries(Object.entries(r.facet.fields).map(([k, v]) => [k, v.inputFields])), outputs);
}

/** Each output column's input columns from the facet's fields (output name → input table and field). */
function edgesOf(facet: Record<string, readonly InputField[]>, outputs: readonly ColumnSchema[]): Map<string, ColumnRef[]> {
  const fields = new Map(Object.entries(facet).map(([k, v]) => [k.toLowerCase(), v]));
  const m = new Map<string, ColumnRef[]>();
  for (const out of outputs) {
    const found: ColumnRef[] = [];
    for (const f of fields.get(out.name.toLowerCase()) ?? []) {
      const ref = { table: unIceberg(f.name), column: f.field };
      if (!found.some((x) => x.table === ref.table && x.column === ref.column)) found.push(ref);
    }
    m.set(out.name, found.sort(byTableColumn));
  }
  return m;
}

/** The per-column trace (one lineage walk per output column). */
function columnByColumn(n: CleanseNode | ModelNode, tables: LineageTables, outputs: readonly ColumnSchema[]): Map<string, ColumnRef[]> {
  const m = new Map<string, ColumnRef[]>();
  for (const out of outputs) {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const r = sqlToolkit().lineageWithSchema(out.name, n.sql.text, { tables, strict: false } as any, 'spark') as any;
    const found: ColumnRef[] = [];
    const walk = (x: { source_kind?: string; source_name?: string; name?: string; downstream?: unknown[] }): void => {
      if (x.source_kind === 'table' && x.source_name && x.name) {
        const table = unIceberg(x.source_name);
        const column = x.name.slice(x.name.lastIndexOf('.') + 1);
        if (!found.some((f) => f.table === table && f.column === column)) found.push({ table, column });
      }
      for (const d of (x.downstream ?? []) as (typeof x)[]) walk(d);
    };
    if (r.success && r.lineage) walk(r.lineage);
    m.set(out.name, found.sort(byTableColumn));
  }
  return m;
}
