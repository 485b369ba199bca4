// AST → PipelineIR. Blocks are checked one by one into node drafts; once every node is known,
// references and SQL reads are resolved, duplicates and cycles reported, and the IR assembled in
// topological order. The IR is returned only when no error was found.

import { resolve as resolvePath } from 'node:path';
import { Codes, diag, didYouMean } from '../../diagnostics/catalogue.js';
import { hasErrors, sortDiagnostics, type Diagnostic } from '../../diagnostics/diagnostic.js';
import {
  IR_SCHEMA_VERSION,
  outputTable,
  type NodeId,
  type PipelineIR,
  type PipelineNode,
  type Profile,
  type Resolvable,
  type Span,
  type SqlBody,
} from '../../ir/types.js';
import { analyzeAndType, type SqlAnalysisCache, type TableRef } from '../../sql/analyze.js';
import type { TypedColumn } from '../../sql/fast-types.js';
import { scanSqlVars } from '../../sql/vars.js';
import type { Block, SpecFile } from '../ast.js';
import { type BlockCache, type BlockRange, type CachedBlock, moved } from '../block-cache.js';
import { Ctx, type Draft, headerSpan, labelsOf, rejectExtra, type Resolver, splitBody } from './context.js';
import { findCycles, topoOrder } from './graph.js';
import { checkFeatures, checkServe, checkTrain } from './ml.js';
import { checkProfile } from './profiles.js';
import { pipelineSchema } from './schemas.js';
import { validateSettings } from './settings.js';
import { checkSource } from './sources.js';
import { checkTransform } from './transforms.js';
import { toResolvable } from './values.js';
import { bodyVars, declareVars, substituteVars, type Vars } from './vars.js';
import { sortStrings } from '../../util/sort.js';

export interface CheckOptions {
  readonly sqlCache?: SqlAnalysisCache;
  /** `--var NAME=VALUE` overrides of the spec's variables, as written. */
  readonly vars?: Readonly<Record<string, string>>;
  /** The block cache (src/dsl/block-cache.ts): the blocks parseSpec left out are replayed from it, those it may keep are stored. */
  readonly blocks?: {
    readonly cache: BlockCache;
    /** Left out of the tree; each has an entry in the cache. */
    readonly skipped: readonly BlockRange[];
    /** Blocks in the tree whose check may be stored (no value diagnostic inside). */
    readonly storable: readonly BlockRange[];
  };
}

const PIPELINE_BLOCKS = ['var', 'source', 'cleanse', 'model', 'features', 'train', 'serve', 'profile'];
export const DEFAULT_WAREHOUSE = './.asgard/warehouse';

export function checkSpec(ast: SpecFile, opts: CheckOptions = {}): { ir?: PipelineIR; partial?: PipelineIR; diagnostics: Diagnostic[] } {
  const ctx = new Ctx(ast.file, opts.sqlCache);
  const pipelines: Block[] = [];
  for (const it of ast.items) {
    if (it.kind === 'block' && it.type === 'pipeline') pipelines.push(it);
    else if (it.kind === 'block') {
      const inner = PIPELINE_BLOCKS.includes(it.type) || it.type === 'stream';
      ctx.report(
        inner
          ? diag(Codes.MisplacedBlock, `\`${it.type}\` block must be inside \`pipeline NAME { … }\``, it.typeSpan)
          : diag(Codes.UnknownBlock, `unknown block type \`${it.type}\``, it.typeSpan, {
              hint: didYouMean(it.type, ['pipeline']) ?? 'a spec is one `pipeline NAME { … }` block',
            }),
      );
    } else {
      const span = it.kind === 'attribute' || it.kind === 'sql' ? it.keySpan : it.span;
      ctx.report(diag(Codes.MisplacedBlock, 'settings must be inside `pipeline NAME { … }`', span));
    }
  }
  if (pipelines.length === 0) {
    if (ctx.diags.length === 0)
      ctx.report(diag(Codes.PipelineBlock, 'the spec has no `pipeline NAME { … }` block', { file: ast.file, line: 1, column: 1, endLine: 1, endColumn: 2 }));
    return { diagnostics: sortDiagnostics(ctx.diags) };
  }
  for (const extra of pipelines.slice(1)) {
    ctx.report(
      diag(Codes.PipelineBlock, 'a spec holds exactly one `pipeline` block', extra.typeSpan, {
        related: [{ message: 'first pipeline here', span: pipelines[0].typeSpan }],
      }),
    );
  }
  const p = pipelines[0];
  const labels = labelsOf(ctx, p, ['name'], 'pipeline NAME { … }');
  const vars = declareVars(
    ctx,
    splitBody(p.body).blocks.filter((b) => b.type === 'var'),
    opts.vars ?? {},
    headerSpan(p),
  );
  const body = splitBody(substituteVars(ctx, vars, p.body ?? []));
  rejectExtra(ctx, body, labels ? `pipeline \`${labels[0]}\`` : 'the pipeline', { blocks: PIPELINE_BLOCKS });
  const settings = validateSettings(pipelineSchema, body.attrs, { what: 'the pipeline', span: headerSpan(p) }, ctx.diags);
  let logicalTime: Resolvable | undefined;
  const lt = body.attrs.find((a) => a.key === 'logical_time');
  if (settings && lt) logicalTime = toResolvable(lt.value, 'logical_time', ctx.diags);

  const profiles: Record<string, Profile> = {};
  const profileSpans = new Map<string, Span>();
  const cached = cachedBlocks(ctx, opts.blocks);
  for (const b of body.blocks) {
    cached.replayBefore(b.typeSpan);
    switch (b.type) {
      case 'var':
        break;
      case 'source':
        cached.store(b, () => checkSource(ctx, b));
        break;
      case 'cleanse':
      case 'model':
        cached.store(b, () => checkTransform(ctx, b, b.type as 'cleanse' | 'model'));
        break;
      case 'features':
        checkFeatures(ctx, b);
        break;
      case 'train':
        checkTrain(ctx, b);
        break;
      case 'serve':
        checkServe(ctx, b);
        break;
      case 'profile': {
        const prof = checkProfile(ctx, b);
        if (!prof) break;
        const prev = profileSpans.get(prof.name);
        if (prev)
          ctx.report(
            diag(Codes.DuplicateName, `profile \`${prof.name}\` is defined twice`, b.labels[0].span, {
              related: [{ message: 'first defined here', span: prev }],
            }),
          );
        else {
          profiles[prof.name] = prof;
          profileSpans.set(prof.name, b.labels[0].span);
        }
        break;
      }
    }
  }
  cached.replayBefore(undefined);

  const drafts = dedupeNodes(ctx);
  const resolver = buildResolver(drafts);
  for (const r of ctx.resolvers) r(resolver);
  analyzeBodies(ctx, resolver, true);
  recordVars(drafts, ctx, vars);

  const byId = new Map(drafts.map((d) => [d.node.id, d]));
  // Each node's inputs sorted once, for the cycle search, the order and the IR alike.
  const sortedInputs = new Map<NodeId, readonly NodeId[]>();
  for (const d of drafts) sortedInputs.set(d.node.id, sortStrings([...d.inputs]));
  const inputsOf = (id: NodeId): readonly NodeId[] => sortedInputs.get(id) ?? [];
  const ids = [...byId.keys()];
  // Kahn's order leaves out exactly the nodes on or behind a cycle: the cycle search runs only then.
  const order = topoOrder(ids, inputsOf);
  const cycles = order.length === ids.length ? [] : findCycles(ids, inputsOf);
  for (const cycle of cycles) {
    const first = byId.get(cycle[0])!;
    ctx.report(
      diag(Codes.Cycle, `dependency cycle: ${cycle.join(' → ')}`, first.at, {
        hint: 'a node cannot read, directly or indirectly, the table it produces',
        related: cycle.slice(1, -1).map((id) => ({ message: `\`${id}\` is part of the cycle`, span: byId.get(id)!.at })),
      }),
    );
  }

  const assemble = (name: string, warehouse: string): PipelineIR => {
    // The drafts' own nodes, their inputs set in place (a draft is assembled once; a copy of each
    // node cost a cold check a thousand object spreads).
    const nodes: PipelineNode[] = order.map((id) => {
      const d = byId.get(id)!;
      (d.node as { inputs: readonly NodeId[] }).inputs = inputsOf(id);
      return d.node;
    });
    // Sorted by `from`, then `to`, without a comparator called per pair: each input's consumers
    // collected in id order, the inputs then taken in id order.
    const consumers = new Map<NodeId, NodeId[]>();
    for (const to of [...ids].sort()) {
      for (const from of inputsOf(to)) {
        const list = consumers.get(from);
        if (list) list.push(to);
        else consumers.set(from, [to]);
      }
    }
    const edges: { from: NodeId; to: NodeId }[] = [];
    for (const from of [...consumers.keys()].sort()) for (const to of consumers.get(from)!) edges.push({ from, to });
    return {
      schemaVersion: IR_SCHEMA_VERSION,
      name,
      file: resolvePath(ast.file),
      warehouse,
      ...(logicalTime ? { logicalTime } : {}),
      nodes,
      edges,
      profiles,
      ...(vars.declared.size ? { variables: Object.fromEntries([...vars.declared].sort(([a], [b]) => (a < b ? -1 : 1))) } : {}),
    };
  };

  const diagnostics = sortDiagnostics(ctx.diags);
  if (hasErrors(diagnostics) || !labels || !settings) {
    // The nodes that did check, so that their SQL can still be bound in the same run
    // (src/cli/spec.ts `withBindDiagnostics`); never planned, applied or compiled.
    return { diagnostics, ...(cycles.length === 0 ? { partial: assemble(labels?.[0] ?? 'pipeline', settings?.warehouse ?? DEFAULT_WAREHOUSE) } : {}) };
  }
  return { ir: assemble(labels[0], settings.warehouse ?? DEFAULT_WAREHOUSE), diagnostics };
}

/**
 * The block cache's side of a check run: `replayBefore(at)` replays the left-out blocks that come
 * before `at` (all with `undefined`), in the order they stand in the file; `store(b, check)` checks a
 * block and keeps what it added to the run when the block may be stored.
 */
function cachedBlocks(ctx: Ctx, blocks: CheckOptions['blocks']) {
  const pending = [...(blocks?.skipped ?? [])];
  const storable = new Map((blocks?.storable ?? []).map((r) => [`${r.line}:${r.column}`, r]));
  return {
    replayBefore(at: Span | undefined): void {
      while (pending.length && (!at || pending[0].line < at.line || (pending[0].line === at.line && pending[0].column < at.column))) {
        const r = pending.shift()!;
        const e = blocks!.cache.get(r.key)!;
        const lines = r.line - e.line;
        const first = ctx.drafts.length;
        for (const d of e.drafts) ctx.drafts.push({ ...moved(d, lines), inputs: new Set() } as Draft);
        for (const s of e.sql) {
          const draft = ctx.drafts[first + s.draft];
          const node = draft.node as unknown as { sql: SqlBody; checks: { sql?: SqlBody }[] };
          ctx.sql.push({ body: s.check === undefined ? node.sql : node.checks[s.check].sql!, draft, isCheck: s.check !== undefined });
        }
        for (const d of e.diags) ctx.report(moved(d, lines));
      }
    },
    store(b: Block, check: () => void): void {
      const r = storable.get(`${b.typeSpan.line}:${b.typeSpan.column}`);
      const mark = { drafts: ctx.drafts.length, sql: ctx.sql.length, diags: ctx.diags.length };
      check();
      if (!r || r.endLine !== b.span.endLine || r.endColumn !== b.span.endColumn) return;
      const drafts = ctx.drafts.slice(mark.drafts);
      const sql = ctx.sql.slice(mark.sql).map((s) => {
        const checks = (s.draft.node as { checks?: { sql?: SqlBody }[] }).checks ?? [];
        return { draft: drafts.indexOf(s.draft), ...(s.isCheck ? { check: checks.findIndex((c) => c.sql === s.body) } : {}) };
      });
      if (sql.some((s) => s.draft < 0 || s.check === -1)) return;
      const entry: CachedBlock = {
        line: r.line,
        drafts: drafts.map((d) => ({ node: d.node as PipelineNode, at: d.at, ...(d.outputAt ? { outputAt: d.outputAt } : {}) })),
        diags: ctx.diags.slice(mark.diags),
        sql,
      };
      // A copy (the SQL analysis fills the bodies in later): its JSON text, which a file cache writes as it is.
      const json = JSON.stringify(entry);
      if (blocks!.cache.setJson) blocks!.cache.setJson(r.key, json);
      else blocks!.cache.set(r.key, JSON.parse(json) as CachedBlock);
    },
  };
}

/**
 * The check of one `cleanse` or `model` block standing among the other nodes of `ir` (a valid spec's
 * IR, without variables: src/dsl/patch.ts): what checkSpec gives that block's node, its inputs
 * resolved against `ir`'s tables, and the diagnostics checking it and its SQL adds. Undefined for
 * any other block. Nothing else of a check run depends on the block's content beyond its node's id,
 * table and inputs (duplicates, resolution, cycles, order): the caller compares those.
 */
export function checkBlockAmong(block: Block, ir: PipelineIR, sqlCache?: SqlAnalysisCache): { node: PipelineNode; diagnostics: Diagnostic[] } | undefined {
  if (block.type !== 'cleanse' && block.type !== 'model') return undefined;
  const ctx = new Ctx(ir.file, sqlCache);
  checkTransform(ctx, block, block.type);
  if (ctx.drafts.length !== 1 || ctx.resolvers.length) return undefined;
  analyzeBodies(ctx, resolverOf(ir.nodes));
  const d = ctx.drafts[0];
  return { node: { ...d.node, inputs: [...d.inputs].sort() } as PipelineNode, diagnostics: sortDiagnostics(ctx.diags) };
}

/** Node ids and produced tables must be unique; later duplicates are reported and dropped. */
function dedupeNodes(ctx: Ctx): Draft[] {
  const seen = new Map<NodeId, Draft>();
  const tables = new Map<string, Draft>();
  const kept: Draft[] = [];
  for (const d of ctx.drafts) {
    const prev = seen.get(d.node.id);
    if (prev) {
      ctx.report(
        diag(Codes.DuplicateName, `\`${d.node.id}\` is defined twice`, d.at, {
          hint: `rename one of the ${d.node.kind} blocks`,
          related: [{ message: 'first defined here', span: prev.at }],
        }),
      );
      continue;
    }
    const table = outputTable(d.node);
    if (table) {
      const owner = tables.get(table);
      if (owner) {
        const here = d.outputAt ?? d.at;
        ctx.report(
          diag(Codes.DuplicateName, `table \`${table}\` is produced by both \`${owner.node.id}\` and \`${d.node.id}\``, here, {
            hint: 'each table has exactly one producer',
            related: [{ message: `\`${owner.node.id}\` produces it`, span: owner.outputAt ?? owner.at }],
          }),
        );
        continue;
      }
      tables.set(table, d);
    }
    seen.set(d.node.id, d);
    kept.push(d);
  }
  // A reference to a dropped duplicate still resolves to the kept one; drop its pending SQL.
  const keptSet = new Set(kept);
  for (let i = ctx.sql.length - 1; i >= 0; i--) if (!keptSet.has(ctx.sql[i].draft)) ctx.sql.splice(i, 1);
  ctx.drafts.length = 0;
  ctx.drafts.push(...kept);
  return kept;
}

/** Each node's variables (its block's settings and SQL), and each SQL body's values. */
function recordVars(drafts: readonly Draft[], ctx: Ctx, vars: Vars): void {
  if (!vars.declared.size) return;
  for (const { body } of ctx.sql) {
    const v = bodyVars(vars, body.text);
    if (v) body.vars = v;
  }
  const streamSpans = drafts.filter((d) => d.node.kind === 'source').map((d) => d.node.span);
  for (const d of drafts) {
    const n = d.node;
    let used = vars.usedIn(n.span);
    if (n.kind === 'source' && 'connector' in n && n.connector) {
      // The source block's own settings reach every stream; another stream's settings do not.
      const shared = vars.uses.filter((u) => within(u.span, n.connector.span) && !streamSpans.some((s) => within(u.span, s)));
      const extra = vars.usedIn(...shared.map((u) => u.span));
      if (extra) used = { ...extra, ...used };
    }
    if (used) n.vars = Object.fromEntries(Object.entries(used).sort(([a], [b]) => (a < b ? -1 : 1)));
  }
}

const within = (a: Span, w: Span): boolean =>
  (a.line > w.line || (a.line === w.line && a.column >= w.column)) && (a.line < w.endLine || (a.line === w.endLine && a.column < w.endColumn));

function buildResolver(drafts: readonly Draft[]): Resolver {
  return resolverOf(drafts.map((d) => d.node));
}

function resolverOf(nodes: readonly PipelineNode[]): Resolver {
  const producers = new Map<string, NodeId>();
  for (const n of nodes) {
    const table = outputTable(n);
    if (table) producers.set(table, n.id);
  }
  const ids = new Set(nodes.map((n) => n.id));
  // Sorted when first asked (hints of unknown names): a valid spec never asks.
  let tables: string[] | undefined;
  let nodeIds: NodeId[] | undefined;
  return {
    producerOf: (t) => producers.get(t),
    hasNode: (id) => ids.has(id),
    get tables() {
      tables ??= [...producers.keys()].sort();
      return tables;
    },
    get nodeIds() {
      nodeIds ??= [...ids].sort();
      return nodeIds;
    },
  };
}

const CATALOGS = new Set(['iceberg', 'spark_catalog']);

/**
 * Analyses every pending SQL body and resolves what it reads. With `typeEarly`, a cleanse's or
 * model's body parsed here is also typed from the same tree over the columns known so far (sources'
 * declared columns, bodies typed before it), which the schema pass takes instead of parsing the
 * body again (src/sql/fast-types.ts typeEarly; it checks the inputs are the same).
 */
function analyzeBodies(ctx: Ctx, r: Resolver, typeEarly = false): void {
  const known = new Map<NodeId, readonly TypedColumn[]>();
  if (typeEarly)
    for (const d of ctx.drafts) {
      const columns = d.node.kind === 'source' ? d.node.stream?.columns : undefined;
      if (columns) known.set(d.node.id, columns);
    }
  const inputs = (id: string) => known.get(id);
  for (const { body, draft, isCheck } of ctx.sql) {
    const typed = typeEarly && !isCheck && (draft.node.kind === 'cleanse' || draft.node.kind === 'model');
    const { analysis: a, columns } = analyzeAndType(body.text, ctx.sqlCache, typed ? inputs : undefined);
    if (columns) known.set(draft.node.id, columns);
    // Another tool's template syntax was reported with what to write instead (vars.ts); the parser's
    // complaint about the same characters would only repeat it.
    if (!a.ok && scanSqlVars(body.text).templates.length) continue;
    if (!a.ok) {
      const code = a.message.startsWith('SQL body') ? Codes.SqlEmpty : Codes.SqlSyntax;
      const span = code === Codes.SqlEmpty ? body.span : offsetSpan(body.text, body.span, a.start, a.end);
      const near = body.text.slice(a.start, a.end).trim();
      const at = near && near.length <= 40 && !near.includes('\n') ? ` (at \`${near}\`)` : '';
      ctx.report(diag(code, code === Codes.SqlEmpty ? a.message : `SQL syntax error: ${a.message}${at}`, span));
      continue;
    }
    body.normalized = a.normalized;
    const reads = new Set<NodeId>();
    for (const t of a.tables) {
      const id = resolveSqlTable(ctx, r, t, body.text, body.span);
      if (id) reads.add(id);
    }
    body.reads = sortStrings([...reads]);
    for (const id of reads) if (!(isCheck && id === draft.node.id)) draft.inputs.add(id);
  }
}

function resolveSqlTable(ctx: Ctx, r: Resolver, t: TableRef, text: string, bodySpan: Span): NodeId | undefined {
  const parts = t.parts.length === 3 && CATALOGS.has(t.parts[0].toLowerCase()) ? t.parts.slice(1) : t.parts;
  const name = parts.join('.');
  const producer = parts.length === 2 ? r.producerOf(`${parts[0].toLowerCase()}.${parts[1]}`) : undefined;
  if (producer) return producer;
  const written = t.parts.join('.');
  const last = parts.at(-1)!;
  const layered = r.tables.filter((x) => x.endsWith(`.${last}`));
  const hint = parts.length === 1 && layered.length > 0 ? `did you mean \`${layered[0]}\`? tables are named \`layer.name\`` : didYouMean(name, r.tables);
  ctx.report(diag(Codes.SqlUnknownTable, `SQL reads \`${written}\`, but no node produces that table`, offsetSpan(text, bodySpan, t.start, t.end), { hint }));
  return undefined;
}

/** Maps [start, end) offsets inside a SQL body to a span in the spec file. */
export function offsetSpan(text: string, body: Span, start: number, end: number): Span {
  const at = (off: number): { line: number; column: number } => {
    let line = body.line;
    let lastNl = -1;
    for (let i = text.indexOf('\n'); i !== -1 && i < off; i = text.indexOf('\n', i + 1)) {
      line++;
      lastNl = i;
    }
    return { line, column: lastNl === -1 ? body.column + off : off - lastNl };
  };
  const s = at(Math.max(0, Math.min(start, text.length)));
  const e = at(Math.max(start, Math.min(end, text.length)));
  return { file: body.file, line: s.line, column: s.column, endLine: e.line, endColumn: Math.max(e.column, e.line === s.line ? s.column + 1 : e.column) };
}
