// src/util/schema.ts checks a valid value without zod: its answer must be zod's. For every schema of
// the spec checker (src/dsl/checker/schemas.ts) and the state file (src/planner/state-store.ts), on
// seeded values made from the schema (mostly well-formed, some broken at one place) and on junk:
// when the check takes a value, zod takes it too and returns the same value (the same keys in the
// same order, the same present-but-undefined keys); when the check refuses it for certain, zod
// refuses it; and safeParse is always zod's answer.
import { describe, expect, it } from 'vitest';
import * as specSchemas from '../../src/dsl/checker/schemas.js';
import { CallV, DurationV, SqlTextV, TaggedV } from '../../src/dsl/checker/plain.js';
import { pipelineStateSchema } from '../../src/planner/state-store.js';
import { type Schema, z } from '../../src/util/schema.js';
import { mulberry32 } from '../helpers/prng.js';

interface Def {
  type: string;
  [k: string]: unknown;
}
const defOf = (s: unknown): Def => (s as { _zod: { def: Def } })._zod.def;

const junkValues = (): unknown[] => [
  undefined,
  null,
  '',
  'x',
  'table',
  '/abs/path',
  'a/../b',
  0,
  -0,
  1,
  -1,
  0.5,
  1.5,
  2 ** 60,
  Number.NaN,
  Number.POSITIVE_INFINITY,
  true,
  false,
  [],
  ['a'],
  [1],
  {},
  Object.create(null),
  JSON.parse('{"__proto__":{"a":1}}'),
  new DurationV(60, '1m'),
  new CallV('env', ['X'], {}),
  new TaggedV('random_forest', { n: 1 }),
  new SqlTextV('select 1'),
  new Map(),
  new Date(0),
];

/** A value for a zod schema: well-formed with some chance of a break at any place. */
function valueFor(schema: unknown, r: () => number, depth = 0): unknown {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)];
  if (r() < 0.04 || depth > 6) return pick(junkValues());
  const d = defOf(schema);
  switch (d.type) {
    case 'string':
      return pick(['', 'a', 'orders', 'BIGINT', '/api', 'x/../y', '/abs']);
    case 'number':
      return pick([0, 1, -1, 0.2, 0.5, 1, 2, 3.5, 42, 500, 2 ** 53, -5]);
    case 'boolean':
      return r() < 0.5;
    case 'literal':
      return pick(d.values as unknown[]);
    case 'enum':
      return pick(Object.values(d.entries as Record<string, unknown>));
    case 'custom':
      return pick([new DurationV(30, '30s'), new CallV('env', ['A'], {}), new CallV('secret', ['T'], {}), new TaggedV('gradient_boosting', {})]);
    case 'unknown':
      return pick(junkValues());
    case 'optional':
      return r() < 0.4 ? undefined : valueFor(d.innerType, r, depth + 1);
    case 'array': {
      const n = Math.floor(r() * 4);
      return Array.from({ length: n }, () => valueFor(d.element, r, depth + 1));
    }
    case 'record': {
      const out: Record<string, unknown> = {};
      const n = Math.floor(r() * 4);
      for (let i = 0; i < n; i++) out[pick(['a', 'b', '1', 'c d', 'node.x'])] = valueFor(d.valueType, r, depth + 1);
      return out;
    }
    case 'union':
      return valueFor(pick(d.options as unknown[]), r, depth + 1);
    case 'object': {
      const shape = d.shape as Record<string, unknown>;
      const out: Record<string, unknown> = r() < 0.05 ? Object.create(null) : {};
      // Keys in a shuffled order: the parse's order is the shape's.
      const keys = Object.keys(shape).sort(() => r() - 0.5);
      for (const k of keys) {
        const f = defOf(shape[k]);
        if (f.type === 'optional' && r() < 0.5) continue;
        if (r() < 0.02) continue;
        out[k] = f.type === 'optional' && r() < 0.05 ? undefined : valueFor(shape[k], r, depth + 1);
      }
      if (r() < 0.08) out[pick(['extra', 'descripton', 'x'])] = pick(junkValues());
      return out;
    }
    default:
      throw new Error(`test: no values for zod's ${d.type}`);
  }
}

/** A value's structure with key order and present-undefined keys visible (instances by identity). */
function shapeOf(v: unknown, seen: Map<unknown, number>): unknown {
  if (Array.isArray(v)) return ['array', v.map((x) => shapeOf(x, seen))];
  if (v !== null && typeof v === 'object') {
    const proto = Object.getPrototypeOf(v);
    if (proto !== Object.prototype && proto !== null) {
      if (!seen.has(v)) seen.set(v, seen.size);
      return ['instance', seen.get(v)];
    }
    return ['object', Object.keys(v).map((k) => [k, shapeOf((v as Record<string, unknown>)[k], seen)])];
  }
  if (typeof v === 'number') return ['number', Object.is(v, -0) ? '-0' : String(v)];
  return [typeof v, v];
}
const sameParse = (a: unknown, b: unknown): boolean => {
  const seen = new Map<unknown, number>();
  return JSON.stringify(shapeOf(a, seen)) === JSON.stringify(shapeOf(b, seen));
};

const schemas: [string, Schema<unknown>][] = [
  ...Object.entries(specSchemas).flatMap(([name, s]): [string, Schema<unknown>][] => {
    if (s instanceof Object && 'check' in s) return [[name, s as Schema<unknown>]];
    if (name === 'sourceSchemas') return Object.entries(s as Record<string, Schema<unknown>>).map(([k, v]) => [`sourceSchemas.${k}`, v]);
    return [];
  }),
  ['pipelineStateSchema', pipelineStateSchema as Schema<unknown>],
];

describe('schema.ts against zod', () => {
  it('covers the checker and state schemas', () => {
    expect(schemas.length).toBeGreaterThanOrEqual(15);
  });

  for (const [name, schema] of schemas) {
    it(`${name}: the check's answers are zod's`, () => {
      const r = mulberry32(name.length * 7919 + 17);
      const zs = schema.zod();
      let taken = 0;
      let refused = 0;
      const values = [...junkValues(), ...Array.from({ length: 1500 }, () => valueFor(zs, r))];
      for (const v of values) {
        const fast = schema.check(v);
        const real = zs.safeParse(v);
        const mine = schema.safeParse(v);
        expect(mine.success).toBe(real.success);
        if (typeof fast === 'symbol') {
          if (fast.description === 'invalid') {
            refused++;
            expect(real.success, `zod takes what the check refuses: ${String(JSON.stringify(v))}`).toBe(false);
          }
          continue;
        }
        taken++;
        expect(real.success, `zod refuses what the check takes: ${String(JSON.stringify(v))}`).toBe(true);
        if (real.success) expect(sameParse(fast, real.data), `parse differs for ${String(JSON.stringify(v))}`).toBe(true);
        if (mine.success && real.success) expect(sameParse(mine.data, real.data)).toBe(true);
      }
      // The values reach both answers (a generator that never makes a valid value tests nothing).
      expect(taken).toBeGreaterThan(50);
      expect(refused).toBeGreaterThan(50);
    });
  }

  it('builds the same chain of checks as zod', () => {
    const s = z.number({ error: 'a number' }).int({ error: 'an integer' }).positive().max(10).optional();
    for (const v of [undefined, 0, 1, 10, 11, 2.5, -1, '1', Number.NaN]) {
      const fast = s.check(v);
      const real = s.zod().safeParse(v);
      expect(typeof fast !== 'symbol', String(v)).toBe(real.success);
    }
    expect(s.zod().safeParse('1').error?.issues[0].message).toBe('a number');
    expect(s.zod().safeParse(1.5).error?.issues[0].message).toBe('an integer');
  });

  it('refuses .refine() after .optional() (zod would run it on an absent key)', () => {
    expect(() => z.string().optional().refine()).toThrow(/before \.optional\(\)/);
  });
});
