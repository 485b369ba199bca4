// What `apply --profile kubernetes` needs besides the embedded apply: the compiled tree of the
// profile, the cluster (src/kube/cluster.ts: kubeconfig, context, in-cluster credentials), the
// profile's job timeout, and the upload of the Spark job files to the warehouse bucket, which the
// SparkApplications read (spark/: `artifacts`, by default <warehouse>/_asgard/<pipeline>/spark).

import { readFileSync } from 'node:fs';
import { dirname, relative, resolve, sep } from 'node:path';
import type { PipelineIR, Resolvable } from '../ir/types.js';
import { resolver } from '../engine/resolve.js';
import { hasErrors } from '../diagnostics/diagnostic.js';
import { Cluster, KubeError, loadKubeConfig } from '../kube/cluster.js';
import { KubeDeployment } from '../kube/deploy.js';
import { Airbyte } from '../kube/airbyte.js';
import type { RemoteState } from '../warehouse/remote-state.js';
import { CliError, EXIT, type CommandContext } from './command.js';
import { workspaceOf, type LoadedSpec } from './spec.js';
import { NodeError } from '../engine/executor.js';
import type { FileMap } from '../targets/files.js';
import { inParallel } from '../util/parallel.js';

/** Default seconds a SparkApplication or Job may run when the profile sets no `job_timeout`. */
export const DEFAULT_JOB_TIMEOUT = 3600;

/** `job_timeout = 900` (seconds) or `"15m"`, `"2h"`, `"30s"`. */
export function parseDuration(v: string | number | boolean): number | undefined {
  if (typeof v === 'number') return v > 0 ? v : undefined;
  const m = /^\s*(\d+(?:\.\d+)?)\s*(s|m|h)?\s*$/.exec(String(v));
  if (!m) return undefined;
  const n = Number(m[1]) * (m[2] === 'h' ? 3600 : m[2] === 'm' ? 60 : 1);
  return n > 0 ? n : undefined;
}

function setting(ir: PipelineIR, profile: string, key: string, env: CommandContext['io']['env']): string | number | boolean | undefined {
  const v: Resolvable | undefined = ir.profiles[profile]?.settings[key];
  if (!v) return undefined;
  if (v.kind === 'secret') throw new CliError(`profile ${profile}: \`${key}\` cannot be a secret()`, EXIT.invalid);
  try {
    return resolver(env, new Set())(v);
  } catch (e) {
    throw new CliError(`profile ${profile}: ${key}: ${(e as Error).message}`, EXIT.invalid);
  }
}

/** The cluster of the kubeconfig (and the profile's `context`) and the profile's namespace; nothing is requested yet. */
export function kubeAccess(ctx: CommandContext, ir: PipelineIR, profile: string): { cluster: Cluster; namespace: string } {
  const env = ctx.io.env;
  const namespace = String(setting(ir, profile, 'namespace', env) ?? 'default');
  const context = setting(ir, profile, 'context', env);
  try {
    return { cluster: new Cluster(loadKubeConfig(env, context === undefined ? undefined : String(context))), namespace };
  } catch (e) {
    if (e instanceof KubeError) throw new CliError(e.message, EXIT.failed);
    throw e;
  }
}

/** The profile's compiled tree (what `asgard compile --profile` writes); a profile that does not compile is exit 2. */
export async function compiledTree(ctx: CommandContext, spec: LoadedSpec & { ir: PipelineIR }, profile: string): Promise<FileMap> {
  // Loaded only when a tree is compiled: an apply that runs nothing needs no target.
  const { compileLoaded, specPathFor } = await import('./commands/compile.js');
  const workspace = workspaceOf(ctx, spec, profile);
  // Rendered SQL from the workspace's cache, as `asgard compile` does: a changed spec renders only its changed bodies.
  const sqlCache = workspace.caches.compileSql();
  const r = await compileLoaded(spec.ir, {
    profile,
    specPath: specPathFor(ctx.io.cwd, spec.file),
    specSource: spec.sources.get(spec.file),
    sqlCache,
    cacheFor: { ...spec, workspace },
  });
  sqlCache.save();
  if (!r.files || hasErrors(r.diagnostics)) {
    const first = r.diagnostics.find((d) => d.severity === 'error');
    throw new CliError(`profile ${profile} does not compile: ${first?.message ?? 'unknown error'} (see \`asgard compile --profile ${profile}\`)`, EXIT.invalid);
  }
  return r.files;
}

/** The cluster and the compiled objects of `profile`, ready to apply; nothing is written yet. */
export async function openKubeDeployment(
  ctx: CommandContext,
  spec: LoadedSpec & { ir: PipelineIR },
  profile: string,
  remote: RemoteState | undefined,
): Promise<KubeDeployment> {
  const { ir } = spec;
  const env = ctx.io.env;
  if (!remote) {
    throw new CliError(
      `apply --profile ${profile} keeps the state, lock and registry beside an S3 warehouse: set \`warehouse = "s3://bucket/prefix"\` in profile ${profile}`,
      EXIT.invalid,
    );
  }
  const rawTimeout = setting(ir, profile, 'job_timeout', env);
  const timeoutSeconds = rawTimeout === undefined ? DEFAULT_JOB_TIMEOUT : parseDuration(rawTimeout);
  if (timeoutSeconds === undefined)
    throw new CliError(`profile ${profile}: job_timeout must be seconds or a duration like "30m", not "${String(rawTimeout)}"`, EXIT.invalid);
  const { cluster, namespace } = kubeAccess(ctx, ir, profile);
  // Compiled when the first node runs: an apply with nothing to run compiles nothing.
  let compiled: Promise<FileMap> | undefined;
  const tree = (): Promise<FileMap> =>
    (compiled ??= compiledTree(ctx, spec, profile).catch((e: unknown) => {
      throw e instanceof CliError ? new NodeError(e.message) : e;
    }));

  // The Spark job files go where the compiled SparkApplications read them, unless the profile
  // points `artifacts` somewhere asgard does not own (then uploading them is the deployer's job).
  const ownsArtifacts = ir.profiles[profile]?.settings.artifacts === undefined;
  const upload = async () => {
    if (!ownsArtifacts) return;
    const files = [...(await tree())].filter(([path]) => path.startsWith('spark/') && (path.endsWith('.py') || path.endsWith('.sql')));
    await inParallel(files, 8, ([path, content]) => remote.store.put(`_asgard/${ir.name}/${path}`, content));
  };
  const airbyteUrl = setting(ir, profile, 'airbyte_url', env);
  const workspaceId = setting(ir, profile, 'airbyte_workspace_id', env);
  if ((airbyteUrl === undefined) !== (workspaceId === undefined)) {
    throw new CliError(`profile ${profile}: Airbyte needs both \`airbyte_url\` and \`airbyte_workspace_id\``, EXIT.invalid);
  }
  const tokenRef = ir.profiles[profile]?.settings.airbyte_token;
  let token: string | undefined;
  if (tokenRef) {
    try {
      token = String(resolver(env, new Set())(tokenRef));
    } catch (e) {
      throw new CliError(`profile ${profile}: airbyte_token: ${(e as Error).message}`, EXIT.invalid);
    }
  }
  const airbyte =
    airbyteUrl === undefined
      ? undefined
      : new Airbyte(
          {
            url: String(airbyteUrl),
            workspaceId: String(workspaceId),
            ...(token ? { token } : {}),
            env: { ...envDefaults(ir, profile), ...env },
            timeoutSeconds,
            ...(env.ASGARD_AIRBYTE_POLL_MS ? { pollMs: Number(env.ASGARD_AIRBYTE_POLL_MS) } : {}),
          },
          tree,
        );
  return new KubeDeployment(cluster, {
    pipeline: ir.name,
    namespace,
    tree,
    timeoutSeconds,
    timeoutSource: `job_timeout of profile ${profile}`,
    upload,
    uploadSourceFiles: () => uploadFileSources(ir, env, remote),
    ...(airbyte ? { airbyte } : {}),
    connectors: new Set(ir.nodes.flatMap((n) => (n.kind === 'source' ? [n.connector.name] : []))),
  });
}

/**
 * The defaults of the spec's `env("NAME", "default")` references (connectors and the profile): the
 * compiled payloads carry `${NAME}`, which the environment fills — or, when it does not, the default
 * the spec gave, exactly as the embedded apply resolves the same reference.
 */
export function envDefaults(ir: PipelineIR, profile: string): Record<string, string> {
  const out: Record<string, string> = {};
  const take = (settings: Readonly<Record<string, Resolvable>> | undefined) => {
    for (const v of Object.values(settings ?? {})) if (v.kind === 'env' && v.default !== undefined) out[v.name] ??= v.default;
  };
  for (const n of ir.nodes) if (n.kind === 'source') take(n.connector.settings);
  take(ir.profiles[profile]?.settings);
  return out;
}

/**
 * The files of local file sources, where the compiled Airbyte S3 source reads them
 * (src/targets/airbyte/connectors.ts fileConfiguration): `_asgard/<pipeline>/files/<connector>/`
 * beside the warehouse, each under its path relative to the source's folder.
 */
async function uploadFileSources(ir: PipelineIR, env: CommandContext['io']['env'], remote: RemoteState): Promise<void> {
  const { readsFromS3 } = await import('../targets/airbyte/connectors.js');
  const { listFiles } = await import('../ingest/file-manifest.js');
  for (const n of ir.nodes) {
    if (n.kind !== 'source' || n.connector.type !== 'file' || readsFromS3(n.connector) || n.stream.path === undefined) continue;
    const folder = n.connector.settings.path === undefined ? '' : String(resolver(env, new Set())(n.connector.settings.path));
    const base = resolve(dirname(ir.file), folder);
    for (const file of (await listFiles(resolve(base, n.stream.path))).paths) {
      await remote.store.put(`_asgard/${ir.name}/files/${n.connector.name}/${relative(base, file).split(sep).join('/')}`, readFileSync(file));
    }
  }
}

/** A KubeError from the cluster as the CLI reports it (exit 1: the apply failed; nothing half-done is hidden). */
export function kubeCliError(e: unknown): never {
  if (e instanceof KubeError) throw new CliError(e.message, EXIT.failed);
  throw e;
}
