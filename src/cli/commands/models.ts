// `asgard models list|show SPEC [NAME[@VERSION]]`: the model registry beside the spec's state.
// list: every model a train node registers, with its versions (promoted flag, created, metrics).
// show: one model (all versions) or one version in detail (metrics, gate, params, feature schema,
// the data it was trained on).

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CliError, EXIT, type Command } from '../command.js';
import { loadValidSpec, workspaceOf } from '../spec.js';
import { formatsOf, note, show } from '../view.js';
import { modelSummary } from '../../ml/registry.js';
import { modelVersionView, modelVersionsView, modelsListView } from '../views/models.js';

export const command: Command = {
  usage: 'asgard models list|show SPEC [NAME[@VERSION]]',
  help: `
The registry lives in <state>/registry/<model>/<version>/ (model.onnx, metrics.json, params.json,
features.json, lineage.json). \`list\` prints every model the spec trains with its versions; a
version is promoted when it passed the spec's gate, and the newest promoted one is served. \`show\`
prints one model's versions, or with @VERSION its metrics, gate, params, feature schema and the
fingerprints and snapshots of the data it was trained on.
--format json for list: {"models": [{"name", "versions": [{"version", "promoted", "createdAt", "metrics"}]}]}.

Examples:
  asgard models list pipelines/churn.asg
  asgard models show pipelines/churn.asg customer_churn_predictor@1 --format json`,
  options: [],
  formats: formatsOf(modelsListView),
  positionals: [2, 3],
  async run(ctx) {
    const [sub, specPath, target] = ctx.positionals;
    if (sub !== 'list' && sub !== 'show')
      throw new CliError(`unknown subcommand ${JSON.stringify(sub)}: use \`asgard models list SPEC\` or \`asgard models show SPEC NAME[@VERSION]\``);
    const spec = await loadValidSpec(ctx, specPath);
    const registry = workspaceOf(ctx, spec).registry();
    const names = [...new Set(spec.ir.nodes.flatMap((n) => (n.kind === 'train' ? [n.register] : [])))].sort();
    const versionsOf = (name: string) => registry.index(name)?.versions ?? [];

    if (sub === 'list') {
      // `list SPEC NAME`: only that model (a version suffix is ignored here; `show` takes it).
      const only = target?.split('@')[0];
      if (only !== undefined && !names.includes(only))
        throw new CliError(`the spec trains no model named ${JSON.stringify(only)}${names.length ? ` (models: ${names.join(', ')})` : ''}`);
      const models = names.filter((n) => only === undefined || n === only).map((name) => modelSummary(name, versionsOf(name)));
      if (!names.length) note(ctx, [{ err: 'the spec trains no model\n' }]);
      show(ctx, modelsListView, { models });
      return EXIT.ok;
    }

    if (!target) throw new CliError('`asgard models show` needs NAME or NAME@VERSION');
    const at = target.lastIndexOf('@');
    const name = at < 0 ? target : target.slice(0, at);
    const vText = at < 0 ? undefined : target.slice(at + 1);
    if (!names.includes(name))
      throw new CliError(`the spec trains no model named ${JSON.stringify(name)}${names.length ? ` (models: ${names.join(', ')})` : ''}`);
    if (vText !== undefined && !/^[1-9]\d*$/.test(vText)) throw new CliError(`version must be a positive integer, got ${JSON.stringify(vText)}`);
    const versions = versionsOf(name);
    if (vText === undefined) {
      show(ctx, modelVersionsView, { name, served: registry.servingVersion(name)?.version ?? null, versions });
      return EXIT.ok;
    }
    const v = versions.find((x) => x.version === Number(vText));
    if (!v)
      throw new CliError(
        `model ${name} has no version ${vText}${versions.length ? ` (versions: ${versions.map((x) => x.version).join(', ')})` : ''}`,
        EXIT.failed,
      );
    const dir = registry.versionDir(name, v.version);
    const read = (f: string) => (existsSync(join(dir, f)) ? JSON.parse(readFileSync(join(dir, f), 'utf8')) : null);
    show(ctx, modelVersionView, { name, v, path: dir, params: read('params.json'), features: read('features.json'), lineage: read('lineage.json') });
    return EXIT.ok;
  },
};
