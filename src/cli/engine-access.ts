// What the engine's commands (query, features, lineage) share: the applied state and warehouse of a
// spec, and printing a result set as a text table, CSV or the PRODUCT.md JSON shape.

import type { PipelineIR } from '../ir/types.js';
import type { PipelineState } from '../planner/state-store.js';
import type { Warehouse } from '../warehouse/warehouse.js';
import type { QueryResult } from '../engine/duckdb.js';
import type { CommandContext } from './command.js';
import { remoteError } from './remote.js';
import { workspaceOf } from './spec.js';

export interface WarehouseOf {
  readonly state: PipelineState;
  readonly warehouse: Warehouse;
}

/**
 * The applied state and the warehouse of the spec's workspace (src/workspace/workspace.ts); a
 * warehouse on S3 is first pulled into its local working copy.
 */
export async function warehouseOf(ctx: CommandContext, ir: PipelineIR, specFile: string): Promise<WarehouseOf> {
  const ws = workspaceOf(ctx, { file: specFile });
  await ws.remote(ir)?.pull().catch(remoteError);
  return { state: ws.state(ir).read(), warehouse: ws.warehouse(ir) };
}

/** Print a result in the command's format: `{"columns":[{name,type}],"rows":[{…}]}`, CSV, or a text table. */
export function printResult(ctx: CommandContext, r: QueryResult, note?: string): void {
  if (ctx.format === 'json') {
    ctx.json({ columns: r.columns, rows: r.rows });
    return;
  }
  if (ctx.format === 'csv') {
    ctx.out(csvLine(r.columns.map((c) => c.name)));
    for (const row of r.rows) ctx.out(csvLine(r.columns.map((c) => cell(row[c.name]))));
    return;
  }
  ctx.out(textTable(r));
  ctx.err(`(${r.rows.length} row${r.rows.length === 1 ? '' : 's'})${note ? ` ${note}` : ''}\n`);
}

const cell = (v: unknown): string => (v === null || v === undefined ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v));

function csvLine(cells: readonly string[]): string {
  return cells.map((c) => (/[",\n\r]/.test(c) ? `"${c.replace(/"/g, '""')}"` : c)).join(',') + '\n';
}

export function textTable(r: QueryResult): string {
  const names = r.columns.map((c) => c.name);
  const body = r.rows.map((row) => names.map((n) => (row[n] === null || row[n] === undefined ? 'NULL' : cell(row[n]))));
  const widths = names.map((n, i) => Math.min(60, Math.max(n.length, ...body.map((b) => b[i].length))));
  const fit = (s: string, w: number): string => (s.length > w ? s.slice(0, w - 1) + '…' : s.padEnd(w));
  const line = (cells: string[]): string => cells.map((c, i) => fit(c, widths[i])).join('  ').trimEnd() + '\n';
  return line(names) + line(widths.map((w) => '-'.repeat(w))) + body.map(line).join('');
}
