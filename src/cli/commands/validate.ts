// `asgard validate SPEC`: parse and check a spec (and infer its schemas when the engine can),
// print every diagnostic, exit 2 when there is an error.

import { hasErrors, sortDiagnostics } from '../../diagnostics/diagnostic.js';
import { EXIT, type Command } from '../command.js';
import { unsetSecrets } from '../secrets.js';
import { cliVars, diagnosticsJson, displayPath, inferSchemas, loadSpec, printDiagnostics, withBindDiagnostics, workspaceOf, varOption } from '../spec.js';

export const command: Command = {
  name: 'validate',
  summary: 'parse and check a spec; print its diagnostics',
  usage: 'asgard validate SPEC [--format text|json]',
  help: `
Reads the spec, checks every block, setting, reference and SQL body, and infers the schema of every
table, without touching any database or the state. All problems of the file are reported in one
run as \`path:line:col: error ASG1234: message\` with the source line and a caret under the span.
Exits 0 when the spec is valid (warnings allowed), 2 when it has errors.

Examples:
  asgard validate pipelines/churn.asg
  asgard validate pipelines/churn.asg --format json    # {"ok": true, "diagnostics": []}`,
  options: [varOption],
  async run(ctx) {
    const spec = await loadSpec(ctx.positionals[0], { cwd: ctx.io.cwd, stateDir: ctx.stateDir, vars: cliVars(ctx) });
    let diags = [...(await withBindDiagnostics(spec))];
    if (spec.ir) diags.push(...unsetSecrets(spec.ir, ctx.io.env));
    if (spec.ir && !hasErrors(diags)) diags.push(...(await inferSchemas(spec.ir, undefined, { ...spec, workspace: workspaceOf(ctx, spec) })).diagnostics);
    diags = sortDiagnostics(diags);
    const ok = !!spec.ir && !hasErrors(diags);
    if (ctx.format === 'json') {
      ctx.json({ ok, diagnostics: diagnosticsJson(ctx, diags) });
    } else {
      printDiagnostics(ctx, diags, spec.sources);
      const where = displayPath(ctx.io.cwd)(spec.file);
      const errors = diags.filter((d) => d.severity === 'error').length;
      const warnings = diags.filter((d) => d.severity === 'warning').length;
      if (ok) ctx.out(`${where}: ok, pipeline ${spec.ir!.name} with ${spec.ir!.nodes.length} nodes${warnings ? `, ${warnings} warning${warnings === 1 ? '' : 's'}` : ''}\n`);
      else ctx.err(`${where}: ${errors} error${errors === 1 ? '' : 's'}${warnings ? `, ${warnings} warning${warnings === 1 ? '' : 's'}` : ''}\n`);
    }
    return ok ? EXIT.ok : EXIT.invalid;
  },
};
