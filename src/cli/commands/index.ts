// The registry of `asgard` commands: one module per command, listed here in the order
// `asgard --help` shows them. Modules are imported only when their command runs (or for --help),
// so `asgard plan` never loads the HTTP server, onnxruntime or the compile targets.
//
// To add a command (say `query`):
//   1. Create src/cli/commands/query.ts exporting `const command: Command` (src/cli/command.ts):
//      name, summary (one line), usage, help (a paragraph that teaches, with examples), options
//      (your own flags only: --format/--state/--profile/--help/--no-color are global and parsed
//      for you), formats (allowed --format values, default first; absent = text, json),
//      positionals ([min, max], absent = exactly one), and `run(ctx) => Promise<number>`.
//   2. In run(ctx): read ctx.positionals, ctx.str('port'), ctx.flag('yes'), ctx.format,
//      ctx.profile; load the spec with loadValidSpec(ctx, path) from ../spec.ts (prints the
//      diagnostics and exits 2 for you); print with ctx.out()/ctx.err(), or ctx.json(doc) once for
//      --format json (nothing else on stdout then; progress goes to ctx.err). Return the exit code:
//      EXIT.ok 0, EXIT.failed 1, EXIT.invalid 2. Throw CliError('message') for a user error (exit 2,
//      printed as `error: message`, never a stack trace).
//   3. Add `entry('query', () => import('./query.js'))` to `commands` below. test/cli/ has
//      examples of testing a command in-process with runCli (src/cli/run.ts) or as a process.

import type { Command } from '../command.js';

export interface CommandEntry {
  readonly name: string;
  readonly load: () => Promise<Command>;
}

const entry = (name: string, load: () => Promise<{ command: Command }>): CommandEntry => ({ name, load: async () => (await load()).command });

export const commands: readonly CommandEntry[] = [
  entry('validate', () => import('./validate.js')),
  entry('plan', () => import('./plan.js')),
  entry('apply', () => import('./apply.js')),
  entry('force-unlock', () => import('./force-unlock.js')),
  entry('compile', () => import('./compile.js')),
  entry('graph', () => import('./graph.js')),
  entry('lineage', () => import('./lineage.js')),
  entry('docs', () => import('./docs.js')),
  entry('query', () => import('./query.js')),
  entry('features', () => import('./features.js')),
  entry('models', () => import('./models.js')),
  entry('serve', () => import('./serve.js')),
];
