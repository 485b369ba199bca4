// docs/language.md and the checker cannot drift: every setting the checker's zod schemas accept is
// in the block's table and every setting a table names is accepted; every check kind and every
// hyperparameter (with its default) is documented, and nothing else is. The accepted sets are read
// from the checker (src/dsl/checker/schemas.ts, checks.ts, src/ir/algorithms.ts), never listed here.

import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { STREAM_CHECKS, TABLE_CHECKS } from '../../src/dsl/checker/checks.js';
import { HYPERPARAMS } from '../../src/ir/algorithms.js';
import { loadPipelineText } from '../../src/dsl/load.js';
import { BLOCK_SCHEMAS, keysOf } from './schema-keys.js';
import { targets } from '../../src/targets/registry.js';
import { clusterSettings, localSettings } from '../../src/workspace/profile-settings.js';

const doc = readFileSync(resolve(__dirname, '..', '..', 'docs', 'language.md'), 'utf8');

/** The text under a heading (`### \`stream\``) up to the next heading. */
function section(heading: string): string | undefined {
  const lines = doc.split('\n');
  const at = lines.findIndex((l) => l.trim() === heading);
  if (at < 0) return undefined;
  const end = lines.findIndex((l, i) => i > at && /^#+ /.test(l));
  return lines.slice(at + 1, end < 0 ? undefined : end).join('\n');
}

/** First-column names of a section's tables (`| \`name\` | …`). */
const tableKeys = (text: string): string[] => [...text.matchAll(/^\| `([a-z0-9_.]+)` \|/gm)].map((m) => m[1]);

describe('docs/language.md', () => {
  for (const [block, schema] of Object.entries(BLOCK_SCHEMAS)) {
    it(`documents exactly the settings of \`${block}\``, () => {
      const text = section(`### \`${block}\``);
      expect(text, `docs/language.md has no "### \`${block}\`" section`).toBeDefined();
      expect(tableKeys(text!).sort()).toEqual(keysOf(schema).sort());
    });
  }

  // The profile table: one row per setting any reader declares (src/ir/profile-settings.ts), with
  // the readers named as the schemas say.
  it('documents exactly the profile settings and who reads each', () => {
    const owners = [
      { name: 'engine', schema: localSettings },
      { name: 'cluster', schema: clusterSettings },
      ...targets.map((t) => ({ name: t.name, schema: t.settings })),
    ];
    const declared = [...new Set(owners.flatMap((o) => Object.keys(o.schema.shape)))].sort();
    const text = section('### `profile`')!;
    expect(tableKeys(text).sort()).toEqual(declared);
    for (const m of text.matchAll(/^\| `([a-z0-9_.]+)` \| .*? \| ([a-z, ]+) \| .* \|$/gm)) {
      expect(m[2].split(', '), m[1]).toEqual(owners.filter((o) => m[1] in o.schema.shape).map((o) => o.name));
    }
  });

  it('documents exactly the check kinds', () => {
    const documented = [...doc.matchAll(/^#### `check ([a-z_]+)`$/gm)].map((m) => m[1]).sort();
    expect(documented).toEqual([...TABLE_CHECKS, ...STREAM_CHECKS].sort());
  });

  for (const [algorithm, params] of Object.entries(HYPERPARAMS)) {
    it(`documents every hyperparameter of \`${algorithm}\` with its default, and no other`, () => {
      const text = section(`##### \`${algorithm}\``);
      expect(text, algorithm).toBeDefined();
      const rows = new Map([...text!.matchAll(/^\| `([a-z0-9_]+)` \| `([^`]+)` \|/gm)].map((m) => [m[1], m[2]]));
      expect([...rows.keys()].sort()).toEqual(params.map((p) => p.name).sort());
      for (const p of params) expect(rows.get(p.name), p.name).toBe(p.default === undefined ? 'split.seed' : String(p.default));
    });
  }

  it('its examples in ``` blocks that are whole pipelines or blocks are valid', () => {
    const blocks = [...doc.matchAll(/```\n([\s\S]*?)```/g)].map((m) => m[1]).filter((b) => /^(var|model) /m.test(b) && !b.includes('…'));
    expect(blocks.length).toBeGreaterThanOrEqual(2);
    for (const b of blocks) {
      const spec = `pipeline doc {\n  source s file { path = "x.csv"  stream orders { }  stream rides { } }\n  cleanse rides { sql """ SELECT 1 AS station_id, DATE '2025-01-01' AS ride_day """ }\n${b}\n}\n`;
      const r = loadPipelineText(spec, '/tmp/doc.asg');
      expect(
        r.diagnostics.filter((d) => d.severity === 'error').map((d) => d.message),
        b,
      ).toEqual([]);
    }
  });
});
