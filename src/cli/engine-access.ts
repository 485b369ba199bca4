// What the engine's commands (query, features, lineage) share: the applied state and warehouse of a
// spec (their result sets are printed by src/cli/views/result-set.ts).

import type { PipelineIR } from '../ir/types.js';
import type { PipelineState } from '../planner/state-store.js';
import type { Warehouse } from '../warehouse/warehouse.js';
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
