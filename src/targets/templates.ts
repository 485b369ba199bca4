// Handlebars templates for files meant for people (Python, SQL, READMEs). They live in the repo's
// templates/<target>/ folder; this file sits at the same depth under src/ and dist/, so the
// folder resolves the same way from sources (tsx) and from the built package.

import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Handlebars from 'handlebars';

const templatesDir = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'templates');

const hb = Handlebars.create();
// Python literals: repr-like quoting that is valid Python for strings, numbers, booleans, lists, dicts.
hb.registerHelper('py', (v: unknown) => new Handlebars.SafeString(pyLiteral(v)));
hb.registerHelper('json', (v: unknown) => new Handlebars.SafeString(JSON.stringify(v)));
hb.registerHelper('eq', (a: unknown, b: unknown) => a === b);

const cache = new Map<string, Handlebars.TemplateDelegate>();
let partials = false;

/**
 * Renders `templates/<name>` with the context. Templates never HTML-escape (they are not HTML).
 * `templates/shared/<name>.py.hbs` is the partial `{{> <name>}}` (code several scripts share).
 */
export function render(name: string, context: object): string {
  let t = cache.get(name);
  if (!t) {
    if (!partials) {
      const shared = join(templatesDir, 'shared');
      for (const f of readdirSync(shared)) hb.registerPartial(f.replace(/\.py\.hbs$/, ''), readFileSync(join(shared, f), 'utf8'));
      partials = true;
    }
    t = hb.compile(readFileSync(join(templatesDir, name), 'utf8'), { noEscape: true, strict: true });
    cache.set(name, t);
  }
  return t(context);
}

export function pyLiteral(v: unknown): string {
  if (v === null || v === undefined) return 'None';
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new Error(`not a finite number: ${v}`);
    return String(v);
  }
  if (typeof v === 'string') return JSON.stringify(v); // JSON string escapes are valid Python string escapes
  if (Array.isArray(v)) return `[${v.map(pyLiteral).join(', ')}]`;
  if (typeof v === 'object') {
    return `{${Object.entries(v as Record<string, unknown>)
      .map(([k, x]) => `${JSON.stringify(k)}: ${pyLiteral(x)}`)
      .join(', ')}}`;
  }
  throw new Error(`no Python literal for ${typeof v}`);
}
