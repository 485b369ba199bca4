// What each command prints, byte for byte, in each of its formats: stdout, stderr and the exit code
// of a few runs per command, compared with accepted files under test/cli/output/ (ASGARD_ACCEPT=1
// rewrites them). The CLI views (src/cli/views/) are refactored against these. Paths of the
// temporary project, timings and timestamps are replaced by placeholders; nothing else is.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { NodeError, type NodeExecutor } from '../../src/engine/executor.js';
import type { NodeKind } from '../../src/ir/types.js';
import { outputTable } from '../../src/ir/types.js';
import { commitRows } from '../helpers/warehouse.js';
import { cli, repoRoot } from './helpers.js';

const accept = process.env.ASGARD_ACCEPT === '1';
const expectedDir = join(repoRoot, 'test', 'cli', 'output');
const shop = join(repoRoot, 'test', 'planner', 'cases', 'sql-edit-cascades');
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function project(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'asgard-output-'));
  dirs.push(dir);
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(join(dir, name, '..'), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  return dir;
}

function fakes(fail: string[] = []) {
  return async (kind: NodeKind): Promise<NodeExecutor> => ({
    kind,
    async run(ctx) {
      if (fail.includes(ctx.node.id)) throw new NodeError(`cannot build ${ctx.node.id}`);
      const table = outputTable(ctx.node);
      if (!table) return kind === 'train' ? { modelVersion: 1 } : {};
      return { rows: 3, snapshot: await commitRows(ctx.warehouse, table, 3) };
    },
  });
}

/** The project's path, timings and timestamps as placeholders; everything else as printed. */
function normalise(text: string, dir: string): string {
  return (
    text
      .split(dir)
      .join('<dir>')
      .replace(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z/g, '<time>')
      .replace(/"seconds": [\d.e-]+/g, '"seconds": <s>')
      .replace(/\b\d+(\.\d+)?s\b/g, '<s>')
      .replace(/\d+ rows\/s/g, '<n> rows/s')
      // (src/cli/progress.ts prints seconds with two decimals below 10 s and one from 10 s on.)
      .replace(/ +(\d+\.\d\d|\d{2,}\.\d)\b/g, ' <s>')
      .replace(/\b[0-9a-f]{64}\b/g, '<sha256>')
  );
}

type Step = readonly string[];

async function transcript(dir: string, steps: readonly Step[], fail: string[] = []): Promise<string> {
  let text = '';
  for (const argv of steps) {
    const r = await cli([...argv], { cwd: dir, services: { executors: fakes(fail) } });
    text += `$ asgard ${argv.join(' ')}\nexit ${r.code}\n--- stdout\n${normalise(r.stdout, dir)}--- stderr\n${normalise(r.stderr, dir)}\n`;
  }
  return text;
}

function compare(name: string, actual: string): void {
  const file = join(expectedDir, `${name}.txt`);
  if (accept || !existsSync(file)) {
    if (!accept) throw new Error(`${file} is missing: run with ASGARD_ACCEPT=1 to accept the output`);
    mkdirSync(expectedDir, { recursive: true });
    writeFileSync(file, actual);
  }
  expect(actual).toBe(readFileSync(file, 'utf8'));
}

const base = readFileSync(join(shop, 'base.asg'), 'utf8');
const edited = readFileSync(join(shop, 'spec.asg'), 'utf8');
const misspelt = base.replace('FROM silver.orders_clean\n', 'FROM silver.orders_clen\n');
// The shop compiled for Kubernetes.
const kubeProfile = `
  profile kubernetes {
    namespace     = "asgard"
    image         = "ghcr.io/asgard-data/asgard:0.1.0"
    spark_image   = "apache/spark:4.0.1-python3"
    spark_version = "4.0.1"
    warehouse     = "s3a://asgard-lake/warehouse"
    s3_endpoint   = env("S3_ENDPOINT", "http://minio.asgard.svc:9000")
    driver        = { cores = 1  memory = "2g" }
    executor      = { instances = 2  cores = 2  memory = "4g" }
  }
`;
const shopKube = base.replace(/\}\s*$/, `${kubeProfile}}\n`);

describe('what each command prints', () => {
  it('validate: a valid spec, one with errors, one with a warning', async () => {
    const dir = project({ 'shop.asg': base, 'bad.asg': misspelt, 'kube.asg': shopKube, 'typo.asg': shopKube.replace('spark_version', 'spark_verison') });
    const formats = [[], ['--format', 'json']];
    compare(
      'validate',
      await transcript(dir, [
        ...formats.map((f) => ['validate', 'shop.asg', ...f]),
        ...formats.map((f) => ['validate', 'bad.asg', ...f]),
        ...formats.map((f) => ['validate', 'kube.asg', '--profile', 'kubernetes', ...f]),
        ...formats.map((f) => ['validate', 'typo.asg', '--profile', 'kubernetes', ...f]),
        ['validate', 'kube.asg', '--profile', 'staging'],
        ['validate', 'missing.asg'],
      ]),
    );
  }, 120_000);

  it('plan: text, json and markdown against an empty state and against a base; a spec with errors', async () => {
    const dir = project({ 'shop.asg': edited, 'base.asg': base, 'bad.asg': misspelt });
    const formats = [[], ['--format', 'json'], ['--format', 'markdown']];
    compare(
      'plan',
      await transcript(dir, [
        ...formats.map((f) => ['plan', 'shop.asg', ...f]),
        ...formats.map((f) => ['plan', 'shop.asg', '--base', 'base.asg', ...f]),
        ...formats.map((f) => ['plan', 'bad.asg', ...f]),
        ['plan', 'shop.asg', '--out', 'plan.json'],
        ['plan', 'shop.asg', '--base', 'base.asg', '--fail-on', 'any'],
      ]),
    );
  }, 120_000);

  it('apply: text and json, a failing node, then nothing to do', async () => {
    const formats = [
      ['--yes', '--concurrency', '1'],
      ['--yes', '--concurrency', '1', '--format', 'json'],
    ];
    let text = '';
    for (const f of formats) {
      const dir = project({ 'shop.asg': base });
      text += await transcript(dir, [['apply', 'shop.asg', ...f]], ['silver.orders_clean']);
      text += await transcript(dir, [['apply', 'shop.asg', ...f]]);
      text += await transcript(dir, [['apply', 'shop.asg', ...f]]);
    }
    compare('apply', text);
  }, 120_000);

  it('query: text, json and csv over an applied warehouse', async () => {
    const dir = project({ 'shop.asg': base });
    await transcript(dir, [['apply', 'shop.asg', '--yes']]);
    const sql = "SELECT 1 AS n, 'a,b' AS s, NULL AS z UNION ALL SELECT 2, 'c\"d', 3";
    compare(
      'query',
      await transcript(dir, [
        ...[[], ['--format', 'json'], ['--format', 'csv']].map((f) => ['query', 'shop.asg', sql, ...f]),
        ['query', 'shop.asg', 'SELECT 1 AS n FROM silver.orders_clean', '--limit', '2'],
        ['query', 'shop.asg', 'SELECT count(*) AS n FROM silver.orders_clean WHERE false'],
        ['query', 'shop.asg', 'SELECT * FROM range(3)', '--limit', '2'],
        ['query', 'shop.asg', 'DROP TABLE gold.revenue', '--format', 'json'],
      ]),
    );
  }, 120_000);

  it('docs: where the site went, as text and as its document', async () => {
    const dir = project({ 'shop.asg': base });
    await transcript(dir, [['apply', 'shop.asg', '--yes']]);
    compare(
      'docs',
      await transcript(dir, [
        ['docs', 'shop.asg', '--out', 'site'],
        ['docs', 'shop.asg', '--out', 'site', '--format', 'json'],
      ]),
    );
  }, 120_000);

  it('compile: a small spec for kubernetes, and a profile missing a setting', async () => {
    const dir = project({ 'kube.asg': shopKube, 'broken.asg': shopKube.replace(/\n\s*spark_version\s*=[^\n]*/, '') });
    compare(
      'compile',
      await transcript(dir, [
        ['compile', 'kube.asg', '--out', 'build', '--profile', 'kubernetes'],
        ['compile', 'kube.asg', '--out', 'build', '--profile', 'kubernetes', '--format', 'json'],
        ['compile', 'broken.asg', '--out', 'build', '--profile', 'kubernetes'],
        ['compile', 'broken.asg', '--out', 'build', '--profile', 'kubernetes', '--format', 'json'],
      ]),
    );
  }, 180_000);
});
