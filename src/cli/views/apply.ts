// `asgard apply`: the plan it is about to run (before the confirmation), then each node's outcome.

import type { ApplyResult } from '../../engine/apply.js';
import type { Plan } from '../../planner/plan.js';
import { renderPlanText } from '../../planner/plan-render.js';
import { summaryTable } from '../progress.js';
import type { View } from '../view.js';

/** The plan shown before asking (a saved plan was reviewed already and is not shown). */
export const applyPlanView: View<Plan, 'text'> = {
  text: (plan, io) => renderPlanText(plan, { color: io.color }) + '\n',
};

export const applyView: View<Pick<ApplyResult, 'ok' | 'nodes' | 'warnings'>> = {
  text: ({ nodes, warnings }) =>
    '\n' +
    summaryTable(nodes) +
    (warnings.length ? `\n${warnings.length} warning${warnings.length === 1 ? '' : 's'}:\n` + warnings.map((w) => `  ${w.node}: ${w.message}\n`).join('') : ''),
  json: ({ ok, nodes }) => ({ ok, nodes }),
};
