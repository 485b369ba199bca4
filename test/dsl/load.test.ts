// Valid specs → IR: the key facts of pipelines/churn.asg and test/fixtures/valid/shop.asg, SQL
// normalisation, the SQL analysis cache, and robustness of the front end on mangled input.

import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { catalogue } from '../../src/diagnostics/catalogue.js';
import { loadPipeline, loadPipelineText } from '../../src/dsl/load.js';
import { Workspace } from '../../src/workspace/workspace.js';
import type { CleanseNode, FeaturesNode, ModelNode, PipelineIR, ServeNode, SourceNode, TrainNode } from '../../src/ir/types.js';
import { analyzeSql, FileSqlCache, type SqlAnalysis, type SqlAnalysisCache } from '../../src/sql/analyze.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const churnFile = join(root, 'pipelines/churn.asg');
const churnText = readFileSync(churnFile, 'utf8');
const shopFile = join(root, 'test/fixtures/valid/shop.asg');
const tmp = mkdtempSync(join(tmpdir(), 'asg-load-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const node = <T>(ir: PipelineIR, id: string): T => {
  const n = ir.nodes.find((x) => x.id === id);
  if (!n) throw new Error(`no node ${id}`);
  return n as T;
};

describe('churn.asg', () => {
  const loaded = loadPipelineText(churnText, churnFile);
  const ir = loaded.ir!;

  it('loads without diagnostics', () => {
    expect(loaded.diagnostics).toEqual([]);
    expect(ir).toBeDefined();
    expect(ir.name).toBe('churn');
    expect(ir.file).toBe(resolve(churnFile));
    expect(ir.warehouse).toBe('./.asgard/warehouse');
    expect(ir.logicalTime).toEqual({ kind: 'env', name: 'ASGARD_LOGICAL_TIME', default: '2025-11-11T00:00:00Z' });
  });

  it('has the nodes in deterministic topological order', () => {
    expect(ir.nodes.map((n) => n.id)).toEqual([
      'bronze.customers',
      'bronze.support_tickets',
      'bronze.transactions',
      'silver.customers_cleaned',
      'silver.support_tickets_cleaned',
      'silver.transactions_cleaned',
      'gold.churn_labels',
      'gold.customer_metrics',
      'features.customer_churn_features',
      'train.churn_predictor',
      'serve.churn_api',
    ]);
    const pos = new Map(ir.nodes.map((n, i) => [n.id, i]));
    for (const e of ir.edges) expect(pos.get(e.from)!).toBeLessThan(pos.get(e.to)!);
  });

  it('has sorted inputs and edges', () => {
    expect(node<ModelNode>(ir, 'gold.customer_metrics').inputs).toEqual([
      'silver.customers_cleaned',
      'silver.support_tickets_cleaned',
      'silver.transactions_cleaned',
    ]);
    expect(node<TrainNode>(ir, 'train.churn_predictor').inputs).toEqual(['features.customer_churn_features', 'gold.churn_labels']);
    expect(node<ServeNode>(ir, 'serve.churn_api').inputs).toEqual(['gold.customer_metrics', 'train.churn_predictor']);
    const edges = ir.edges.map((e) => `${e.from}>${e.to}`);
    expect(edges).toEqual([...edges].sort());
    expect(edges).toContain('bronze.customers>silver.customers_cleaned');
    expect(edges).toContain('gold.churn_labels>train.churn_predictor');
    expect(ir.edges).toHaveLength(13);
  });

  it('keeps stream settings and env/secret references as references', () => {
    const customers = node<SourceNode>(ir, 'bronze.customers');
    expect(customers.connector.type).toBe('postgres');
    expect(customers.connector.settings['url']).toEqual({ kind: 'env', name: 'CUSTOMER_DB_URL', default: 'postgres://asgard@127.0.0.1:55432/customers' });
    expect(customers.connector.settings['password']).toEqual({ kind: 'secret', name: 'CUSTOMER_DB_PASSWORD' });
    expect(customers.connector.schedule).toBe('0 */6 * * *');
    expect(customers.stream.primaryKey).toEqual(['customer_id']);
    expect(customers.stream.cursor).toBe('updated_at');
    expect(customers.stream.mode).toBe('incremental');
    expect(customers.stream.columns?.[0]).toEqual({ name: 'customer_id', type: 'BIGINT' });
    expect(customers.stream.columns).toHaveLength(10);
    const tickets = node<SourceNode>(ir, 'bronze.support_tickets');
    expect(tickets.stream.mode).toBe('full_refresh');
    expect(tickets.stream.path).toBe('/api/v1/tickets');
    expect(tickets.stream.pagination).toEqual({ style: 'page', pageParam: 'page', sizeParam: 'page_size', pageSize: 5000, recordsField: 'tickets' });
    expect(tickets.connector.settings['token']).toEqual({ kind: 'secret', name: 'SUPPORT_API_TOKEN' });
  });

  it('resolves SQL reads, with iceberg.* as an alias and CTEs excluded', () => {
    const cc = node<CleanseNode>(ir, 'silver.customers_cleaned');
    expect(cc.sql.reads).toEqual(['bronze.customers']);
    expect(cc.partitionBy).toEqual(['country']);
    expect(cc.mode).toBe('overwrite');
    expect(cc.checks.map((c) => c.kind)).toEqual(['not_null', 'unique', 'accepted_values']);
    expect(cc.checks[2].values).toEqual(['active', 'premium', 'inactive']);
    const cm = node<ModelNode>(ir, 'gold.customer_metrics');
    expect(cm.sql.reads).toEqual(['silver.customers_cleaned', 'silver.support_tickets_cleaned', 'silver.transactions_cleaned']);
    expect(cm.materialized).toBe('table');
    expect(cm.tags).toEqual(['ml', 'churn', 'customer']);
    expect(cm.checks[1]).toMatchObject({ kind: 'row_count', min: 1 });
  });

  it('records SQL body spans at the first character after the quotes', () => {
    const cc = node<CleanseNode>(ir, 'silver.customers_cleaned');
    const lines = churnText.split('\n');
    expect(lines[cc.sql.span.line - 1].slice(cc.sql.span.column - 4, cc.sql.span.column - 1)).toBe('"""');
    expect(cc.sql.text.startsWith('\n      SELECT')).toBe(true);
  });

  it('fills features, train and serve', () => {
    const f = node<FeaturesNode>(ir, 'features.customer_churn_features');
    expect(f.from).toBe('gold.customer_metrics');
    expect(f.entity).toEqual({ name: 'customer', joinKey: 'customer_id' });
    expect(f.timestamp).toBe('updated_at');
    expect(f.ttlSeconds).toBe(86400);
    expect(f.features.map((x) => `${x.name}:${x.dtype}`)).toContain('days_since_last_purchase:int64');
    expect(f.features).toHaveLength(8);
    const t = node<TrainNode>(ir, 'train.churn_predictor');
    expect(t.features).toBe('features.customer_churn_features');
    expect(t.label).toEqual({ from: 'gold.churn_labels', column: 'churned', timestamp: 'event_timestamp' });
    expect(t.algorithm).toEqual({ name: 'random_forest', params: { n_estimators: 100, max_depth: 10 } });
    expect(t.split).toEqual({ test: 0.2, stratify: true, seed: 42 });
    expect(t.gate).toEqual({ metric: 'f1', op: '>=', value: 0.7, text: 'f1 >= 0.70' });
    expect(t.register).toBe('customer_churn_predictor');
    expect(t.leakage).toBe('warn');
    const s = node<ServeNode>(ir, 'serve.churn_api');
    expect(s.model).toBe('train.churn_predictor');
    expect(s.riskLevels).toEqual({ high: 0.7, medium: 0.4 });
    expect(s.batch).toEqual({ from: 'gold.customer_metrics', to: 'customer_churn_predictions' });
  });

  it('flattens profile maps into dotted keys', () => {
    const k = ir.profiles['kubernetes'];
    expect(k.target).toBe('kubernetes');
    expect(k.settings['driver.cores']).toEqual({ kind: 'literal', value: 1 });
    expect(k.settings['executor.memory']).toEqual({ kind: 'literal', value: '4g' });
    expect(k.settings['s3_endpoint']).toEqual({ kind: 'env', name: 'S3_ENDPOINT', default: 'http://minio.asgard.svc:9000' });
  });

  it('is deterministic', () => {
    expect(JSON.stringify(loadPipelineText(churnText, churnFile).ir)).toBe(JSON.stringify(ir));
  });
});

describe('shop.asg (every block kind)', () => {
  const loaded = loadPipeline(shopFile, { sqlCachePath: false });
  const ir = loaded.ir!;
  it('loads', () => {
    expect(loaded.diagnostics).toEqual([]);
    expect(ir.nodes.map((n) => n.id)).toEqual([
      'bronze.clicks',
      'bronze.customers',
      'bronze.orders',
      'silver.customers_clean',
      'gold.customer_stats',
      'features.customer_features',
      'gold.labels',
      'train.churn',
      'serve.churn_api',
    ]);
  });
  it('lets a check read its own table without a self-edge', () => {
    const m = node<ModelNode>(ir, 'gold.customer_stats');
    expect(m.inputs).toEqual(['bronze.orders', 'silver.customers_clean']);
    expect(m.checks.find((c) => c.kind === 'sql')?.sql?.reads).toEqual(['gold.customer_stats']);
    expect(m.checks[0]).toMatchObject({ kind: 'row_count', min: 1, max: 1000000 });
  });
  it('fills the rest', () => {
    const orders = node<SourceNode>(ir, 'bronze.orders');
    expect(orders.stream).toMatchObject({ table: 'public.orders', primaryKey: ['order_id'], mode: 'full_refresh' });
    expect(node<SourceNode>(ir, 'bronze.customers').stream.lookbackSeconds).toBe(900);
    const t = node<TrainNode>(ir, 'train.churn');
    expect(t.leakage).toBe('fail');
    expect(t.mlflow).toEqual({ trackingUri: { kind: 'env', name: 'MLFLOW_URI', default: 'http://127.0.0.1:5000' }, experiment: 'churn' });
    expect(t.register).toBe('churn');
    expect(node<ServeNode>(ir, 'serve.churn_api').batch).toEqual({ from: 'gold.customer_stats', to: 'scores' });
    expect(ir.profiles['local'].target).toBe('local');
    expect(node<FeaturesNode>(ir, 'features.customer_features').features[0].description).toBe('Orders so far');
  });
  it('lets a later node read a batch output table', () => {
    const text = readFileSync(shopFile, 'utf8').replace(
      '  profile local {',
      '  model scored {\n    sql """ SELECT * FROM gold.scores """\n  }\n\n  profile local {',
    );
    const r = loadPipelineText(text, shopFile);
    expect(r.diagnostics).toEqual([]);
    expect(node<ModelNode>(r.ir!, 'gold.scored').inputs).toEqual(['serve.churn_api']);
  });
});

describe('SQL normalisation', () => {
  it('ignores whitespace, comments and keyword case', () => {
    const a = analyzeSql('SELECT a, b FROM silver.t WHERE a > 1');
    const b = analyzeSql('select a,   -- the key\n  b\nFROM silver.t /* filter */\n  WHERE a>1\n');
    expect(a.ok && b.ok).toBe(true);
    if (a.ok && b.ok) expect(b.normalized).toBe(a.normalized);
  });
  it('changes when the query changes', () => {
    const a = analyzeSql('SELECT a FROM silver.t WHERE a > 1');
    const b = analyzeSql('SELECT a FROM silver.t WHERE a > 2');
    expect(a.ok && b.ok && a.normalized !== b.normalized).toBe(true);
  });
  it('keeps IR normalized stable across formatting changes of churn.asg', () => {
    const reformatted = churnText.replace('WHERE email IS NOT NULL\n        AND', '-- keep valid emails only\n      WHERE   email IS NOT NULL AND');
    expect(reformatted).not.toBe(churnText);
    const a = loadPipelineText(churnText, churnFile).ir!;
    const b = loadPipelineText(reformatted, churnFile).ir!;
    expect(node<CleanseNode>(b, 'silver.customers_cleaned').sql.text).not.toBe(node<CleanseNode>(a, 'silver.customers_cleaned').sql.text);
    expect(node<CleanseNode>(b, 'silver.customers_cleaned').sql.normalized).toBe(node<CleanseNode>(a, 'silver.customers_cleaned').sql.normalized);
  });
  it('maps a SQL syntax error to the file position inside the body', () => {
    const text = churnText.replace('WHERE amount > 0', 'WHERE amount > > 0');
    const r = loadPipelineText(text, churnFile);
    const d = r.diagnostics.find((x) => x.code === 'ASG3001')!;
    expect(d).toBeDefined();
    const line = text.split('\n')[d.span!.line - 1];
    expect(line).toContain('WHERE amount > > 0');
    expect(d.span!.column).toBeGreaterThan(line.indexOf('WHERE'));
  });
  it('reports unknown tables at their position with a did-you-mean', () => {
    const text = churnText.replace('FROM bronze.support_tickets', 'FROM bronze.support_ticket');
    const r = loadPipelineText(text, churnFile);
    expect(r.ir).toBeUndefined();
    const d = r.diagnostics.find((x) => x.code === 'ASG3002')!;
    const line = text.split('\n')[d.span!.line - 1];
    expect(line.slice(d.span!.column - 1, d.span!.endColumn - 1)).toBe('bronze.support_ticket');
    expect(d.hint).toBe('did you mean `bronze.support_tickets`?');
  });
  it('handles non-BMP characters before a table reference', () => {
    const r = analyzeSql("SELECT '😀😀' AS x FROM silver.t");
    expect(r.ok).toBe(true);
    if (r.ok) expect("SELECT '😀😀' AS x FROM silver.t".slice(r.tables[0].start, r.tables[0].end)).toBe('silver.t');
  });
});

describe('SQL analysis cache', () => {
  class CountingCache implements SqlAnalysisCache {
    readonly map = new Map<string, SqlAnalysis>();
    gets = 0;
    hits = 0;
    get(k: string) {
      this.gets++;
      const v = this.map.get(k);
      if (v) this.hits++;
      return v;
    }
    set(k: string, v: SqlAnalysis) {
      this.map.set(k, v);
    }
  }
  it('gives the same IR warm as cold', () => {
    const cache = new CountingCache();
    const cold = loadPipelineText(churnText, churnFile, { sqlCache: cache });
    expect(cache.map.size).toBe(5);
    expect(cache.hits).toBe(0);
    const warm = loadPipelineText(churnText, churnFile, { sqlCache: cache });
    expect(cache.hits).toBe(5);
    expect(JSON.stringify(warm.ir)).toBe(JSON.stringify(cold.ir));
  });
  it('persists next to the spec and survives a corrupt file', () => {
    const spec = join(tmp, 'churn.asg');
    writeFileSync(spec, churnText);
    // The workspace's cache file: `.asgard/cache/sql-analysis.json` beside the spec by default.
    const path = Workspace.open(spec).caches.sqlAnalysisFile;
    const r1 = loadPipeline(spec, { sqlCachePath: path });
    expect(r1.ir).toBeDefined();
    expect(existsSync(path)).toBe(true);
    const c = new FileSqlCache(path);
    loadPipelineText(churnText, spec, { sqlCache: c });
    expect(c.hits).toBe(5);
    expect(c.misses).toBe(0);
    writeFileSync(path, '{not json');
    const r2 = loadPipeline(spec, { sqlCachePath: path });
    expect(JSON.stringify(r2.ir)).toBe(JSON.stringify(r1.ir));
  });
});

describe('loadPipeline on bad files', () => {
  it('reports a missing file as ASG1001 without throwing', () => {
    const r = loadPipeline(join(tmp, 'nope.asg'), { sqlCachePath: false });
    expect(r.ir).toBeUndefined();
    expect(r.diagnostics.map((d) => d.code)).toEqual(['ASG1001']);
    expect(r.diagnostics[0].span?.file).toBe(join(tmp, 'nope.asg'));
  });
  it('reports a directory as ASG1001', () => {
    expect(loadPipeline(tmp, { sqlCachePath: false }).diagnostics.map((d) => d.code)).toEqual(['ASG1001']);
  });
});

describe('front-end robustness', () => {
  it('reads CRLF files like LF files, positions included', () => {
    const crlf = churnText.replace(/\n/g, '\r\n');
    const r = loadPipelineText(crlf, churnFile);
    expect(r.diagnostics).toEqual([]);
    const lf = loadPipelineText(churnText, churnFile).ir!;
    expect(r.ir!.nodes.map((n) => [n.id, n.span.line, n.span.column])).toEqual(lf.nodes.map((n) => [n.id, n.span.line, n.span.column]));
    expect(node<ModelNode>(r.ir!, 'gold.customer_metrics').sql.normalized).toBe(node<ModelNode>(lf, 'gold.customer_metrics').sql.normalized);
    const bad = loadPipelineText(crlf.replace('WHERE amount > 0', 'WHERE amount > > 0'), churnFile);
    const d = bad.diagnostics.find((x) => x.code === 'ASG3001')!;
    const line = churnText.replace('WHERE amount > 0', 'WHERE amount > > 0').split('\n')[d.span!.line - 1];
    expect(line.trim()).toBe('WHERE amount > > 0');
    expect(line.slice(d.span!.column - 1, d.span!.column)).toBe('>');
  });

  it('never throws on truncations of churn.asg and always gives spans', () => {
    for (let cut = 0; cut < churnText.length; cut += 97) {
      const r = loadPipelineText(churnText.slice(0, cut), churnFile);
      expect(r.ir).toBeUndefined();
      expect(r.diagnostics.length).toBeGreaterThan(0);
      for (const d of r.diagnostics) expect(d.span?.line).toBeGreaterThanOrEqual(1);
    }
  });
  it('never throws on deleted characters', () => {
    for (let i = 5; i < churnText.length; i += 211) {
      const r = loadPipelineText(churnText.slice(0, i) + churnText.slice(i + 1), churnFile);
      for (const d of r.diagnostics) expect(d.span).toBeDefined();
    }
  });
});

describe('diagnostic catalogue', () => {
  it('has unique, well-formed codes', () => {
    const codes = catalogue.map((e) => e.code);
    expect(new Set(codes).size).toBe(codes.length);
    for (const c of codes) expect(c).toMatch(/^ASG[1-5]\d{3}$/);
  });
});
