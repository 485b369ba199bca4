// `asgard graph SPEC`: the pipeline's DAG as text, mermaid, dot or json.

import { buildDag } from '../../planner/dag.js';
import { EXIT, type Command } from '../command.js';
import { loadValidSpec } from '../spec.js';
import { formatsOf, show } from '../view.js';
import { graphView } from '../views/graph.js';

export const command: Command = {
  usage: 'asgard graph SPEC [--format text|mermaid|dot|json]',
  help: `
Prints the pipeline's nodes in dependency order with the edges between them. \`mermaid\` renders in
GitHub markdown and most wikis; \`dot\` goes to Graphviz; \`json\` is
{"nodes": [{"id", "kind"}], "edges": [{"from", "to"}]}.

Examples:
  asgard graph pipelines/churn.asg
  asgard graph pipelines/churn.asg --format mermaid > docs/churn.mmd
  asgard graph pipelines/churn.asg --format dot | dot -Tsvg > churn.svg`,
  options: [],
  formats: formatsOf(graphView),
  async run(ctx) {
    const { ir } = await loadValidSpec(ctx, ctx.positionals[0]);
    show(ctx, graphView, { dag: buildDag(ir), name: ir.name });
    return EXIT.ok;
  },
};
