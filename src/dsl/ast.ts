// The readonly syntax tree of a spec: what the parser saw, with a kind and a span on every node.
// It is generic (HCL-like blocks, attributes, values); what a block means is the checker's business.

import type { Span } from '../ir/types.js';

export interface StringValue {
  readonly kind: 'string';
  readonly value: string;
  readonly span: Span;
}
export interface NumberValue {
  readonly kind: 'number';
  readonly value: number;
  readonly text: string;
  readonly span: Span;
}
export interface BoolValue {
  readonly kind: 'bool';
  readonly value: boolean;
  readonly span: Span;
}
/** `30d`, `6h`, `15m`, `90s`. */
export interface DurationValue {
  readonly kind: 'duration';
  readonly text: string;
  readonly seconds: number;
  readonly span: Span;
}
/** A bare identifier (`table`) or a dotted reference (`gold.customer_metrics`). */
export interface RefValue {
  readonly kind: 'ref';
  readonly parts: readonly string[];
  readonly text: string;
  readonly span: Span;
}
export interface ListValue {
  readonly kind: 'list';
  readonly items: readonly Value[];
  readonly span: Span;
}
export interface MapValue {
  readonly kind: 'map';
  readonly entries: readonly Attribute[];
  readonly span: Span;
}
/** `env("X", "default")`, `secret("X")`, `cron("0 * * * *")`, and check calls. */
export interface CallValue {
  readonly kind: 'call';
  readonly name: string;
  readonly nameSpan: Span;
  readonly args: readonly Arg[];
  readonly span: Span;
}
/** `random_forest { n_estimators = 100 }`. */
export interface TaggedValue {
  readonly kind: 'tagged';
  readonly name: string;
  readonly nameSpan: Span;
  readonly map: MapValue;
  readonly span: Span;
}
/** A SQL body written as a value (`"""…"""`): only meaningful after `sql`. */
export interface SqlTextValue {
  readonly kind: 'sqltext';
  readonly text: string;
  readonly bodySpan: Span;
  readonly span: Span;
}

export type Value = StringValue | NumberValue | BoolValue | DurationValue | RefValue | ListValue | MapValue | CallValue | TaggedValue | SqlTextValue;

/** A call argument: positional or `name = value`. */
export interface Arg {
  readonly name?: string;
  readonly nameSpan?: Span;
  readonly value: Value;
  readonly span: Span;
}

export interface Attribute {
  readonly kind: 'attribute';
  readonly key: string;
  readonly keySpan: Span;
  readonly value: Value;
  readonly span: Span;
}

export interface Label {
  readonly text: string;
  readonly span: Span;
}

export interface Block {
  readonly kind: 'block';
  readonly type: string;
  readonly typeSpan: Span;
  readonly labels: readonly Label[];
  /** Absent for a header-only block such as `feature total_purchases int64`. */
  readonly body?: readonly BodyItem[];
  readonly span: Span;
}

/** `sql """ … """`: `bodySpan` starts at the first character after the opening quotes. */
export interface SqlItem {
  readonly kind: 'sql';
  readonly key: string;
  readonly keySpan: Span;
  readonly text: string;
  readonly bodySpan: Span;
  readonly terminated: boolean;
  readonly span: Span;
}

/** `check not_null(col)`, `check row_count(min = 1)`, `check sql """ … """`. */
export interface CheckItem {
  readonly kind: 'check';
  readonly name: string;
  readonly nameSpan: Span;
  readonly args: readonly Arg[];
  readonly sql?: { readonly text: string; readonly bodySpan: Span; readonly terminated: boolean };
  readonly span: Span;
}

export type BodyItem = Attribute | Block | SqlItem | CheckItem;

export interface SpecFile {
  readonly kind: 'file';
  readonly file: string;
  readonly items: readonly BodyItem[];
}
