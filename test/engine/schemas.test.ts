import { beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadPipeline } from '../../src/dsl/load.js';
import { inferSchemas } from '../../src/engine/schemas.js';
import type { FeaturesNode, PipelineIR, PipelineNode } from '../../src/ir/types.js';
import { tempDir } from './helpers.js';

const CHURN = fileURLToPath(new URL('../../pipelines/churn.asg', import.meta.url));
let churn: PipelineIR;

beforeAll(async () => {
  process.env.ASGARD_CACHE_DIR = tempDir('asg-schema-cache-');
  const r = await loadPipeline(CHURN);
  expect(r.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  churn = r.ir!;
});

const withNode = (ir: PipelineIR, id: string, f: (n: PipelineNode) => PipelineNode): PipelineIR => ({
  ...ir,
  nodes: ir.nodes.map((n) => (n.id === id ? f(n) : n)),
});

describe('schema inference (no data touched)', () => {
  it('types every table of churn.asg', async () => {
    const { schemas, diagnostics } = await inferSchemas(churn);
    expect(diagnostics).toEqual([]);
    const show = (id: string) => schemas.get(id)?.map((c) => `${c.name} ${c.type}`);
    expect(show('gold.customer_metrics')).toEqual([
      'customer_id BIGINT',
      'email VARCHAR',
      'total_purchases BIGINT',
      'customer_lifetime_value DOUBLE',
      'avg_purchase_value DOUBLE',
      'days_since_last_purchase BIGINT',
      'account_age_days BIGINT',
      'purchase_frequency DOUBLE',
      'support_tickets BIGINT',
      'avg_support_resolution_hours DOUBLE',
      'country VARCHAR',
      'status VARCHAR',
      'updated_at TIMESTAMP',
    ]);
    expect(show('silver.transactions_cleaned')).toContain('amount DECIMAL(10,2)');
    expect(show('silver.transactions_cleaned')).toContain('transaction_month VARCHAR');
    expect(show('silver.support_tickets_cleaned')).toContain('created_at TIMESTAMP');
    expect(show('gold.churn_labels')).toEqual(['customer_id BIGINT', 'event_timestamp TIMESTAMP', 'churned INTEGER']);
    // The batch table's one definition (src/engine/batch-output.ts), shared by planner and writer:
    // the entity's join key, the spec's prediction field names, the model version and scored_at.
    expect(show('serve.churn_api')).toEqual([
      'customer_id BIGINT',
      'churn_probability DOUBLE',
      'prediction INTEGER',
      'risk_level VARCHAR',
      'model_version INTEGER',
      'scored_at TIMESTAMP',
    ]);
  });

  it('a feature of the wrong dtype or naming a missing column is an error at the feature', async () => {
    const bad = withNode(churn, 'features.customer_churn_features', (n) => {
      const v = n as FeaturesNode;
      return {
        ...v,
        features: v.features.map((f, i) => (i === 0 ? { ...f, dtype: 'string' } : i === 1 ? { ...f, name: 'lifetime_value' } : f)),
      } as FeaturesNode;
    });
    const view = bad.nodes.find((n) => n.id === 'features.customer_churn_features') as FeaturesNode;
    const { diagnostics } = await inferSchemas(bad);
    expect(diagnostics.map((d) => [d.code, d.span])).toEqual([
      ['ASG2102', view.features[0].span],
      ['ASG2101', view.features[1].span],
    ]);
    expect(diagnostics[0].message).toBe('feature `total_purchases` is declared string but gold.customer_metrics.total_purchases is BIGINT');
    // The spans point at the feature lines of the real file.
    const lines = readFileSync(CHURN, 'utf8').split('\n');
    expect(lines[view.features[0].span.line - 1]).toContain('feature total_purchases');
  });

  it('a timestamp feature of a view a train block uses is an error at the feature (training would fail on it at apply); a string one is a category', async () => {
    const bad = withNode(churn, 'features.customer_churn_features', (n) => {
      const v = n as FeaturesNode;
      return {
        ...v,
        features: [...v.features, { ...v.features[0], name: 'country', dtype: 'string' }, { ...v.features[0], name: 'updated_at', dtype: 'timestamp' }],
      } as FeaturesNode;
    });
    const { diagnostics } = await inferSchemas(bad);
    expect(diagnostics.map((d) => [d.code, d.message])).toEqual([
      ['ASG2105', 'feature `updated_at` is timestamp, but train.churn_predictor (random_forest) takes only numeric, bool and string (categorical) features'],
    ]);
    expect(diagnostics[0].hint).toMatch(/derive a number in the SQL of its table/);
  });

  it("an integer SUM (DuckDB's HUGEINT; Spark's BIGINT) is an int64 feature: the view casts it, so it is no dtype error", async () => {
    const spec = `pipeline shop {
  source files file {
    path = "./data"
    stream orders {
      path = "orders.csv"
      primary_key = order_id
      columns = { order_id = "BIGINT"  visitor_id = "VARCHAR"  qty = "INTEGER"  ordered_at = "TIMESTAMP" }
    }
  }
  model visitor_orders {
    sql """ SELECT visitor_id, MAX(ordered_at) AS as_of, SUM(qty) AS items, SUM(order_id) AS id_sum, COUNT(*) AS orders FROM bronze.orders GROUP BY visitor_id """
  }
  features visitor_features {
    entity visitor { join_key = visitor_id }
    from      = gold.visitor_orders
    timestamp = as_of
    feature items  int64
    feature id_sum float64
    feature orders int64
  }
}
`;
    const { loadPipelineText } = await import('../../src/dsl/load.js');
    const r = loadPipelineText(spec, '/tmp/shop.asg');
    expect(r.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    const { schemas, diagnostics } = await inferSchemas(r.ir!);
    expect(schemas.get('gold.visitor_orders')?.find((c) => c.name === 'items')?.type).toBe('HUGEINT');
    expect(diagnostics).toEqual([]);
    expect(schemas.get('features.visitor_features')?.map((c) => `${c.name} ${c.type}`)).toEqual([
      'visitor_id VARCHAR',
      'as_of TIMESTAMP',
      'items BIGINT',
      'id_sum DOUBLE',
      'orders BIGINT',
    ]);
    // int32 takes no HUGEINT (nor BIGINT): a sum can outgrow it.
    const narrow = loadPipelineText(spec.replace('feature items  int64', 'feature items  int32'), '/tmp/shop.asg');
    expect((await inferSchemas(narrow.ir!)).diagnostics.map((d) => d.message)).toEqual([
      'feature `items` is declared int32 but gold.visitor_orders.items is HUGEINT',
    ]);
  });

  it('a SQL body that does not bind is an error at the line of the offending column', async () => {
    const src = readFileSync(CHURN, 'utf8');
    const edited = src.replace('UPPER(country) AS country,', 'UPPER(contry) AS country,');
    const { loadPipelineText } = await import('../../src/dsl/load.js');
    const r = loadPipelineText(edited, CHURN);
    const { diagnostics } = await inferSchemas(r.ir!);
    expect(diagnostics).toHaveLength(1);
    expect(diagnostics[0].code).toBe('ASG3102');
    expect(diagnostics[0].message).toContain('contry');
    const line = edited.split('\n').findIndex((l) => l.includes('UPPER(contry)')) + 1;
    expect(diagnostics[0].span?.line).toBe(line);
    expect(edited.split('\n')[line - 1].slice(diagnostics[0].span!.column - 1)).toMatch(/^contry/);
  });
});

describe('schema inference answered from the bind cache', () => {
  it('makes no promise per node when every body is a cache hit (dd6959e made several per node)', async () => {
    const { generateSpec } = await import('../../bench/gen-spec.js');
    const { loadPipelineText } = await import('../../src/dsl/load.js');
    const { createHook } = await import('node:async_hooks');
    const ir = loadPipelineText(generateSpec({ sources: 10, sqlNodes: 200 }), '/specs/generated.asg').ir!;
    const m = new Map<string, import('../../src/planner/state-store.js').ColumnSchema[]>();
    const cache = { get: (k: string) => m.get(k), set: (k: string, v: import('../../src/planner/state-store.js').ColumnSchema[]) => void m.set(k, v) };
    const first = await inferSchemas(ir, new Map(), { cache });
    let promises = 0;
    const hook = createHook({ init: (_id, type) => void (type === 'PROMISE' && promises++) }).enable();
    const again = await inferSchemas(ir, new Map(), { cache });
    hook.disable();
    expect(again).toEqual(first);
    expect(first.schemas.size).toBe(210);
    expect(promises).toBeLessThan(50);
  });
});

describe("the bind cache's keys", () => {
  it("are each body's text and its inputs' schemas hashed, whichever body read an input first", async () => {
    const { generateSpec } = await import('../../bench/gen-spec.js');
    const { loadPipelineText } = await import('../../src/dsl/load.js');
    const { sha256 } = await import('../../src/util/canonical-json.js');
    const ir = loadPipelineText(generateSpec({ sources: 6, sqlNodes: 80 }), '/specs/generated.asg').ir!;
    const keys: string[] = [];
    const cache = { get: () => undefined, set: (k: string) => void keys.push(k) };
    const { schemas } = await inferSchemas(ir, new Map(), { cache });
    const expected = ir.nodes.flatMap((n) =>
      n.kind === 'cleanse' || n.kind === 'model'
        ? [
            sha256(
              `${n.sql.text}\0${JSON.stringify(n.inputs.filter((i) => ir.nodes.find((x) => x.id === i)?.kind !== 'features').map((i) => [i, schemas.get(i)]))}`,
            ),
          ]
        : [],
    );
    expect(keys.length).toBeGreaterThan(60);
    expect(keys).toEqual(expected);
  });
});
