// What a command loads at start-up (issue #15: `plan --base` as a CLI process under 1 s; issue #12:
// typed lazy imports). A process loads only what its command needs: `--help` no command's work, and
// a warm `plan --base` (the spec caches filled by a first run, as in a CI re-run) neither the parser
// (chevrotain), DuckDB nor the Iceberg catalog's and Avro's drivers, for a file base and a git base.
// The figures are in bench/review.bench.ts and bench/startup.bench.ts; this test keeps the reasons
// for them in place.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from './helpers.js';
import { loaded, runLoggingModules } from '../helpers/loaded-modules.js';
import { generateSpec } from '../../bench/gen-spec.js';

const run = runLoggingModules;

/** A first run fills the caches; the second plans the same without the parser, DuckDB or the warehouse's drivers. */
function expectWarmPlanLoadsOnlyWhatItNeeds(argv: string[], dir: string): void {
  const cold = run(argv, dir);
  expect(cold.code, cold.stderr).toBe(0);
  expect(cold.stdout).toContain('breaking');
  const warm = run(argv, dir);
  expect(warm.code, warm.stderr).toBe(0);
  expect(warm.stdout).toBe(cold.stdout);
  expect(loaded(warm.packages, ['chevrotain', '@duckdb/node-api', 'better-sqlite3', 'pg', 'avsc'])).toEqual([]);
}

describe('start-up: a command loads what it needs', () => {
  const churn = readFileSync(join(repoRoot, 'pipelines', 'churn.asg'), 'utf8');
  // The review bench's edit: a feature's column changes meaning (SQL diff, lineage and impact run).
  const edited = churn.replace('COUNT(t.transaction_id) AS total_purchases', 'COUNT(DISTINCT t.order_id) AS total_purchases');

  it('`--help` loads no command’s work', () => {
    const r = run(['--help'], repoRoot);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('plan');
    expect(
      loaded(r.packages, [
        'chevrotain',
        '@polyglot-sql/sdk',
        '@duckdb/node-api',
        'onnxruntime-node',
        '@kubernetes/client-node',
        'better-sqlite3',
        'pg',
        'mysql2',
        'handlebars',
      ]),
    ).toEqual([]);
  });

  it('a warm `plan --base FILE` loads neither the parser, DuckDB nor the catalog and Avro drivers, and plans the same', () => {
    expect(edited).not.toBe(churn);
    const dir = mkdtempSync(join(tmpdir(), 'asgard-startup-'));
    writeFileSync(join(dir, 'base.asg'), churn);
    writeFileSync(join(dir, 'spec.asg'), edited);
    expectWarmPlanLoadsOnlyWhatItNeeds(['plan', 'spec.asg', '--base', 'base.asg', '--format', 'markdown'], dir);
  });

  it('a warm `plan --base gitref:path` loads neither the parser, DuckDB nor the catalog and Avro drivers, and plans the same', () => {
    const dir = mkdtempSync(join(tmpdir(), 'asgard-startup-git-'));
    const git = (...args: string[]) => spawnSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.com', ...args], { cwd: dir, encoding: 'utf8' });
    copyFileSync(join(repoRoot, 'pipelines', 'churn.asg'), join(dir, 'churn.asg'));
    expect(git('init', '-q').status).toBe(0);
    expect(git('add', 'churn.asg').status).toBe(0);
    expect(git('commit', '-qm', 'base').status).toBe(0);
    writeFileSync(join(dir, 'churn.asg'), edited);
    expectWarmPlanLoadsOnlyWhatItNeeds(['plan', 'churn.asg', '--base', 'HEAD:churn.asg', '--format', 'markdown'], dir);
  });

  it('a warm `plan --profile kubernetes` loads the Kubernetes client as one bundled module, not the package’s ~800, and no compile target', () => {
    // The build bundles src/kube/client-node.ts with the package (scripts/bundle-packages.mjs);
    // the plan reads the cluster for drift (here one that cannot be reached: the plan goes on), and
    // compiles the tree only when some node was applied (none here), as apply compiles only when a
    // node runs.
    const dir = mkdtempSync(join(tmpdir(), 'asgard-startup-kube-'));
    writeFileSync(
      join(dir, 'kubeconfig'),
      'apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: "https://127.0.0.1:1"}}]\nusers: [{name: u, user: {token: t}}]\ncontexts: [{name: x, context: {cluster: c, user: u}}]\ncurrent-context: x\n',
    );
    writeFileSync(
      join(dir, 'p.asg'),
      `pipeline tiny {
  source app_db postgres {
    url = env("APP_DB_URL", "postgres://app@127.0.0.1:1/app")
    stream events {
      primary_key = id
      columns     = { id = "BIGINT"  kind = "VARCHAR" }
    }
  }
  cleanse kinds {
    sql """ SELECT id, kind FROM bronze.events """
  }
  profile kubernetes {
    namespace     = "tiny"
    spark_image   = "apache/spark:4.0.1-python3"
    spark_version = "4.0.1"
  }
}
`,
    );
    const plan = () => run(['plan', 'p.asg', '--profile', 'kubernetes', '--format', 'json'], dir, { KUBECONFIG: join(dir, 'kubeconfig') });
    expect(plan().code).toBe(0);
    const r = plan();
    expect(r.code, r.stderr).toBe(0);
    expect(r.modules.filter((m) => /\/targets\/(registry|profile-owners)\.js$/.test(m))).toEqual([]);
    expect(loaded(r.packages, ['handlebars', '@polyglot-sql/sdk', '@duckdb/node-api', 'chevrotain'])).toEqual([]);
    expect(r.modules.filter((m) => m.endsWith('/kube/client-node.js'))).toHaveLength(1);
    expect(loaded(r.packages, ['@kubernetes/client-node']), 'dist/kube/client-node.js is not the bundle: run npm run build').toEqual([]);
  });

  it('a cold `validate` loads DuckDB as one bundled module, not the package’s files; the parser library only for a spec with a syntax error, zod (one bundled module) only for one with a wrong setting', () => {
    // The build bundles them into dist/vendor/ (scripts/bundle-packages.mjs): every module file a
    // process loads costs it CPU (chevrotain's lodash-es alone is ~640 files). A well-formed spec is
    // read by the hand-written parser (src/dsl/fast-syntax.ts); Chevrotain reports the errors. Valid
    // settings are checked without zod (src/util/schema.ts); zod reports the wrong ones.
    const dir = mkdtempSync(join(tmpdir(), 'asgard-startup-vendor-'));
    try {
      copyFileSync(join(repoRoot, 'pipelines', 'churn.asg'), join(dir, 'churn.asg'));
      const churn = readFileSync(join(dir, 'churn.asg'), 'utf8');
      const r = run(['validate', 'churn.asg', '--format', 'json'], dir);
      expect(r.code, r.stderr).toBe(0);
      expect(loaded(r.packages, ['chevrotain', 'zod', '@duckdb/node-api'])).toEqual(['@duckdb/node-api']);
      writeFileSync(join(dir, 'bad.asg'), churn.replace('{', '{ = '));
      const bad = run(['validate', 'bad.asg', '--format', 'json'], dir);
      expect(bad.code, bad.stderr).toBe(2);
      expect(JSON.parse(bad.stdout).diagnostics[0].code).toMatch(/^ASG1/); // a syntax error
      expect(loaded(bad.packages, ['chevrotain'])).toEqual(['chevrotain']);
      const at = churn.indexOf('materialized');
      expect(at).toBeGreaterThan(0);
      writeFileSync(join(dir, 'setting.asg'), `${churn.slice(0, at)}materialised${churn.slice(at + 'materialized'.length)}`);
      // zod is require()d: the log lists CommonJS modules too.
      const setting = run(['validate', 'setting.asg', '--format', 'json'], dir);
      expect(setting.code, setting.stderr).toBe(2);
      expect(JSON.parse(setting.stdout).diagnostics.map((d: { message: string }) => d.message)).toContain(
        'unknown setting `materialised` in model `customer_metrics`',
      );
      expect(loaded(setting.packages, ['chevrotain', 'zod'])).toEqual(['zod']);
      const unbundled = [...r.modules, ...bad.modules, ...setting.modules].filter((m) =>
        /\/node_modules\/(chevrotain|@chevrotain|lodash-es|zod|@duckdb\/node-api)\//.test(m),
      );
      expect(unbundled, 'dist/vendor/ is missing or not imported: run npm run build').toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the database drivers load as one bundled module each, and pg without fetch’s undici (its Cloudflare check)', () => {
    // scripts/bundle-packages.mjs: dist's sources and catalog import dist/vendor/pg.js and mysql2.js,
    // each one file; pg's check for a Cloudflare Worker made a fetch Response where Node 20 has no
    // navigator, which loaded undici in every process that connected to PostgreSQL.
    for (const [file, pkg] of [
      ['ingest/postgres.js', 'pg'],
      ['ingest/mysql.js', 'mysql2'],
      ['warehouse/iceberg/catalog.js', 'pg'],
    ]) {
      expect(readFileSync(join(repoRoot, 'dist', file), 'utf8'), `dist/${file}: run npm run build`).toContain(`/vendor/${pkg}.js'`);
    }
    const dir = mkdtempSync(join(tmpdir(), 'asgard-startup-drivers-'));
    try {
      const list = join(dir, 'modules.txt');
      writeFileSync(
        join(dir, 'list.cjs'),
        `process.on('exit', () => require('node:fs').writeFileSync(${JSON.stringify(list)}, [...process.moduleLoadList, ...Object.keys(require.cache)].join('\\n')));\n`,
      );
      const load = ['pg', 'mysql2']
        .map((p) => `const ${p} = (await import(${JSON.stringify(join(repoRoot, 'dist', 'vendor', `${p}.js`))})).default;`)
        .join('\n');
      const r = spawnSync(
        process.execPath,
        ['--require', join(dir, 'list.cjs'), '--input-type=module', '-e', `${load}\nconsole.log(typeof pg.Client, typeof mysql2.createConnection);`],
        { cwd: dir, encoding: 'utf8', env: { PATH: process.env.PATH ?? '' } },
      );
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout.trim()).toBe('function function');
      const modules = readFileSync(list, 'utf8').split('\n');
      expect(modules).toContain('NativeModule net'); // the list is the process's
      expect(modules.filter((m) => /undici|\/node_modules\/(pg|pg-[a-z]+|mysql2|iconv-lite)\//.test(m))).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a cold `plan` loads none of Node’s modules that only a table read or write needs: node:zlib (the Avro blocks’ codec)', { timeout: 600_000 }, () => {
    const dir = mkdtempSync(join(tmpdir(), 'asgard-startup-'));
    try {
      writeFileSync(join(dir, 'a.asg'), generateSpec({ sources: 3, sqlNodes: 12 }));
      // A CommonJS preload that lists Node's own modules at exit (as test/cli/plan-replay.test.ts does).
      const list = join(dir, 'modules.txt');
      writeFileSync(
        join(dir, 'list.cjs'),
        `process.on('exit', () => require('node:fs').writeFileSync(${JSON.stringify(list)}, process.moduleLoadList.join('\\n')));\n`,
      );
      const r = spawnSync(process.execPath, ['--require', join(dir, 'list.cjs'), join(repoRoot, 'bin', 'asgard.js'), 'plan', 'a.asg', '--format', 'json'], {
        cwd: dir,
        encoding: 'utf8',
        env: { PATH: process.env.PATH ?? '' },
      });
      expect(r.status, r.stderr).toBe(0);
      const modules = readFileSync(list, 'utf8').split('\n');
      expect(modules).toContain('NativeModule crypto'); // the list is the command's
      expect(modules.filter((m) => /^NativeModule zlib$|^Internal Binding zlib$/.test(m))).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a cold `plan` whose SQL bodies are all in the fast analysis’s subset loads no SQL toolkit and no DuckDB (their columns are typed without it); one body outside it loads both, and the plan is the same', {
    timeout: 600_000,
  }, () => {
    const dir = mkdtempSync(join(tmpdir(), 'asgard-startup-'));
    try {
      const text = generateSpec({ sources: 3, sqlNodes: 12 });
      writeFileSync(join(dir, 'a.asg'), text);
      const fast = run(['plan', 'a.asg', '--format', 'json'], dir);
      expect(fast.code, fast.stderr).toBe(0);
      expect(loaded(fast.packages, ['@polyglot-sql/sdk', '@duckdb/node-api'])).toEqual([]);
      // `a || b` is outside the subset (src/sql/fast-analyze.ts): polyglot analyses that body.
      const at = text.indexOf('UPPER(TRIM(country))');
      expect(at).toBeGreaterThan(0);
      writeFileSync(join(dir, 'b.asg'), `${text.slice(0, at)}UPPER(TRIM(country || ''))${text.slice(at + 'UPPER(TRIM(country))'.length)}`);
      const slow = run(['plan', 'b.asg', '--format', 'json'], dir);
      expect(slow.code, slow.stderr).toBe(0);
      expect(loaded(slow.packages, ['@polyglot-sql/sdk', '@duckdb/node-api'])).toEqual(['@polyglot-sql/sdk', '@duckdb/node-api']);
      const actions = (out: string) => (JSON.parse(out) as { actions: { node: string; action: string }[] }).actions.map((a) => [a.node, a.action]);
      expect(actions(slow.stdout)).toEqual(actions(fast.stdout));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
