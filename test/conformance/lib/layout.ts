import { mkdirSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { readState, snapshotDir, type Workspace } from './workspace.js';

/**
 * `<ws>/layout/<layer>/<table>` → the table's current embedded snapshot: the warehouse as a tool
 * outside asgard sees it (one folder of Parquet per table, no snapshot history).
 */
export function warehouseLayout(ws: Workspace): string {
  const root = join(ws.dir, 'layout');
  rmSync(root, { recursive: true, force: true });
  for (const [table, n] of Object.entries(readState(ws).nodes)) {
    if (!n.snapshot) continue;
    const [layer, name] = table.split('.');
    mkdirSync(join(root, layer), { recursive: true });
    symlinkSync(snapshotDir(ws, table), join(root, layer, name));
  }
  return root;
}

const envName = (...parts: string[]): string =>
  parts
    .join('_')
    .toUpperCase()
    .replace(/[^A-Z0-9]+/g, '_');

/**
 * The variables the compiled Feast repository and training script read to find tables: the layer
 * roots (ASGARD_<LAYER>_LOCATION, whose default layout is <layer>/<table>/data) and, taking
 * precedence, each table's folder (ASGARD_<TABLE>_PATH) → the current embedded snapshot.
 */
export function tableEnv(ws: Workspace, layout: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [table, n] of Object.entries(readState(ws).nodes)) {
    if (!n.snapshot) continue;
    const [layer, name] = table.split('.');
    env[envName('ASGARD', layer, 'location')] = join(layout, layer);
    env[envName('ASGARD', name, 'path')] = snapshotDir(ws, table);
  }
  return env;
}
