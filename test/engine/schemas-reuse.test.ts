// Schema inference of a spec patched after an edit (src/engine/schemas.ts InferOptions.reuse, the
// CLI's patched specs, src/dsl/patch.ts): given the schemas before the edit and the node it changed,
// it gives exactly what inferring the edited spec from nothing gives, whether the edited node's
// schema changed (its downstream then typed again) or not.
import { describe, expect, it } from 'vitest';
import { generateSpec } from '../../bench/gen-spec.js';
import { loadPipelineText } from '../../src/dsl/load.js';
import { patchChecked, type CheckedText } from '../../src/dsl/patch.js';
import { inferSchemas } from '../../src/engine/schemas.js';

const file = '/specs/generated.asg';
const base = generateSpec({ sources: 12, sqlNodes: 80 });

function checked(text: string): CheckedText {
  const l = loadPipelineText(text, file);
  expect(l.ir).toBeDefined();
  return JSON.parse(JSON.stringify({ text, ir: l.ir, diagnostics: l.diagnostics })) as CheckedText;
}

const inOrder = (m: ReadonlyMap<string, unknown>) => JSON.stringify([...m].sort((a, b) => (a[0] < b[0] ? -1 : 1)));

/** `from` replaced by `to` inside the first cleanse block holding it that other nodes read. */
function inReadBlock(text: string, from: string, to: string): string {
  const ir = loadPipelineText(text, file).ir!;
  const read = new Set(ir.nodes.flatMap((n) => n.inputs));
  for (const m of text.matchAll(/\n {2}cleanse (\w+) \{[\s\S]*?\n {2}\}\n/g)) {
    if (!read.has(`silver.${m[1]}`) || !m[0].includes(from)) continue;
    return text.slice(0, m.index) + m[0].replace(from, to) + text.slice(m.index + m[0].length);
  }
  throw new Error(`no read cleanse holds ${from}`);
}

describe('schemas of a patched spec', () => {
  const edits: [string, string, string, boolean][] = [
    ['a filter (same schema)', 'WHERE amount > ', 'WHERE amount > 3 AND amount > ', false],
    [
      'a column retyped (its readers typed again)',
      '  created_at,\n        updated_at\n      FROM bronze.',
      '  CAST(created_at AS DATE) AS created_at,\n        updated_at\n      FROM bronze.',
      true,
    ],
    ['a column renamed (its readers fail to bind)', 'UPPER(TRIM(country)) AS country,', 'UPPER(TRIM(country)) AS country_code,', true],
  ];
  for (const [what, from, to, moves] of edits) {
    it(`${what}: equal to inferring from nothing`, async () => {
      const last = checked(base);
      const before = await inferSchemas(last.ir);
      expect(before.diagnostics).toEqual([]);
      const text = inReadBlock(base, from, to);
      expect(text).not.toBe(base);
      const p = patchChecked(last, text);
      expect(p, 'the patch is taken').toBeDefined();
      const fresh = await inferSchemas(loadPipelineText(text, file).ir!);
      const reused = await inferSchemas(p!.ir, undefined, { reuse: { schemas: before.schemas, changed: new Set([p!.changed]) } });
      expect(inOrder(reused.schemas)).toBe(inOrder(fresh.schemas));
      expect(reused.diagnostics).toEqual(fresh.diagnostics);
      // The edit reaches past its node or not, as the case says (so the comparison above can fail).
      const changedBeyond = [...fresh.schemas].some(([id, s]) => id !== p!.changed && JSON.stringify(s) !== JSON.stringify(before.schemas.get(id)));
      expect(changedBeyond || fresh.diagnostics.length > 0).toBe(moves);
    });
  }
});
