// `secret("X")` references whose variable is unset in this environment: a warning from validate,
// plan and apply before anything runs, naming the variable (never a value). Apply would otherwise
// call an API without credentials (an optional token) or fail half-way through.

import { Codes, diag } from '../diagnostics/catalogue.js';
import type { Diagnostic } from '../diagnostics/diagnostic.js';
import type { PipelineIR, Resolvable, Span } from '../ir/types.js';

export function unsetSecrets(ir: PipelineIR, env: Readonly<Record<string, string | undefined>>): Diagnostic[] {
  const out = new Map<string, Diagnostic>();
  const visit = (r: Resolvable | undefined, setting: string, what: string, span: Span) => {
    if (r?.kind !== 'secret' || (env[r.name] ?? '') !== '') return;
    const key = `${r.name}|${what}|${setting}`;
    if (!out.has(key)) {
      out.set(
        key,
        diag(Codes.SecretUnset, `\`${setting}\` of ${what} is \`secret("${r.name}")\`, but ${r.name} is not set in this environment`, span, {
          hint: `set ${r.name} before apply; unset, the node runs without it${setting === 'token' ? ' (an API is called without credentials)' : ' or fails'}`,
        }),
      );
    }
  };
  for (const n of ir.nodes) {
    if (n.kind === 'source') for (const [k, v] of Object.entries(n.connector.settings)) visit(v, k, `source \`${n.connector.name}\``, n.connector.span);
    if (n.kind === 'train' && n.mlflow) visit(n.mlflow.trackingUri, 'mlflow.tracking_uri', `train \`${n.name}\``, n.span);
  }
  return [...out.values()];
}
