// `secret("X")` references whose variable is unset in this environment: a warning from validate,
// plan and apply before anything runs, naming the variable (never a value). Apply would otherwise
// call an API without credentials (an optional token) or fail half-way through.

import { Codes, diag } from '../diagnostics/catalogue.js';
import type { Diagnostic } from '../diagnostics/diagnostic.js';
import type { PipelineIR, Resolvable, Span } from '../ir/types.js';

/** A `secret("X")` reference of the spec: the variable, the setting, what holds it and where. */
export interface SecretRef {
  readonly name: string;
  readonly setting: string;
  readonly what: string;
  readonly span: Span;
}

/** The spec's secret references, in node order (the replayed plan keeps them: src/cli/plan-cache.ts). */
export function secretRefs(ir: Pick<PipelineIR, 'nodes'>): SecretRef[] {
  const out: SecretRef[] = [];
  const visit = (r: Resolvable | undefined, setting: string, what: string, span: Span) => {
    if (r?.kind === 'secret') out.push({ name: r.name, setting, what, span });
  };
  for (const n of ir.nodes) {
    if (n.kind === 'source') for (const [k, v] of Object.entries(n.connector.settings)) visit(v, k, `source \`${n.connector.name}\``, n.connector.span);
    if (n.kind === 'train' && n.mlflow) visit(n.mlflow.trackingUri, 'mlflow.tracking_uri', `train \`${n.name}\``, n.span);
  }
  return out;
}

export function unsetSecrets(ir: Pick<PipelineIR, 'nodes'> | readonly SecretRef[], env: Readonly<Record<string, string | undefined>>): Diagnostic[] {
  const out = new Map<string, Diagnostic>();
  for (const { name, setting, what, span } of Array.isArray(ir) ? ir : secretRefs(ir as Pick<PipelineIR, 'nodes'>)) {
    if ((env[name] ?? '') !== '') continue;
    const key = `${name}|${what}|${setting}`;
    if (!out.has(key)) {
      out.set(
        key,
        diag(Codes.SecretUnset, `\`${setting}\` of ${what} is \`secret("${name}")\`, but ${name} is not set in this environment`, span, {
          hint: `set ${name} before apply; unset, the node runs without it${setting === 'token' ? ' (an API is called without credentials)' : ' or fails'}`,
        }),
      );
    }
  }
  return [...out.values()];
}
