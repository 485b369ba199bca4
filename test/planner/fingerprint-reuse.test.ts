// Fingerprints of a spec patched after an edit (src/planner/fingerprint.ts FingerprintReuse, the
// CLI's patched specs, src/dsl/patch.ts): given those before the edit and the node it changed, they
// equal the fingerprints of the edited spec computed from nothing — the edited node's and its
// downstream's new, the rest as before — also when the edit moves every later span.
import { describe, expect, it } from 'vitest';
import { generateSpec } from '../../bench/gen-spec.js';
import { loadPipelineText } from '../../src/dsl/load.js';
import { patchChecked, type CheckedText } from '../../src/dsl/patch.js';
import { fingerprintPipeline } from '../../src/planner/fingerprint.js';

const file = '/specs/generated.asg';
const base = generateSpec({ sources: 12, sqlNodes: 80 });
const first = base.indexOf('WHERE amount > ');

const hashes = (m: ReturnType<typeof fingerprintPipeline>) => [...m].map(([id, f]) => [id, f.fingerprint, f.metaFingerprint]);

describe('fingerprints of a patched spec', () => {
  const edits: [string, string, boolean][] = [
    ['a filter', `${base.slice(0, first)}WHERE amount > 3 AND ${base.slice(first + 'WHERE '.length)}`, true],
    ['a description', base.replace('description = "synthetic model ', 'description = "an edited model '), true],
    // SQL comments are not part of a definition: every span after moves, no fingerprint does.
    ['lines added in a body', `${base.slice(0, first)}-- one\n      -- two\n      ${base.slice(first)}`, false],
  ];
  for (const [what, text, changes] of edits) {
    it(`${what}: equal to fingerprints from nothing`, () => {
      const loaded = loadPipelineText(base, file);
      const before = fingerprintPipeline(loaded.ir!);
      const last = JSON.parse(JSON.stringify({ text: base, ir: loaded.ir, diagnostics: loaded.diagnostics })) as CheckedText;
      const p = patchChecked(last, text);
      expect(p, 'the patch is taken').toBeDefined();
      const fresh = fingerprintPipeline(loadPipelineText(text, file).ir!);
      const fingerprints = new Map([...before].map(([id, f]) => [id, [f.fingerprint, f.metaFingerprint] as const]));
      const reused = fingerprintPipeline(p!.ir, { fingerprints, changed: new Set([p!.changed]) });
      expect(hashes(reused)).toEqual(hashes(fresh));
      expect(JSON.stringify([...reused.values()].map((f) => f.definition))).toBe(JSON.stringify([...fresh.values()].map((f) => f.definition)));
      // The edit changes fingerprints or not, as the case says; when it does, without `changed` the reuse would be wrong.
      expect(JSON.stringify(hashes(fresh)) !== JSON.stringify(hashes(before))).toBe(changes);
      if (changes) expect(hashes(fingerprintPipeline(p!.ir, { fingerprints, changed: new Set() }))).not.toEqual(hashes(fresh));
    });
  }
});
