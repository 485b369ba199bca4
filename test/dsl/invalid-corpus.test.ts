// The invalid-spec corpus: every `test/fixtures/invalid/<case>.asg` (plus the generated ones) is
// loaded and its rendered diagnostics compared with `<case>.expected.txt`.
// `ASGARD_ACCEPT=1 npx vitest run test/dsl/invalid-corpus.test.ts` rewrites the goldens.

import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderDiagnostic } from '../../src/diagnostics/render.js';
import { loadPipeline, sourceOf, type LoadedSpec } from '../../src/dsl/load.js';
import { generatedCases } from './generated-cases.js';

const dir = fileURLToPath(new URL('../fixtures/invalid/', import.meta.url));
const accept = process.env['ASGARD_ACCEPT'] === '1' || process.env['ASG_ACCEPT'] === '1';
const tmp = mkdtempSync(join(tmpdir(), 'asg-invalid-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
// Module start-up (polyglot's WASM instance, the grammar's self-analysis) is paid once here, so the
// per-case time below measures the case.
beforeAll(() => {
  loadPipeline(fileURLToPath(new URL('../fixtures/valid/shop.asg', import.meta.url)), { sqlCachePath: false });
});

const fileCases = readdirSync(dir)
  .filter((f) => f.endsWith('.asg'))
  .map((f) => f.slice(0, -4))
  .sort();
const genCases = Object.keys(generatedCases).sort();

function renderAll(loaded: LoadedSpec): string {
  const sources = new Map([[loaded.file, sourceOf(loaded)]]);
  return loaded.diagnostics.map((d) => renderDiagnostic(d, { sources, color: false, displayPath: (f) => basename(f) })).join('\n') + '\n';
}

function check(name: string, file: string) {
  const t0 = performance.now();
  const loaded = loadPipeline(file, { sqlCachePath: false });
  const ms = performance.now() - t0;
  // A guard against a runaway (exponential) parse, not a speed assertion: speed lives in
  // bench/parse.bench.ts. Each case takes well under a second; 30 s holds on a machine at load 40,
  // where 2 s did not (the cycle case took 5.6 s).
  expect(ms).toBeLessThan(30_000);
  expect(loaded.ir).toBeUndefined();
  expect(loaded.diagnostics.length).toBeGreaterThan(0);
  for (const d of loaded.diagnostics) {
    expect(d.severity).toBe('error');
    expect(d.code).toMatch(/^ASG[123]\d{3}$/);
    expect(d.span, `${d.code} ${d.message}`).toBeDefined();
    expect(d.span!.line).toBeGreaterThanOrEqual(1);
    expect(d.span!.column).toBeGreaterThanOrEqual(1);
    expect(d.span!.endLine).toBeGreaterThanOrEqual(d.span!.line);
    expect(d.message).not.toMatch(/-->|<--|undefined|\[object/);
  }
  const actual = renderAll(loaded);
  const golden = join(dir, `${name}.expected.txt`);
  if (accept || !existsSync(golden)) {
    if (!accept) throw new Error(`no golden for ${name}: run with ASGARD_ACCEPT=1 and review ${golden}`);
    writeFileSync(golden, actual);
  }
  expect(actual).toBe(readFileSync(golden, 'utf8'));
  // The text a command has read already (src/cli/spec.ts) is checked as the file read here would be:
  // the same diagnostics, a binary or badly encoded file included.
  const given = loadPipeline(file, { sqlCachePath: false, text: readFileSync(file, 'utf8') });
  expect(renderAll(given)).toBe(actual);
}

describe('invalid spec corpus', () => {
  it('has at least 40 cases', () => {
    expect(fileCases.length + genCases.length).toBeGreaterThanOrEqual(40);
  });

  for (const name of fileCases) it(name, () => check(name, join(dir, `${name}.asg`)));

  for (const name of genCases) {
    it(`${name} (generated)`, () => {
      const file = join(tmp, `${name}.asg`);
      writeFileSync(file, generatedCases[name]());
      check(name, file);
    });
  }

  it('a text with a byte order mark, given as read, is checked as the file read strictly is', () => {
    const shop = readFileSync(fileURLToPath(new URL('../fixtures/valid/shop.asg', import.meta.url)), 'utf8');
    const file = join(tmp, 'bom.asg');
    writeFileSync(file, `\uFEFF${shop.replace('pipeline', 'pipelin')}`);
    const read = loadPipeline(file, { sqlCachePath: false });
    const given = loadPipeline(file, { sqlCachePath: false, text: readFileSync(file, 'utf8') });
    expect(read.diagnostics.length).toBeGreaterThan(0);
    expect(renderAll(given)).toBe(renderAll(read));
    expect(sourceOf(given)).toBe(sourceOf(read));
  });

  it('every golden belongs to a case', () => {
    const names = new Set([...fileCases, ...genCases]);
    const orphans = readdirSync(dir)
      .filter((f) => f.endsWith('.expected.txt'))
      .map((f) => f.slice(0, -'.expected.txt'.length))
      .filter((n) => !names.has(n));
    expect(orphans).toEqual([]);
  });
});
