// Plan goldens: each folder under cases/ holds a base spec and an edited spec; `asgard plan spec.asg
// --base base.asg` must print exactly expected.json / expected.txt / expected.md.
// ASGARD_ACCEPT=1 rewrites the expected files (review the diff before committing).
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli } from '../cli/helpers.js';

const casesDir = join(__dirname, 'cases');
const cases = readdirSync(casesDir)
  .filter((d) => existsSync(join(casesDir, d, 'spec.asg')))
  .sort();
const accept = process.env.ASGARD_ACCEPT === '1';

/** Fingerprints are hashes of everything: goldens would churn with any normaliser change. */
function stable(doc: Record<string, unknown>): Record<string, unknown> {
  const { specFingerprint: _s, ...rest } = doc;
  return {
    ...rest,
    actions: (rest.actions as Record<string, unknown>[]).map(({ fingerprint: _f, metaFingerprint: _m, ...a }) => a),
  };
}

describe('plan goldens', () => {
  it('has enough cases', () => {
    expect(cases.length).toBeGreaterThanOrEqual(10);
  });

  for (const name of cases) {
    it(name, async () => {
      const dir = mkdtempSync(join(tmpdir(), `asgard-golden-${name}-`));
      copyFileSync(join(casesDir, name, 'base.asg'), join(dir, 'base.asg'));
      copyFileSync(join(casesDir, name, 'spec.asg'), join(dir, 'spec.asg'));
      const run = (format: string) => cli(['plan', 'spec.asg', '--base', 'base.asg', '--format', format, '--detailed-exitcode'], { cwd: dir });
      const json = await run('json');
      const text = await run('text');
      const md = await run('markdown');
      for (const r of [json, text, md]) expect(r.stderr).toBe('');
      const doc = stable(JSON.parse(json.stdout));
      const changes = Object.entries(doc.summary as Record<string, number>).some(([k, v]) => k !== 'noop' && v > 0);
      for (const r of [json, text, md]) expect(r.code).toBe(changes ? 3 : 0);
      const got = { 'expected.json': JSON.stringify(doc, null, 2) + '\n', 'expected.txt': text.stdout, 'expected.md': md.stdout };
      for (const [file, content] of Object.entries(got)) {
        const path = join(casesDir, name, file);
        if (accept) writeFileSync(path, content);
        expect(content, `${name}/${file}`).toBe(readFileSync(path, 'utf8'));
      }
      // Deterministic: the same plan twice is byte-identical.
      expect((await run('text')).stdout).toBe(text.stdout);
    });
  }
});
