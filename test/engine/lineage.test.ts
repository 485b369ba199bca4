import { beforeAll, describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { loadPipeline } from '../../src/dsl/load.js';
import { inferSchemas } from '../../src/engine/schemas.js';
import { LineageError, LineageGraph, type LineageTree } from '../../src/engine/lineage.js';
import type { PipelineIR } from '../../src/ir/types.js';
import { body, cleanse, ir, model, source, tempDir } from './helpers.js';

const CHURN = fileURLToPath(new URL('../../pipelines/churn.asg', import.meta.url));
let churn: PipelineIR;
beforeAll(async () => {
  process.env.ASGARD_CACHE_DIR = tempDir('asg-schema-cache-');
  churn = (await loadPipeline(CHURN)).ir!;
});

/** Every path of a tree as `a > b > c`. */
const paths = (trees: readonly LineageTree[], prefix = ''): string[] =>
  trees.flatMap((t) => {
    const here = `${prefix}${prefix ? ' > ' : ''}${t.kind === 'system' ? `${t.table}(${t.note})` : `${t.table}.${t.column}`}`;
    return t.children.length ? paths(t.children, here) : [here];
  });

describe('column lineage', () => {
  it('traces a gold column back to source system columns and forward to the feature', async () => {
    const { schemas } = await inferSchemas(churn);
    const g = new LineageGraph(churn, schemas);
    const l = g.lineage('gold.customer_metrics.customer_lifetime_value');
    expect(paths(l.upstream)).toEqual([
      'silver.transactions_cleaned.amount > bronze.transactions.amount > source:transaction_system(mysql transactions.amount)',
    ]);
    expect(paths(l.downstream)).toEqual(['features.customer_churn_features.customer_lifetime_value']);
    const fromSource = g.lineage('bronze.transactions.amount');
    expect(paths(fromSource.downstream).sort()).toEqual(
      [
        'silver.transactions_cleaned.amount > gold.customer_metrics.customer_lifetime_value > features.customer_churn_features.customer_lifetime_value',
        'silver.transactions_cleaned.amount > gold.customer_metrics.avg_purchase_value > features.customer_churn_features.avg_purchase_value',
      ].sort(),
    );
    expect(() => g.lineage('gold.customer_metrics.nope')).toThrow(LineageError);
    expect(() => g.lineage('customer_metrics.x')).toThrow(/LAYER.TABLE.COLUMN/);
  });

  it('expands SELECT * against the upstream schema', async () => {
    const p = ir([
      source('ev', [
        ['id', 'BIGINT'],
        ['amount', 'DOUBLE'],
      ]),
      cleanse('ev_clean', body('SELECT *, amount * 2 AS doubled FROM bronze.ev WHERE id IS NOT NULL'), ['bronze.ev']),
      model('ev_sum', body('WITH x AS (SELECT * FROM silver.ev_clean) SELECT id, sum(doubled) AS total FROM x GROUP BY id'), ['silver.ev_clean']),
    ]);
    const { schemas, diagnostics } = await inferSchemas(p);
    expect(diagnostics).toEqual([]);
    const g = new LineageGraph(p, schemas);
    expect(paths(g.lineage('gold.ev_sum.total').upstream)).toEqual(['silver.ev_clean.doubled > bronze.ev.amount > source:db(file ev.amount)']);
    expect(paths(g.lineage('bronze.ev.id').downstream)).toEqual(['silver.ev_clean.id > gold.ev_sum.id']);
  });
});
