// The compiled training job (templates/training/train.py.hbs) with a `string` feature: churn.asg
// with one categorical feature added is compiled, and test/conformance/py/compiled_categorical.py
// runs the job's own encoding and ONNX export: the vocabulary is in code point order (as asgard's
// trainer, src/ml/categorical.ts), the category is a string input of the ONNX model, and the model
// scores the raw strings as the estimator scores the codes.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { requireToolchain } from './lib/toolchain.js';
import { repoRoot } from './lib/paths.js';
import { CHURN, compileChurn } from '../targets/churn.js';
import { vocabulary } from '../../src/ml/categorical.js';

const tools = requireToolchain();
const dir = mkdtempSync(join(tmpdir(), 'asg-compiled-categorical-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.skipIf(!tools)('the compiled training job with a string feature', () => {
  it(
    'encodes it as asgard does and exports a string ONNX input that scores like the estimator',
    async () => {
      const text = readFileSync(CHURN, 'utf8').replace(
        /^(\s*)feature total_purchases(\s+)int64$/m,
        '$1feature country string\n$1feature total_purchases$2int64',
      );
      expect(text).toContain('feature country string');
      const r = await compileChurn(text);
      expect(r.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
      const script = join(dir, 'train.py');
      writeFileSync(script, r.files!.get('training/churn_predictor/train.py')!);
      const run = spawnSync(tools!.python, [join(repoRoot(), 'test/conformance/py/compiled_categorical.py'), script], { env: tools!.env, encoding: 'utf8' });
      expect(run.status, run.stderr).toBe(0);
      const out = JSON.parse(run.stdout) as { vocab: Record<string, string[]>; inputs: Record<string, string>; max_diff: number };
      const values = ['b-grocery', 'a-gambling', '\u{1F600}shop', '\uFF5Emarket', 'épicerie'];
      expect(out.vocab.country).toEqual(vocabulary(values));
      expect(out.inputs.country).toBe('tensor(string)');
      expect(out.inputs.total_purchases).toBe('tensor(float)');
      expect(out.max_diff).toBeLessThan(1e-5);
    },
    10 * 60_000,
  );
});
