import { mkdirSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { readState, type Workspace } from './workspace.js';

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
    symlinkSync(join(ws.warehouse, n.snapshot.path), join(root, layer, name));
  }
  return root;
}
