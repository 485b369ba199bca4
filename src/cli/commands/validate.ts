// `asgard validate SPEC`: parse and check a spec (and infer its schemas when the engine can),
// print every diagnostic, exit 2 when there is an error.

import { Codes, diag } from '../../diagnostics/catalogue.js';
import { hasErrors, sortDiagnostics, type Diagnostic } from '../../diagnostics/diagnostic.js';
import { sourceOf } from '../../dsl/loaded.js';
import type { NodeId, PipelineIR } from '../../ir/types.js';
import type { ColumnSchema } from '../../planner/state-store.js';
import { EXIT, type Command } from '../command.js';
import { unsetSecrets } from '../secrets.js';
import { cliVars, inferSchemas, loadSpec, withBindDiagnostics, workspaceOf, varOption } from '../spec.js';
import { formatsOf, show } from '../view.js';
import { validateView } from '../views/validate.js';

/**
 * `--profile NAME`: what apply or compile with that profile would refuse — settings nothing of the
 * profile's target reads, values of the wrong form (src/cli/profiles.ts) and, for a kubernetes
 * profile, whatever the compile targets report (a setting they need, SQL they cannot render).
 */
async function profileCheck(
  ir: PipelineIR,
  profile: string,
  schemas: ReadonlyMap<NodeId, readonly ColumnSchema[]> | undefined,
  cwd: string,
  file: string,
  specSource: string,
): Promise<Diagnostic[]> {
  const p = ir.profiles[profile];
  if (!p) {
    if (profile === 'local') return [];
    const names = [...new Set(['local', ...Object.keys(ir.profiles)])].join(', ');
    return [diag(Codes.UnknownProfile, `the spec defines no profile \`${profile}\``, undefined, { hint: `profiles in the spec: ${names}` })];
  }
  const { profileDiagnostics } = await import('../profiles.js');
  const diags = profileDiagnostics(ir, profile);
  if (p.target !== 'kubernetes' || hasErrors(diags) || !schemas) return diags;
  const { compileTargets } = await import('../../targets/registry.js');
  const { specPathFor } = await import('./compile.js');
  return [...diags, ...compileTargets(ir, { profile, schemas, specPath: specPathFor(cwd, file), specSource }).diagnostics];
}

export const command: Command = {
  usage: 'asgard validate SPEC [--profile NAME] [--format text|json]',
  help: `
Reads the spec, checks every block, setting, reference and SQL body, and infers the schema of every
table, without touching any database or the state. All problems of the file are reported in one
run as \`path:line:col: error ASG1234: message\` with the source line and a caret under the span.
Exits 0 when the spec is valid (warnings allowed), 2 when it has errors.

With --profile NAME it also checks that profile as apply or compile would: a setting that nothing
of the profile's target reads (with a did-you-mean), a value of the wrong form, and for a
kubernetes profile what the compile targets would refuse — each at its file:line:col.

Examples:
  asgard validate pipelines/churn.asg
  asgard validate pipelines/churn.asg --profile kubernetes
  asgard validate pipelines/churn.asg --format json    # {"ok": true, "diagnostics": []}`,
  options: [varOption],
  formats: formatsOf(validateView),
  async run(ctx) {
    const spec = await loadSpec(ctx.positionals[0], { cwd: ctx.io.cwd, stateDir: ctx.stateDir, vars: cliVars(ctx) });
    let diags = [...(await withBindDiagnostics(spec))];
    if (spec.ir) diags.push(...unsetSecrets(spec.ir, ctx.io.env));
    if (spec.ir && !hasErrors(diags)) {
      const inferred = await inferSchemas(spec.ir, undefined, { ...spec, workspace: workspaceOf(ctx, spec) });
      diags.push(...inferred.diagnostics);
      const profile = ctx.str('profile');
      if (profile !== undefined && !hasErrors(diags))
        diags.push(...(await profileCheck(spec.ir, profile, inferred.schemas, ctx.io.cwd, spec.file, sourceOf(spec))));
    }
    diags = sortDiagnostics(diags);
    const ok = !!spec.ir && !hasErrors(diags);
    show(ctx, validateView, {
      file: spec.file,
      diagnostics: diags,
      sources: spec.sources,
      ...(ok ? { valid: { pipeline: spec.ir!.name, nodes: spec.ir!.nodes.length } } : {}),
    });
    return ok ? EXIT.ok : EXIT.invalid;
  },
};
