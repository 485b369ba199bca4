// The last reviewed plan of each spec, replayed while nothing it is made from changed (#16.3). A
// plan and its review are a pure function of: the checked spec (its spec-cache key: build id, path,
// text and `--var` values, src/cli/spec-cache.ts), the applied state (a hash of its text: nodes,
// schemas, serial, last runs), the profile, the snapshots missing from the warehouse, and whether schemas
// were inferred (schemas themselves follow from the spec, the state and the build). A repeated
// `asgard plan` (a CI re-run, a second look) then neither fingerprints, plans nor reviews a node,
// nor loads the modules that do. One entry per spec in the workspace's `cache/plans/<spec>.json`
// (src/util/keyed-file.ts); any doubt (another key, a damaged file) means the plan is made again.

import type { NodeId } from '../ir/types.js';
import type { Plan } from '../planner/plan.js';
import { sha256 } from '../util/canonical-json.js';
import { readKeyed, writeKeyed } from '../util/keyed-file.js';
import type { WorkspaceCaches } from '../workspace/workspace.js';
import { specKey } from './spec-cache.js';

/** What a plan against the state is made from, besides the spec. */
export interface PlanInputs {
  readonly profile: string;
  /** A hash of the state the plan is made from (StateStore.lastRead). */
  readonly state: string;
  readonly missingSnapshots: ReadonlyMap<NodeId, string>;
  /** Whether schema inference gave schemas (it may fail: the plan is then made without). */
  readonly schemas: boolean;
}

/** The memo key of a reviewed plan of `specFile` (read with the text `text`) over `inputs`. */
export function planKey(caches: WorkspaceCaches, specFile: string, text: string, inputs: PlanInputs): string {
  return sha256(
    JSON.stringify([
      'reviewed plan',
      specKey(caches, specFile, text),
      inputs.profile,
      inputs.state,
      [...inputs.missingSnapshots].sort((a, b) => (a[0] < b[0] ? -1 : 1)),
      inputs.schemas,
    ]),
  );
}

export function cachedPlan(caches: WorkspaceCaches, specFile: string, key: string): Plan | undefined {
  return readKeyed<{ plan: Plan }>(caches.planFile(specFile), key)?.plan;
}

export function cachePlan(caches: WorkspaceCaches, specFile: string, key: string, plan: Plan): void {
  writeKeyed(caches.planFile(specFile), key, { plan });
}
