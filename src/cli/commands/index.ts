// The registry of `asgard` commands: one module per command, listed here in the order
// `asgard --help` shows them, each with its name and summary. Modules are imported only when their
// command runs (or for its own --help), so `asgard --help` loads none and `asgard plan` never loads
// the HTTP server, onnxruntime or the compile targets (test/cli/startup.test.ts).
//
// To add a command (say `query`):
//   1. Create src/cli/commands/query.ts exporting `const command: Command` (src/cli/command.ts):
//      usage, help (a paragraph that teaches, with examples), options (your own flags only:
//      --format/--state/--profile/--help/--no-color are global and parsed for you), formats
//      (`formatsOf(queryView)`: the formats of its view), positionals ([min, max], absent =
//      exactly one), and `run(ctx) => Promise<number>`.
//   2. In run(ctx): read ctx.positionals, ctx.str('port'), ctx.flag('yes'), ctx.profile; load the
//      spec with loadValidSpec(ctx, path) from ../spec.ts (prints the diagnostics and exits 2 for
//      you); compute the result and print it with `show(ctx, queryView, result)` (src/cli/view.ts),
//      its view in src/cli/views/query.ts rendering each format — never branch on ctx.format;
//      warnings and progress on the way go through `note(ctx, …)`. Return the exit code:
//      EXIT.ok 0, EXIT.failed 1, EXIT.invalid 2. Throw CliError('message') for a user error (exit 2,
//      printed as `error: message`, never a stack trace).
//   3. Add `entry('query', 'one line for --help', () => import('./query.js'))` to `commands` below.
//      test/cli/ has examples of testing a command in-process with runCli (src/cli/run.ts) or as
//      a process.

import type { Command } from '../command.js';

/**
 * A command as the registry knows it: its name and one-line summary (all `asgard --help` shows, so
 * listing the commands loads none of them) and how to load the rest.
 */
export interface CommandEntry {
  readonly name: string;
  /** One line for `asgard --help` and the command's own help. */
  readonly summary: string;
  readonly load: () => Promise<Command>;
}

const entry = (name: string, summary: string, load: () => Promise<{ command: Command }>): CommandEntry => ({
  name,
  summary,
  load: async () => (await load()).command,
});

export const commands: readonly CommandEntry[] = [
  entry('validate', 'parse and check a spec; print its diagnostics', () => import('./validate.js')),
  entry('plan', 'show what apply would create, update, replace or delete, and why', () => import('./plan.js')),
  entry('apply', 'execute the plan on the embedded engine, or on Kubernetes, incrementally', () => import('./apply.js')),
  entry('force-unlock', 'break the remote-state lock left by a crashed apply', () => import('./force-unlock.js')),
  entry('compile', 'write the Airbyte, Spark, dbt, Feast, training, serving and Kubernetes artifacts', () => import('./compile.js')),
  entry('graph', 'print the DAG (text, mermaid, dot or json)', () => import('./graph.js')),
  entry('lineage', 'column-level lineage: source columns → silver → gold → features', () => import('./lineage.js')),
  entry('docs', 'write a static site: the DAG, each node, column lineage, runs and models', () => import('./docs.js')),
  entry('query', 'run a read-only SQL query over the warehouse', () => import('./query.js')),
  entry('features', 'point-in-time correct feature retrieval (features historical)', () => import('./features.js')),
  entry('models', 'list the model registry, or show one model or version', () => import('./models.js')),
  entry('serve', 'serve the models, online features and read-only queries over HTTP', () => import('./serve.js')),
];
