// Loading a spec (and a base spec for `plan --base`) for the commands, the state directory beside
// it, schema inference when the engine provides it, and printing diagnostics. Commands share these
// so every command reads specs, reports problems and picks paths the same way.

import { existsSync, readFileSync, statSync } from 'node:fs';
import { specText, specTextKey } from './spec-text.js';
import { dirname, resolve } from 'node:path';
import { sourceOf, type LoadedSpec } from '../dsl/loaded.js';
import type { Diagnostic } from '../diagnostics/diagnostic.js';
import { hasErrors, sortDiagnostics } from '../diagnostics/diagnostic.js';
import type { NodeId, PipelineIR } from '../ir/types.js';
import type { ColumnSchema } from '../planner/state-store.js';
import { Workspace, type WorkspaceCaches } from '../workspace/workspace.js';
import { CliError, ExitSilently, type CommandContext, type OptionSpec } from './command.js';
import { cacheSchemas, cacheSpec, cachedSchemas, cachedSpec, patchedSpec, schemasBeforeEdit } from './spec-cache.js';
import { note, showAny } from './view.js';
import { diagnosticsText, invalidSpecView } from './views/diagnostics.js';

export type { LoadedSpec } from '../dsl/loaded.js';

/** Where a spec is read from: the folder relative paths start from, and `--state DIR` if given. */
export interface SpecPlace {
  readonly cwd: string;
  readonly stateDir?: string;
  /** `--var NAME=VALUE` overrides of the spec's variables. */
  readonly vars?: Readonly<Record<string, string>>;
}

/** `--var NAME=VALUE` on plan, apply, compile and validate: sets a spec variable (docs/cli.md). */
export const varOption: OptionSpec = {
  name: 'var',
  type: 'string',
  arg: 'NAME=VALUE',
  multiple: true,
  description: 'set the spec variable NAME (`var NAME { … }`); repeatable',
};

/** The `--var` values of a command, by name. */
export function cliVars(ctx: CommandContext): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of (ctx.str('var') ?? '').split('\n')) {
    if (line === '') continue;
    const eq = line.indexOf('=');
    if (eq <= 0 || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(line.slice(0, eq))) throw new CliError(`--var ${line}: write --var NAME=VALUE`);
    out[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return out;
}

export { specText, specTextKey } from './spec-text.js';

/**
 * Parse and check the spec at `path` (relative to cwd), through the caches of its workspace. Never
 * throws for a bad spec: see diagnostics. `read`: its specText, when the caller has read it already.
 */
export async function loadSpec(path: string, where: string | SpecPlace, read?: string): Promise<LoadedSpec> {
  const place = typeof where === 'string' ? { cwd: where } : where;
  // An unreadable path is the reader's diagnostic ASG1001, so --format json keeps its shape.
  const file = resolve(place.cwd, path);
  const { caches } = Workspace.open(file, place);
  const text = read ?? specText(file);
  const vars = place.vars ?? {};
  const key = (t: string) => specTextKey(t, vars);
  if (text !== undefined) {
    const hit = cachedSpec(file, key(text), caches);
    if (hit)
      return {
        file,
        ir: hit.ir,
        ...(hit.partial ? { partial: hit.partial } : {}),
        diagnostics: hit.diagnostics,
        sources: new Map([[file, text]]),
        cacheKey: key(text),
      };
    // An edit inside one block of the last text checked: that block checked, the rest kept.
    const patched = Object.keys(vars).length ? undefined : await patchedSpec(caches, file, text);
    if (patched) {
      cacheSpec(caches, file, key(text), patched.ir, patched.diagnostics);
      return { file, ir: patched.ir, diagnostics: patched.diagnostics, sources: new Map([[file, text]]), cacheKey: key(text) };
    }
  }
  // The parser loads only on a cache miss (a warm `plan` never pays for it), the SQL toolkit only
  // when a body outside the fast analysis's subset is not in the SQL analysis cache.
  const { loadPipelineLazily } = await import('../dsl/load-lazy.js');
  const loaded = await loadPipelineLazily(file, {
    sqlCachePath: caches.sqlAnalysisFile,
    blockCachePath: caches.blockCacheFile,
    cacheSalt: caches.buildId,
    vars,
    // Not read a second time (it is when it may not be what a strict UTF-8 reading gives: load-core.ts).
    ...(text !== undefined ? { text } : {}),
  });
  // Cache only what was read from the very text we hashed (the file may change in between).
  if (text !== undefined && sourceOf(loaded) === text) {
    cacheSpec(caches, file, key(text), loaded.ir, loaded.diagnostics, loaded.partial);
    return { ...loaded, cacheKey: key(text) };
  }
  return loaded;
}

/** Where a loaded spec's schemas are cached: its slot in a workspace's spec cache and the key it was cached under. */
export interface SpecCacheSlot {
  readonly file: string;
  readonly cacheKey?: string;
  readonly workspace: Workspace;
}

/** A base spec for `plan --base` and where its schemas are cached. */
export interface BaseSpec {
  readonly spec: LoadedSpec;
  readonly cacheFor?: SpecCacheSlot;
}

/**
 * A base spec for `plan --base REF`: a file path, or `gitref:path` read with `git show` in the spec's
 * repository (path relative to the repository root, or `./path` relative to the spec's folder).
 * Either is checked through the spec cache, as the head spec is: a CI re-run of the same pull
 * request loads neither the parser, the SQL toolkit nor DuckDB for the base. A file base has its
 * own workspace (`--state` honoured); a git base is cached in the head spec's workspace, in a slot
 * of its own, keyed by the ref and the text git gave.
 */
export async function loadBaseSpec(ref: string, specFile: string, place: SpecPlace): Promise<BaseSpec> {
  const where = { cwd: place.cwd, ...(place.stateDir !== undefined ? { stateDir: place.stateDir } : {}) };
  const asFile = resolve(place.cwd, ref);
  if (existsSync(asFile)) {
    const spec = await loadSpec(ref, where);
    return { spec, cacheFor: { file: spec.file, cacheKey: spec.cacheKey, workspace: Workspace.open(spec.file, where) } };
  }
  const colon = ref.indexOf(':');
  if (colon <= 0) throw new CliError(`--base ${ref}: no such file, and not a gitref:path`);
  const gitRef = ref.slice(0, colon);
  const path = ref.slice(colon + 1);
  // User input never reaches git as an option (`--output=FILE` would make git write a file).
  if (gitRef.startsWith('-')) throw new CliError(`--base ${ref}: a git ref cannot start with "-"`);
  // Loaded only here: a plan without a git base never starts a process.
  const { execFileSync } = await import('node:child_process');
  let text: string;
  try {
    text = execFileSync('git', ['show', '--no-ext-diff', '--no-textconv', '--end-of-options', `${gitRef}:${path}`, '--'], {
      cwd: dirname(specFile),
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      maxBuffer: 64 << 20,
    });
  } catch (e) {
    const stderr = String((e as { stderr?: unknown }).stderr ?? '')
      .trim()
      .split('\n')[0];
    throw new CliError(`--base ${ref}: git cannot read it${stderr ? ` (${stderr})` : ''}`);
  }
  const file = resolve(place.cwd, ref);
  const workspace = Workspace.open(specFile, where);
  // The slot sits beside the head spec's (`<spec>@base.json`); the key holds the ref, which names
  // the base in its diagnostics, and the text.
  const slot = `${specFile}@base`;
  const cacheKey = `${file}\u0000${text}`;
  const cacheFor = { file: slot, cacheKey, workspace };
  const hit = cachedSpec(slot, cacheKey, workspace.caches);
  const sources = new Map([[file, text]]);
  if (hit)
    return {
      spec: { file, ...(hit.ir ? { ir: hit.ir } : {}), ...(hit.partial ? { partial: hit.partial } : {}), diagnostics: hit.diagnostics, sources },
      cacheFor,
    };
  const { loadPipelineTextLazily } = await import('../dsl/load-lazy.js');
  const spec = await loadPipelineTextLazily(text, file);
  cacheSpec(workspace.caches, slot, cacheKey, spec.ir, spec.diagnostics, spec.partial);
  return { spec, cacheFor };
}

/** The workspace of a loaded spec under this command's `--state` and `--profile` (or `profile`). */
export function workspaceOf(ctx: CommandContext, spec: { readonly file: string }, profile = ctx.profile): Workspace {
  return Workspace.open(spec.file, { stateDir: ctx.stateDir, cwd: ctx.io.cwd, profile, env: ctx.io.env });
}

export { displayPath } from './view.js';

/**
 * Output schemas of every node. With `cacheFor` (a spec read from a file, and its workspace), the
 * result is cached with the spec, and bound SQL in the workspace's schema cache.
 */
export async function inferSchemas(
  ir: PipelineIR,
  known?: ReadonlyMap<NodeId, readonly ColumnSchema[]>,
  cacheFor?: SpecCacheSlot,
): Promise<{ schemas?: ReadonlyMap<NodeId, readonly ColumnSchema[]>; diagnostics: readonly Diagnostic[] }> {
  const text = cacheFor?.cacheKey;
  const caches = cacheFor?.workspace.caches;
  if (cacheFor && caches && text !== undefined) {
    const hit = cachedSchemas(caches, cacheFor.file, text, known);
    if (hit) return hit;
  }
  // DuckDB loads only when schemas must really be bound.
  const engine = await import('../engine/schemas.js');
  // The bind cache (3 MB at 10,000 nodes) is read when first asked: after an edit, only if a body of
  // its downstream needs a bind.
  let file: ReturnType<WorkspaceCaches['schemas']> | undefined;
  const bound = caches && {
    get: (key: string) => (file ??= caches.schemas()).get(key),
    set: (key: string, value: ColumnSchema[]) => (file ??= caches.schemas()).set(key, value),
  };
  // A spec patched after an edit (src/dsl/patch.ts): only the edit's downstream is inferred.
  const reuse = cacheFor && caches && text !== undefined ? schemasBeforeEdit(caches, cacheFor.file, text, known) : undefined;
  const r = await engine.inferSchemas(ir, known, { cache: bound, ...(reuse ? { reuse } : {}) });
  // After an edit only its downstream looked up its binds: the others' are not unused.
  file?.save({ partial: !!reuse });
  if (cacheFor && caches && text !== undefined) cacheSchemas(caches, cacheFor.file, text, known, r.schemas, r.diagnostics);
  return { schemas: r.schemas, diagnostics: r.diagnostics };
}

/** Codes of the schema pass that stand on their own: a node's SQL or features against its inputs' columns. */
const BIND_CODES = new Set(['ASG3102', 'ASG2101', 'ASG2102', 'ASG2103', 'ASG2104', 'ASG2105']);

/**
 * A spec with errors: its diagnostics plus those of binding the SQL (and feature columns) of the
 * nodes that did check, so that an unknown column is reported in the same run as a misspelt
 * setting. Nodes whose inputs failed to check are skipped (no echo of the first error).
 */
export async function withBindDiagnostics(spec: LoadedSpec): Promise<readonly Diagnostic[]> {
  if (spec.ir || !spec.partial || !hasErrors(spec.diagnostics)) return spec.diagnostics;
  // The partial IR holds what the checker drafted, and a block with an error may be drafted only in
  // part (a stream whose settings failed): a node the engine cannot read is left out, and anything
  // else going wrong leaves the spec's own diagnostics as they are.
  const nodes = spec.partial.nodes.filter((n) => n.kind !== 'source' || n.stream !== undefined);
  const ids = new Set(nodes.map((n) => n.id));
  const partial = { ...spec.partial, nodes: nodes.map((n) => ({ ...n, inputs: n.inputs.filter((i) => ids.has(i)) })) } as PipelineIR;
  try {
    const engine = await import('../engine/schemas.js');
    const r = await engine.inferSchemas(partial);
    return sortDiagnostics([...spec.diagnostics, ...r.diagnostics.filter((d) => BIND_CODES.has(d.code))]);
  } catch {
    return spec.diagnostics;
  }
}

/**
 * Load a spec that must be valid: on errors, print them (text on stderr, or the JSON document on
 * stdout) and throw the exit code 2. Warnings are printed in text mode and returned. `read`: as loadSpec's.
 */
export async function loadValidSpec(ctx: CommandContext, path: string, read?: string): Promise<LoadedSpec & { ir: PipelineIR }> {
  const loaded = await loadSpec(path, { cwd: ctx.io.cwd, stateDir: ctx.stateDir, vars: cliVars(ctx) }, read);
  const spec = loaded.ir ? loaded : { ...loaded, diagnostics: await withBindDiagnostics(loaded) };
  failOnErrors(ctx, spec);
  return spec as LoadedSpec & { ir: PipelineIR };
}

export function failOnErrors(ctx: CommandContext, spec: LoadedSpec, what = ''): void {
  if (hasErrors(spec.diagnostics) || !spec.ir) {
    showAny(ctx, invalidSpecView, { file: spec.file, diagnostics: spec.diagnostics, sources: spec.sources, what });
    throw new ExitSilently(2);
  }
  note(ctx, (io) => diagnosticsText(spec, io));
}

export { ExitSilently };
