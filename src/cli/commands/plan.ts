// `asgard plan SPEC`: what apply would do, and why — against the applied state, or against a base
// spec for pull-request review (no state, no credentials).

import { resolve } from 'node:path';
import { hasChanges, planToJson } from '../../planner/plan.js';
import { renderPlanMarkdown, renderPlanText } from '../../planner/plan-render.js';
import { EXIT, type Command } from '../command.js';
import { makePlan, savePlan } from '../planning.js';
import { displayPath, loadValidSpec } from '../spec.js';

export const command: Command = {
  name: 'plan',
  summary: 'show what apply would create, update, replace or delete, and why',
  usage: 'asgard plan SPEC [--base REF] [--out plan.json] [--format text|json|markdown] [--detailed-exitcode]',
  help: `
Compares the spec with the applied state (in --state, default .asgard/ beside the spec) and lists,
per node, the action apply would take and its reasons: "sql changed", "upstream silver.x changed",
"description changed (metadata only)". Reformatting SQL or editing comments changes nothing;
a description or tag edit updates metadata without rebuilding; a change to a node's data (its SQL,
settings or checks) updates it and everything downstream. Breaking schema changes (a column removed
or retyped) and changes to partitioning or keys replace the table.

With --base REF the spec is compared with another version of itself instead of the state: a file,
or gitref:path read with git show (path from the repository root). No state and no credentials are
needed, which is what a pull-request check wants. --format markdown renders a PR comment.

--out FILE saves the plan; \`asgard apply FILE\` then executes exactly that plan, and refuses it if
the state or the spec moved since. --detailed-exitcode exits 3 when there are changes, 0 when none.

Examples:
  asgard plan pipelines/churn.asg
  asgard plan pipelines/churn.asg --out churn.plan.json && asgard apply churn.plan.json --yes
  asgard plan pipelines/churn.asg --base origin/main:pipelines/churn.asg --format markdown
  asgard plan pipelines/churn.asg --format json --detailed-exitcode`,
  options: [
    { name: 'base', type: 'string', arg: 'REF', description: 'compare with this spec (file or gitref:path) instead of the state' },
    { name: 'out', type: 'string', arg: 'FILE', description: 'save the plan for apply' },
    { name: 'detailed-exitcode', type: 'boolean', description: 'exit 3 when there are changes' },
  ],
  formats: ['text', 'json', 'markdown'],
  async run(ctx) {
    const spec = await loadValidSpec(ctx, ctx.positionals[0]);
    const { plan } = await makePlan(ctx, spec, ctx.str('base'));
    const out = ctx.str('out');
    if (out) savePlan(plan, resolve(ctx.io.cwd, out));
    if (ctx.format === 'json') {
      const doc = planToJson(plan) as Record<string, unknown>;
      doc.spec = displayPath(ctx.io.cwd)(plan.spec);
      ctx.json(doc);
    } else if (ctx.format === 'markdown') ctx.out(renderPlanMarkdown(plan));
    else ctx.out(renderPlanText(plan, { color: ctx.color }));
    if (out && ctx.format !== 'json') ctx.err(`Saved the plan to ${out}: apply it with \`asgard apply ${out}\`.\n`);
    return ctx.flag('detailed-exitcode') && hasChanges(plan) ? EXIT.changes : EXIT.ok;
  },
};
