// A spec patched after an edit inside one block (src/dsl/patch.ts) equals the spec loaded from
// scratch (IR, spans, diagnostics), and the patch is really taken for such edits: a changed filter,
// a renamed column, lines added or removed in a body (every later span and warning moves), a
// description. Any edit a patch cannot take gives undefined (the caller then loads the spec in full):
// a node added, removed or renamed, inputs changed, an error, a warning in the edited block, an edit
// across two blocks, a source block, CRLF line endings, variables.
import { describe, expect, it } from 'vitest';
import { generateSpec } from '../../bench/gen-spec.js';
import { loadPipelineText } from '../../src/dsl/load.js';
import { patchChecked, type CheckedText } from '../../src/dsl/patch.js';

const file = '/specs/generated.asg';
// A warning inside a model block at the end (a diagnostic whose span must move with the edits above).
const WARNED = `  model late_rows {
    materialized   = incremental
    incremental_by = created_at
    sql """
      SELECT * FROM silver.c0
    """
  }
`;
const base = generateSpec({ sources: 12, sqlNodes: 40 }).replace(/\}\s*$/, `${WARNED}}\n`);

/** What the spec cache hands the patch: the last load's IR and diagnostics as JSON gives them back. */
function checked(text: string): CheckedText {
  const l = loadPipelineText(text, file);
  expect(l.ir, l.diagnostics.map((d) => d.message).join('\n')).toBeDefined();
  return JSON.parse(JSON.stringify({ text, ir: l.ir, diagnostics: l.diagnostics })) as CheckedText;
}

const asJson = (v: unknown) => JSON.parse(JSON.stringify(v)) as unknown;
const first = base.indexOf('WHERE amount > ');
const at = (t: string, from: string, to: string) => {
  expect(t.includes(from), from).toBe(true);
  return t.replace(from, to);
};

describe('a spec patched after an edit inside one block', () => {
  const patched: [string, (t: string) => string][] = [
    ['a changed filter', (t) => `${t.slice(0, first)}WHERE amount > 7 AND ${t.slice(first + 'WHERE '.length)}`],
    ['lines added in a body', (t) => `${t.slice(0, first)}-- one\n      -- two\n      ${t.slice(first)}`],
    ['a line removed in a body', (t) => t.replace(/\n\s*check not_null\(id\)\n/, '\n')],
    ['a column renamed', (t) => at(t, 'UPPER(TRIM(country)) AS country,', 'UPPER(TRIM(country)) AS country_code,')],
    ['a description', (t) => at(t, 'description = "synthetic model ', 'description = "an edited model ')],
    ['a spec comment inside a block', (t) => at(t, '  model m2 {\n', '  model m2 {\n    // a note\n    /* and\n       another */\n')],
  ];
  for (const [what, edit] of patched) {
    it(`${what}: equals a load from scratch`, () => {
      const text = edit(base);
      expect(text).not.toBe(base);
      const fresh = loadPipelineText(text, file);
      const p = patchChecked(checked(base), text);
      expect(p, 'the patch is taken').toBeDefined();
      expect(asJson({ ir: p!.ir, diagnostics: p!.diagnostics })).toEqual(asJson({ ir: fresh.ir, diagnostics: fresh.diagnostics }));
      expect(p!.diagnostics.length).toBeGreaterThan(0); // the warning, moved with its block
    });
  }

  it('edit after edit: each patch of the last patch equals a load from scratch', () => {
    let last = checked(base);
    let text = base;
    for (const [what, edit] of patched) {
      text = edit(text);
      const p = patchChecked(last, text);
      expect(p, what).toBeDefined();
      const fresh = loadPipelineText(text, file);
      expect(asJson({ ir: p!.ir, diagnostics: p!.diagnostics }), what).toEqual(asJson({ ir: fresh.ir, diagnostics: fresh.diagnostics }));
      last = asJson(p) as CheckedText;
    }
  });

  const refused: [string, (t: string) => string][] = [
    ['a node added', (t) => at(t, '  model m0 {', '  model extra {\n    sql """ SELECT id FROM silver.c1 """\n  }\n\n  model m0 {')],
    ['a node added inside a block', (t) => at(t, '  model m0 {', '  model m0 {\n  }\n  model extra {')],
    ['a node removed', (t) => t.replace(/ {2}model m3 \{[\s\S]*?\n {2}\}\n/, '')],
    ['a node renamed', (t) => at(t, '  model m3 {', '  model m3b {')],
    ['inputs changed', (t) => t.replace(/(cleanse c1 \{[\s\S]*?)FROM bronze\.s\d+/, '$1FROM bronze.s0')],
    ['an unknown table', (t) => t.replace(/(cleanse c1 \{[\s\S]*?)FROM bronze\.s\d+/, '$1FROM bronze.nope')],
    ['a SQL syntax error', (t) => at(t, 'WHERE amount > ', 'WHERE WHERE amount > ')],
    ['a bad setting', (t) => at(t, '  model m1 {', '  model m1 {\n    materialised = table')],
    ['a new warning', (t) => at(t, '  model m1 {', '  model m1 {\n    materialized = incremental\n    incremental_by = created_at')],
    ['the block with a warning', (t) => at(t, 'materialized   = incremental', 'materialized = incremental')],
    ['two blocks', (t) => at(at(t, 'model m1 {', 'model m1 {\n    tags = ["a"]'), 'model m2 {', 'model m2 {\n    tags = ["b"]')],
    ['a source', (t) => at(t, 'amount = "DECIMAL(10,2)"', 'amount = "DECIMAL(18,3)"')],
    ['an unclosed comment', (t) => at(t, '  model m1 {', '  model m1 {\n    /*')],
    ['CRLF line endings', (t) => t.replace(/\n/g, '\r\n')],
  ];
  for (const [what, edit] of refused) {
    it(`${what}: not patched`, () => {
      const text = edit(base);
      expect(text).not.toBe(base);
      expect(patchChecked(checked(base), text)).toBeUndefined();
    });
  }

  it('a spec with variables is not patched', () => {
    const withVar = base.replace('pipeline synthetic {', 'pipeline synthetic {\n  var threshold { default = "1" }');
    const last = checked(withVar);
    expect(
      patchChecked(
        last,
        `${withVar.slice(0, withVar.indexOf('WHERE amount > '))}WHERE amount > 7 AND ${withVar.slice(withVar.indexOf('WHERE amount > ') + 6)}`,
      ),
    ).toBeUndefined();
  });
});
