// The registry of `asgard` commands: one module per command, listed here in the order
// `asgard --help` shows them.
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
//   3. Import it below and add it to `commands`. test/cli/ has examples of testing a command
//      in-process with runCli (src/cli/run.ts) or as a child process.

import type { Command } from '../command.js';
import { command as validate } from './validate.js';
import { command as plan } from './plan.js';
import { command as apply } from './apply.js';
import { command as graph } from './graph.js';
import { command as query } from './query.js';
import { command as lineage } from './lineage.js';
import { command as features } from './features.js';
import { command as compile } from './compile.js';
import { command as models } from './models.js';
import { command as serve } from './serve.js';

export const commands: readonly Command[] = [validate, plan, apply, compile, graph, lineage, query, features, models, serve];
