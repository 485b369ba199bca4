// Profiles checked against the settings their readers declare (src/ir/profile-settings.ts): a
// setting nothing reads (ASG4008, with a did-you-mean) and a value of the wrong form (ASG4003),
// each at its own line and column — refused by compile and apply, and found first by
// `validate --profile NAME`.
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { targets } from '../../src/targets/registry.js';
import { targetSettings } from '../../src/targets/profile-owners.js';
import { localSettings } from '../../src/workspace/profile-settings.js';
import { cli, repoRoot } from '../cli/helpers.js';

const churn = readFileSync(join(repoRoot, 'pipelines', 'churn.asg'), 'utf8');

function specWith(edit: (text: string) => string): { dir: string; text: string } {
  const dir = mkdtempSync(join(tmpdir(), 'asgard-profile-'));
  const text = edit(churn);
  if (text === churn) throw new Error('the edit no longer applies to pipelines/churn.asg');
  writeFileSync(join(dir, 'churn.asg'), text);
  return { dir, text };
}

const at = (text: string, needle: string) => {
  const lines = text.split('\n');
  const i = lines.findIndex((l) => l.includes(needle));
  return { line: i + 1, column: lines[i].indexOf(needle) + 1 };
};

interface J {
  ok: boolean;
  diagnostics: { code: string; line?: number; column?: number; message: string; hint?: string }[];
}

describe('profile settings', () => {
  const bad = () => specWith((t) => t.replace('    spark_version = "4.0.1"\n', '    spark_verison = "4.0.1"\n    dbt_threads   = "four"\n'));

  it('validate --profile finds a setting no target reads and a value of the wrong form, at file:line:col', async () => {
    const { dir, text } = bad();
    const r = await cli(['validate', 'churn.asg', '--profile', 'kubernetes', '--format', 'json'], { cwd: dir });
    expect(r.code).toBe(2);
    const doc = JSON.parse(r.stdout) as J;
    expect(doc.ok).toBe(false);
    const unknown = doc.diagnostics.find((d) => d.code === 'ASG4008')!;
    expect(unknown).toMatchObject(at(text, 'spark_verison'));
    expect(unknown.hint).toContain('spark_version');
    const wrong = doc.diagnostics.find((d) => d.code === 'ASG4003')!;
    expect(wrong).toMatchObject(at(text, '"four"'));
    expect(wrong.message).toContain('must be a number');
    // Without --profile the spec itself is valid: the profile is checked when it is used.
    expect((await cli(['validate', 'churn.asg'], { cwd: dir })).code).toBe(0);
  });

  it('compile refuses what validate --profile reports, and writes nothing', async () => {
    const { dir } = bad();
    const r = await cli(['compile', 'churn.asg', '--profile', 'kubernetes', '--out', 'build', '--format', 'json'], { cwd: dir });
    expect(r.code).toBe(2);
    const codes = (JSON.parse(r.stdout) as J).diagnostics.map((d) => d.code).sort();
    expect(codes).toEqual(['ASG4003', 'ASG4008']);
    expect(readdirSync(dir)).not.toContain('build');
  });

  it('validate --profile kubernetes also reports what the targets need (a missing setting)', async () => {
    const { dir } = specWith((t) => t.replace('    spark_image   = "apache/spark:4.0.1-python3"\n', ''));
    const r = await cli(['validate', 'churn.asg', '--profile', 'kubernetes', '--format', 'json'], { cwd: dir });
    expect(r.code).toBe(2);
    expect((JSON.parse(r.stdout) as J).diagnostics.find((d) => d.code === 'ASG4002')?.message).toContain('spark_image');
    expect((await cli(['validate', join(repoRoot, 'pipelines', 'churn.asg'), '--profile', 'kubernetes'], { cwd: dir })).code).toBe(0);
  });

  it('a local profile: apply refuses a secret() where the engine reads a location, as validate --profile says', async () => {
    const { dir, text } = specWith((t) =>
      t.replace('  profile kubernetes {', '  profile lake {\n    target      = local\n    s3_endpoint = secret("S3_ENDPOINT")\n  }\n\n  profile kubernetes {'),
    );
    const v = await cli(['validate', 'churn.asg', '--profile', 'lake', '--format', 'json'], { cwd: dir });
    expect(v.code).toBe(2);
    expect((JSON.parse(v.stdout) as J).diagnostics.filter((d) => d.code.startsWith('ASG4'))).toEqual([
      expect.objectContaining({ code: 'ASG4003', ...at(text, 'secret("S3_ENDPOINT")') }),
    ]);
    const a = await cli(['apply', 'churn.asg', '--profile', 'lake', '--yes'], { cwd: dir });
    expect(a.code).toBe(2);
    expect(a.stderr).toContain('error ASG4003');
    expect(existsSync(join(dir, '.asgard', 'state'))).toBe(false);
    const unknownProfile = await cli(['validate', 'churn.asg', '--profile', 'nope', '--format', 'json'], { cwd: dir });
    expect(unknownProfile.code).toBe(2);
    expect((JSON.parse(unknownProfile.stdout) as J).diagnostics.map((d) => d.code)).toContain('ASG4001');
  });

  it('a cluster profile: env() where compile needs a literal is fine (apply resolves it before it compiles each job); a wrong form is still refused', async () => {
    // pipelines/churn.asg's own cluster profile takes its warehouse from env().
    const ok = await cli(['validate', join(repoRoot, 'pipelines', 'churn.asg'), '--profile', 'cluster', '--format', 'json'], { cwd: tmpdir() });
    expect((JSON.parse(ok.stdout) as J).diagnostics.filter((d) => d.code.startsWith('ASG4'))).toEqual([]);
    expect(ok.code).toBe(0);
    const { dir, text } = specWith((t) =>
      t.replace(
        '    executor      = { instances = 2  cores = 1  memory = "512m" }\n',
        '    executor      = { instances = "two"  cores = 1  memory = "512m" }\n',
      ),
    );
    const bad = await cli(['validate', 'churn.asg', '--profile', 'cluster', '--format', 'json'], { cwd: dir });
    expect(bad.code).toBe(2);
    const wrong = (JSON.parse(bad.stdout) as J).diagnostics.find((d) => d.code === 'ASG4003')!;
    expect(wrong).toMatchObject(at(text, '"two"'));
    expect(wrong.message).toContain('`executor.instances` must be a number or env("NAME") (read by spark)');
  });

  // One owner per setting: every key a target reads through ProfileSettings is in its schema.
  it('every setting a target reads is declared in its schema', () => {
    const read = /settings\.(?:get|has|require|literalString|literalNumber|invalid)\(\s*'([^']+)'/g;
    // The settings the shared helpers read, by helper: a target that calls one reads its keys.
    const helpers = ['k8s-env.ts', 'iceberg-catalog.ts'].flatMap((f) =>
      [...readFileSync(join(repoRoot, 'src', 'targets', f), 'utf8').matchAll(/^export function (\w+)[\s\S]*?^\}/gm)].map((m) => ({
        name: m[1],
        keys: [...m[0].matchAll(read)].map((k) => k[1]),
      })),
    );
    let checked = 0;
    for (const t of targets) {
      // Every file of the target's folder (dbt/jobs.ts reads settings too).
      const folder = join(repoRoot, 'src', 'targets', t.name);
      const code = readdirSync(folder)
        .filter((f) => f.endsWith('.ts'))
        .map((f) => readFileSync(join(folder, f), 'utf8'))
        .join('\n');
      const keys = [...code.matchAll(read)].map((m) => m[1]);
      if (code.includes('s3Warehouse()')) keys.push('warehouse');
      for (const h of helpers) if (code.includes(`${h.name}(`)) keys.push(...h.keys);
      const undeclared = keys.filter((k) => !(k in t.settings.shape));
      expect(undeclared, t.name).toEqual([]);
      checked += keys.length;
    }
    expect(checked).toBeGreaterThan(40);
    const remote = readFileSync(join(repoRoot, 'src', 'warehouse', 's3-store.ts'), 'utf8');
    for (const m of remote.matchAll(/pick\('([a-z_]+)'\)/g)) expect(Object.keys(localSettings.shape)).toContain(`s3_${m[1]}`);
  });

  it('a profile is checked against the settings of every target the registry runs (profile-owners.ts lists them without loading the targets)', () => {
    expect(targetSettings.map((t) => t.name)).toEqual(targets.map((t) => t.name));
    for (const t of targets) expect(targetSettings.find((x) => x.name === t.name)?.settings).toBe(t.settings);
  });
});
