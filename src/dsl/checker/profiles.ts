// `profile NAME { … }` → Profile. Nested maps are flattened into dotted keys
// (`driver = { cores = 1 }` → `driver.cores`), so every setting stays a Resolvable.

import { Codes, diag } from '../../diagnostics/catalogue.js';
import type { Profile, Resolvable, Span } from '../../ir/types.js';
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
  const spans: Record<string, { key: Span; value: Span }> = {};
  let target: Profile['target'] | undefined;
  let ok = true;
  const visit = (attrs: readonly Attribute[], prefix: string): void => {
    for (const a of attrs) {
      const key = prefix + a.key;
      const prev = firstAt.get(key);
      if (prev) {
        ctx.report(
          diag(Codes.DuplicateSetting, `\`${key}\` is set twice in ${what}`, a.keySpan, { related: [{ message: 'first set here', span: prev.keySpan }] }),
        );
        ok = false;
        continue;
      }
      firstAt.set(key, a);
      if (key === 'target') {
        const v = a.value.kind === 'ref' ? a.value.text : a.value.kind === 'string' ? a.value.value : undefined;
        if (v === 'local' || v === 'kubernetes' || v === 'cluster') target = v;
        else {
          ctx.report(diag(Codes.InvalidValue, '`target` must be one of `local`, `kubernetes`, `cluster`', a.value.span));
          ok = false;
        }
        continue;
      }
      if (a.value.kind === 'map') {
        visit(a.value.entries, `${key}.`);
        continue;
      }
      const r = toResolvable(a.value, key, ctx.diags);
      spans[key] = { key: a.keySpan, value: a.value.span };
      if (r) settings[key] = r;
      else ok = false;
    }
  };
  visit(body.attrs, '');
  // A profile naming a Spark master runs its cleanses there (`asgard apply --profile NAME`).
  target ??= name === 'local' ? 'local' : settings.spark_master ? 'cluster' : 'kubernetes';
  if (target === 'cluster' && !settings.spark_master) {
    ctx.report(
      diag(
        Codes.MissingSetting,
        `${what} targets \`cluster\` but has no \`spark_master\` (the Spark master URL, e.g. "spark://host:7077" or "k8s://https://host:6443")`,
        b.span,
      ),
    );
    ok = false;
  }
  return ok ? { name, target, settings, settingSpans: spans, span: b.span } : undefined;
}
