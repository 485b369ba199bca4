// docs/http.md and the server cannot drift: every route the server answers, every error code it
// sends (in the row of its status) and every field its request bodies accept are on the page. The
// routes, codes and fields are read from src/serve/, never listed here.

import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BatchBody } from '../../src/serve/batch.js';
import { QueryBody } from '../../src/serve/validate.js';

const root = resolve(__dirname, '..', '..');
const doc = readFileSync(join(root, 'docs', 'http.md'), 'utf8');
const serveDir = join(root, 'src', 'serve');
const sources = readdirSync(serveDir)
  .filter((f) => f.endsWith('.ts'))
  .map((f) => readFileSync(join(serveDir, f), 'utf8'))
  .join('\n');

describe('docs/http.md', () => {
  it('lists every route of src/serve/server.ts', () => {
    const header = readFileSync(join(serveDir, 'server.ts'), 'utf8');
    const routes = [...header.matchAll(/^\/\/ {3}(GET|POST) +(\S+)/gm)].map((m) => [m[1], m[2]] as const);
    expect(routes.length).toBeGreaterThanOrEqual(7);
    for (const [method, path] of routes) {
      const bare = path.replace(/\[.*$/, '').replace(/\{key\}/, '{entity_key}');
      for (const p of bare
        .split(',')
        .map((x) => x.trim())
        .filter(Boolean))
        expect(doc, `${method} ${p}`).toContain(`${method} ${p}`);
    }
  });

  it('names every error code the server sends, in the row of its status', () => {
    const codes = [
      ...[...sources.matchAll(/HttpError\(\s*(\d{3}),\s*'([a-z_]+)'/g)].map((m) => [m[1], m[2]]),
      ...[...sources.matchAll(/\[(\d{3}), '([a-z_]+)'\]/g)].map((m) => [m[1], m[2]]),
    ].filter(([status]) => status !== '500');
    expect(codes.length).toBeGreaterThan(20);
    for (const [status, code] of codes) {
      const row = doc.split('\n').find((l) => l.startsWith(`| ${status} |`));
      expect(row, `a row for status ${status}`).toBeDefined();
      expect(row, `${status} ${code}`).toContain(`\`${code}\``);
    }
  });

  it('documents every field of the request bodies', () => {
    const inference = /const TOP_LEVEL = new Set\(\[([^\]]*)\]\)/
      .exec(readFileSync(join(serveDir, 'inference.ts'), 'utf8'))![1]
      .match(/'([a-z_]+)'/g)!
      .map((s) => s.slice(1, -1));
    const fields = [...inference, ...Object.keys(BatchBody.shape), ...Object.keys(QueryBody.shape)];
    for (const f of fields) expect(doc, f).toContain(`\`${f}\``);
  });
});
