// `asgard compile SPEC --out DIR [--profile kubernetes]`: every target's artifacts (src/targets/),
// written into a temporary folder beside DIR and swapped into place only when every target
// succeeded, so a failed compile never leaves a half-written output folder.

import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Diagnostic } from '../../diagnostics/diagnostic.js';
import { hasErrors, sortDiagnostics } from '../../diagnostics/diagnostic.js';
import type { NodeId, PipelineIR } from '../../ir/types.js';
import type { ColumnSchema } from '../../planner/state-store.js';
import { compileTargets } from '../../targets/registry.js';
import type { SqlTextCache } from '../../targets/sql-text.js';
import { fsyncDir } from '../../util/fs-atomic.js';
import { CliError, EXIT, type Command } from '../command.js';
import { inferSchemas, loadValidSpec, workspaceOf, varOption } from '../spec.js';
import { formatsOf, show } from '../view.js';
import { compileView } from '../views/compile.js';

export const command: Command = {
  usage: 'asgard compile SPEC --out DIR [--profile kubernetes] [--format text|json]',
  help: `
Compiles the spec for a Kubernetes profile into the files the tools run, without executing
anything: airbyte/ (source, destination and connection create payloads), spark/ (one
SparkApplication per cleanse plus its job), dbt/ (a dbt project for the gold models), feast/ (a
feature repository), training/ (a training Job and script), serving/ (Deployment and Service
for \`asgard serve\`) and kubernetes/ (namespace, service accounts and roles for asgard and the Spark
driver, the spec's ConfigMap, a CronJob per source schedule running \`asgard apply\`, and a README
listing the Secrets and keys to create), with DIR/manifest.json listing every file's sha256. env() and secret()
settings are written as references, never values, so the output is the same on every machine;
compiling twice gives identical bytes. A profile that lacks what a target needs is reported
(exit 2) and DIR is left as it was. An existing DIR is replaced only if it holds a previous
compile output.

Examples:
  asgard compile pipelines/churn.asg --out build --profile kubernetes
  asgard compile pipelines/churn.asg --out build --profile kubernetes --format json`,
  options: [{ name: 'out', type: 'string', arg: 'DIR', description: 'output folder (replaced as a whole)' }, varOption],
  formats: formatsOf(compileView),
  async run(ctx) {
    const out = ctx.str('out');
    if (!out) throw new CliError('compile needs --out DIR');
    const spec = await loadValidSpec(ctx, ctx.positionals[0]);
    const workspace = workspaceOf(ctx, spec);
    // Rendered SQL by content hash, in the workspace's cache (salted with the build id).
    const sqlCache = workspace.caches.compileSql();
    const r = await compileLoaded(spec.ir, {
      profile: ctx.profile,
      specPath: specPathFor(ctx.io.cwd, spec.file),
      specSource: spec.sources.get(spec.file),
      sqlCache,
      cacheFor: { ...spec, workspace },
    });
    sqlCache.save();
    const diags = sortDiagnostics(r.diagnostics);
    if (!r.files || hasErrors(diags)) {
      show(ctx, compileView, { outArg: out, diagnostics: diags, sources: spec.sources });
      return EXIT.invalid;
    }
    const outDir = resolve(ctx.io.cwd, out);
    writeTree(outDir, r.files);
    const manifest = JSON.parse(r.files.get('manifest.json')!) as { files: { path: string; sha256: string }[] };
    show(ctx, compileView, {
      outArg: out,
      diagnostics: diags,
      sources: spec.sources,
      written: { pipeline: spec.ir.name, profile: ctx.profile, outDir, count: r.files.size, files: manifest.files },
    });
    return EXIT.ok;
  },
};

export interface CompileSpecOptions {
  readonly profile: string;
  /** How headers name the spec (relative, `/`-separated). */
  readonly specPath: string;
  readonly specSource?: string;
  readonly sqlCache?: SqlTextCache;
  /** The spec as read and its workspace: inferred schemas come from and go to its caches. */
  readonly cacheFor?: Parameters<typeof inferSchemas>[2];
  /** Schemas already known (tests, benches); inferred by the engine otherwise. */
  readonly schemas?: ReadonlyMap<NodeId, readonly ColumnSchema[]>;
}

/** The pure part: schemas (inferred without touching data) and every target's files. */
export async function compileLoaded(ir: PipelineIR, opts: CompileSpecOptions): Promise<{ files?: Map<string, string>; diagnostics: readonly Diagnostic[] }> {
  let schemas = opts.schemas;
  const diagnostics: Diagnostic[] = [];
  if (!schemas) {
    const inferred = await inferSchemas(ir, undefined, opts.cacheFor);
    diagnostics.push(...inferred.diagnostics);
    if (hasErrors(inferred.diagnostics)) return { diagnostics };
    schemas = inferred.schemas ?? new Map();
  }
  const r = compileTargets(ir, {
    profile: opts.profile,
    schemas,
    specPath: opts.specPath,
    ...(opts.specSource !== undefined ? { specSource: opts.specSource } : {}),
    ...(opts.sqlCache ? { sqlCache: opts.sqlCache } : {}),
  });
  diagnostics.push(...r.diagnostics);
  return { ...(r.value ? { files: r.value } : {}), diagnostics };
}

/** The spec as headers name it: relative to cwd when inside it, with `/` separators. */
export function specPathFor(cwd: string, file: string): string {
  const rel = relative(cwd, file);
  const p = rel && !rel.startsWith('..') ? rel : basename(file);
  return p.split(sep).join('/');
}

/**
 * Write `files` as the whole content of `outDir`: into a fresh folder beside it, then renamed into
 * place (the previous output is moved aside first and removed after). Refuses to replace a folder
 * that is not empty and holds no compile manifest, so `--out .` cannot wipe a project.
 */
export function writeTree(outDir: string, files: ReadonlyMap<string, string | Uint8Array>): void {
  if (existsSync(outDir)) {
    if (!statSync(outDir).isDirectory()) throw new CliError(`--out ${outDir}: exists and is not a folder`);
    if (readdirSync(outDir).length > 0 && !isCompileOutput(outDir)) {
      throw new CliError(`--out ${outDir}: the folder is not empty and is not a previous compile output (no manifest.json); refusing to replace it`);
    }
  }
  const parent = dirname(outDir);
  mkdirSync(parent, { recursive: true });
  const tag = `${process.pid}-${randomBytes(4).toString('hex')}`;
  const tmp = join(parent, `.${basename(outDir)}.compile-${tag}`);
  try {
    // Created on its own first: Node's recursive mkdir never returns on a folder that refuses new
    // entries with ENOENT (/proc), so only paths under a folder that exists are made recursively.
    mkdirSync(tmp);
  } catch (e) {
    throw new CliError(`--out ${outDir}: cannot create files in ${parent} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, 1);
  }
  try {
    for (const [path, content] of files) {
      const target = resolve(tmp, path);
      if (!target.startsWith(tmp + sep)) throw new Error(`target file path escapes the output folder: ${path}`);
      mkdirSync(dirname(target), { recursive: true });
      writeFileSync(target, content);
    }
    const old = join(parent, `.${basename(outDir)}.old-${tag}`);
    const hadOld = existsSync(outDir);
    if (hadOld) renameSync(outDir, old);
    try {
      renameSync(tmp, outDir);
    } catch (e) {
      if (hadOld) renameSync(old, outDir);
      throw e;
    }
    fsyncDir(parent);
    if (hadOld) rmSync(old, { recursive: true, force: true });
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    if (e instanceof CliError) throw e;
    throw new CliError(`cannot write ${outDir}: ${(e as Error).message}`, 1);
  }
}

function isCompileOutput(dir: string): boolean {
  try {
    const m = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as { schemaVersion?: unknown; files?: unknown };
    return typeof m.schemaVersion === 'number' && Array.isArray(m.files);
  } catch {
    return false;
  }
}
