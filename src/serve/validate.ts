// zod-checked request bodies (all but the inference hot path, see inference.ts) and the mapping of
// a zod error to `message` + `details.field`.

import { z } from 'zod';
import { MAX_QUERY_LIMIT } from './query-door.js';

export const QueryBody = z
  .object({
    sql: z.string().min(1),
    limit: z.number().int().positive().max(MAX_QUERY_LIMIT).optional(),
  })
  .strict();

export function zodDetails(err: z.ZodError): [string, { field: string; issues: { field: string; message: string }[] }] {
  const issues = err.issues.map((i) => {
    const keys = i.code === 'unrecognized_keys' ? ((i as { keys?: string[] }).keys ?? []) : [];
    const path = [...i.path.map(String), ...(keys.length ? [keys[0]] : [])].join('.') || '(body)';
    const message = i.code === 'unrecognized_keys' ? `unknown field ${keys.join(', ')}` : i.message;
    return { field: path, message };
  });
  const first = issues[0] ?? { field: '(body)', message: 'invalid body' };
  return [`${first.field}: ${first.message}`, { field: first.field, issues }];
}
