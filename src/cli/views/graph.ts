// `asgard graph`: the DAG in each format.

import { dagToDot, dagToJson, dagToMermaid, dagToText, type Dag } from '../../planner/dag.js';
import type { View } from '../view.js';

export const graphView: View<{ readonly dag: Dag; readonly name: string }, 'text' | 'mermaid' | 'dot' | 'json'> = {
  text: ({ dag }) => dagToText(dag),
  mermaid: ({ dag }) => dagToMermaid(dag),
  dot: ({ dag, name }) => dagToDot(dag, name),
  json: ({ dag }) => dagToJson(dag),
};
