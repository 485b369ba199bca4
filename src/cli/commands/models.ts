// `asgard models list|show SPEC [NAME[@VERSION]]`: the model registry beside the spec's state.
// list: every model a train node registers, with its versions (promoted flag, created, metrics).
// show: one model (all versions) or one version in detail (metrics, gate, params, feature schema,
// the data it was trained on).

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RegistryVersion } from '../../ml/registry.js';
import { CliError, EXIT, type Command } from '../command.js';
import { loadValidSpec, workspaceOf } from '../spec.js';

const fmt = (x: unknown) => (typeof x === 'number' ? (Number.isInteger(x) ? String(x) : x.toFixed(4)) : String(x));

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
  formats: ['text', 'json'],
  positionals: [2, 3],
  async run(ctx) {
    const [sub, specPath, target] = ctx.positionals;
    if (sub !== 'list' && sub !== 'show') throw new CliError(`unknown subcommand ${JSON.stringify(sub)}: use \`asgard models list SPEC\` or \`asgard models show SPEC NAME[@VERSION]\``);
    const spec = await loadValidSpec(ctx, specPath);
    const registry = workspaceOf(ctx, spec).registry();
    const names = [...new Set(spec.ir.nodes.flatMap((n) => (n.kind === 'train' ? [n.register] : [])))].sort();
    const versionsOf = (name: string) => registry.index(name)?.versions ?? [];
    const summary = (v: RegistryVersion) => ({ version: v.version, promoted: v.promoted, createdAt: v.createdAt, metrics: v.metrics });

    if (sub === 'list') {
      // `list SPEC NAME`: only that model (a version suffix is ignored here; `show` takes it).
      const only = target?.split('@')[0];
      if (only !== undefined && !names.includes(only)) throw new CliError(`the spec trains no model named ${JSON.stringify(only)}${names.length ? ` (models: ${names.join(', ')})` : ''}`);
      const models = names.filter((n) => only === undefined || n === only).map((name) => ({ name, versions: versionsOf(name).map(summary) }));
      if (ctx.format === 'json') ctx.json({ models });
      else {
        if (!names.length) ctx.err('the spec trains no model\n');
        for (const m of models) {
          ctx.out(`${m.name}\n`);
          if (!m.versions.length) ctx.out('  (no versions yet: run asgard apply)\n');
          for (const v of m.versions) ctx.out(`  v${v.version}  ${v.promoted ? 'promoted' : 'not promoted'}  ${v.createdAt}  f1=${fmt(v.metrics.f1)} roc_auc=${fmt(v.metrics.roc_auc)} accuracy=${fmt(v.metrics.accuracy)}\n`);
        }
      }
      return EXIT.ok;
    }

    if (!target) throw new CliError('`asgard models show` needs NAME or NAME@VERSION');
    const at = target.lastIndexOf('@');
    const name = at < 0 ? target : target.slice(0, at);
    const vText = at < 0 ? undefined : target.slice(at + 1);
    if (!names.includes(name)) throw new CliError(`the spec trains no model named ${JSON.stringify(name)}${names.length ? ` (models: ${names.join(', ')})` : ''}`);
    if (vText !== undefined && !/^[1-9]\d*$/.test(vText)) throw new CliError(`version must be a positive integer, got ${JSON.stringify(vText)}`);
    const versions = versionsOf(name);
    if (vText === undefined) {
      const served = registry.servingVersion(name)?.version ?? null;
      if (ctx.format === 'json') ctx.json({ name, served, versions: versions.map((v) => ({ ...summary(v), gate: v.gate, algorithm: v.algorithm })) });
      else {
        ctx.out(`${name}  served: ${served === null ? 'none' : `v${served}`}\n`);
        for (const v of versions) ctx.out(`  v${v.version}  ${v.algorithm}  ${v.promoted ? 'promoted' : 'not promoted'}  ${v.createdAt}  gate: ${v.gate?.reason ?? 'none'}${v.gate?.challenge ? `; ${v.gate.challenge.reason}` : ''}\n`);
      }
      return EXIT.ok;
    }
    const v = versions.find((x) => x.version === Number(vText));
    if (!v) throw new CliError(`model ${name} has no version ${vText}${versions.length ? ` (versions: ${versions.map((x) => x.version).join(', ')})` : ''}`, EXIT.failed);
    const dir = registry.versionDir(name, v.version);
    const read = (f: string) => (existsSync(join(dir, f)) ? JSON.parse(readFileSync(join(dir, f), 'utf8')) : null);
    const detail = { name, ...summary(v), algorithm: v.algorithm, gate: v.gate ?? null, inputsHash: v.inputsHash, path: dir, params: read('params.json'), features: read('features.json'), lineage: read('lineage.json') };
    if (ctx.format === 'json') {
      ctx.json(detail);
      return EXIT.ok;
    }
    ctx.out(`${name} v${v.version}  ${v.algorithm}  ${v.promoted ? 'promoted' : 'not promoted'}  created ${v.createdAt}\n`);
    ctx.out(`  gate: ${v.gate?.reason ?? 'none'}${v.gate?.challenge ? `; ${v.gate.challenge.reason}` : ''}\n`);
    const m = v.metrics;
    ctx.out(`  metrics (held-out, ${m.test_rows} rows, threshold ${m.threshold}):\n`);
    for (const k of ['accuracy', 'precision', 'recall', 'f1', 'roc_auc', 'log_loss'] as const) ctx.out(`    ${k.padEnd(10)} ${fmt(m[k])}\n`);
    const [[tn, fp], [fn, tp]] = m.confusion_matrix;
    ctx.out(`    confusion  tn=${tn} fp=${fp} fn=${fn} tp=${tp}\n`);
    const feats = detail.features as { features?: { name: string; dtype: string; fill: number }[] } | null;
    if (feats?.features) ctx.out(`  features (ONNX float32 inputs, in order): ${feats.features.map((f) => f.name).join(', ')}\n`);
    ctx.out(`  files: ${dir}\n`);
    return EXIT.ok;
  },
};
