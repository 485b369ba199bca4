// POST /mlops/inference/batch {"model_name", "model_version"?, "input_table", "output_table", "batch_size"?}:
// scores the rows of `input_table` (its latest row per entity when it has the feature view's
// timestamp) into a new snapshot of
// `output_table`, committed to the pipeline's state so `asgard query` and /data-products/query see
// it. Decision: `output_table` must be the batch output (`gold.<to>`) of a serve node of the spec
// whose model is `model_name`; anything else is refused with 400 naming output_table (the server
// never invents tables the spec does not declare). An input table without the join key and every
// feature column (numeric where the model takes numbers) is 400 invalid_input_table naming them,
// before anything is scored or written. The serve node must have been applied once (409
// otherwise), and an apply holding the state lock makes it 409 too. `batch_size` is accepted for
// seed compatibility and ignored (scoring is columnar). `iceberg.` prefixes are accepted.

import { z } from 'zod';
import type { PipelineIR, ServeNode } from '../ir/types.js';
import { outputTable } from '../ir/types.js';
import { StateError, type StateStore } from '../planner/state-store.js';
import type { Warehouse } from '../warehouse/warehouse.js';
import { openDuck } from '../engine/duckdb.js';
import { attachWarehouse } from '../engine/catalog.js';
import { batchOutputColumns } from '../engine/batch-output.js';
import { commitRun, inputTokens } from '../engine/commit.js';
import { batchScore, InputTableError, ScoreError } from '../ml/batch-score.js';
import { featureView } from '../ml/model-inputs.js';
import { HttpError } from './http.js';
import type { ModelStore } from './model-store.js';
import { zodDetails } from './validate.js';
import { readServedState } from './state.js';

export const BatchBody = z
  .object({
    model_name: z.string().min(1),
    model_version: z.number().int().positive().nullish(),
    input_table: z.string().min(1),
    output_table: z.string().min(1),
    batch_size: z.number().int().positive().optional(),
  })
  .strict();

const stripCatalog = (t: string) => t.replace(/^iceberg\./, '');

export async function runBatch(body: unknown, ir: PipelineIR, stateStore: StateStore, warehouse: Warehouse, store: ModelStore) {
  const parsed = BatchBody.safeParse(body);
  if (!parsed.success) throw new HttpError(400, 'invalid_body', ...zodDetails(parsed.error));
  const b = parsed.data;
  const input = stripCatalog(b.input_table);
  const output = stripCatalog(b.output_table);
  const v = store.resolveVersion(b.model_name, b.model_version ?? undefined);
  const serve = ir.nodes.find((n): n is ServeNode => n.kind === 'serve' && outputTable(n) === output);
  const entry = store.models.get(b.model_name)!;
  if (!serve || serve.model !== entry.train.id) {
    const allowed = ir.nodes.filter((n): n is ServeNode => n.kind === 'serve' && n.model === entry.train.id && !!n.batch).map((n) => outputTable(n)!);
    throw new HttpError(
      400,
      'invalid_body',
      `output_table ${b.output_table} is not a batch output of ${b.model_name} in the spec${allowed.length ? ` (allowed: ${allowed.join(', ')})` : ''}`,
      {
        field: 'output_table',
      },
    );
  }
  let unlock: () => void;
  try {
    unlock = stateStore.lock();
  } catch (e) {
    if (e instanceof StateError) throw new HttpError(409, 'busy', `an apply is running on ${ir.name}; try again when it ends`);
    throw e;
  }
  const t0 = performance.now();
  try {
    const state = readServedState(stateStore);
    const prev = state.nodes[serve.id];
    if (!prev) throw new HttpError(409, 'not_applied', `${serve.id} was never applied; run asgard apply first`);
    if (!state.nodes[input]?.snapshot && !ir.nodes.some((n) => outputTable(n) === input && state.nodes[n.id]?.snapshot)) {
      throw new HttpError(400, 'invalid_body', `input_table ${b.input_table} has no committed snapshot`, { field: 'input_table' });
    }
    const m = await store.load(b.model_name, v.version);
    const view = featureView(ir, entry.train);
    const conn = await openDuck();
    try {
      await attachWarehouse(conn, state, warehouse, { ir });
      const res = await batchScore({
        conn,
        warehouse,
        view,
        schema: m.schema,
        scorer: m.scorer,
        modelVersion: v.version,
        from: input,
        to: output,
        riskLevels: serve.riskLevels,
        columns: batchOutputColumns(serve, view),
        scoredAt: new Date(),
      });
      // Apply's commit path: the same retention, and the old snapshots collected.
      await commitRun({
        store: stateStore,
        warehouse,
        node: serve,
        base: prev,
        next: {
          ...prev,
          snapshot: res.snapshot,
          schema: res.schema,
          // Scored from another table than the spec's `batch.from`: the state must not say the
          // output follows batch.from's snapshot (the next apply scores batch.from again, in full).
          inputSnapshots: {
            ...inputTokens(serve, state),
            ...(serve.batch && input !== serve.batch.from ? { [serve.batch.from]: `scored from ${input}` } : {}),
          },
          modelVersion: v.version,
          appliedAt: new Date().toISOString(),
        },
      });
      return {
        model_name: b.model_name,
        model_version: v.version,
        input_table: input,
        output_table: output,
        status: 'completed',
        rows: res.rows,
        snapshot: res.snapshot.id,
        seconds: Math.round(performance.now() - t0) / 1000,
      };
    } catch (e) {
      if (e instanceof InputTableError) {
        throw new HttpError(400, 'invalid_input_table', `input_table ${e.message}`, { field: 'input_table', missing: e.missing, incompatible: e.incompatible });
      }
      if (e instanceof ScoreError) throw new HttpError(422, 'cannot_score', e.message);
      if (e instanceof HttpError) throw e;
      const msg = String((e as Error).message ?? e).split('\n')[0];
      if (/does not exist|not found|Binder Error|Catalog Error/i.test(msg))
        throw new HttpError(400, 'invalid_body', `input_table ${b.input_table} cannot be scored: ${msg}`, { field: 'input_table' });
      throw e;
    } finally {
      conn.closeSync();
    }
  } finally {
    unlock();
  }
}
