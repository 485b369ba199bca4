// The settings the checker accepts, read from its schemas in zod (src/dsl/checker/schemas.ts, built
// in zod by src/util/schema.ts): what the language reference (docs/language.md) must document, no
// more and no less.
import type { z } from 'zod';
import * as S from '../../src/dsl/checker/schemas.js';
import type { Schema } from '../../src/util/schema.js';

interface Def {
  type: string;
  innerType?: z.ZodType;
  shape?: Record<string, z.ZodType>;
  options?: z.ZodType[];
}
const defOf = (s: z.ZodType): Def => (s as unknown as { _zod: { def: Def } })._zod.def;

function unwrap(s: z.ZodType): z.ZodType {
  let cur = s;
  for (let i = 0; i < 10; i++) {
    const d = defOf(cur);
    if ((d.type === 'optional' || d.type === 'default' || d.type === 'nullable') && d.innerType) cur = d.innerType;
    else break;
  }
  return cur;
}

/** Keys of an object schema, nested objects as `parent.child` (the parent too). */
export function keysOf(schema: z.ZodType, prefix = ''): string[] {
  const d = defOf(unwrap(schema));
  if (d.type !== 'object' || !d.shape) return [];
  return Object.entries(d.shape).flatMap(([k, v]) => {
    const inner = defOf(unwrap(v));
    return [prefix + k, ...(inner.type === 'object' ? keysOf(v, `${prefix}${k}.`) : [])];
  });
}

/** Block heading in docs/language.md → the schema of its settings. */
const blockSchemas: Record<string, Schema<unknown>> = {
  pipeline: S.pipelineSchema,
  var: S.varSchema,
  'source postgres': S.sourceSchemas.postgres,
  'source mysql': S.sourceSchemas.mysql,
  'source http': S.sourceSchemas.http,
  'source file': S.sourceSchemas.file,
  stream: S.streamSchema,
  cleanse: S.cleanseSchema,
  model: S.modelSchema,
  features: S.featuresSchema,
  entity: S.entitySchema,
  feature: S.featureSchema,
  train: S.trainSchema,
  serve: S.serveSchema,
  batch: S.batchSchema,
};
export const BLOCK_SCHEMAS: Record<string, z.ZodType> = Object.fromEntries(Object.entries(blockSchemas).map(([block, s]) => [block, s.zod()]));
