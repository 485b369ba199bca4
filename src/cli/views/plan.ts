// `asgard plan`: the plan as text, as a pull-request comment (markdown) or as its JSON document
// (planner/plan.ts `planToJson`, the shape saved plans have, printed by planner/plan-json.ts), with the cluster's drift under a
// kubernetes profile and where the plan was saved.

import type { Drift } from '../../kube/drift.js';
import type { Plan } from '../../planner/plan.js';
import { planJsonText } from '../../planner/plan-json.js';
import { renderPlanMarkdown } from '../../planner/plan-markdown.js';
import { renderPlanText } from '../../planner/plan-render.js';
import { JsonText, type Piece, type View, type ViewIO } from '../view.js';
import { diagnosticsText, type Diagnosed } from './diagnostics.js';

export interface PlanShown {
  readonly plan: Plan;
  /** The cluster's drift from what asgard applied, or why it was not checked (kubernetes profiles). */
  readonly drift?: { readonly drift: readonly Drift[] } | { readonly error: string };
  /** --out as given, when the plan was saved. */
  readonly saved?: string;
}

function renderDrift(drift: readonly Drift[]): string {
  const lines = [
    '',
    `Drift: ${drift.length} object${drift.length === 1 ? '' : 's'} in the cluster differ${drift.length === 1 ? 's' : ''} from what asgard applied (changed outside asgard):`,
  ];
  for (const d of drift) {
    const owner = d.node ? ` (node ${d.node})` : '';
    lines.push(d.change === 'missing' ? `  - ${d.object}${owner}: missing` : `  ~ ${d.object}${owner}: ${d.fields.join(', ')}`);
  }
  lines.push("  A node's next run on the cluster re-applies its objects.", '');
  return lines.join('\n');
}

/** What follows the plan in text and markdown: the drift, and where the plan was saved. */
function after({ drift, saved }: PlanShown): Piece[] {
  const pieces: Piece[] = [];
  if (drift && 'error' in drift) pieces.push({ err: `drift not checked: ${drift.error}\n` });
  else if (drift?.drift.length) pieces.push({ out: renderDrift(drift.drift) });
  if (saved) pieces.push({ err: `Saved the plan to ${saved}: apply it with \`asgard apply ${saved}\`.\n` });
  return pieces;
}

export const planView: View<PlanShown, 'text' | 'json' | 'markdown'> = {
  text: (r, io) => [{ out: renderPlanText(r.plan, { color: io.color }) }, ...after(r)],
  // Printed from each action's text, made once (src/planner/plan-json.ts).
  json: (r, io) => {
    const drift = r.drift;
    return new JsonText(planJsonText(r.plan, io.path(r.plan.spec), drift ? ('error' in drift ? { driftUnchecked: drift.error } : { drift: drift.drift }) : {}));
  },
  markdown: (r) => [{ out: renderPlanMarkdown(r.plan) }, ...after(r)],
};

/**
 * What apply would run without (secrets unset here), before the plan: in text only — a
 * pull-request comment (markdown) is made where the secrets are not set, on purpose.
 */
export const planWarningsView: View<Diagnosed, 'text' | 'markdown'> = {
  text: (r, io: ViewIO) => diagnosticsText(r, io),
  markdown: () => '',
};
