// The Python toolchain the conformance checks run: .venv/ made by scripts/setup-python.sh from the
// pinned requirements. In CI (CI=true) a missing or broken toolchain is a failure, never a skip;
// elsewhere a machine that cannot set it up skips with a loud message.

import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from './paths.js';

export interface Toolchain {
  readonly venv: string;
  readonly python: string;
  readonly bin: string;
  /** PATH, SPARK_HOME, PYSPARK_PYTHON…: the environment every tool runs with. */
  readonly env: NodeJS.ProcessEnv;
  readonly versions: Readonly<Record<string, string>>;
}

export type ToolchainResult = { readonly ok: true; readonly tools: Toolchain } | { readonly ok: false; readonly reason: string };

export const inCI = (): boolean => /^(1|true|yes)$/i.test(process.env.CI ?? '');

let cached: ToolchainResult | undefined;

/** Sets .venv up (fast when current) and describes it. */
export function ensureToolchain(): ToolchainResult {
  if (cached) return cached;
  const root = repoRoot();
  const r = spawnSync('bash', [join(root, 'scripts/setup-python.sh')], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  if (r.status !== 0) {
    cached = { ok: false, reason: `scripts/setup-python.sh failed (exit ${r.status ?? r.signal}):\n${(r.stderr ?? '').slice(-3000)}` };
    return cached;
  }
  const venv = join(root, '.venv');
  const bin = join(venv, 'bin');
  const python = join(bin, 'python');
  const site = join(venv, 'lib', readdirSync(join(venv, 'lib')).find((d) => d.startsWith('python'))!, 'site-packages');
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PATH: `${bin}:${process.env.PATH ?? ''}`,
    VIRTUAL_ENV: venv,
    SPARK_HOME: join(site, 'pyspark'),
    PYSPARK_PYTHON: python,
    PYSPARK_DRIVER_PYTHON: python,
    // Quiet, local, reproducible: no telemetry, no version checks, no network.
    DO_NOT_TRACK: '1',
    DBT_SEND_ANONYMOUS_USAGE_STATS: 'false',
    DBT_VERSION_CHECK: 'false',
    FEAST_USAGE: 'False',
    MLFLOW_ENABLE_SYSTEM_METRICS_LOGGING: 'false',
    PYTHONUNBUFFERED: '1',
    TZ: 'UTC',
  };
  for (const k of ['PYTHONPATH', 'PYTHONHOME']) delete env[k];
  const v = spawnSync(
    python,
    [
      '-c',
      `import json, importlib.metadata as m
print(json.dumps({p: m.version(p) for p in ["pyspark", "dbt-core", "dbt-duckdb", "duckdb", "feast", "scikit-learn", "skl2onnx", "onnxruntime", "mlflow", "pandas", "pyarrow"]}))`,
    ],
    { env, encoding: 'utf8' },
  );
  if (v.status !== 0 || !existsSync(join(bin, 'spark-submit'))) {
    cached = { ok: false, reason: `.venv is incomplete: ${v.stderr}` };
    return cached;
  }
  cached = { ok: true, tools: { venv, python, bin, env, versions: JSON.parse(v.stdout) as Record<string, string> } };
  return cached;
}

/**
 * The toolchain, or (outside CI) undefined after printing why the conformance checks are skipped.
 * In CI it throws: a missing tool fails the suite.
 */
export function requireToolchain(): Toolchain | undefined {
  const r = ensureToolchain();
  if (r.ok) return r.tools;
  if (inCI()) throw new Error(`conformance toolchain unavailable in CI: ${r.reason}`);
  console.warn(
    `\n${'!'.repeat(78)}\n!! conformance checks SKIPPED: the Python toolchain is not available here.\n!! ${r.reason.split('\n').join('\n!! ')}\n!! Run: bash scripts/setup-python.sh\n${'!'.repeat(78)}\n`,
  );
  return undefined;
}
