// The compile targets: each a pure function from the IR to a set of files, registered in this one
// list (adding a target touches its folder and one line here). `compileTargets` runs them all and
// adds manifest.json; writing the files is the CLI's job (src/cli/commands/compile.ts).

import type { NodeId, NodeKind, PipelineIR, Profile } from '../ir/types.js';
import type { ColumnSchema } from '../planner/state-store.js';
import type { Diagnostic, Result } from '../diagnostics/diagnostic.js';
import { hasErrors } from '../diagnostics/diagnostic.js';
import { diag } from '../diagnostics/catalogue.js';
import { sha256 } from '../util/canonical-json.js';
import { Codes } from '../diagnostics/catalogue.js';
import { renderSql } from '../sql/transpile.js';
import type { TargetDialect } from '../sql/transpile.js';
import type { FileMap } from './files.js';
import type { ProfileSchema } from '../ir/profile-settings.js';
import { checkProfileSettings } from './profile-check.js';
import { profileOwners } from './profile-owners.js';
import type { SqlTextCache } from './sql-text.js';
import { airbyteTarget } from './airbyte/airbyte.js';
import { sparkTarget } from './spark/spark.js';
import { dbtTarget } from './dbt/dbt.js';
import { feastTarget } from './feast/feast.js';
import { trainingTarget } from './training/training.js';
import { servingTarget } from './serving/serving.js';
import { kubernetesTarget, secretsReadme } from './kubernetes/kubernetes.js';

export const MANIFEST_SCHEMA_VERSION = 1;

export type SqlDialect = TargetDialect;

/** The SQL renderer of src/sql/transpile.ts, passed in so tests can pin or wrap it. */
export type RenderSql = typeof renderSql;

export interface TargetContext {
  readonly profile: Profile;
  /** Column schemas inferred at plan time (DuckDB type names), per node that writes a table. */
  readonly schemas: ReadonlyMap<NodeId, readonly ColumnSchema[]>;
  /** The spec's path as headers name it (relative, `/`-separated). */
  readonly specPath: string;
  readonly renderSql: RenderSql;
  /** The spec's text, shipped in a ConfigMap for `asgard serve` (serving/). */
  readonly specSource?: string;
  /** Memo of rendered SQL (a speed-up only; see sql-text.ts). */
  readonly sqlCache?: SqlTextCache;
}

/**
 * What a target does with the nodes of one kind:
 * - `runs`: it compiles the Kubernetes objects that run the node (labelled `asgard.io/node`), which
 *   `apply --profile kubernetes` submits and watches (src/kube/deploy.ts);
 * - `syncs`: it compiles the connection that apply syncs the node through (the Airbyte API);
 * - `compiles`: it compiles files for the node that apply does not run (a user runs them);
 * - `none`: nothing of its own (it may read the node's definition for other nodes).
 */
export type KindRole = 'runs' | 'syncs' | 'compiles' | 'none';

export interface Target {
  /** Also the folder it writes under the output directory. */
  readonly name: string;
  /** The profile settings it reads (`<name>/settings.ts`): compile refuses any other, and any of the wrong form. */
  readonly settings: ProfileSchema;
  /**
   * Its role for every node kind: a new kind fails to compile in every target until each says what
   * it does with it. test/targets/kinds.test.ts checks the table against what the target compiles.
   */
  readonly kinds: Readonly<Record<NodeKind, KindRole>>;
  /** Files relative to the target's folder. */
  generate(ir: PipelineIR, ctx: TargetContext): Result<FileMap>;
}

export const targets: readonly Target[] = [airbyteTarget, sparkTarget, dbtTarget, feastTarget, trainingTarget, servingTarget, kubernetesTarget];

/**
 * The target that compiles what runs a node of `kind` under `apply --profile kubernetes` (role
 * `runs` or `syncs`), and those that compile it into files only (for the message when none runs it).
 */
export function runnerOf(kind: NodeKind): { runner?: { target: string; role: 'runs' | 'syncs' }; compiledBy: string[] } {
  const t = targets.find((x) => x.kinds[kind] === 'runs' || x.kinds[kind] === 'syncs');
  const compiledBy = targets.filter((x) => x.kinds[kind] === 'compiles').map((x) => x.name);
  return { ...(t ? { runner: { target: t.name, role: t.kinds[kind] as 'runs' | 'syncs' } } : {}), compiledBy };
}

// Their settings alone (what checking a profile needs) are listed in ./profile-owners.ts.
export { profileOwners };

export interface CompileOptions {
  readonly profile: string;
  readonly schemas: ReadonlyMap<NodeId, readonly ColumnSchema[]>;
  readonly specPath: string;
  /** Default: src/sql's renderSql. */
  readonly renderSql?: RenderSql;
  readonly specSource?: string;
  readonly sqlCache?: SqlTextCache;
  /** Only these targets (by name); all when absent. */
  readonly only?: readonly string[];
}

/**
 * Every target's files under `<target>/…` plus `manifest.json`, or no value when any target
 * reported an error: a half-compiled tree is never handed out.
 */
export function compileTargets(ir: PipelineIR, opts: CompileOptions): Result<FileMap> {
  const profile = ir.profiles[opts.profile];
  if (!profile) {
    const names = Object.keys(ir.profiles).sort();
    return {
      diagnostics: [
        diag(Codes.UnknownProfile, `the spec defines no profile \`${opts.profile}\` to compile for`, undefined, {
          hint: names.length ? `profiles in the spec: ${names.join(', ')} (pass --profile NAME)` : 'add a `profile kubernetes { … }` block to the pipeline',
        }),
      ],
    };
  }
  const settingDiags = checkProfileSettings(profile, profileOwners(opts.only));
  if (hasErrors(settingDiags)) return { diagnostics: settingDiags };
  const ctx: TargetContext = {
    profile,
    schemas: opts.schemas,
    specPath: opts.specPath,
    renderSql: opts.renderSql ?? renderSql,
    ...(opts.specSource !== undefined ? { specSource: opts.specSource } : {}),
    ...(opts.sqlCache ? { sqlCache: opts.sqlCache } : {}),
  };
  const diagnostics: Diagnostic[] = [];
  const files: FileMap = new Map();
  for (const t of targets) {
    if (opts.only && !opts.only.includes(t.name)) continue;
    let r: Result<FileMap>;
    try {
      r = t.generate(ir, ctx);
    } catch (e) {
      // A target that throws has a bug, but the user still gets a diagnostic, not a half tree.
      r = { diagnostics: [diag(Codes.SqlRender, `the ${t.name} target failed: ${(e as Error).message}`, undefined)] };
    }
    diagnostics.push(...r.diagnostics);
    for (const [p, content] of r.value ?? []) files.set(`${t.name}/${p}`, content);
  }
  if (hasErrors(diagnostics)) return { diagnostics: dedupe(diagnostics) };
  // The Secrets and ConfigMap keys every folder's objects refer to, listed once the tree is whole.
  if (files.has('kubernetes/namespace.yaml')) files.set('kubernetes/README.md', secretsReadme(ir, opts.specPath, files));
  files.set('manifest.json', manifest(ir, opts, files));
  return { value: new Map([...files].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))), diagnostics: dedupe(diagnostics) };
}

/** `{"files": [{"path", "sha256"}]}` (PRODUCT.md §3), sorted by path, with its schema version and origin. */
function manifest(ir: PipelineIR, opts: CompileOptions, files: FileMap): string {
  const list = [...files.keys()].sort().map((path) => ({ path, sha256: sha256(files.get(path)!) }));
  return (
    JSON.stringify({ schemaVersion: MANIFEST_SCHEMA_VERSION, generatedFrom: opts.specPath, pipeline: ir.name, profile: opts.profile, files: list }, null, 2) +
    '\n'
  );
}

/** Several targets report the same missing profile setting; say it once. */
function dedupe(diags: readonly Diagnostic[]): Diagnostic[] {
  const seen = new Set<string>();
  return diags.filter((d) => {
    const k = `${d.code}|${d.message.replace(/, which the \w+ target needs.*$/, '')}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}
