// Shared state of one check run: the diagnostics accumulated so far, the node drafts and the
// references still to resolve once every node is known.

import { Codes, diag, didYouMean } from '../../diagnostics/catalogue.js';
import type { Diagnostic } from '../../diagnostics/diagnostic.js';
import type { NodeId, PipelineNode, RowGuard, SqlBody, Span } from '../../ir/types.js';
import type { SqlAnalysisCache } from '../../sql/analyze.js';
import type { Attribute, Block, BodyItem, CheckItem, SqlItem } from '../ast.js';

export type Mutable<T> = { -readonly [K in keyof T]: T[K] };

export interface Draft {
  node: Mutable<PipelineNode>;
  readonly inputs: Set<NodeId>;
  /** Where node-level problems (duplicates, cycles) are reported: the block header. */
  readonly at: Span;
  /** Where the table this node writes is named, when that is not the header (batch `to`). */
  readonly outputAt?: Span;
}

/** What resolution can ask once every node exists. */
export interface Resolver {
  /** The node producing a table (`silver.x`, `gold.batch_output`), if any. */
  producerOf(table: string): NodeId | undefined;
  hasNode(id: NodeId): boolean;
  readonly tables: readonly string[];
  readonly nodeIds: readonly NodeId[];
}

/** A SQL body awaiting analysis, and where to put what it reads. */
export interface PendingSql {
  readonly body: Mutable<SqlBody>;
  readonly draft: Draft;
  /** A check reads its own node's table: that read is not a dependency. */
  readonly isCheck: boolean;
}

export class Ctx {
  readonly diags: Diagnostic[] = [];
  readonly drafts: Draft[] = [];
  readonly resolvers: ((r: Resolver) => void)[] = [];
  readonly sql: PendingSql[] = [];
  constructor(
    readonly file: string,
    readonly sqlCache?: SqlAnalysisCache,
  ) {}

  report(d: Diagnostic): void {
    this.diags.push(d);
  }
}

export interface Body {
  readonly attrs: Attribute[];
  readonly blocks: Block[];
  readonly sqls: SqlItem[];
  readonly checks: CheckItem[];
}

export function splitBody(items: readonly BodyItem[] | undefined): Body {
  const b: Body = { attrs: [], blocks: [], sqls: [], checks: [] };
  for (const it of items ?? []) {
    if (it.kind === 'attribute') b.attrs.push(it);
    else if (it.kind === 'block') b.blocks.push(it);
    else if (it.kind === 'sql') b.sqls.push(it);
    else b.checks.push(it);
  }
  return b;
}

export const headerSpan = (b: Block): Span => {
  const last = b.labels.at(-1)?.span ?? b.typeSpan;
  return { ...b.typeSpan, endLine: last.endLine, endColumn: last.endColumn };
};

const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * A node whose block had errors still exists for references (so one typo does not cascade into
 * "undefined reference" errors downstream); it never reaches the IR because errors were reported.
 */
export function stubNode(ctx: Ctx, b: Block, id: NodeId, kind: PipelineNode['kind'], name: string): void {
  ctx.drafts.push({ node: { id, kind, name, span: b.span, inputs: [] } as unknown as Mutable<PipelineNode>, inputs: new Set(), at: headerSpan(b) });
}

/** Checks a block header has exactly the labels `shape` names; returns them, or undefined. */
export function labelsOf(ctx: Ctx, b: Block, shape: readonly string[], usage: string): string[] | undefined {
  if (b.body === undefined && b.type !== 'feature') {
    ctx.report(diag(Codes.BlockLabels, `\`${b.type}\` block has no body`, headerSpan(b), { hint: `write \`${usage}\`` }));
    return undefined;
  }
  if (b.labels.length !== shape.length) {
    const span = b.labels.length > shape.length ? b.labels[shape.length].span : headerSpan(b);
    const missing = shape.slice(b.labels.length).join(' and ');
    ctx.report(
      diag(
        Codes.BlockLabels,
        b.labels.length < shape.length
          ? `\`${b.type}\` block needs ${missing === '' ? 'no labels' : `a ${missing}`}`
          : `\`${b.type}\` block has too many labels`,
        span,
        { hint: `write \`${usage}\`` },
      ),
    );
    return undefined;
  }
  for (let i = 0; i < b.labels.length; i++) {
    if (shape[i] === 'name' && !IDENT.test(b.labels[i].text)) {
      ctx.report(
        diag(Codes.InvalidValue, `\`${b.labels[i].text}\` is not a valid name: use letters, digits and \`_\`, starting with a letter`, b.labels[i].span),
      );
      return undefined;
    }
  }
  return b.labels.map((l) => l.text);
}

/** Reports items a block does not take. */
export function rejectExtra(ctx: Ctx, body: Body, where: string, allowed: { blocks?: readonly string[]; sql?: boolean; checks?: boolean }): void {
  for (const b of body.blocks) {
    if (allowed.blocks?.includes(b.type)) continue;
    const hint = didYouMean(b.type, allowed.blocks ?? []);
    const misplaced = ['pipeline', 'source', 'stream', 'cleanse', 'model', 'features', 'entity', 'feature', 'train', 'serve', 'batch', 'profile'].includes(
      b.type,
    );
    ctx.report(
      misplaced
        ? diag(Codes.MisplacedBlock, `\`${b.type}\` block is not allowed in ${where}`, b.typeSpan, {
            hint: allowed.blocks?.length ? `${where} takes ${allowed.blocks.map((x) => `\`${x}\``).join(', ')} blocks` : `${where} takes no blocks`,
          })
        : diag(Codes.UnknownBlock, `unknown block type \`${b.type}\` in ${where}`, b.typeSpan, {
            hint: hint ?? (allowed.blocks?.length ? `${where} takes ${allowed.blocks.map((x) => `\`${x}\``).join(', ')} blocks` : undefined),
          }),
    );
  }
  if (!allowed.sql) for (const s of body.sqls) ctx.report(diag(Codes.MisplacedBlock, `a \`${s.key}\` body is not allowed in ${where}`, s.keySpan));
  else
    for (const s of body.sqls)
      if (s.key !== 'sql')
        ctx.report(
          diag(Codes.UnknownSetting, `unknown setting \`${s.key}\` in ${where}`, s.keySpan, {
            hint: didYouMean(s.key, ['sql']) ?? 'SQL bodies are written `sql """ … """`',
          }),
        );
  if (!allowed.checks)
    for (const c of body.checks)
      ctx.report(
        diag(Codes.MisplacedBlock, `checks are not allowed in ${where}`, c.span, {
          hint: 'checks belong in `cleanse`, `model` and (`freshness`) `stream` blocks',
        }),
      );
}

/** `max_row_drop` / `allow_empty` settings → the node's rowGuard field (absent when neither is set). */
export function rowGuardOf(s: { max_row_drop?: number; allow_empty?: boolean }): { rowGuard?: RowGuard } {
  if (s.max_row_drop === undefined && s.allow_empty === undefined) return {};
  return {
    rowGuard: { ...(s.max_row_drop !== undefined ? { maxDrop: s.max_row_drop } : {}), ...(s.allow_empty !== undefined ? { allowEmpty: s.allow_empty } : {}) },
  };
}
