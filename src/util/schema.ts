// Schemas in zod's words, checked without zod while the value is valid. A valid value — nearly every
// value a plan checks: each block's settings, the state file — is checked here by plain code that
// takes exactly what zod takes and returns what zod's parse returns (the same keys, in the order
// zod gives them). Anything else, and anything this code cannot follow, is zod's to judge: the
// schema is built in zod (once, on first need) and its safeParse answers, so every error and its
// wording is zod's. Importing zod costs a process ~35 ms of CPU (its 590 kB bundle) and building
// the checker's schemas in it ~10 ms more; the zod checks of a 1,000-node spec's settings ~20 ms.
//
// Only the part of zod's API asgard's spec and state schemas use: z.string, number, boolean, enum,
// literal, instanceof, unknown, array, record, union, object, strictObject, looseObject; .optional,
// .refine, string .min, number .int/.positive/.nonnegative/.min/.max. Each call builds both the
// check and the zod schema's recipe, in the order of the calls. test/util/schema.test.ts holds the
// two to the same answers.

import { createRequire } from 'node:module';
import type * as Zod from 'zod';

type ZodModule = typeof Zod;
type ZodSchema = Zod.ZodType;
/** zod's params of a schema or check: the error text is what a diagnostic says the value must be. */
export interface Params {
  readonly error?: string;
  readonly message?: string;
}

/** A check's answer when zod certainly refuses the value. */
const INVALID: unique symbol = Symbol('invalid');
/** A check's answer when this code cannot tell (a value it does not follow): zod decides. */
const UNSURE: unique symbol = Symbol('unsure');
type No = typeof INVALID | typeof UNSURE;
type Check<T> = (input: unknown) => T | No;
const no = (x: unknown): x is No => x === INVALID || x === UNSURE;

// In dist, this require names zod's bundle (scripts/bundle-packages.mjs rewrites it).
const require = createRequire(import.meta.url);
let zodModule: ZodModule | undefined;
/** zod, loaded synchronously on first need. */
function loadZod(): ZodModule {
  zodModule ??= require('zod') as ZodModule;
  return zodModule;
}

export type SafeParse<T> = { readonly success: true; readonly data: T } | { readonly success: false; readonly error: Zod.ZodError };

export class Schema<T> {
  /** The type of a valid value's parse (zod's z.infer). */
  declare readonly _output: T;
  private built?: ZodSchema;

  constructor(
    /** The value zod's parse returns, or INVALID / UNSURE. */
    readonly check: Check<T>,
    private readonly make: (z: ZodModule) => ZodSchema,
  ) {}

  /** zod's safeParse: the same success and data; on a failure, zod's error. */
  safeParse(input: unknown): SafeParse<T> {
    const out = this.check(input);
    if (!no(out)) return { success: true, data: out };
    return this.zod().safeParse(input) as SafeParse<T>;
  }

  /** The same schema in zod (built once): what explains a failure. */
  zod(): ZodSchema {
    this.built ??= this.make(loadZod());
    return this.built;
  }

  optional(): Optional<T> {
    const check = this.check;
    return new Optional<T>(
      (v) => (v === undefined ? undefined : check(v)),
      () => this.zod().optional(),
    );
  }

  refine(ok: (value: T) => boolean, params?: Params): Schema<T> {
    return new Schema<T>(this.and(ok), () => this.zod().refine(ok as (v: unknown) => boolean, params));
  }

  /** This check, then `ok` on its value (a check that refuses is zod's issue: INVALID). */
  protected and(ok: (value: T) => boolean): Check<T> {
    const check = this.check;
    return (v) => {
      const out = check(v);
      return no(out) ? out : ok(out) ? out : INVALID;
    };
  }
}

/** An optional schema: as an object's field, its key may be absent. */
export class Optional<T> extends Schema<T | undefined> {
  declare readonly _optional: true;
  override refine(): never {
    // zod runs an optional schema's checks on an absent key's undefined too: not followed here.
    throw new Error('schema.ts: .refine() before .optional(), not after');
  }
}

export class StringSchema extends Schema<string> {
  min(length: number, params?: Params): StringSchema {
    return new StringSchema(
      this.and((s) => s.length >= length),
      () => (this.zod() as Zod.ZodString).min(length, params),
    );
  }
}

export class NumberSchema extends Schema<number> {
  private with(ok: (n: number) => boolean, add: (s: Zod.ZodNumber) => ZodSchema): NumberSchema {
    return new NumberSchema(this.and(ok), () => add(this.zod() as Zod.ZodNumber));
  }
  /** zod's int: a safe integer. */
  int(params?: Params): NumberSchema {
    return this.with(Number.isSafeInteger, (s) => s.int(params));
  }
  positive(params?: Params): NumberSchema {
    return this.with(
      (n) => n > 0,
      (s) => s.positive(params),
    );
  }
  nonnegative(params?: Params): NumberSchema {
    return this.with(
      (n) => n >= 0,
      (s) => s.nonnegative(params),
    );
  }
  min(bound: number, params?: Params): NumberSchema {
    return this.with(
      (n) => n >= bound,
      (s) => s.min(bound, params),
    );
  }
  max(bound: number, params?: Params): NumberSchema {
    return this.with(
      (n) => n <= bound,
      (s) => s.max(bound, params),
    );
  }
}

export type Infer<S extends Schema<unknown>> = S['_output'];
type Shape = Readonly<Record<string, Schema<unknown>>>;
type OptionalKeys<S extends Shape> = { [K in keyof S]: S[K] extends Optional<unknown> ? K : never }[keyof S];
type Flat<T> = { [K in keyof T]: T[K] };
type ObjectOf<S extends Shape> = Flat<{ [K in Exclude<keyof S, OptionalKeys<S>>]: Infer<S[K]> } & { [K in OptionalKeys<S>]?: Infer<S[K]> }>;

/** A non-array object (zod's test), or UNSURE when its prototype is not a plain object's (zod reads inherited keys too). */
function plainObject(v: unknown): Record<string, unknown> | No {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return INVALID;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null ? (v as Record<string, unknown>) : UNSURE;
}

/** Keys outside the shape: strict refuses them, strip drops them, loose keeps them (after the shape's, in the input's order). */
type Extra = 'strict' | 'strip' | 'loose';

function object<S extends Shape>(shape: S, extra: Extra, params?: Params): Schema<ObjectOf<S>> {
  const keys = Object.keys(shape);
  const known = new Set(keys);
  const fields = keys.map((key) => ({ key, check: shape[key].check, optional: shape[key] instanceof Optional }));
  const check: Check<ObjectOf<S>> = (v) => {
    const input = plainObject(v);
    if (no(input)) return input;
    const out: Record<string, unknown> = {};
    for (const f of fields) {
      // zod asks `key in input` and leaves an absent optional key out.
      if (!(f.key in input)) {
        if (f.optional) continue;
        return INVALID;
      }
      const x = f.check(input[f.key]);
      if (no(x)) return x;
      out[f.key] = x;
    }
    if (extra !== 'strip') {
      for (const k in input) {
        if (known.has(k)) continue;
        if (k === '__proto__') return UNSURE;
        if (extra === 'strict') return INVALID;
        out[k] = input[k];
      }
    }
    return out as ObjectOf<S>;
  };
  return new Schema(check, (z) => {
    const zodShape = Object.fromEntries(keys.map((k) => [k, shape[k].zod()]));
    return extra === 'strict' ? z.strictObject(zodShape, params) : extra === 'loose' ? z.looseObject(zodShape, params) : z.object(zodShape, params);
  });
}

/** The builders, named as zod's: a schema module changes only its import. */
export const z = {
  string: (params?: Params) =>
    new StringSchema(
      (v) => (typeof v === 'string' ? v : INVALID),
      (z) => z.string(params),
    ),
  // zod's number is finite: not NaN, not ±Infinity.
  number: (params?: Params) =>
    new NumberSchema(
      (v) => (typeof v === 'number' && Number.isFinite(v) ? v : INVALID),
      (z) => z.number(params),
    ),
  boolean: (params?: Params) =>
    new Schema<boolean>(
      (v) => (typeof v === 'boolean' ? v : INVALID),
      (z) => z.boolean(params),
    ),
  unknown: () =>
    new Schema<unknown>(
      (v) => v,
      (z) => z.unknown(),
    ),
  enum: <const V extends readonly [string, ...string[]]>(values: V, params?: Params) => {
    const set = new Set<unknown>(values);
    return new Schema<V[number]>(
      (v) => (set.has(v) ? (v as V[number]) : INVALID),
      (z) => z.enum(values as unknown as [string, ...string[]], params),
    );
  },
  literal: <const V extends string | number | boolean>(value: V, params?: Params) =>
    new Schema<V>(
      (v) => (v === value ? value : INVALID),
      (z) => z.literal(value, params),
    ),
  instanceof: <C extends abstract new (...args: never[]) => unknown>(cls: C, params?: Params) =>
    new Schema<InstanceType<C>>(
      (v) => (v instanceof cls ? (v as InstanceType<C>) : INVALID),
      (z) => z.instanceof(cls as never, params),
    ),
  array: <T>(element: Schema<T>, params?: Params) => {
    const el = element.check;
    return new Schema<T[]>(
      (v) => {
        if (!Array.isArray(v)) return INVALID;
        const out: T[] = new Array(v.length);
        for (let i = 0; i < v.length; i++) {
          const x = el(v[i]);
          if (no(x)) return x;
          out[i] = x;
        }
        return out;
      },
      (z) => z.array(element.zod(), params),
    );
  },
  /** A record of string keys (z.string() the key schema: every own key is one). */
  record: <T>(key: StringSchema, value: Schema<T>, params?: Params) => {
    const val = value.check;
    return new Schema<Record<string, T>>(
      (v) => {
        const input = plainObject(v);
        if (no(input)) return input;
        if (Object.getOwnPropertySymbols(input).length) return UNSURE;
        const out: Record<string, T> = {};
        for (const k of Object.keys(input)) {
          if (k === '__proto__') return UNSURE;
          const x = val(input[k]);
          if (no(x)) return x;
          out[k] = x;
        }
        return out;
      },
      (z) => z.record(key.zod() as Zod.ZodString, value.zod(), params),
    );
  },
  /** zod takes the first option that takes the value: a later one only when each before it certainly refuses. */
  union: <const O extends readonly Schema<unknown>[]>(options: O, params?: Params) => {
    const checks = options.map((o) => o.check);
    return new Schema<Infer<O[number]>>(
      (v) => {
        for (const c of checks) {
          const out = c(v);
          if (out === UNSURE) return UNSURE;
          if (out !== INVALID) return out as Infer<O[number]>;
        }
        return INVALID;
      },
      (z) => z.union(options.map((o) => o.zod()) as unknown as [ZodSchema, ...ZodSchema[]], params),
    );
  },
  object: <S extends Shape>(shape: S, params?: Params) => object(shape, 'strip', params),
  strictObject: <S extends Shape>(shape: S, params?: Params) => object(shape, 'strict', params),
  looseObject: <S extends Shape>(shape: S, params?: Params) => object(shape, 'loose', params),
};
