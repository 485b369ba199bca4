// Loading a spec (and a base spec for `plan --base`) for the commands, the state directory beside
// it, schema inference when the engine provides it, and printing diagnostics. Commands share these
// so every command reads specs, reports problems and picks paths the same way.

import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, relative, resolve } from 'node:path';
import type { Diagnostic } from '../diagnostics/diagnostic.js';
import { hasErrors, sortDiagnostics } from '../diagnostics/diagnostic.js';
import { diagnosticToJson, renderDiagnostic, renderDiagnosticsMarkdown } from '../diagnostics/render.js';
import type { NodeId, PipelineIR } from '../ir/types.js';
import type { ColumnSchema } from '../planner/state-store.js';
import { importOptional } from '../util/optional-import.js';
import { CliError, ExitSilently, type CommandContext } from './command.js';
import { cacheSchemas, cacheSpec, cachedSchemas, cachedSpec } from './spec-cache.js';

export interface LoadedSpec {
  readonly file: string;
  readonly ir?: PipelineIR;
  readonly diagnostics: readonly Diagnostic[];
  /** Source text per file, for carets under spans. */
  readonly sources: ReadonlyMap<string, string>;
  /** The spec's text when it was read from a file: the key of the compile cache (spec-cache.ts). */
  readonly text?: string;
}

interface LoadResult {
  ir?: PipelineIR;
  diagnostics: readonly Diagnostic[];
  source?: string;
  file?: string;
}
interface DslModule {
  loadPipeline(file: string): LoadResult | Promise<LoadResult>;
  loadPipelineText(text: string, file: string): LoadResult | Promise<LoadResult>;
}

async function dsl(): Promise<DslModule> {
  const mod = await importOptional<DslModule>(new URL('../dsl/load.js', import.meta.url));
  if (!mod) throw new CliError('the spec reader (src/dsl/load.ts) is not built yet', 1);
  return mod;
}

const toLoaded = (file: string, r: LoadResult, text?: string): LoadedSpec => ({
  file,
  ir: r.ir,
  diagnostics: sortDiagnostics(r.diagnostics),
  sources: new Map(text ?? r.source ? [[r.file ?? file, (text ?? r.source)!]] : []),
});

/** Parse and check the spec at `path` (relative to cwd). Never throws for a bad spec: see diagnostics. */
export async function loadSpec(path: string, cwd: string): Promise<LoadedSpec> {
  // An unreadable path is the reader's diagnostic ASG1001, so --format json keeps its shape.
  const file = resolve(cwd, path);
  let text: string | undefined;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    text = undefined;
  }
  if (text !== undefined) {
    const hit = cachedSpec(file, text);
    if (hit) return { file, ir: hit.ir, diagnostics: hit.diagnostics, sources: new Map([[file, text]]), text };
  }
  const r = await (await dsl()).loadPipeline(file);
  const loaded = toLoaded(file, r);
  // Cache only what was read from the very text we hashed (the file may change in between).
  if (text !== undefined && r.source === text) {
    cacheSpec(file, text, loaded.ir, loaded.diagnostics);
    return { ...loaded, text };
  }
  return loaded;
}

export async function loadSpecText(text: string, file: string): Promise<LoadedSpec> {
  const r = await (await dsl()).loadPipelineText(text, file);
  return toLoaded(file, r, text);
}

/**
 * A base spec for `plan --base REF`: a file path, or `gitref:path` read with `git show` in the spec's
 * repository (path relative to the repository root, or `./path` relative to the spec's folder).
 */
export async function loadBaseSpec(ref: string, specFile: string, cwd: string): Promise<LoadedSpec> {
  const asFile = resolve(cwd, ref);
  if (existsSync(asFile)) return loadSpec(ref, cwd);
  const colon = ref.indexOf(':');
  if (colon <= 0) throw new CliError(`--base ${ref}: no such file, and not a gitref:path`);
  const gitRef = ref.slice(0, colon);
  const path = ref.slice(colon + 1);
  let text: string;
  try {
    text = execFileSync('git', ['show', `${gitRef}:${path}`], { cwd: dirname(specFile), encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 << 20 });
  } catch (e) {
    const stderr = String((e as { stderr?: unknown }).stderr ?? '').trim().split('\n')[0];
    throw new CliError(`--base ${ref}: git cannot read it${stderr ? ` (${stderr})` : ''}`);
  }
  return loadSpecText(text, ref);
}

/** `--state DIR`, or `.asgard/` beside the spec. */
export function stateDirFor(ctx: CommandContext, specFile: string): string {
  return ctx.stateDir ? resolve(ctx.io.cwd, ctx.stateDir) : resolve(dirname(specFile), '.asgard');
}

/** Paths in messages: relative to cwd when inside it. */
export function displayPath(cwd: string): (file: string) => string {
  return (file) => {
    if (!isAbsolute(file)) return file;
    const rel = relative(cwd, file);
    return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : file;
  };
}

interface SchemasModule {
  inferSchemas(
    ir: PipelineIR,
    known?: Map<NodeId, ColumnSchema[]>,
  ): Promise<{ schemas: Map<NodeId, ColumnSchema[]>; diagnostics: Diagnostic[] }>;
}

/** Output schemas of every node, when the engine's schema inference is available (else undefined). */
export async function inferSchemas(
  ir: PipelineIR,
  known?: ReadonlyMap<NodeId, readonly ColumnSchema[]>,
  cacheFor?: { readonly file: string; readonly text?: string },
): Promise<{ schemas?: ReadonlyMap<NodeId, readonly ColumnSchema[]>; diagnostics: readonly Diagnostic[] }> {
  const text = cacheFor?.text;
  if (cacheFor && text !== undefined) {
    const hit = cachedSchemas(cacheFor.file, text, known);
    if (hit) return hit;
  }
  const mod = await importOptional<SchemasModule>(new URL('../engine/schemas.js', import.meta.url));
  if (!mod?.inferSchemas) return { diagnostics: [] };
  const k = known ? new Map([...known].map(([id, cols]) => [id, [...cols]])) : undefined;
  const r = await mod.inferSchemas(ir, k);
  if (cacheFor && text !== undefined) cacheSchemas(cacheFor.file, text, known, r.schemas, r.diagnostics);
  return { schemas: r.schemas, diagnostics: r.diagnostics };
}

/** Diagnostics as text on stderr (the JSON form is part of each command's document). */
export function printDiagnostics(ctx: CommandContext, diags: readonly Diagnostic[], sources: ReadonlyMap<string, string>): void {
  const dp = displayPath(ctx.io.cwd);
  if (ctx.format === 'markdown' && hasErrors(diags)) {
    ctx.out(renderDiagnosticsMarkdown(sortDiagnostics(diags), { sources, displayPath: dp, title: 'the spec has errors' }));
    return;
  }
  for (const d of sortDiagnostics(diags)) ctx.err(renderDiagnostic(d, { sources, color: ctx.colorErr, displayPath: dp }) + '\n');
}

export const diagnosticsJson = (ctx: CommandContext, diags: readonly Diagnostic[]) =>
  sortDiagnostics(diags).map((d) => diagnosticToJson(d, displayPath(ctx.io.cwd)));

/**
 * Load a spec that must be valid: on errors, print them (text on stderr, or the JSON document on
 * stdout) and throw the exit code 2. Warnings are printed in text mode and returned.
 */
export async function loadValidSpec(ctx: CommandContext, path: string): Promise<LoadedSpec & { ir: PipelineIR }> {
  const spec = await loadSpec(path, ctx.io.cwd);
  failOnErrors(ctx, spec);
  return spec as LoadedSpec & { ir: PipelineIR };
}

export function failOnErrors(ctx: CommandContext, spec: LoadedSpec, what = ''): void {
  if (hasErrors(spec.diagnostics) || !spec.ir) {
    if (ctx.format === 'json') ctx.json({ ok: false, diagnostics: diagnosticsJson(ctx, spec.diagnostics) });
    else if (ctx.format === 'markdown') {
      // A pull-request comment must explain the failure: the diagnostics go to stdout as markdown.
      const dp = displayPath(ctx.io.cwd);
      ctx.out(renderDiagnosticsMarkdown(sortDiagnostics(spec.diagnostics), { sources: spec.sources, displayPath: dp, title: `${what}${dp(spec.file)}` }));
    } else {
      printDiagnostics(ctx, spec.diagnostics, spec.sources);
      const n = spec.diagnostics.filter((d) => d.severity === 'error').length;
      ctx.err(`${what}${displayPath(ctx.io.cwd)(spec.file)}: ${n} error${n === 1 ? '' : 's'}\n`);
    }
    throw new ExitSilently(2);
  }
  if (ctx.format !== 'json') printDiagnostics(ctx, spec.diagnostics, spec.sources);
}

export { ExitSilently };

