// A spec's setting as a value: a literal as written, env() from the environment (else its
// default), secret() from the environment (its value recorded, so that messages redact it). Kept
// apart from apply.ts so that what reads a profile's settings (src/workspace/remote.ts: every plan)
// does not load the apply engine.

import type { Resolvable } from '../ir/types.js';
import { NodeError } from './executor.js';

export function resolver(env: Readonly<Record<string, string | undefined>>, secrets: Set<string>): (v: Resolvable) => string | number | boolean {
  return (v) => {
    switch (v.kind) {
      case 'literal':
        return v.value;
      case 'env': {
        const x = env[v.name];
        if (x !== undefined && x !== '') return x;
        if (v.default !== undefined) return v.default;
        throw new NodeError(`environment variable ${v.name} is not set and has no default`);
      }
      case 'secret': {
        const x = env[v.name];
        if (x === undefined || x === '') throw new NodeError(`secret ${v.name} is not set: export ${v.name} in the environment that runs asgard`);
        secrets.add(x);
        return x;
      }
    }
  };
}
