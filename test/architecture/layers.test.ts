// Folders are layers and imports point one way (STYLE.md): the syntax tree never leaves src/dsl/,
// the IR depends on nothing, targets are pure functions of the IR, and only the CLI sits on top.
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative, resolve, dirname } from 'node:path';
import { describe, expect, it } from 'vitest';

const src = resolve(__dirname, '..', '..', 'src');

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? files(p) : /\.c?ts$/.test(p) ? [p] : [];
  });
}

/** Layer of a file: its first folder under src/. */
const layerOf = (file: string) => relative(src, file).split('/')[0];

/** What each layer may import (besides itself and npm packages). */
const allowed: Record<string, readonly string[]> = {
  util: [],
  ir: [],
  diagnostics: ['ir', 'util'],
  sql: ['ir', 'diagnostics', 'util'],
  dsl: ['ir', 'diagnostics', 'util', 'sql'],
  planner: ['ir', 'diagnostics', 'util', 'sql'],
  warehouse: ['ir', 'util', 'planner'],
  engine: ['ir', 'diagnostics', 'util', 'sql', 'planner', 'warehouse', 'dsl'],
  ingest: ['ir', 'diagnostics', 'util', 'sql', 'planner', 'warehouse', 'engine'],
  ml: ['ir', 'diagnostics', 'util', 'sql', 'planner', 'warehouse', 'engine'],
  targets: ['ir', 'diagnostics', 'util', 'sql', 'planner'],
  workspace: ['ir', 'diagnostics', 'util', 'sql', 'planner', 'warehouse', 'engine', 'ml'],
  // The cluster runner: compiled Spark jobs (targets) run as engine executors.
  spark: ['ir', 'diagnostics', 'util', 'sql', 'planner', 'warehouse', 'engine', 'targets'],
  docs: ['ir', 'util', 'sql', 'planner', 'warehouse', 'engine', 'ml', 'workspace'],
  kube: ['ir', 'diagnostics', 'util', 'planner', 'engine', 'targets'],
  serve: ['ir', 'diagnostics', 'util', 'sql', 'planner', 'warehouse', 'engine', 'ml', 'dsl', 'workspace', 'docs'],
  cli: ['ir', 'diagnostics', 'util', 'sql', 'dsl', 'planner', 'warehouse', 'engine', 'ingest', 'ml', 'targets', 'serve', 'workspace', 'docs', 'spark', 'kube'],
};

const importRe = /(?:^|\n)\s*(?:import|export)\s[^;]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;

describe('layering', () => {
  const all = files(src);

  it('finds the source tree', () => {
    expect(all.length).toBeGreaterThan(5);
  });

  it('imports point one way', () => {
    const violations: string[] = [];
    for (const file of all) {
      const layer = layerOf(file);
      const text = readFileSync(file, 'utf8');
      for (const m of text.matchAll(importRe)) {
        const spec = m[1] ?? m[2];
        if (!spec.startsWith('.')) {
          if (spec === 'chevrotain' && layer !== 'dsl') violations.push(`${relative(src, file)} imports chevrotain outside src/dsl`);
          continue;
        }
        const target = layerOf(resolve(dirname(file), spec));
        if (target === layer) continue;
        if (!(allowed[layer] ?? []).includes(target)) violations.push(`${relative(src, file)} (${layer}) imports ${spec} (${target})`);
      }
    }
    expect(violations).toEqual([]);
  });

  // The workspace (src/workspace/workspace.ts) owns every location: nothing else opens a store or
  // builds a path under the state folder. The stores lay out files inside the root they are handed.
  it('only the workspace opens stores and builds state-folder paths', () => {
    const stores = /\bnew (StateStore|Warehouse|Registry)\(/;
    const statePath = /\b(join|resolve)\([^)\n]*['"`](\.asgard|cache|registry|state)['"`/]/;
    const stateFolder = /['"`]\.asgard['"`/]/;
    const home = /\bhomedir\(\)/;
    const inside: Record<string, RegExp[]> = {
      'planner/state-store.ts': [statePath],
      'ml/registry.ts': [statePath],
    };
    const violations: string[] = [];
    for (const file of all) {
      const rel = relative(src, file);
      if (rel.startsWith('workspace/')) continue;
      const code = readFileSync(file, 'utf8').replace(/\/\*[\s\S]*?\*\/|(^|[^:])\/\/.*$/gm, '$1');
      for (const re of [stores, statePath, stateFolder, home]) {
        if ((inside[rel] ?? []).includes(re)) continue;
        const m = re.exec(code);
        if (m) violations.push(`${rel}: ${m[0]}`);
      }
    }
    expect(violations).toEqual([]);
  });

  // Node ids, table references and column addresses have one parser (src/ir/address.ts): nothing
  // else takes an id apart on '.'. The files listed split other dotted things, named beside them.
  it('only ir/address.ts takes node ids apart', () => {
    const splitsOnDot = /\.split\(\s*['"]\.['"]\s*\)|\.(?:last)?indexOf\(\s*['"]\.['"]\s*\)/;
    const otherDots: Record<string, string> = {
      'ir/address.ts': 'the parser itself',
      'targets/spark/spark.ts': 'Spark version numbers',
      'ingest/file.ts': 'file name extensions',
      'planner/plan.ts': "fingerprint field paths ('data.sql')",
      'engine/lineage.ts': 'DuckDB qualified column names from its own describe output',
    };
    const violations: string[] = [];
    for (const file of all) {
      const rel = relative(src, file);
      if (rel in otherDots) continue;
      const lines = readFileSync(file, 'utf8').split('\n');
      lines.forEach((line, i) => {
        if (splitsOnDot.test(line.replace(/\/\/.*$/, ''))) violations.push(`${rel}:${i + 1}: ${line.trim()}`);
      });
    }
    expect(violations).toEqual([]);
  });

  // docs/ARCHITECTURE.md names layers and files: every one must exist, and every layer be described.
  it('docs/ARCHITECTURE.md names real files and every layer', () => {
    const doc = readFileSync(resolve(src, '..', 'docs', 'ARCHITECTURE.md'), 'utf8');
    const named = [...doc.matchAll(/`((?:[a-z-]+\/)+[a-z-]+\.ts)`/g)].map((m) => m[1]);
    expect(named.length).toBeGreaterThan(20);
    expect(named.filter((f) => !existsSync(join(src, f)))).toEqual([]);
    const described = [...doc.matchAll(/^\| `([a-z]+)\/` \|/gm)].map((m) => m[1]).sort();
    expect(described).toEqual(Object.keys(allowed).sort());
  });

  it('every layer is known', () => {
    const unknown = [...new Set(all.map(layerOf))].filter((l) => !(l in allowed));
    expect(unknown).toEqual([]);
  });

  it('every file of src/ with a switch or table over node kinds is in docs/ARCHITECTURE.md’s list for a new node kind', () => {
    const doc = readFileSync(resolve(src, '..', 'docs', 'ARCHITECTURE.md'), 'utf8');
    const section = doc.slice(doc.indexOf('### A new node kind'), doc.indexOf('### A new compile target'));
    const listed = new Set([...section.matchAll(/`([\w/.-]+\.ts)`/g)].map((m) => m[1]));
    // A switch over a node's kind that ends in assertNever, or a table that needs every kind.
    const perKind = /switch \(\w+\.kind\)[\s\S]{0,4000}?assertNever\(|Record<NodeKind,|\[K in NodeKind\]:/;
    const found = files(src)
      .filter((f) => perKind.test(readFileSync(f, 'utf8')))
      .map((f) => relative(src, f));
    expect(found.length).toBeGreaterThanOrEqual(6);
    expect(found.filter((f) => !listed.has(f))).toEqual([]);
  });
});
