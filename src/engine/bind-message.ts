// DuckDB's binder errors about a node's SQL, said in asgard's words: which column or table is
// unknown, the closest name the inputs do have ("did you mean"), and the token the caret goes
// under. An error of a kind not recognised here keeps the engine's text, without its prefix.

import { closest } from '../diagnostics/catalogue.js';

export interface BindProblem {
  readonly message: string;
  readonly hint?: string;
  /** The identifier in the user's SQL the error is about (where the caret goes), when known. */
  readonly token?: string;
}

/**
 * `raw`: the engine's error (first line and the rest); `columns`: every column of the node's inputs;
 * `nodeId` names the node in the message.
 */
export function explainBindError(nodeId: string, raw: string, columns: readonly string[]): BindProblem {
  const first = raw.split('\n')[0].replace(/^[A-Za-z ]*Error: /, '');
  const near = (name: string): string | undefined => {
    const c = columns.find((x) => x.toLowerCase() === name.toLowerCase()) ?? closest(name, columns);
    return c === undefined ? undefined : `did you mean \`${c}\`?`;
  };
  const listed = (): string => {
    const uniq = [...new Set(columns)];
    return `its inputs have: ${uniq.slice(0, 20).join(', ')}${uniq.length > 20 ? `, … (${uniq.length} columns)` : ''}`;
  };
  let m = /^Referenced column "([^"]+)" not found in FROM clause/.exec(first);
  if (m) return { message: `${nodeId}: unknown column \`${m[1]}\`: no input of the SQL has it`, hint: near(m[1]) ?? listed(), token: m[1] };
  m = /^(?:Table|Values list) "([^"]+)" does not have a column named "([^"]+)"/.exec(first);
  if (m) return { message: `${nodeId}: unknown column \`${m[1]}.${m[2]}\`: \`${m[1]}\` has no column \`${m[2]}\``, hint: near(m[2]) ?? listed(), token: m[2] };
  m = /^Referenced table "([^"]+)" not found/.exec(first);
  if (m) {
    const tables =
      /Candidate tables: (.*)/
        .exec(raw)?.[1]
        ?.match(/"([^"]+)"/g)
        ?.map((t) => t.slice(1, -1)) ?? [];
    const c = closest(m[1], tables);
    return {
      message: `${nodeId}: unknown table or alias \`${m[1]}\` in a column reference`,
      hint: c ? `did you mean \`${c}\`?` : tables.length ? `the query's tables are: ${tables.join(', ')}` : 'name a table of the FROM clause or its alias',
      token: m[1],
    };
  }
  m = /^column "([^"]+)" must appear in the GROUP BY clause/.exec(first);
  if (m)
    return {
      message: `${nodeId}: \`${m[1]}\` is selected but neither grouped nor aggregated`,
      hint: `add \`${m[1]}\` to GROUP BY, or wrap it in an aggregate such as MAX(${m[1]})`,
      token: m[1],
    };
  return { message: `${nodeId}: the SQL does not bind against its inputs: ${first}` };
}
