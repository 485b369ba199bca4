// Bodies rendered for schema binding (DuckDB, at a fixed logical time), kept by text without the SQL
// toolkit: the SQL analysis makes them (src/sql/analyze.ts, its fast path src/sql/fast-analyze.ts,
// or polyglot through src/sql/transpile.ts) and the binder (src/engine/schemas.ts) fills in its
// tables. A plan whose bodies are all in the fast path's subset so never loads polyglot.

import type { NodeId } from '../ir/types.js';
import { SqlToolkitNotLoaded } from './toolkit.js';

/** A body rendered for one dialect with placeholders where its tables go: `tables[i]` fills `__asg_ref_i__`. */
export interface RenderedTemplate {
  readonly sql: string;
  readonly tables: readonly NodeId[];
}

/**
 * The logical time schema binding renders with: types never depend on it, and one fixed value lets
 * the SQL analysis render each body for binding once and the binder reuse it.
 */
export const BIND_TIME = new Date('2000-01-01T00:00:00Z');

/** Bind renderings of bodies without variables, by text. Bounded; cleared wholesale when full. */
const bindTemplates = new Map<string, RenderedTemplate>();

/** Remembers a body's bind rendering (made by the SQL analysis, or read back from its cache). */
export function rememberBindTemplate(text: string, t: RenderedTemplate): void {
  if (bindTemplates.size >= 50_000) bindTemplates.clear();
  bindTemplates.set(text, t);
}

/** The remembered bind rendering of a body's text, if any. */
export const bindTemplateFor = (text: string): RenderedTemplate | undefined => bindTemplates.get(text);

/** Swaps our own placeholders (identifiers we put in the tree) for the caller's table text. */
export function fillTemplate(t: RenderedTemplate, tableRef: (nodeId: NodeId) => string): string {
  const refs = t.tables.map((id) => tableRef(id));
  return t.sql.replace(/"?__asg_ref_(\d+)__"?/gi, (_m, i: string) => refs[Number(i)]);
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Renderer = (text: string, ast: any[]) => RenderedTemplate | undefined;
let renderer: Renderer | undefined;

/** src/sql/transpile.ts hands over its renderer when it loads (with the toolkit). */
export function provideBindRenderer(r: Renderer): void {
  renderer ??= r;
}

/** polyglot's bind rendering of a tree parsed from the body's exact text (the toolkit is loaded). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function renderBindTemplate(text: string, ast: any[]): RenderedTemplate | undefined {
  if (!renderer) throw new SqlToolkitNotLoaded();
  return renderer(text, ast);
}
