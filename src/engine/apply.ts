// Apply = plan → steps → executors. Takes the state lock, refuses a plan made against another state
// or spec, then visits the steps (src/planner/stages.ts) in dependency order, a few at a time:
// a node runs when it was never applied, its data fingerprint changed, or an input's snapshot (or
// model version) moved since it last ran; a metadata-only change just updates state. After each
// node ONE atomic state write records its fingerprints, definition, schema, snapshot (+ history),
// cursor, input snapshots and model version. A failed node skips its downstream; independent
// branches go on. Secret values are redacted from every message.

import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { NodeId, PipelineIR } from '../ir/types.js';
import { fingerprintPipeline, specFingerprint, type NodeFingerprint } from '../planner/fingerprint.js';
import type { MaintenanceCache } from '../planner/maintenance.js';
import type { RenderCache } from './render.js';
import type { Plan } from '../planner/plan.js';
import { planSteps, type Step } from '../planner/stages.js';
import type { NodeState, PipelineState, SnapshotRef, StateStore } from '../planner/state-store.js';
import type { RunNode, RunRecord, RunsLog } from '../planner/runs-log.js';
import type { Warehouse } from '../warehouse/warehouse.js';
import { NodeError, type RunContext } from './executor.js';
import type { ExecutorResolver } from './executors.js';
import { rowDropRefusal } from './row-guard.js';
import { commitRun, inputTokens, outputToken, tableOf, withoutUndefined } from './commit.js';
import { resolver } from './resolve.js';

export { resolver } from './resolve.js';

export type NodeStatus = 'succeeded' | 'skipped' | 'failed' | 'unchanged';

export interface NodeOutcome {
  readonly node: NodeId;
  readonly status: NodeStatus;
  readonly rows?: number;
  readonly seconds: number;
  readonly error?: string;
  /** Table nodes: how the run maintained the table (`incremental: 12 keys recomputed`, `full: LIMIT`). */
  readonly maintenance?: string;
}

export type ApplyEvent =
  | { readonly type: 'start'; readonly node: NodeId; readonly step: Step['step'] }
  | { readonly type: 'progress'; readonly node: NodeId; readonly rows: number; readonly message?: string; readonly seconds: number }
  | { readonly type: 'warn'; readonly node: NodeId; readonly message: string }
  | { readonly type: 'end'; readonly outcome: NodeOutcome; readonly cause?: unknown };

export interface ApplyOptions {
  readonly ir: PipelineIR;
  readonly plan: Plan;
  readonly store: StateStore;
  readonly warehouse: Warehouse;
  /**
   * The workspace's scratchDir. Executors get `<scratchDir>/apply/<pipeline>/`, emptied once the
   * lock is held: what a killed apply staged there (raw source rows, spill files) is removed.
   */
  readonly scratchDir: string;
  /** The run history this apply is appended to (the workspace's runs log); none when absent. */
  readonly runs?: RunsLog;
  readonly executors: ExecutorResolver;
  /** Only these nodes (see parseSelect). */
  readonly select?: ReadonlySet<NodeId>;
  /** Nodes run at once (default 2). */
  readonly concurrency?: number;
  /** Sync unchanged sources (default true). */
  readonly refreshSources?: boolean;
  /** Where env() and secret() are read (default process.env). */
  readonly env?: Readonly<Record<string, string | undefined>>;
  readonly now?: () => Date;
  readonly onEvent?: (e: ApplyEvent) => void;
  readonly signal?: AbortSignal;
  /**
   * A removed node's delete step calls this first, for what the node left outside the warehouse
   * (under a kubernetes profile: a removed source's Airbyte objects). If it throws, the node fails
   * and stays in the state, so the next apply tries again.
   */
  readonly removeNode?: (removed: RemovedNode) => Promise<void>;
  /** Maintenance analyses kept across processes (the workspace's cache; the caller saves it). */
  readonly maintenanceCache?: MaintenanceCache;
  /** SQL bodies rendered by earlier processes (the workspace's cache; the caller saves it). */
  readonly renderCache?: RenderCache;
}

export interface RemovedNode {
  readonly node: NodeId;
  /** What the state recorded of it. */
  readonly prev: NodeState;
  /** A warning of the apply, under the node (e.g. what was deleted). */
  readonly warn: (message: string) => void;
}

export interface ApplyResult {
  readonly ok: boolean;
  readonly nodes: readonly NodeOutcome[];
  readonly warnings: readonly { readonly node: NodeId; readonly message: string }[];
  /** The state after the apply. */
  readonly state: PipelineState;
}

/** The plan cannot be applied (stale, made against a base spec, bad logical time): nothing ran. */
export class ApplyRefused extends Error {}

/** Replace every secret value and every URL password in a message. */
export function redactor(secrets: ReadonlySet<string>): (s: string) => string {
  return (s) => {
    let out = s;
    for (const v of secrets) if (v.length > 0) out = out.split(v).join('***');
    return out.replace(/(\b[a-z][a-z0-9+.-]*:\/\/[^\s/:@]*):[^\s/@]*@/gi, '$1:***@');
  };
}

function checkFresh(opts: ApplyOptions, fps: ReadonlyMap<NodeId, NodeFingerprint>, state: PipelineState): void {
  const { plan, ir } = opts;
  if (plan.against.kind !== 'state') {
    throw new ApplyRefused(`this plan compares the spec with ${plan.against.ref} (--base); it cannot be applied: make a plan against the state`);
  }
  if (plan.pipeline !== ir.name) throw new ApplyRefused(`the plan is for pipeline ${plan.pipeline}, the spec defines ${ir.name}`);
  if (plan.stateLineage && state.lineage && plan.stateLineage !== state.lineage) {
    throw new ApplyRefused(`Saved plan is stale: it was made against another state (lineage ${plan.stateLineage}, this state is ${state.lineage})`);
  }
  if (plan.stateSerial !== state.serial) {
    throw new ApplyRefused(`Saved plan is stale: state serial ${state.serial}, plan made at ${plan.stateSerial}. Make a new plan.`);
  }
  if (plan.specFingerprint !== specFingerprint(ir, fps)) {
    throw new ApplyRefused('Saved plan is stale: the spec changed since the plan was made. Make a new plan.');
  }
  // Whatever a plan file says, apply acts only on the nodes of the spec and the state it was made
  // from: a delete only for a node the state has and the spec no longer declares, anything else only
  // for a node the spec declares, each node once.
  const seen = new Set<NodeId>();
  for (const a of plan.actions) {
    const inSpec = fps.has(a.node);
    const inState = !!state.nodes[a.node];
    const bad = seen.has(a.node)
      ? 'appears twice'
      : a.action === 'delete'
        ? inSpec
          ? 'is declared by the spec, so it cannot be deleted'
          : !inState
            ? 'is not in the state'
            : undefined
        : !inSpec
          ? 'is not declared by the spec'
          : !['create', 'update', 'replace', 'noop'].includes(a.action)
            ? `has an unknown action "${String(a.action)}"`
            : undefined;
    if (bad) throw new ApplyRefused(`the plan cannot be applied: its action ${String(a.action)} ${a.node} ${bad}. Make a new plan.`);
    seen.add(a.node);
  }
}

const round = (s: number) => Math.round(s * 1000) / 1000;

export async function applyPlan(opts: ApplyOptions): Promise<ApplyResult> {
  const { ir, store, warehouse } = opts;
  const env = opts.env ?? process.env;
  const now = opts.now ?? (() => new Date());
  const emit = opts.onEvent ?? (() => {});
  const signal = opts.signal ?? new AbortController().signal;
  const secrets = new Set<string>();
  const resolve = resolver(env, secrets);
  const redact = redactor(secrets);
  const fps = fingerprintPipeline(ir);
  const nodes = new Map(ir.nodes.map((n) => [n.id, n]));
  const warnings: { node: NodeId; message: string }[] = [];

  const release = store.lock();
  try {
    // Holding the pipeline's lock, no other apply of it runs: what is left here was staged by a run
    // that was killed (issue #11, item 14).
    const scratchDir = join(opts.scratchDir, 'apply', ir.name);
    rmSync(scratchDir, { recursive: true, force: true });
    mkdirSync(scratchDir, { recursive: true });
    checkFresh(opts, fps, store.read());
    let logicalTime = now();
    if (ir.logicalTime) {
      let v: string | number | boolean;
      try {
        v = resolve(ir.logicalTime);
      } catch (e) {
        throw new ApplyRefused(`logical_time: ${(e as Error).message}`);
      }
      logicalTime = new Date(String(v));
      if (Number.isNaN(logicalTime.getTime())) throw new ApplyRefused(`logical_time "${String(v)}" is not an ISO-8601 time`);
    }

    const steps = planSteps(opts.plan, ir, { select: opts.select, refreshSources: opts.refreshSources });
    const outcomes = new Map<NodeId, NodeOutcome>();
    // For the runs log: when each step started and ended, in seconds from the run's start.
    const runStarted = now();
    const tRun = performance.now();
    const since = () => round((performance.now() - tRun) / 1000);
    const spans = new Map<NodeId, { start: number; end: number }>();

    // `start` is emitted when a step begins real work (not for a skip or an unchanged check).
    const runStep = async (step: Step): Promise<NodeOutcome> => {
      const t0 = performance.now();
      const started = () => emit({ type: 'start', node: step.node, step: step.step });
      const seconds = () => round((performance.now() - t0) / 1000);
      const bad = step.after.find((p) => {
        const s = outcomes.get(p)?.status;
        return s === 'failed' || s === 'skipped';
      });
      if (bad)
        return {
          node: step.node,
          status: 'skipped',
          seconds: 0,
          error: `upstream ${bad} ${outcomes.get(bad)!.status === 'failed' ? 'failed' : 'was skipped'}`,
        };
      if (signal.aborted) return { node: step.node, status: 'skipped', seconds: 0, error: 'apply was interrupted' };
      const state = store.read();
      const prev = state.nodes[step.node];

      const warn = (message: string) => {
        const m = redact(message);
        warnings.push({ node: step.node, message: m });
        emit({ type: 'warn', node: step.node, message: m });
      };

      if (step.step === 'delete') {
        started();
        if (prev && opts.removeNode) await opts.removeNode({ node: step.node, prev, warn });
        store.commitNode(step.node, undefined);
        if (prev?.snapshot) await warehouse.drop(tableOf(prev.snapshot));
        return { node: step.node, status: 'succeeded', seconds: seconds() };
      }

      const node = nodes.get(step.node)!;
      const fp = fps.get(step.node)!;
      const recorded = { kind: node.kind, fingerprint: fp.fingerprint, metaFingerprint: fp.metaFingerprint, definition: fp.definition };
      if (step.step === 'check' || step.step === 'metadata') {
        const moved = !prev || node.inputs.some((i) => outputToken(state.nodes[i]) !== prev.inputSnapshots?.[i]);
        if (!moved) {
          if (step.step === 'check') return { node: step.node, status: 'unchanged', seconds: seconds() };
          started();
          store.commitNode(step.node, { ...prev, ...recorded });
          return { node: step.node, status: 'succeeded', seconds: seconds() };
        }
      }

      const missing = node.inputs.find((i) => !state.nodes[i]);
      if (missing) {
        return {
          node: step.node,
          status: 'failed',
          seconds: 0,
          error: `input ${missing} has not been applied yet; apply it first or select it too (--select ${missing}+)`,
        };
      }
      started();
      const executor = await opts.executors(node.kind);
      const replace = step.step === 'replace';
      const ctxState: PipelineState = replace ? { ...state, nodes: withoutNode(state.nodes, step.node) } : state;
      // A replace planned because the table's files are gone: its catalog entry points at missing
      // metadata, so the table starts afresh.
      if (replace && prev?.snapshot && (await warehouse.missingSnapshot(prev.snapshot))) await warehouse.drop(tableOf(prev.snapshot));
      const ctx: RunContext = {
        ir,
        node,
        state: ctxState,
        // The row-count guard runs before the catalog commit, so a refused snapshot never becomes current.
        warehouse: warehouse.withCommitCheck((_table, rows) => {
          const refusal = rowDropRefusal(node, prev?.snapshot, pendingRef(rows));
          if (refusal) throw new NodeError(refusal);
        }),
        scratchDir,
        logicalTime,
        resolve,
        progress: (p) =>
          emit({ type: 'progress', node: step.node, rows: p.rows, message: p.message === undefined ? undefined : redact(p.message), seconds: seconds() }),
        warn,
        signal,
        maintenanceCache: opts.maintenanceCache,
        renderCache: opts.renderCache,
      };
      const result = await executor.run(ctx);
      const refusal = rowDropRefusal(node, prev?.snapshot, result.snapshot);
      if (refusal) {
        // The new snapshot never becomes current: remove it, keep the state's snapshots.
        await warehouse.rollback(tableOf(result.snapshot!), prev?.snapshot, prev?.history ?? []);
        throw new NodeError(refusal);
      }
      const base = replace ? undefined : prev;
      await commitRun({
        store,
        warehouse,
        node,
        base,
        replace,
        next: {
          ...recorded,
          schema: result.schema ?? base?.schema,
          snapshot: result.snapshot ?? base?.snapshot,
          inputSnapshots: inputTokens(node, state),
          cursor: result.cursor ?? base?.cursor,
          read: result.read,
          modelVersion: result.modelVersion ?? base?.modelVersion,
          logicalTime: result.logicalTime ?? base?.logicalTime,
          costs: result.costs ?? base?.costs,
          ...(result.files ? { files: result.files } : {}),
          appliedAt: now().toISOString(),
          lastRun: { ...(result.rows !== undefined ? { rows: result.rows } : {}), seconds: seconds() },
        },
      });
      return {
        node: step.node,
        status: 'succeeded',
        seconds: seconds(),
        ...(result.rows !== undefined ? { rows: result.rows } : {}),
        ...(result.maintenance ? { maintenance: result.maintenance } : {}),
      };
    };

    const limit = Math.max(1, opts.concurrency ?? 2);
    const waiting = [...steps];
    const running = new Map<NodeId, Promise<void>>();
    while (waiting.length || running.size) {
      for (let i = 0; i < waiting.length && running.size < limit; ) {
        const s = waiting[i];
        if (!s.after.every((p) => outcomes.has(p))) {
          i++;
          continue;
        }
        waiting.splice(i, 1);
        const t0 = performance.now();
        const start = since();
        const p = runStep(s)
          .catch((e: unknown) => {
            const outcome: NodeOutcome = { node: s.node, status: 'failed', seconds: round((performance.now() - t0) / 1000), error: redact(errorMessage(e)) };
            return { outcome, cause: e };
          })
          .then((r) => {
            const { outcome, cause } = 'outcome' in r ? r : { outcome: r, cause: undefined };
            outcomes.set(s.node, outcome);
            spans.set(s.node, { start, end: since() });
            running.delete(s.node);
            emit({ type: 'end', outcome, ...(cause !== undefined ? { cause } : {}) });
          });
        running.set(s.node, p);
      }
      if (running.size === 0) break; // only unreachable steps left (cannot happen with a valid IR)
      await Promise.race(running.values());
    }
    const ordered = steps.map((s) => outcomes.get(s.node)).filter((o): o is NodeOutcome => !!o);
    recordRun(
      opts,
      {
        startedAt: runStarted.toISOString(),
        finishedAt: now().toISOString(),
        ok: ordered.every((o) => o.status !== 'failed'),
        concurrency: limit,
        nodes: ordered.map((o) => runNode(o, spans.get(o.node))),
      },
      warnings,
    );
    return { ok: ordered.every((o) => o.status !== 'failed'), nodes: ordered, warnings, state: store.read() };
  } finally {
    release();
  }
}

function runNode(o: NodeOutcome, span: { start: number; end: number } | undefined): RunNode {
  return withoutUndefined({ node: o.node, status: o.status, start: span?.start ?? 0, end: span?.end ?? 0, rows: o.rows, error: o.error });
}

/** Append the run to the history (src/planner/runs-log.ts); a history that cannot be written is a warning, not a failed apply. */
function recordRun(opts: ApplyOptions, run: RunRecord, warnings: { node: NodeId; message: string }[]): void {
  try {
    opts.runs?.append(run);
  } catch (e) {
    warnings.push({ node: opts.ir.name, message: `the run history could not be written: ${(e as Error).message}` });
  }
}

function errorMessage(e: unknown): string {
  if (e instanceof NodeError) return e.message;
  if (e instanceof Error) return e.message || e.name;
  return String(e);
}

function withoutNode(nodes: Readonly<Record<NodeId, NodeState>>, id: NodeId): Record<NodeId, NodeState> {
  const out = { ...nodes };
  delete out[id];
  return out;
}

/** A not yet committed snapshot of `rows` rows, as the row-count guard compares it. */
function pendingRef(rows: number): SnapshotRef {
  return { id: 'pending', path: '', rows, createdAt: '', metadataLocation: '', manifestList: '' };
}
