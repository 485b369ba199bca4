// `profile NAME { … }` → Profile. Nested maps are flattened into dotted keys
// (`driver = { cores = 1 }` → `driver.cores`), so every setting stays a Resolvable.

import { Codes, diag } from '../../diagnostics/catalogue.js';
import type { Profile, Resolvable } from '../../ir/types.js';
import type { Attribute, Block } from '../ast.js';
import { type Ctx, labelsOf, rejectExtra, splitBody } from './context.js';
import { toResolvable } from './values.js';

export function checkProfile(ctx: Ctx, b: Block): Profile | undefined {
  const labels = labelsOf(ctx, b, ['name'], 'profile NAME { … }');
  if (!labels) return undefined;
  const [name] = labels;
  const body = splitBody(b.body);
  const what = `profile \`${name}\``;
  rejectExtra(ctx, body, what, {});
  const settings: Record<string, Resolvable> = {};
  const firstAt = new Map<string, Attribute>();
  let target: Profile['target'] = name === 'local' ? 'local' : 'kubernetes';
  let ok = true;
  const visit = (attrs: readonly Attribute[], prefix: string): void => {
    for (const a of attrs) {
      const key = prefix + a.key;
      const prev = firstAt.get(key);
      if (prev) {
        ctx.report(diag(Codes.DuplicateSetting, `\`${key}\` is set twice in ${what}`, a.keySpan, { related: [{ message: 'first set here', span: prev.keySpan }] }));
        ok = false;
        continue;
      }
      firstAt.set(key, a);
      if (key === 'target') {
        const v = a.value.kind === 'ref' ? a.value.text : a.value.kind === 'string' ? a.value.value : undefined;
        if (v === 'local' || v === 'kubernetes') target = v;
        else {
          ctx.report(diag(Codes.InvalidValue, '`target` must be one of `local`, `kubernetes`', a.value.span));
          ok = false;
        }
        continue;
      }
      if (a.value.kind === 'map') {
        visit(a.value.entries, `${key}.`);
        continue;
      }
      const r = toResolvable(a.value, key, ctx.diags);
      if (r) settings[key] = r;
      else ok = false;
    }
  };
  visit(body.attrs, '');
  return ok ? { name, target, settings, span: b.span } : undefined;
}
