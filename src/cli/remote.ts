// The CLI side of a remote state (src/warehouse/remote-state.ts, opened by the workspace): the plan
// id recorded in the lock, and the remote-storage failures as CLI errors (exit 1).

import { createHash } from 'node:crypto';
import { planToJson, type Plan } from '../planner/plan.js';
import { LockHeld, LockMismatch } from '../warehouse/lock.js';
import { ObjectStoreError, PreconditionFailed } from '../warehouse/object-store.js';
import { RemoteStateConflict } from '../warehouse/remote-state.js';
import { ProfileSettingError } from '../workspace/remote.js';
import { CliError, EXIT } from './command.js';

/** A short stable id of a plan (recorded in the lock). */
export function planId(plan: Plan): string {
  return createHash('sha256')
    .update(JSON.stringify(planToJson(plan)))
    .digest('hex')
    .slice(0, 16);
}

/** Turn the remote-storage failures into CLI errors: exit 1, the run failed and nothing is half-written. */
export function remoteError(e: unknown): never {
  if (
    e instanceof LockHeld ||
    e instanceof LockMismatch ||
    e instanceof RemoteStateConflict ||
    e instanceof ObjectStoreError ||
    e instanceof PreconditionFailed
  ) {
    throw new CliError(e.message, EXIT.failed);
  }
  if (e instanceof ProfileSettingError) throw new CliError(e.message, EXIT.invalid);
  throw e;
}
