// The review catalogue: edits to pipelines/churn.asg (test/planner/cases/churn-review-*/edit.json),
// each applied to a fresh copy of the spec; the edited spec is planned against the original with
// `--base`. An edit whose text no longer occurs exactly once in churn.asg fails loudly.
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '../cli/helpers.js';

export const casesDir = join(__dirname, 'cases');
export const churnSpec = join(repoRoot, 'pipelines', 'churn.asg');

export interface EditCase {
  readonly name: string;
  readonly dir: string;
  readonly about: string;
  readonly edits: readonly (readonly [string, string])[];
}

export const reviewCases = (): EditCase[] =>
  readdirSync(casesDir)
    .filter((d) => existsSync(join(casesDir, d, 'edit.json')))
    .sort()
    .map((name) => {
      const doc = JSON.parse(readFileSync(join(casesDir, name, 'edit.json'), 'utf8')) as { about: string; edits: [string, string][] };
      return { name, dir: join(casesDir, name), about: doc.about, edits: doc.edits };
    });

export function applyEdits(text: string, c: EditCase): string {
  let out = text;
  for (const [from, to] of c.edits) {
    const n = out.split(from).length - 1;
    if (n !== 1) throw new Error(`${c.name}: ${JSON.stringify(from.slice(0, 60))} occurs ${n} times in churn.asg, not once`);
    out = out.replace(from, () => to);
  }
  return out;
}

/** A temp folder with base.asg (churn.asg) and spec.asg (edited). */
export function materialise(c: EditCase): string {
  const dir = mkdtempSync(join(tmpdir(), `asgard-review-${c.name}-`));
  copyFileSync(churnSpec, join(dir, 'base.asg'));
  writeFileSync(join(dir, 'spec.asg'), applyEdits(readFileSync(churnSpec, 'utf8'), c));
  return dir;
}
